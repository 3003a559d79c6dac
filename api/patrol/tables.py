"""Patrol tables: areas → checkpoints → routes (ordered checkpoints) → plans → rounds → scans.

A round keeps its route's checkpoints as they were when it was generated (`checkpoints`), so
editing a route later does not rewrite what a guard walked or missed. Scans are kept whether
accepted or refused: a refused scan (a forged code, another community's point, no round) is a
record of its own, with its reason.
"""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    Bytea,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from api.accounts.tables import Account
from api.communities.tables import Community
from api.devices.tables import Device


class PatrolArea(Table, tablename="patrol_areas"):
    """A patrol area (巡更区域): a part of the community, such as the car park or the perimeter."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    name = Varchar(length=100)
    note = Text(default="")
    created_at = Timestamptz()


class Checkpoint(Table, tablename="patrol_checkpoints"):
    """A point a guard must reach: its QR label carries `code`, a secret no one can guess."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    area = ForeignKey(PatrolArea, null=False, index=True)
    name = Varchar(length=100)
    code = Varchar(length=64, unique=True, help_text="What the QR label encodes (secret).")
    needs_photo = Boolean(default=False)
    needs_note = Boolean(default=False)
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    device = ForeignKey(
        Device,
        null=True,
        on_delete=OnDelete.set_null,
        help_text="A fixed patrol reader whose `patrol.checkpoint` events count as scans here.",
    )
    photo = Varchar(
        length=200,
        default="",
        help_text="Object key of the point's reference photo (what the guard looks for); '' none.",
    )
    created_at = Timestamptz()


class PatrolRoute(Table, tablename="patrol_routes"):
    """An ordered walk through checkpoints of one community."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    name = Varchar(length=100)
    checkpoints = JSONB(default=[], help_text="Checkpoint ids in walking order.")
    created_at = Timestamptz()


class PatrolPlan(Table, tablename="patrol_plans"):
    """When a route is walked: a round every `day_every` minutes by day, `night_every` by night."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    route = ForeignKey(PatrolRoute, null=False, index=True)
    name = Varchar(length=100)
    guards = JSONB(default=[], help_text="Account ids of the guards who walk its rounds.")
    day_starts = Time(help_text="Wall-clock start of the day window (site time).")
    night_starts = Time(help_text="Wall-clock start of the night window (site time).")
    day_every = Integer(help_text="Minutes between rounds by day.")
    night_every = Integer(help_text="Minutes between rounds by night (usually fewer).")
    round_minutes = Integer(help_text="Minutes a round may take.")
    grace_minutes = Integer(help_text="Minutes after that a scan still counts, as late.")
    active = Boolean(default=True)
    created_at = Timestamptz()


class PatrolRound(Table, tablename="patrol_rounds"):
    """One walk of a plan's route, due between `starts_at` and `due_at` (late until `closes_at`)."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    plan = ForeignKey(PatrolPlan, null=True, on_delete=OnDelete.set_null, index=True)
    route_name = Varchar(length=100)
    checkpoints = JSONB(default=[], help_text="[{id, name}] in order, as when generated.")
    guards = JSONB(default=[], help_text="Account ids, as when generated.")
    starts_at = Timestamptz(index=True)
    due_at = Timestamptz()
    closes_at = Timestamptz(index=True)
    ended_at = Timestamptz(null=True, default=None)
    summary = JSONB(default={}, help_text="scanned, missed, late, flags: set when it ends.")
    alarm = UUID(null=True, default=None, help_text="The alarm its missed or late points raised.")


class PatrolScan(Table, tablename="patrol_scans"):
    """One scan, accepted or refused; its id is the phone's, so a re-sent scan is stored once."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    round = ForeignKey(PatrolRound, null=True, on_delete=OnDelete.set_null, index=True)
    checkpoint = ForeignKey(Checkpoint, null=True, on_delete=OnDelete.set_null)
    guard = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    device = ForeignKey(
        Device, null=True, on_delete=OnDelete.set_null, help_text="A fixed reader's scan."
    )
    phone = Varchar(length=64, default="", help_text="The phone's own id (one per installation).")
    phone_at = Timestamptz(help_text="When the phone says it scanned.")
    server_at = Timestamptz(help_text="When the platform received it.")
    at = Timestamptz(help_text="The scan's time on the server's clock (phone time + its skew).")
    accepted = Boolean()
    reason = Varchar(length=24, default="", help_text="Why it was refused.")
    late = Boolean(default=False)
    flags = JSONB(default=[], help_text="Anomalies that mark, not reject, a scan.")
    note = Text(default="")
    photo = Varchar(length=200, default="", help_text="Object store key of its photo.")


class CameraTour(Table, tablename="patrol_camera_tours"):
    """A video patrol tour (视频巡查): cameras shown in turn, each for `dwell_seconds`, run every
    `day_every` minutes by day and `night_every` by night, like a patrol plan."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    name = Varchar(length=100)
    cameras = JSONB(default=[], help_text="Camera (device) ids in the order they are shown.")
    dwell_seconds = Integer(help_text="How long each camera is shown before the next.")
    day_starts = Time(help_text="Wall-clock start of the day window (site time).")
    night_starts = Time(help_text="Wall-clock start of the night window (site time).")
    day_every = Integer(help_text="Minutes between tours by day.")
    night_every = Integer(help_text="Minutes between tours by night.")
    run_minutes = Integer(help_text="Minutes a tour may take before it counts as missed.")
    active = Boolean(default=True)
    created_at = Timestamptz()


class TourRun(Table, tablename="patrol_tour_runs"):
    """One tour due between `starts_at` and `due_at`: done once every camera is checked, missed
    (with a `patrol_missed` alarm) when `due_at` passes first."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    tour = ForeignKey(CameraTour, null=True, on_delete=OnDelete.set_null, index=True)
    tour_name = Varchar(length=100)
    cameras = JSONB(default=[], help_text="[{id, name}] in order, as when made.")
    dwell_seconds = Integer()
    starts_at = Timestamptz(index=True)
    due_at = Timestamptz(index=True)
    reminded_at = Timestamptz(null=True, default=None)
    guard = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    started_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=12, default="", help_text="done or missed, once ended.")
    alarm = UUID(null=True, default=None, help_text="The alarm a missed tour raised.")


class TourCheck(Table, tablename="patrol_tour_checks"):
    """A guard's verdict on one camera of a run: normal, or a problem (which raised an alarm).
    Its id is derived from the run and the camera, so a camera is checked once per run."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    run = ForeignKey(TourRun, null=False, on_delete=OnDelete.cascade, index=True)
    camera = ForeignKey(Device, null=True, on_delete=OnDelete.set_null)
    camera_name = Varchar(length=100)
    guard = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    at = Timestamptz()
    result = Varchar(length=12, help_text="normal or problem.")
    problem = Varchar(length=12, default="", help_text="unclear, no_image or other.")
    note = Text(default="")
    alarm = UUID(null=True, default=None, help_text="The alarm the problem raised.")
    quality = JSONB(
        null=True,
        default=None,
        help_text="The snapshot's measured picture quality and flags (quality.Measures).",
    )
    fingerprint = Bytea(
        null=True, default=None, help_text="The snapshot's small grey copy (frozen-stream check)."
    )
    fingerprint_size = Varchar(length=12, default="", help_text="Its width x height.")
