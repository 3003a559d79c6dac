"""Bridges (one per site), their devices, the events they send and the commands they are given."""

from piccolo.columns import (
    JSONB,
    UUID,
    BigSerial,
    Boolean,
    Float,
    ForeignKey,
    Integer,
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
    """A device driven by a bridge: a door, a camera, a sensor, … Placed in the community."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    bridge = ForeignKey(Bridge, null=False)
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
