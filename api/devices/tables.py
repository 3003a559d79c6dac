"""Bridges (one per site), their devices, the events they send and the commands they are given."""

from piccolo.columns import (
    JSONB,
    UUID,
    BigSerial,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Unique
from piccolo.table import Table

from api.communities.tables import Building, Community, Unit


class Bridge(Table, tablename="bridges"):
    """A device bridge process at a site, known by its Ed25519 public key."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    name = Varchar(length=64)
    public_key = Varchar(length=64, help_text="Raw Ed25519 public key, base64.")
    version = Varchar(length=32, default="")
    online = Boolean(default=False)
    last_seen = Timestamptz(null=True, default=None)
    clock_skew = Float(null=True, default=None, help_text="Bridge clock minus platform clock, s.")
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class EnrolmentToken(Table, tablename="bridge_enrolment_tokens"):
    """A one-time token a system administrator issues for a new bridge. Stored hashed."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    token_hash = Varchar(length=64, unique=True, secret=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    bridge = ForeignKey(Bridge, null=True)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()


class Device(Table, tablename="devices"):
    """A device driven by a bridge (a door, a camera, a sensor, …) or an asset added by hand to the
    equipment ledger (bridge null: an extinguisher, a hydrant, a pump, …). Placed in the community.
    The ledger's fields (docs/devices.md, *The equipment ledger*) are on the same row, so every
    device a bridge reports is an asset and every asset's id is a device id."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    bridge = ForeignKey(Bridge, null=True, help_text="Null: an asset added by hand to the ledger.")
    external_id = Varchar(length=64, help_text="The device's id at its bridge.")
    kind = Varchar(length=24)
    name = Varchar(length=100)
    building = ForeignKey(Building, null=True)
    unit = ForeignKey(Unit, null=True)
    protection_zone = Integer(
        null=True,
        default=None,
        help_text=(
            "Standard 4.1.1: 1 perimeter and entrances, 2 public areas, 3 buildings, 4 key areas."
        ),
    )
    map_x = Float(null=True, default=None)
    map_y = Float(null=True, default=None)
    attrs = JSONB(default={})
    reported_online = Boolean(default=True, help_text="What the bridge last said of the device.")
    last_seen = Timestamptz(null=True, default=None)
    clock_skew = Float(null=True, default=None, help_text="Device clock minus platform clock, s.")
    created_at = Timestamptz()
    # -- the equipment ledger (OPS-13, OPS-14) --
    asset_no = Serial(help_text="The unified asset code is AJ + this number, 6 digits.")
    label_code = Varchar(
        length=16, null=True, default=None, unique=True, help_text="Random code on its QR label."
    )
    floor = Integer(null=True, default=None)
    location_text = Varchar(length=200, default="", help_text="Where, when no building says it.")
    owner_party = Varchar(length=100, default="")
    user_party = Varchar(length=100, default="")
    om_party = Varchar(length=100, default="", help_text="Who operates and maintains it.")
    vendor = Varchar(length=100, default="")
    model = Varchar(length=100, default="")
    serial_no = Varchar(length=100, default="")
    install_date = Date(null=True, default=None)
    warranty_end = Date(null=True, default=None)
    status = Varchar(
        length=16,
        default="in_service",
        help_text="in_stock | installed | in_service | faulty | under_repair | retired",
    )
    notes = Text(default="")
    purchase_cost = Integer(null=True, default=None, help_text="Purchase cost in fen (分).")

    unique_bridge_device = Unique([bridge, external_id])


class DeviceEvent(Table, tablename="device_events"):
    """An event as a bridge sent it (seq set), or as the platform observed it (seq null)."""

    id = BigSerial(primary_key=True)
    bridge = ForeignKey(Bridge, null=False)
    seq = Integer(null=True, default=None)
    community = ForeignKey(Community, null=False)
    device = ForeignKey(Device, null=True)
    kind = Varchar(length=48, index=True)
    at = Timestamptz(help_text="When it happened (device clock, corrected by the bridge's skew).")
    received_at = Timestamptz()
    data = JSONB(default={})

    unique_bridge_seq = Unique([bridge, seq])


class DeviceCommand(Table, tablename="device_commands"):
    """A command given to a device, who asked, and what came of it."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    device = ForeignKey(Device, null=False)
    action = Varchar(length=32)
    args = JSONB(default={})
    requested_by = UUID(null=True, default=None, help_text="Account id; null for the platform.")
    requested_at = Timestamptz()
    status = Varchar(
        length=12, default="pending", help_text="pending|ok|failed|timeout|unsupported"
    )
    detail = Text(default="")
    completed_at = Timestamptz(null=True, default=None)


class AssetHistory(Table, tablename="device_asset_history"):
    """Every change to an asset's ledger entry: created, fields updated, lifecycle moves."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    device = ForeignKey(Device, null=False, index=True)
    at = Timestamptz()
    actor = UUID(null=True, default=None, help_text="Account id; null for the platform.")
    action = Varchar(length=16, help_text="created | updated | status")
    from_status = Varchar(length=16, default="")
    to_status = Varchar(length=16, default="")
    changes = JSONB(default={}, help_text="Field -> [old, new] of an update.")
    note = Text(default="")


class SparePart(Table, tablename="spare_parts"):
    """A spare part kept in stock by a community (OPS-15). Stock never goes below zero."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    code = Varchar(length=32)
    name = Varchar(length=100)
    category = Varchar(length=48, default="")
    unit = Varchar(length=12, default="个")
    stock = Integer(default=0)
    min_stock = Integer(default=0)
    place = Varchar(length=100, default="", help_text="Where it is kept.")
    unit_cost = Integer(null=True, default=None, help_text="Unit cost in fen (分).")
    created_at = Timestamptz()

    unique_community_code = Unique([community, code])


class StockMovement(Table, tablename="spare_part_movements"):
    """A change of a part's stock: in, out (taken for a use) or adjust (a count)."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    part = ForeignKey(SparePart, null=False, index=True)
    kind = Varchar(length=8, help_text="in | out | return | adjust")
    quantity = Integer(help_text="Signed change of the stock.")
    stock_after = Integer()
    reason = Text(default="")
    device = ForeignKey(Device, null=True, help_text="The asset the parts were taken for.")
    work_order = UUID(
        null=True, default=None, index=True, help_text="The work order they were taken for."
    )
    unit_cost = Integer(
        null=True, default=None, help_text="The part's unit cost (fen) when it moved: history."
    )
    actor = UUID(null=True, default=None)
    at = Timestamptz()
