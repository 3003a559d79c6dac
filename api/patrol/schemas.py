"""The patrol API's bodies: setting up (areas, checkpoints, routes, plans), rounds and scans."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.paging import Page

Name = Annotated[str, Meta(min_length=1, max_length=100)]
Note = Annotated[str, Meta(max_length=500)]
Lat = Annotated[float, Meta(ge=-90, le=90)]
Lon = Annotated[float, Meta(ge=-180, le=180)]
Every = Annotated[int, Meta(ge=10, le=1440, description="Minutes between rounds, 10-1440.")]
Stops = Annotated[list[UUID], Meta(min_length=1, max_length=100)]
Guards = Annotated[list[UUID], Meta(max_length=100)]
RoundStatus = Literal["upcoming", "open", "overdue", "ended"]
Flag = Literal[
    "clock_skew",
    "impossible_speed",
    "round_too_fast",
    "two_phones",
    "repeat",
    "note_missing",
    "photo_missing",
]
Reason = Literal["", "unknown_code", "other_community", "outside_round", "round_ended"]


def _unique(ids: list[UUID], field: str) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"{field} must not repeat")


# -- areas -----------------------------------------------------------------------------------------


class PatrolAreaCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A patrol area of a community."""

    community_id: UUID
    name: Name
    note: Note = ""


class PatrolAreaUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Rename an area or change its note."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    note: Note | msgspec.UnsetType = msgspec.UNSET


class PatrolAreaRead(msgspec.Struct, kw_only=True):
    """A patrol area."""

    id: UUID
    community_id: UUID
    name: str
    note: str


class PatrolAreaPage(Page, kw_only=True):
    """A page of patrol areas."""

    items: list[PatrolAreaRead]


# -- checkpoints -----------------------------------------------------------------------------------


class CheckpointCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A checkpoint in an area; its QR code is made by the platform."""

    area_id: UUID
    name: Name
    needs_photo: bool = False
    needs_note: bool = False
    lat: Lat | None = None
    lon: Lon | None = None
    device_id: UUID | None = None

    def __post_init__(self) -> None:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")


class CheckpointUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a checkpoint; `new_code` replaces its QR code (old labels stop counting)."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    needs_photo: bool | msgspec.UnsetType = msgspec.UNSET
    needs_note: bool | msgspec.UnsetType = msgspec.UNSET
    lat: Lat | msgspec.UnsetType | None = msgspec.UNSET
    lon: Lon | msgspec.UnsetType | None = msgspec.UNSET
    device_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    new_code: bool = False


class CheckpointRead(msgspec.Struct, kw_only=True):
    """A checkpoint; `code` (what its QR label encodes) only for those who set patrols up."""

    id: UUID
    community_id: UUID
    area_id: UUID
    name: str
    needs_photo: bool
    needs_note: bool
    lat: float | None
    lon: float | None
    device_id: UUID | None
    code: str | None = None
    photo_url: str | None = None


class CheckpointPage(Page, kw_only=True):
    """A page of checkpoints."""

    items: list[CheckpointRead]


# -- routes ----------------------------------------------------------------------------------------


class PatrolRouteCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A route: checkpoints of the community in walking order."""

    community_id: UUID
    name: Name
    checkpoints: Stops

    def __post_init__(self) -> None:
        _unique(self.checkpoints, "checkpoints")


class PatrolRouteUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Rename a route or change its checkpoints (rounds already made keep theirs)."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    checkpoints: Stops | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.checkpoints is not msgspec.UNSET:
            _unique(self.checkpoints, "checkpoints")


class PatrolStop(msgspec.Struct, kw_only=True):
    """A checkpoint on a route."""

    id: UUID
    name: str


class PatrolRouteRead(msgspec.Struct, kw_only=True):
    """A route and its checkpoints in order."""

    id: UUID
    community_id: UUID
    name: str
    checkpoints: list[PatrolStop]


class PatrolRoutePage(Page, kw_only=True):
    """A page of routes."""

    items: list[PatrolRouteRead]


# -- plans -----------------------------------------------------------------------------------------


class PatrolPlanCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """When a route is walked and by whom: by day a round every `day_every` minutes from
    `day_starts`, by night every `night_every` minutes from `night_starts` (site time)."""

    route_id: UUID
    name: Name
    guards: Guards
    day_starts: time
    night_starts: time
    day_every: Every = 120
    night_every: Every = 60
    round_minutes: Annotated[int, Meta(ge=5, le=480)] = 30
    grace_minutes: Annotated[int, Meta(ge=0, le=120)] = 10
    active: bool = True

    def __post_init__(self) -> None:
        _unique(self.guards, "guards")
        check_windows(self.day_starts, self.night_starts)
        check_fits(self.round_minutes, self.grace_minutes, self.day_every, self.night_every)


class PatrolPlanUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a plan; rounds not yet begun are made again."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    guards: Guards | msgspec.UnsetType = msgspec.UNSET
    day_starts: time | msgspec.UnsetType = msgspec.UNSET
    night_starts: time | msgspec.UnsetType = msgspec.UNSET
    day_every: Every | msgspec.UnsetType = msgspec.UNSET
    night_every: Every | msgspec.UnsetType = msgspec.UNSET
    round_minutes: Annotated[int, Meta(ge=5, le=480)] | msgspec.UnsetType = msgspec.UNSET
    grace_minutes: Annotated[int, Meta(ge=0, le=120)] | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.guards is not msgspec.UNSET:
            _unique(self.guards, "guards")


def check_windows(day_starts: time, night_starts: time) -> None:
    """Day and night windows are whole minutes and not the same instant."""
    if day_starts == night_starts:
        raise ValueError("day_starts and night_starts must differ")
    if day_starts.second or night_starts.second or day_starts.microsecond:
        raise ValueError("windows start on a whole minute")


def check_fits(round_minutes: int, grace: int, day_every: int, night_every: int) -> None:
    """A round and its grace end before the next round begins: rounds of a plan never overlap."""
    if round_minutes + grace > min(day_every, night_every):
        raise ValueError("round_minutes + grace_minutes must not exceed the time between rounds")


class PatrolGuard(msgspec.Struct, kw_only=True):
    """A guard of the community, who may be named on a plan."""

    id: UUID
    name: str


class PatrolPlanRead(msgspec.Struct, kw_only=True):
    """A patrol plan."""

    id: UUID
    community_id: UUID
    route_id: UUID
    name: str
    guards: list[UUID]
    day_starts: time
    night_starts: time
    day_every: int
    night_every: int
    round_minutes: int
    grace_minutes: int
    active: bool


class PatrolPlanPage(Page, kw_only=True):
    """A page of plans."""

    items: list[PatrolPlanRead]


# -- rounds ----------------------------------------------------------------------------------------


class RoundStop(msgspec.Struct, kw_only=True):
    """A checkpoint of a round and how it went: scanned when (server time), late, flags; whether
    it asks for a photo or a note now."""

    id: UUID
    name: str
    scanned_at: datetime | None
    late: bool
    flags: list[str]
    needs_photo: bool = False
    needs_note: bool = False
    photo_url: str | None = None  # the point's reference photo: what to look for


class RoundSummary(msgspec.Struct, kw_only=True):
    """How a round ended: its points scanned, missed and late (names), and the scans' flags."""

    total: int
    scanned: int
    missed: list[str]
    late: list[str]
    flags: list[str]


class RoundRead(msgspec.Struct, kw_only=True):
    """A round: when it is due, its checkpoints in order and which are done, the next one."""

    id: UUID
    community_id: UUID
    plan_id: UUID | None
    route_name: str
    guards: list[UUID]
    starts_at: datetime
    due_at: datetime
    closes_at: datetime
    ended_at: datetime | None
    status: RoundStatus
    checkpoints: list[RoundStop]
    next_checkpoint_id: UUID | None
    summary: RoundSummary | None
    alarm_id: UUID | None


class RoundPage(Page, kw_only=True):
    """A page of rounds."""

    items: list[RoundRead]


# -- scans -----------------------------------------------------------------------------------------


class ScanPhoto(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A photo from the guard's phone: `data` is base64 in JSON."""

    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    data: Annotated[bytes, Meta(min_length=8, max_length=700_000)]


CheckpointPhoto = ScanPhoto  # a checkpoint's reference photo: the same shape and limits


class ScanCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A scan from the phone. `id` is made by the phone when it scans, so sending it again (from
    the offline queue) stores it once; `scanned_at` and `sent_at` are the phone's clock."""

    id: UUID
    code: Annotated[str, Meta(min_length=1, max_length=128)]
    scanned_at: Annotated[datetime, Meta(tz=True)]
    sent_at: Annotated[datetime, Meta(tz=True)]
    phone: Annotated[str, Meta(min_length=1, max_length=64)]
    round_id: UUID | None = None
    note: Note = ""
    photo: ScanPhoto | None = None


class ScanRead(msgspec.Struct, kw_only=True):
    """A scan as stored: both clocks, whether it counted (or why not), and its flags."""

    id: UUID
    community_id: UUID
    round_id: UUID | None
    checkpoint_id: UUID | None
    guard_id: UUID | None
    device_id: UUID | None
    phone_at: datetime
    server_at: datetime
    at: datetime
    accepted: bool
    reason: Reason
    late: bool
    flags: list[str]
    note: str


class ScanPage(Page, kw_only=True):
    """A page of scans."""

    items: list[ScanRead]


# -- video patrol: camera tours and their runs -----------------------------------------------------

Cameras = Annotated[list[UUID], Meta(min_length=1, max_length=64)]
Dwell = Annotated[int, Meta(ge=5, le=600, description="Seconds each camera is shown, 5-600.")]
RunMinutes = Annotated[int, Meta(ge=5, le=480)]
TourStatus = Literal["upcoming", "due", "done", "missed"]
CheckResult = Literal["normal", "problem"]
Problem = Literal["unclear", "no_image", "other"]


class CameraTourCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A tour of the community's cameras, in order, each shown `dwell_seconds`; a tour is due
    every `day_every` minutes by day from `day_starts`, every `night_every` by night."""

    community_id: UUID
    name: Name
    cameras: Cameras
    dwell_seconds: Dwell = 20
    day_starts: time
    night_starts: time
    day_every: Every = 240
    night_every: Every = 120
    run_minutes: RunMinutes = 15
    active: bool = True

    def __post_init__(self) -> None:
        _unique(self.cameras, "cameras")
        check_windows(self.day_starts, self.night_starts)
        check_fits(self.run_minutes, 0, self.day_every, self.night_every)


class CameraTourUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a tour (runs not begun are made again) or pause it (`active: false`)."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    cameras: Cameras | msgspec.UnsetType = msgspec.UNSET
    dwell_seconds: Dwell | msgspec.UnsetType = msgspec.UNSET
    day_starts: time | msgspec.UnsetType = msgspec.UNSET
    night_starts: time | msgspec.UnsetType = msgspec.UNSET
    day_every: Every | msgspec.UnsetType = msgspec.UNSET
    night_every: Every | msgspec.UnsetType = msgspec.UNSET
    run_minutes: RunMinutes | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.cameras is not msgspec.UNSET:
            _unique(self.cameras, "cameras")


class TourCamera(msgspec.Struct, kw_only=True):
    """A camera of a tour."""

    id: UUID
    name: str


class CameraTourRead(msgspec.Struct, kw_only=True):
    """A camera tour."""

    id: UUID
    community_id: UUID
    name: str
    cameras: list[TourCamera]
    dwell_seconds: int
    day_starts: time
    night_starts: time
    day_every: int
    night_every: int
    run_minutes: int
    active: bool


class CameraTourPage(Page, kw_only=True):
    """A page of camera tours."""

    items: list[CameraTourRead]


QualityFlag = Literal["dark", "bright", "covered", "blurred", "frozen"]


class PictureQuality(msgspec.Struct, kw_only=True):
    """The platform's check of a snapshot (api/patrol/quality.py): mean grey level, its spread,
    the histogram's entropy (bits), the Laplacian's variance, the mean difference from the
    camera's previous snapshot (null: none to compare) — and the flags they raise (empty: fine)."""

    luminance: float
    contrast: float
    entropy: float
    sharpness: float
    change: float | None
    flags: list[QualityFlag]


class TourStop(msgspec.Struct, kw_only=True):
    """A camera of a run and the guard's verdict on it (`result` null: not checked yet), with the
    platform's check of its snapshot (`quality`, null without one)."""

    id: UUID
    name: str
    result: CheckResult | None
    problem: Problem | None
    note: str
    checked_at: datetime | None
    alarm_id: UUID | None
    quality: PictureQuality | None = None


class TourRunRead(msgspec.Struct, kw_only=True):
    """A tour due between `starts_at` and `due_at`, its cameras in order and how each was found."""

    id: UUID
    community_id: UUID
    tour_id: UUID | None
    tour_name: str
    dwell_seconds: int
    starts_at: datetime
    due_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    status: TourStatus
    guard_id: UUID | None
    cameras: list[TourStop]
    next_camera_id: UUID | None
    alarm_id: UUID | None


class TourRunPage(Page, kw_only=True):
    """A page of tour runs."""

    items: list[TourRunRead]


class TourCheckCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The guard's verdict on one camera: `normal`, or `problem` with what is wrong (a note
    required for `other`), with a `snapshot` (a frame of the live view the browser grabbed) that
    the platform checks for picture quality. A problem — the guard's, or a bad picture — raises an
    alarm and the snapshot is kept on it."""

    camera_id: UUID
    result: CheckResult
    problem: Problem | None = None
    note: Note = ""
    snapshot: ScanPhoto | None = None

    def __post_init__(self) -> None:
        if self.result == "normal" and self.problem is not None:
            raise ValueError("a camera found normal has no problem")
        if self.result == "problem" and self.problem is None:
            raise ValueError("say what the problem is")
        if self.problem == "other" and not self.note.strip():
            raise ValueError("describe the problem in the note")


# -- compliance ------------------------------------------------------------------------------------


class ComplianceItem(msgspec.Struct, kw_only=True):
    """How one guard's or one route's ended rounds went in the range: rounds due and completed
    (every point scanned), points missed and late, flagged scans, completed / due."""

    key: str
    name: str
    due: int
    completed: int
    points_missed: int
    late: int
    flagged: int
    rate: float


class CompliancePage(Page, kw_only=True):
    """A page of compliance rows."""

    items: list[ComplianceItem]
