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

    `occupied` moves with recorded entries and exits at its own lanes (a zone's lanes count the
    zone) and never goes below zero; `temporary_occupied` counts the temporary cars among them
    (visitors, cars the guard let in, the registry's visitor and temporary classes): when it
    reaches `temporary_capacity` the car park is full for temporary parking (VEH-22). A manager
    corrects either count with a stated reason (api/vehicles/parking.py).
    """

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    parent = UUID(null=True, default=None, help_text="The car park this zone is part of.")
    name = Varchar(length=100)
    capacity = Integer(default=0, help_text="All spaces.")
    temporary_capacity = Integer(default=0, help_text="Spaces for temporary (visitor) parking.")
    occupied = Integer(default=0)
    temporary_occupied = Integer(default=0, help_text="Temporary cars inside (≤ occupied).")
    free_minutes = Integer(default=0, help_text="Tariff: minutes a temporary car stays free.")
    hourly_fen = Integer(default=0, help_text="Tariff: fen per started hour (0: free parking).")
    daily_cap_fen = Integer(default=0, help_text="Tariff: most fen per calendar day (0: no cap).")
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
    qr_token = Varchar(
        length=32,
        null=True,
        default=None,
        unique=True,
        help_text="The lane's public QR (/park/<token>): unplated cars, payment at the exit.",
    )
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
    ticket = UUID(null=True, default=None, help_text="The unplated car's ticket (VEH-16).")
    parking_order = UUID(null=True, default=None, help_text="The order this exit settled.")
    fee_fen = Integer(default=0, help_text="What the stay cost (VEH-05).")
    paid_fen = Integer(default=0, help_text="What was paid of it (a waived fee: 0).")
    payment_ref = Varchar(length=64, default="", help_text="The payment provider's reference.")


class ParkingTicket(Table, tablename="vehicle_tickets"):
    """An unplated car's temporary ticket (VEH-16): taken at an entrance lane's QR, shown at the
    exit lane's. The phone, when given, is encrypted and never shown on a public page."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    car_park = UUID(help_text="The car park it entered.")
    entry_lane = UUID()
    code = Varchar(length=12, unique=True, help_text="What the driver keeps: 8 characters.")
    phone = Text(secret=True, default="", help_text="Encrypted phone number, or empty.")
    entered_at = Timestamptz()
    entry_record = UUID(null=True, default=None)
    exited_at = Timestamptz(null=True, default=None)
    exit_record = UUID(null=True, default=None)


class ParkingOrder(Table, tablename="vehicle_parking_orders"):
    """What a temporary car owes at an exit lane (VEH-05): priced once, paid through a provider
    (idempotent on its notification), or waived by a guard with a reason."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    car_park = UUID()
    lane = UUID(help_text="The exit lane whose arm lifts when it is settled.")
    exit_read = UUID(
        null=True, default=None, unique=True, help_text="The held read at the exit it answers."
    )
    ticket = UUID(null=True, default=None, unique=True, help_text="Or the unplated car's ticket.")
    entry_record = UUID(null=True, default=None)
    plate_masked = Varchar(length=16, default="")
    entered_at = Timestamptz()
    priced_at = Timestamptz()
    amount_fen = Integer()
    status = Varchar(length=8, index=True, help_text="pending | paid | waived")
    token = Varchar(length=32, unique=True, help_text="The public order page's key.")
    provider = Varchar(length=16)
    provider_ref = Varchar(length=64, unique=True)
    payment_url = Varchar(length=300)
    paid_at = Timestamptz(null=True, default=None)
    paid_fen = Integer(default=0)
    settled_by = UUID(null=True, default=None, help_text="The guard who waived it.")
    note = Varchar(length=200, default="", help_text="The guard's stated reason for a waiver.")
    exit_record = UUID(null=True, default=None, help_text="The exit record made when settled.")
    created_at = Timestamptz()


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


class WarningSettings(Table, tablename="vehicle_warning_settings"):
    """A community's thresholds for the warnings' scan (ANA-06), set by its property managers.

    No row: the defaults (`api/vehicles/thresholds.py`). A long stay's limit stays per car park
    (`CarPark.long_stay_days`): car parks of one community differ (a visitors' lot, a garage)."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False, unique=True)
    visitor_grace_minutes = Integer(help_text="A visitor's car may stay this long past its pass.")
    night_start_hour = Integer(help_text="The night starts at this hour of the site's clock.")
    night_end_hour = Integer(help_text="…and ends at this one (across midnight when earlier).")
    night_min_nights = Integer(help_text="Seen on at least this many nights…")
    night_window_days = Integer(help_text="…of the last this many days.")
    updated_at = Timestamptz()
    updated_by = UUID(null=True, default=None, help_text="The manager who last changed them.")
