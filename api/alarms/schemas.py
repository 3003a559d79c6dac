"""Wire shapes of alarms, their handling, plan statistics and SOS (set-up: schemas_config.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.alarms.catalogue import AlarmType, Severity, State
from api.core.paging import Page

Note = Annotated[str, Meta(max_length=2000)]
Text = Annotated[str, Meta(min_length=1, max_length=2000)]

# -- alarms ----------------------------------------------------------------------------------------


class AlarmRead(msgspec.Struct, kw_only=True):
    """An alarm as the board shows it."""

    id: UUID
    community_id: UUID
    type: AlarmType
    severity: Severity
    state: State
    title: str
    location: dict[str, Any]
    source_device_id: UUID | None
    zone_id: UUID | None
    household_id: UUID | None
    assigned_to_id: UUID | None
    assigned_to_name: str | None
    plan_id: UUID | None
    retention: str
    raised_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    escalated_at: datetime | None


class AlarmPage(Page, kw_only=True):
    """A page of alarms, newest first."""

    items: list[AlarmRead]


class AlarmCounts(msgspec.Struct, kw_only=True):
    """How many alarms in the caller's scope are in each state (the board's chips), one request."""

    new: int
    acknowledged: int
    dispatched: int
    resolved: int
    false_alarm: int


class TimelineEntry(msgspec.Struct, kw_only=True):
    """One timestamped step of an alarm, with who did it."""

    at: datetime
    kind: str
    actor_id: UUID | None
    actor_name: str | None
    text: str
    data: dict[str, Any]


class ChecklistStep(msgspec.Struct, kw_only=True):
    """One step of the emergency plan attached to an alarm."""

    index: int
    text: str
    done: bool
    done_at: datetime | None = None
    done_by: str | None = None


class MediaRead(msgspec.Struct, kw_only=True):
    """A photo of the alarm: uploaded by a guard or taken by a linked camera."""

    id: UUID
    url: str
    content_type: str
    source: Literal["upload", "camera"]
    device_id: UUID | None
    caption: str
    at: datetime


class AlarmDetail(AlarmRead, kw_only=True):
    """An alarm with its timeline, plan checklist and media."""

    plan_title: str | None
    checklist: list[ChecklistStep]
    media: list[MediaRead]
    timeline: list[TimelineEntry]


class TransitionBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An optional note with a state change."""

    note: Note = ""


class DispatchBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Send someone: the assignee (a guard or manager of the community), and a note."""

    assignee_id: UUID | None = None
    note: Note = ""


class AssignBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Who handles the alarm."""

    account_id: UUID


class NoteCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A note on the timeline."""

    text: Text


class MediaCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A photo from the guard's phone: `data` is base64 in JSON."""

    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    data: Annotated[bytes, Meta(min_length=8, max_length=700_000)]
    caption: Annotated[str, Meta(max_length=200)] = ""


class PlanStats(msgspec.Struct, kw_only=True):
    """How one emergency plan was used in a period (standard 6.2.10)."""

    plan_id: UUID
    title: str
    alarm_type: str
    zone_id: UUID | None
    alarms: int
    steps_completed_pct: float | None
    median_acknowledge_s: float | None
    median_resolve_s: float | None


# -- SOS -------------------------------------------------------------------------------------------


class Location(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where the phone is (WGS-84), and how sure it is, in metres."""

    lat: Annotated[float, Meta(ge=-90, le=90)]
    lon: Annotated[float, Meta(ge=-180, le=180)]
    accuracy: Annotated[float, Meta(ge=0, le=100_000)] | None = None


class SosCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A resident's call for help; the household is needed only by residents of several."""

    note: Annotated[str, Meta(max_length=500)] = ""
    location: Location | None = None
    household_id: UUID | None = None


class SosEntry(msgspec.Struct, kw_only=True):
    """A step of a resident's SOS as the resident sees it."""

    at: datetime
    kind: str
    by: str | None
    text: str


class SosRead(msgspec.Struct, kw_only=True):
    """A resident's SOS: its state, who acknowledged it and when."""

    id: UUID
    state: State
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    timeline: list[SosEntry]
