"""Wire shapes of zones, schedules, emergency plans, linkage rules and the duty roster."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from api.alarms.catalogue import AlarmType, Recipient, Room, ZoneKind
from api.core.paging import Page

Name = Annotated[str, Meta(min_length=1, max_length=100)]
StepText = Annotated[str, Meta(min_length=1, max_length=200)]
Weekdays = Annotated[
    list[Annotated[int, Meta(ge=0, le=6)]],
    Meta(min_length=1, max_length=7, description="0 = Monday … 6 = Sunday."),
]
Seconds = Annotated[int, Meta(ge=0, le=600, description="Entry delay in seconds, 0-600.")]


# -- zones -----------------------------------------------------------------------------------------


class ScheduleCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Arm at `arm_at` on the given weekdays, disarm at `disarm_at` (the next day if earlier)."""

    arm_at: time
    disarm_at: time
    weekdays: Weekdays = msgspec.field(default_factory=lambda: list(range(7)))

    def __post_init__(self) -> None:
        if self.arm_at == self.disarm_at:
            raise ValueError("arm_at and disarm_at must differ")
        if len(set(self.weekdays)) != len(self.weekdays):
            raise ValueError("weekdays must not repeat")
        if self.arm_at.tzinfo or self.disarm_at.tzinfo:
            raise ValueError("times are wall-clock times of the site, without a zone")


class ScheduleRead(msgspec.Struct, kw_only=True):
    """When a zone arms and disarms by itself (site wall-clock time)."""

    id: UUID
    zone_id: UUID
    weekdays: list[int]
    arm_at: time
    disarm_at: time


class ZoneCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A protection zone; household zones name their household."""

    community_id: UUID
    name: Name
    kind: ZoneKind
    household_id: UUID | None = None
    room: Room | None = None
    entry_delay: Seconds = 0
    devices: Annotated[list[UUID], Meta(max_length=200)] = []
    armed: bool = True

    def __post_init__(self) -> None:
        household_zone = self.kind in ("household", "household_sos")
        if household_zone != (self.household_id is not None):
            raise ValueError("household and household_sos zones (and only they) need household_id")
        if self.room is not None and not household_zone:
            raise ValueError("only household and household_sos zones are in a room")
        if len(set(self.devices)) != len(self.devices):
            raise ValueError("devices must not repeat")


class ZoneUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a zone's name, entry delay or devices."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    entry_delay: Seconds | msgspec.UnsetType = msgspec.UNSET
    devices: Annotated[list[UUID], Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.devices is not msgspec.UNSET and len(set(self.devices)) != len(self.devices):
            raise ValueError("devices must not repeat")


class ZoneRead(msgspec.Struct, kw_only=True):
    """A protection zone and its state; `cameras` = 0 flags a zone no camera covers (6.4.6)."""

    id: UUID
    community_id: UUID
    household_id: UUID | None
    name: str
    kind: ZoneKind
    room: Room | None
    armed: bool
    entry_delay: int
    devices: list[UUID]
    cameras: int
    state_changed_at: datetime | None


class ZonePage(Page, kw_only=True):
    """A page of zones."""

    items: list[ZoneRead]


class CommandOutcome(msgspec.Struct, kw_only=True):
    """What a device answered to arm/disarm."""

    device_id: UUID
    status: str


class ArmResult(msgspec.Struct, kw_only=True):
    """The zone after arming or disarming, and what its detectors answered."""

    zone: ZoneRead
    commands: list[CommandOutcome]


# -- emergency plans -------------------------------------------------------------------------------

Steps = Annotated[list[StepText], Meta(min_length=1, max_length=30)]


class PlanCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """预案: steps for an alarm type, in every zone or only in one."""

    community_id: UUID
    alarm_type: AlarmType
    title: Name
    steps: Steps
    zone_id: UUID | None = None


class PlanUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a plan's title or steps (alarms keep the steps they were raised with)."""

    title: Name | msgspec.UnsetType = msgspec.UNSET
    steps: Steps | msgspec.UnsetType = msgspec.UNSET


class PlanRead(msgspec.Struct, kw_only=True):
    """An emergency plan."""

    id: UUID
    community_id: UUID
    alarm_type: AlarmType
    zone_id: UUID | None
    title: str
    steps: list[str]
    updated_at: datetime


class PlanPage(Page, kw_only=True):
    """A page of plans."""

    items: list[PlanRead]


# -- linkage rules ---------------------------------------------------------------------------------

Devices = Annotated[list[UUID], Meta(max_length=100)]
Roles = Annotated[list[Recipient], Meta(min_length=1, max_length=6)]


class Action(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind"):
    """One thing a linkage rule does. Devices left empty mean those of the zone (see docs)."""


class SnapshotAction(Action, tag="snapshot", kw_only=True):
    """Take a picture with the linked cameras and attach it to the alarm."""

    devices: Devices = []


class PresetAction(Action, tag="preset", kw_only=True):
    """Turn the linked cameras to a preset position."""

    preset: Annotated[int, Meta(ge=1, le=255)]
    devices: Devices = []


class UnlockAction(Action, tag="unlock", kw_only=True):
    """Release doors (evacuation)."""

    devices: Devices = []


class LockAction(Action, tag="lock", kw_only=True):
    """Lock doors."""

    devices: Devices = []


class BroadcastAction(Action, tag="broadcast", kw_only=True):
    """Play a message on speakers."""

    text: Annotated[str, Meta(min_length=1, max_length=500)]
    devices: Devices = []


class NotifyAction(Action, tag="notify", kw_only=True):
    """Push a notification to people: on-duty guards, managers, the household, police, …"""

    roles: Roles
    text: Annotated[str, Meta(max_length=200)] = ""


class EscalateAction(Action, tag="escalate", kw_only=True):
    """Tell more people when nobody acknowledged the alarm within `after` seconds."""

    after: Annotated[int, Meta(ge=1, le=86_400)]
    roles: Roles


AnyAction = (
    SnapshotAction
    | PresetAction
    | UnlockAction
    | LockAction
    | BroadcastAction
    | NotifyAction
    | EscalateAction
)
Actions = Annotated[list[AnyAction], Meta(min_length=1, max_length=20)]


def _check_window(start: time | None, end: time | None) -> None:
    if (start is None) != (end is None):
        raise ValueError("active_from and active_until go together")
    if start is not None and end is not None and (start.tzinfo or end.tzinfo):
        raise ValueError("times are wall-clock times of the site, without a zone")


class RuleCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """When an alarm of this type (in this zone, in this time window) is raised, do these."""

    community_id: UUID
    name: Name
    alarm_type: AlarmType
    actions: Actions
    zone_id: UUID | None = None
    active_from: time | None = None
    active_until: time | None = None
    failsafe: bool = False
    enabled: bool = True

    def __post_init__(self) -> None:
        _check_window(self.active_from, self.active_until)


class RuleUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a rule; the window is replaced as a pair."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    actions: Actions | msgspec.UnsetType = msgspec.UNSET
    active_from: time | msgspec.UnsetType | None = msgspec.UNSET
    active_until: time | msgspec.UnsetType | None = msgspec.UNSET
    failsafe: bool | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if (self.active_from is msgspec.UNSET) != (self.active_until is msgspec.UNSET):
            raise ValueError("active_from and active_until are changed together")
        if self.active_from is not msgspec.UNSET and self.active_until is not msgspec.UNSET:
            _check_window(self.active_from, self.active_until)


class RuleRead(msgspec.Struct, kw_only=True):
    """A linkage rule."""

    id: UUID
    community_id: UUID
    name: str
    alarm_type: AlarmType
    zone_id: UUID | None
    active_from: time | None
    active_until: time | None
    actions: list[AnyAction]
    failsafe: bool
    enabled: bool
    updated_at: datetime


class RulePage(Page, kw_only=True):
    """A page of linkage rules."""

    items: list[RuleRead]


# -- duty roster -----------------------------------------------------------------------------------

MAX_SHIFT = timedelta(days=7)


class ShiftCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A guard on duty from `starts_at` until `ends_at` (at most seven days)."""

    community_id: UUID
    account_id: UUID
    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need a time zone")
        if not timedelta(0) < self.ends_at - self.starts_at <= MAX_SHIFT:
            raise ValueError("a shift ends after it starts, at most seven days later")


class ShiftRead(msgspec.Struct, kw_only=True):
    """A duty shift."""

    id: UUID
    community_id: UUID
    account_id: UUID
    account_name: str
    starts_at: datetime
    ends_at: datetime


class ShiftPage(Page, kw_only=True):
    """A page of shifts, earliest first."""

    items: list[ShiftRead]


class OnDutyRead(msgspec.Struct, kw_only=True):
    """A guard on duty now; `rostered` is false when nobody is rostered and every guard counts."""

    account_id: UUID
    name: str
    rostered: bool


class GuardRead(msgspec.Struct, kw_only=True):
    """A guard of the community who can be rostered."""

    account_id: UUID
    name: str
