"""Vehicles and parking: the registry of vehicles, car parks and their zones, lanes, pass records.

A plate is a personal identifier: stored encrypted (FieldCipher, context "vehicles.plate") beside
its blind index (kind "plate", of the plate normalised by device_bridge/plates.py) and a masked
form for lists; equality and fuzzy (edit distance 1) searches go through the index.
"""

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from api.communities.tables import Community, Household
from api.devices.tables import Device
from api.people.tables import Person


class Vehicle(Table, tablename="vehicles"):
    """One vehicle of the registry: a household's car, a staff car, a blacklisted plate.

    Lifecycle (VEH-07): entered (`registered`), authorised (`active`), changed, cancelled
    (`cancelled`), extended (a later `valid_until`); each step is audited. A blacklisted vehicle is
    `active` with class `blacklisted`: it is never let in.
    """

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    household = ForeignKey(Household, null=True, help_text="The owning household, if any.")
    person = ForeignKey(Person, null=True, help_text="The owner or usual driver, if known.")
    plate = Text(secret=True, help_text="Encrypted normalised plate (FieldCipher token).")
    plate_index = Varchar(length=64, index=True, help_text="Blind index of the plate.")
    plate_masked = Varchar(length=16, help_text="What lists show: 川A***45.")
    plate_class = Varchar(length=12, help_text="standard | new_energy | police | … (plates.py).")
    colour = Varchar(length=8, default="blue", help_text="blue | yellow | green | white | black")
    vehicle_type = Varchar(
        length=12, default="car", help_text="car | suv | truck | bus | motorbike | new_energy"
    )
    vehicle_class = Varchar(
        length=12,
        index=True,
        help_text="resident | tenant | visitor | temporary | staff | blacklisted",
    )
    status = Varchar(length=12, index=True, help_text="registered | active | cancelled")
    valid_from = Timestamptz(null=True, default=None)
    valid_until = Timestamptz(null=True, default=None)
    reason = Varchar(length=200, default="", help_text="Why blacklisted, or why cancelled.")
    credential = UUID(
        null=True,
        default=None,
        help_text="Its access credential (kind plate, or plate_block when blacklisted) the "
        "bridges decide on; none unless active.",
    )
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class CarPark(Table, tablename="car_parks"):
    """A car park, or a zone of one (`parent` set), with its spaces and how many are taken.

    `occupied` moves with recorded entries and exits and never goes below zero.
    """

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    parent = UUID(null=True, default=None, help_text="The car park this zone is part of.")
    name = Varchar(length=100)
    capacity = Integer(default=0, help_text="All spaces.")
    temporary_capacity = Integer(default=0, help_text="Spaces for temporary (visitor) parking.")
    occupied = Integer(default=0)
    long_stay_days = Integer(
        default=7, help_text="A car inside longer than this many days is warned of (0: never)."
    )
    created_at = Timestamptz()


class Lane(Table, tablename="vehicle_lanes"):
    """One lane of a car park's entrance or exit: a barrier, its plate camera, display, speaker."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    car_park = ForeignKey(CarPark, null=False)
    name = Varchar(length=100)
    direction = Varchar(length=3, help_text="in | out")
    barrier = ForeignKey(Device, null=True, help_text="The barrier gate.")
    camera = ForeignKey(Device, null=True, unique=True, help_text="The plate camera.")
    display = ForeignKey(Device, null=True, help_text="The LED display.")
    speaker = ForeignKey(Device, null=True, help_text="The voice speaker.")
    fuzzy = Boolean(default=False, help_text="A read one character off a known plate matches.")
    created_at = Timestamptz()


class PassRecord(Table, tablename="vehicle_passes"):
    """One plate read at a lane and what was decided; kept at least 6 months (VEH-11)."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    lane = ForeignKey(Lane, null=True, help_text="Null: the read came from an unknown lane.")
    car_park = UUID(null=True, default=None)
    vehicle = UUID(null=True, default=None, index=True, help_text="The registry's vehicle.")
    household = UUID(null=True, default=None, index=True, help_text="The vehicle's household.")
    visitor_pass = UUID(
        null=True, default=None, help_text="The visitor pass whose plate was let in, if any."
    )
    at = Timestamptz(index=True)
    direction = Varchar(length=3, help_text="in | out")
    plate = Text(secret=True, default="", help_text="Encrypted plate as read and normalised.")
    plate_index = Varchar(length=64, index=True, default="", help_text="Blind index of it.")
    plate_masked = Varchar(length=16, default="")
    colour = Varchar(length=8, default="")
    vehicle_type = Varchar(length=12, default="")
    confidence = Real(default=0.0)
    decision = Varchar(length=8, help_text="granted | denied | held | ignored")
    reason = Varchar(length=40, default="", help_text="resident | visitor | blacklisted | …")
    image = Varchar(length=200, default="", help_text="Object key of the camera's snapshot.")
    device_event = BigInt(
        null=True, default=None, unique=True, help_text="The bridge event it was made from."
    )
    decided_by = UUID(
        null=True, default=None, help_text="The guard who decided it at the lane console (VEH-15)."
    )
    note = Varchar(length=200, default="", help_text="The guard's stated reason.")
    resolves = UUID(
        null=True,
        default=None,
        unique=True,
        help_text="The held or refused read this guard's decision answers (once).",
    )


class VehicleWarning(Table, tablename="vehicle_warnings"):
    """A car the periodic scan found staying too long or coming at unusual hours (VEH-04, ANA-06).

    `kind`: `long_stay` (inside longer than its car park's `long_stay_days`), `visitor_overstay`
    (a visitor's car still inside after its pass ended), `night_frequent` (seen at night on many
    nights of a week, not a resident's car). `open_key` (kind and plate, unique) is set while the
    warning is open, so a car has at most one open warning of a kind; `episode` (unique) names
    what was found (the entry, the visitor pass, the week), so a dismissed warning is not raised
    again for the same thing.
    """

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    kind = Varchar(length=20, index=True, help_text="long_stay | visitor_overstay | night_frequent")
    plate_index = Varchar(length=64, help_text="Blind index of the plate.")
    plate_masked = Varchar(length=16)
    vehicle = UUID(null=True, default=None, help_text="The registry's vehicle, if known.")
    car_park = UUID(null=True, default=None)
    visitor_pass = UUID(null=True, default=None)
    entry = UUID(null=True, default=None, help_text="The pass record of the entry it stays from.")
    reason = Varchar(length=200, help_text="Why, in words: 停放已 9 天（超过 7 天）.")
    details = JSONB(default={}, help_text="The figures behind the reason.")
    status = Varchar(length=10, index=True, help_text="open | dismissed | cleared")
    open_key = Varchar(length=200, null=True, default=None, unique=True)
    episode = Varchar(length=200, unique=True)
    raised_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)
    closed_by = UUID(null=True, default=None, help_text="Who dismissed it.")
    close_reason = Varchar(length=200, default="")
