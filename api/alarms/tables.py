"""Alarms and what surrounds them: zones, linkage rules, emergency plans, the duty roster.

An alarm is a record the standard keeps for 6 months (1 year for SOS): deleting a zone, device,
household or account must not take its alarms with it, so those references are set null instead.
"""

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Unique
from piccolo.table import Table

from api.accounts.tables import Account
from api.communities.tables import Community, Household
from api.devices.tables import Bridge, Device


class IntrusionZone(Table, tablename="intrusion_zones"):
    """A protection zone (防区) that is armed or disarmed: perimeter, area, or a household's."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    household = ForeignKey(Household, null=True, help_text="Set for a household's zones.")
    name = Varchar(length=100)
    kind = Varchar(length=16, help_text="perimeter | area | household | household_sos")
    room = Varchar(
        length=16,
        default="",
        help_text="A household zone's room: bedroom | living_room | bathroom | kitchen | study | "
        "other; '' for the whole home (standard 6.4.13: each room is its own SOS zone).",
    )
    armed = Boolean(default=True)
    entry_delay = Integer(default=0, help_text="Seconds between trip and alarm while armed.")
    devices = JSONB(default=[], help_text="Device ids (platform) whose trips belong to this zone.")
    state_changed_at = Timestamptz(
        null=True,
        default=None,
        help_text="Last arm/disarm: a trip raises only if the zone stayed armed since the trip.",
    )
    created_at = Timestamptz()


class ZoneSchedule(Table, tablename="zone_schedules"):
    """When a zone arms and disarms by itself (布撤防 by schedule)."""

    id = UUID(primary_key=True)
    zone = ForeignKey(IntrusionZone, null=False)
    weekdays = JSONB(default=[0, 1, 2, 3, 4, 5, 6], help_text="0 = Monday.")
    arm_at = Time()
    disarm_at = Time()


class Alarm(Table, tablename="alarms"):
    """One alarm from a device, a person (SOS) or the platform, through its whole life."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    type = Varchar(
        length=24, index=True, help_text="intrusion, perimeter, sos, door_forced, fire, …"
    )
    severity = Varchar(length=8, default="high", help_text="low | medium | high | critical")
    state = Varchar(
        length=12,
        default="new",
        index=True,
        help_text="new | acknowledged | dispatched | resolved | false_alarm",
    )
    source_device = ForeignKey(Device, null=True, on_delete=OnDelete.set_null)
    zone = ForeignKey(IntrusionZone, null=True, on_delete=OnDelete.set_null)
    household = ForeignKey(
        Household,
        null=True,
        on_delete=OnDelete.set_null,
        help_text="SOS and household-zone alarms.",
    )
    raised_by = ForeignKey(
        Account, null=True, on_delete=OnDelete.set_null, help_text="The resident who pressed SOS."
    )
    location = JSONB(default={}, help_text="lat, lon, accuracy from the phone; building/zone text.")
    title = Varchar(length=200)
    assigned_to = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    plan = UUID(null=True, default=None, help_text="The emergency plan shown with it.")
    plan_steps = JSONB(default=[], help_text="The plan's steps as they were when it was raised.")
    event = BigInt(
        null=True,
        default=None,
        unique=True,
        help_text="The device event that raised it (id): one event raises at most one alarm.",
    )
    retention = Varchar(length=8, default="6m", help_text="6m, or 1y for SOS (standard B4.4.1).")
    raised_at = Timestamptz(index=True)
    acknowledged_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    escalated_at = Timestamptz(null=True, default=None)
    linkage_at = Timestamptz(
        null=True, default=None, help_text="When the linkage job finished (the sweep re-runs it)."
    )


class AlarmEntry(Table, tablename="alarm_timeline"):
    """One timestamped step of an alarm: raised, acknowledged, plan step done, note, photo, …"""

    id = UUID(primary_key=True)
    alarm = ForeignKey(Alarm, null=False, index=True)
    at = Timestamptz()
    kind = Varchar(
        length=24,
        help_text="raised | acknowledged | dispatched | assigned | resolved | false_alarm"
        " | step | note | media | linkage | escalated | notified | repeated",
    )
    actor = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    text = Text(default="")
    data = JSONB(default={})


class EmergencyPlan(Table, tablename="emergency_plans"):
    """预案: the steps to follow for an alarm type (optionally only in one zone)."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    alarm_type = Varchar(length=24)
    zone = ForeignKey(IntrusionZone, null=True, help_text="Null: every zone.")
    title = Varchar(length=100)
    steps = JSONB(default=[], help_text="Ordered step texts.")
    updated_at = Timestamptz()


class LinkageRule(Table, tablename="linkage_rules"):
    """When (alarm type, zone, time window) then actions; fail-safe rules also run at the bridge."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    name = Varchar(length=100)
    alarm_type = Varchar(length=24)
    zone = ForeignKey(IntrusionZone, null=True)
    active_from = Time(null=True, default=None)
    active_until = Time(null=True, default=None)
    actions = JSONB(
        default=[],
        help_text="[{kind: snapshot|preset|unlock|lock|broadcast|notify|"
        "escalate, devices?, roles?, text?, after?}]",
    )
    failsafe = Boolean(default=False, help_text="Pushed to the bridge and run there locally too.")
    enabled = Boolean(default=True)
    updated_at = Timestamptz()


class LinkageRun(Table, tablename="linkage_runs"):
    """What one action of one rule did for one alarm (once: the job may run twice)."""

    id = UUID(primary_key=True)
    alarm = ForeignKey(Alarm, null=False)
    rule = ForeignKey(LinkageRule, null=False)
    action_index = Integer()
    status = Varchar(
        length=12, default="pending", help_text="running | scheduled | ok | failed | skipped"
    )
    detail = Text(default="")
    due_at = Timestamptz(
        null=True, default=None, help_text="An escalation's due time (the sweep re-enqueues it)."
    )
    at = Timestamptz()

    unique_run = Unique([alarm, rule, action_index])


class BridgeRules(Table, tablename="bridge_failsafe_rules"):
    """Which fail-safe rules a bridge was sent (each bridge gets its own devices' share, versioned
    per bridge) and which version it said it applied."""

    id = UUID(primary_key=True)
    bridge = ForeignKey(Bridge, null=False, unique=True)
    sent_version = Integer(default=0, help_text="Raised whenever the set sent changes.")
    digest = Varchar(length=64, default="", help_text="SHA-256 of the rules last sent.")
    sent_at = Timestamptz(null=True, default=None)
    applied_version = Integer(null=True, default=None)
    applied_at = Timestamptz(null=True, default=None)


class DutyShift(Table, tablename="duty_shifts"):
    """Who is on duty when (a minimal roster)."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    account = ForeignKey(Account, null=False)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    created_at = Timestamptz()
