"""Access control: access points, schedules, groups, credentials, their change log, and records."""

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    BigSerial,
    Bytea,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from api.alarms.tables import IntrusionZone
from api.communities.tables import Building, Community, Household, Unit
from api.devices.tables import Bridge, Device
from api.people.tables import Person


class AccessPoint(Table, tablename="access_points"):
    """A place people pass: a gate, a unit door, a turnstile, a lift, the door of a key room."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    device = ForeignKey(
        Device, null=True, unique=True, help_text="The door controller or lift that guards it."
    )
    name = Varchar(length=100)
    kind = Varchar(length=12, help_text="gate | unit_door | turnstile | lift | key_room")
    direction = Varchar(length=4, default="both", help_text="in | out | both")
    zone = ForeignKey(IntrusionZone, null=True)
    building = ForeignKey(Building, null=True)
    unit = ForeignKey(Unit, null=True)
    floors = JSONB(default=[], help_text="Lift floors this point serves (lifts only).")
    created_at = Timestamptz()


class AccessSchedule(Table, tablename="access_schedules"):
    """When a group's members may pass: weekly windows, minus holidays."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    name = Varchar(length=100)
    windows = JSONB(
        default=[], help_text='[{"days": [1..7] (1 = Monday), "start": "08:00", "end": "18:00"}]'
    )
    holidays = JSONB(default=[], help_text="ISO dates (site calendar) on which nobody passes.")
    created_at = Timestamptz()


class AccessGroup(Table, tablename="access_groups"):
    """A set of access points with an optional schedule, given to credentials."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    name = Varchar(length=100)
    points = JSONB(default=[], help_text="Access point ids.")
    schedule = ForeignKey(AccessSchedule, null=True)
    created_at = Timestamptz()


class Credential(Table, tablename="credentials"):
    """Something that opens doors: a card, a PIN, a QR identity, the app, a face, a keypad code,
    a phone's own key (kind "phone_key": its public key and the name the resident gave the phone).

    Card numbers and PINs are encrypted (context "credentials.value") beside a blind index for
    look-ups; a keypad code's HOTP secret is encrypted too. A face credential holds only the
    biometric store's template id (api/biometrics), never the photo or the template.
    """

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    kind = Varchar(
        length=12, help_text="card | pin | qr | app | face | code | fingerprint | phone_key"
    )
    person = ForeignKey(Person, null=True)
    household = ForeignKey(
        Household, null=True, help_text="Set: passes the household's gates and unit doors."
    )
    visitor_pass = UUID(null=True, default=None, help_text="The visitor pass it belongs to.")
    value = Text(null=True, default=None, secret=True, help_text="Encrypted card number or PIN.")
    value_index = Varchar(
        length=64, null=True, default=None, index=True, help_text="Blind index of the value."
    )
    masked = Varchar(length=40, default="", help_text="What lists show: '****5678', '******'.")
    hotp_secret = Text(null=True, default=None, secret=True, help_text="Encrypted (kind code).")
    counter = Integer(default=0, help_text="Next unused HOTP counter (kind code).")
    template = UUID(null=True, default=None, help_text="Biometric template id (kind face).")
    public_key = Bytea(
        null=True, default=None, help_text="Raw public key (kind phone_key: P-256 or Ed25519)."
    )
    label = Varchar(length=40, default="", help_text="The phone's name (kind phone_key).")
    groups = JSONB(default=[], help_text="Access group ids.")
    points = JSONB(default=[], help_text="Access point ids, beside those of the groups.")
    floors = JSONB(default=[], help_text="Lift floors it may call.")
    valid_from = Timestamptz(null=True, default=None)
    valid_until = Timestamptz(null=True, default=None)
    uses = Integer(default=-1, help_text="Passes left; -1 unlimited.")
    status = Varchar(length=8, default="active", help_text="active | revoked")
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = UUID(null=True, default=None)
    revoke_reason = Varchar(length=200, default="")
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()


class CredentialChange(Table, tablename="credential_changes"):
    """One change to what a credential may pass. The id is the community's credential version."""

    id = BigSerial(primary_key=True)
    community = ForeignKey(Community, null=False, index=True)
    credential = UUID(help_text="The credential that changed (it may be gone).")
    at = Timestamptz()


class BridgeCredentials(Table, tablename="bridge_credentials"):
    """What a bridge was last sent and what it says it holds."""

    id = UUID(primary_key=True)
    bridge = ForeignKey(Bridge, null=False, unique=True)
    sent_version = BigInt(default=0)
    applied_version = BigInt(null=True, default=None)
    entries = Integer(default=0, help_text="Credentials in the last full set.")
    sent_at = Timestamptz(null=True, default=None)
    applied_at = Timestamptz(null=True, default=None)
    full_at = Timestamptz(null=True, default=None, help_text="When the last full set went.")


class AccessRecord(Table, tablename="access_records"):
    """One pass or refusal at an access point; kept at least 6 months (standard 6.5.12)."""

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    device = ForeignKey(Device, null=False)
    person = ForeignKey(Person, null=True)
    account = UUID(null=True, default=None, help_text="The account that asked, for app openings.")
    at = Timestamptz(index=True)
    direction = Varchar(length=3, default="in", help_text="in | out")
    method = Varchar(
        length=12, help_text="app | card | pin | qr | face | code | fingerprint | remote | intercom"
    )
    result = Varchar(length=8, help_text="granted | denied | failed")
    reason = Varchar(length=200, default="")
    command = UUID(
        null=True, default=None, help_text="The device command of an app or remote opening."
    )
    credential = UUID(null=True, default=None, index=True)
    visitor_pass = UUID(null=True, default=None, index=True)
    decided_by = Varchar(length=8, default="", help_text="bridge | platform")
    photo = Varchar(length=200, default="", help_text="Object key of the reader's snapshot.")
