"""Visitor passes: a booked or walk-in visitor, the doors and time they may pass, their entries."""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from api.communities.tables import Community, Household


class VisitorPass(Table, tablename="visitor_passes"):
    """One visitor's permission to enter a community for a household; kept at least 6 months.

    The pass itself holds no door decision: on activation it gets one credential of kind `code`
    (api/access/credentials.py), found by its keypad codes and by the QR tokens naming it, that
    the bridges decide on, offline too.
    """

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    household = ForeignKey(Household, null=False, help_text="The household being visited.")
    booked_by = UUID(
        null=True, default=None, help_text="The resident account that booked it (null: walk-in)."
    )
    created_by = UUID(help_text="The account that created the pass (resident or desk guard).")
    walk_in = Boolean(default=False, help_text="Registered at the visitor desk, ID checked.")
    visitor_name = Varchar(length=50)
    phone = Text(secret=True, help_text="Encrypted mobile number (FieldCipher token).")
    phone_index = Varchar(length=64, index=True, help_text="Blind index of the phone number.")
    id_type = Varchar(
        length=20,
        null=True,
        default=None,
        help_text="resident_id | passport | hk_macao_permit | taiwan_permit (walk-ins: required).",
    )
    id_number = Text(
        null=True, default=None, secret=True, help_text="Encrypted ID number (FieldCipher token)."
    )
    id_number_index = Varchar(
        length=64, null=True, default=None, index=True, help_text="Blind index of the ID number."
    )
    purpose = Varchar(length=100, default="")
    valid_from = Timestamptz()
    valid_until = Timestamptz(index=True)
    entries_allowed = Integer(default=1, help_text="Entries through a gate the pass allows.")
    entries_used = Integer(default=0, help_text="Granted entries through a gate so far.")
    points = JSONB(default=[], help_text="Access point ids chosen: community gates.")
    buildings = JSONB(default=[], help_text="Building ids chosen: their unit doors and lifts.")
    floors = JSONB(default=[], help_text="Lift floors the visitor may call (梯控联动).")
    plate = Varchar(length=12, default="", help_text="Normalised car plate, or empty.")
    status = Varchar(
        length=16,
        index=True,
        help_text="pending_consent | active | used_up | expired | revoked | declined.",
    )
    share_token_hash = Varchar(
        length=64,
        null=True,
        default=None,
        unique=True,
        secret=True,
        help_text="SHA-256 of the share link's token (the token itself is never stored).",
    )
    credential = UUID(
        null=True, default=None, help_text="The pass's credential (keypad codes and QR tokens)."
    )
    phone_key_allowed = Boolean(
        default=False, help_text="The resident lets the visitor's phone register its own key."
    )
    phone_key = UUID(
        null=True, default=None, help_text="The visitor phone's key (a phone_key credential)."
    )
    consent_by = UUID(null=True, default=None, help_text="Household member who answered a walk-in.")
    consent_at = Timestamptz(null=True, default=None)
    arrived_at = Timestamptz(null=True, default=None, help_text="First granted entry at a gate.")
    last_entry_at = Timestamptz(null=True, default=None)
    last_gate_at = Timestamptz(
        null=True, default=None, help_text="Time of the latest gate pass either way (orders them)."
    )
    inside = Boolean(default=False, help_text="Entered at a gate and not yet seen leaving.")
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
