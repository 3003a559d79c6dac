"""Wire shapes of vehicles, car parks, lanes and pass records. Plates go out masked (川A***45)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from api.core.paging import Page

VehicleClass = Literal["resident", "tenant", "visitor", "temporary", "staff", "blacklisted"]
VehicleStatus = Literal["registered", "active", "cancelled"]
Colour = Literal["blue", "yellow", "green", "white", "black"]
VehicleType = Literal["car", "suv", "truck", "bus", "motorbike", "new_energy"]
Direction = Literal["in", "out"]
Decision = Literal["granted", "denied", "held", "ignored"]
PassClass = Literal[
    "resident", "tenant", "visitor", "temporary", "staff", "blacklisted", "unregistered"
]
# Length bounds only: the service normalises and checks the plate (400 invalid_plate).
Plate = Annotated[str, Meta(min_length=1, max_length=16, examples=["川A12345"])]
Reason = Annotated[str, Meta(max_length=200)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Spaces = Annotated[int, Meta(ge=0, le=100_000)]


def _aware(*times: datetime | None) -> None:
    if any(t is not None and t.tzinfo is None for t in times):
        raise ValueError("times need a time zone offset")


class VehicleCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A vehicle entered into the registry: by a resident for their household (class resident or
    tenant, authorised later by the manager), or by a manager (any class; blacklisted is active
    at once). `household_id` null: the resident's only household."""

    plate: Plate
    colour: Colour = "blue"
    vehicle_type: VehicleType = "car"
    vehicle_class: VehicleClass = "resident"
    household_id: UUID | None = None
    community_id: UUID | None = None
    person_id: UUID | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    reason: Reason = ""

    def __post_init__(self) -> None:
        """Times carry a zone."""
        _aware(self.valid_from, self.valid_until)


class VehicleUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A change to a registered vehicle (the manager's); the plate is never changed (cancel and
    enter the new one)."""

    colour: Colour | UnsetType = UNSET
    vehicle_type: VehicleType | UnsetType = UNSET
    vehicle_class: VehicleClass | UnsetType = UNSET
    person_id: UUID | UnsetType | None = UNSET
    reason: Reason | UnsetType = UNSET


class AuthoriseBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The window the authorisation holds for; null ends: open."""

    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def __post_init__(self) -> None:
        """Times carry a zone."""
        _aware(self.valid_from, self.valid_until)


class ExtendBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A later end of the validity window."""

    valid_until: datetime

    def __post_init__(self) -> None:
        """The end carries a zone."""
        _aware(self.valid_until)


class CancelBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Why the vehicle leaves the registry."""

    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class VehicleRead(msgspec.Struct, kw_only=True):
    """A vehicle; `plate` masked."""

    id: UUID
    community_id: UUID
    household_id: UUID | None
    person_id: UUID | None
    plate: str
    plate_class: str
    colour: str
    vehicle_type: str
    vehicle_class: str
    status: str
    valid_from: datetime | None
    valid_until: datetime | None
    reason: str
    created_at: datetime
    updated_at: datetime


class VehiclePage(Page, kw_only=True):
    """One page of vehicles, newest first."""

    items: list[VehicleRead]


class VehicleHistoryEntry(msgspec.Struct, kw_only=True):
    """One step of a vehicle's lifecycle as the audit log holds it (plates masked)."""

    at: datetime
    action: str
    actor_name: str | None
    actor_role: str | None
    purpose: str | None
    details: dict[str, object]


class CarParkCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A car park, or a zone of one (`parent_id`)."""

    community_id: UUID
    name: Name
    capacity: Spaces
    temporary_capacity: Spaces = 0
    parent_id: UUID | None = None
    long_stay_days: Annotated[int, Meta(ge=0, le=365)] = 7


class CarParkUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A car park's name or spaces (the manager's)."""

    name: Name | UnsetType = UNSET
    capacity: Spaces | UnsetType = UNSET
    temporary_capacity: Spaces | UnsetType = UNSET
    long_stay_days: Annotated[int, Meta(ge=0, le=365)] | UnsetType = UNSET


class OccupancyCorrection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The counts as the manager finds them on site, and why (never negative; the temporary cars
    are among all the cars, so never more). `temporary_occupied` null: left as it is."""

    occupied: Spaces
    temporary_occupied: Spaces | None = None
    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class CarParkRead(msgspec.Struct, kw_only=True):
    """A car park with its spaces taken and free (never below zero); `full`: every temporary
    space is taken (临时车位已满; a car park without temporary spaces is never full)."""

    id: UUID
    community_id: UUID
    parent_id: UUID | None
    name: str
    capacity: int
    temporary_capacity: int
    occupied: int
    free: int
    free_minutes: int = 0
    hourly_fen: int = 0
    daily_cap_fen: int = 0
    long_stay_days: int = 7
    temporary_occupied: int = 0
    temporary_free: int = 0
    full: bool = False


class CarParkGuidance(msgspec.Struct, kw_only=True):
    """Space guidance (车位引导, VEH-21): a car park and its zones with their free spaces, the
    most free first, and the zone an incoming car is directed to (null: every zone is full, or
    the car park has none)."""

    car_park: CarParkRead
    zones: list[CarParkRead]
    recommended_zone_id: UUID | None


class CarParkPage(Page, kw_only=True):
    """One page of car parks and zones."""

    items: list[CarParkRead]


class LaneCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A lane: its car park, direction and devices (of the car park's community)."""

    car_park_id: UUID
    name: Name
    direction: Direction
    barrier_id: UUID
    camera_id: UUID
    display_id: UUID | None = None
    speaker_id: UUID | None = None
    fuzzy: bool = False


class LaneUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A lane moved to another car park or zone of its community, renamed, or made fuzzy."""

    car_park_id: UUID | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    fuzzy: bool | UnsetType = UNSET


class LaneRead(msgspec.Struct, kw_only=True):
    """A lane and its devices."""

    id: UUID
    community_id: UUID
    car_park_id: UUID
    name: str
    direction: str
    barrier_id: UUID | None
    camera_id: UUID | None
    display_id: UUID | None
    speaker_id: UUID | None
    fuzzy: bool


class LanePage(Page, kw_only=True):
    """One page of lanes."""

    items: list[LaneRead]


class PassRecordRead(msgspec.Struct, kw_only=True):
    """One read at a lane and its decision; `plate` masked."""

    id: UUID
    community_id: UUID
    lane_id: UUID | None
    car_park_id: UUID | None
    vehicle_id: UUID | None
    at: datetime
    direction: str
    plate: str
    colour: str
    vehicle_type: str
    confidence: float
    decision: str
    reason: str
    image: str
    decided_by: UUID | None = None
    note: str = ""
    resolves: UUID | None = None
    lane_name: str = ""
    visitor_pass_id: UUID | None = None
    fee_fen: int = 0
    paid_fen: int = 0
    payment_ref: str = ""
    parking_order_id: UUID | None = None
    unplated: bool = False
    image_url: str | None = None


class PassRecordPage(Page, kw_only=True):
    """One page of pass records, newest first."""

    items: list[PassRecordRead]


StatedReason = Annotated[str, Meta(min_length=1, max_length=200)]


class BarrierControl(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Lift (`open`) or close a lane's arm from the lane console; the reason is required."""

    action: Literal["open", "close"]
    reason: StatedReason


class PassResolve(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A guard's answer to a held (unknown, low-confidence, malformed) or refused read: `admit`
    as temporary parking (the arm lifts), `refuse`, or `correct` the plate (decided again)."""

    action: Literal["admit", "refuse", "correct"]
    reason: Reason = ""
    plate: Plate | None = None


class LaneActionResult(msgspec.Struct, kw_only=True):
    """What the lane did: the record made, and the barrier command's status (null: none sent)."""

    record: PassRecordRead
    command_status: str | None


class LaneStatus(msgspec.Struct, kw_only=True):
    """A lane and its last read (null: none yet), for the lane console; `image_url` a short-lived
    link to the read's snapshot, when it has one in the object store."""

    lane: LaneRead
    last: PassRecordRead | None
    image_url: str | None = None


class DayCount(msgspec.Struct, kw_only=True):
    """Entries and exits of one day (site time)."""

    day: date
    entries: int
    exits: int


class HourCount(msgspec.Struct, kw_only=True):
    """Entries and exits in one hour of the day (site time, 0-23), over the whole range."""

    hour: int
    entries: int
    exits: int


class KeyCount(msgspec.Struct, kw_only=True):
    """How many records share a key (a vehicle class, a decision)."""

    key: str
    count: int


class LaneCount(msgspec.Struct, kw_only=True):
    """How many reads a lane had."""

    lane_id: UUID
    lane_name: str
    count: int


class OccupancyPoint(msgspec.Struct, kw_only=True):
    """Cars inside at the end of a day, reconstructed from the day's granted entries and exits."""

    day: date
    occupied: int


class CarParkOccupancy(msgspec.Struct, kw_only=True):
    """A car park's count now: cars inside of its spaces."""

    car_park_id: UUID
    community_id: UUID
    name: str
    capacity: int
    occupied: int


class PassStatistics(msgspec.Struct, kw_only=True):
    """Pass-record statistics of one community, or of all the caller's, over a range (VEH-13)."""

    community_id: UUID | None  # the one community; None when all of the caller's are counted
    community_ids: list[UUID]
    since: datetime
    until: datetime
    total: int
    days: list[DayCount]
    hours: list[HourCount]
    classes: list[KeyCount]
    decisions: list[KeyCount]
    lanes: list[LaneCount]
    occupancy: list[OccupancyPoint]
    car_parks: list[CarParkOccupancy]  # each car park with lanes, its count now


WarningKind = Literal["long_stay", "visitor_overstay", "night_frequent"]
WarningStatus = Literal["open", "dismissed", "cleared"]


class VehicleWarningRead(msgspec.Struct, kw_only=True):
    """A long-stay or abnormal-entry warning (plate masked) and why it was raised."""

    id: UUID
    community_id: UUID
    kind: str
    plate: str
    vehicle_id: UUID | None
    car_park_id: UUID | None
    visitor_pass_id: UUID | None
    entry_id: UUID | None
    reason: str
    details: dict[str, Any]
    status: str
    raised_at: datetime
    closed_at: datetime | None
    closed_by: UUID | None
    close_reason: str


class VehicleWarningPage(Page, kw_only=True):
    """One page of warnings, newest first."""

    items: list[VehicleWarningRead]


class WarningDismiss(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Dismiss a warning; the reason is required and audited."""

    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class WarningSettingsBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A community's thresholds for the warnings' scan (all of them; ranges checked by the
    service, each refusal naming the field: `threshold_out_of_range`, `night_window_empty`,
    `night_min_exceeds_window`)."""

    visitor_grace_minutes: int
    night_start_hour: int
    night_end_hour: int
    night_min_nights: int
    night_window_days: int


class WarningSettingsRead(msgspec.Struct, kw_only=True):
    """A community's thresholds (`custom` false: the defaults, never changed) with the ranges
    a form offers."""

    community_id: UUID
    visitor_grace_minutes: int
    night_start_hour: int
    night_end_hour: int
    night_min_nights: int
    night_window_days: int
    custom: bool
    updated_at: datetime | None
    limits: dict[str, list[int]]
