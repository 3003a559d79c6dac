"""Wire shapes of visitor passes. Phone and ID number go out masked, except through a reveal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.access.schemas import PhoneKeyRead
from api.core.paging import Page

PassStatus = Literal["pending_consent", "active", "used_up", "expired", "revoked", "declined"]
IdType = Literal["resident_id", "passport", "hk_macao_permit", "taiwan_permit"]
RevealField = Literal["phone", "id_number"]
VisitorName = Annotated[str, Meta(min_length=1, max_length=50)]
# Length bounds only: the service checks the values (400 invalid_phone, invalid_id_number, …).
Phone = Annotated[str, Meta(min_length=1, max_length=32, examples=["13812345678"])]
IdNumber = Annotated[str, Meta(min_length=1, max_length=32)]
Purpose = Annotated[str, Meta(max_length=100)]
Plate = Annotated[str, Meta(max_length=16, examples=["川A12345"])]
Entries = Annotated[int, Meta(ge=1, le=10)]
Floor = Annotated[int, Meta(ge=-5, le=200)]
Ids = Annotated[list[UUID], Meta(max_length=50)]


def _window(valid_from: datetime, valid_until: datetime) -> None:
    if valid_from.tzinfo is None or valid_until.tzinfo is None:
        raise ValueError("valid_from and valid_until need a time zone offset")
    if valid_until <= valid_from:
        raise ValueError("valid_until must be after valid_from")


class VisitorPassCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A visitor a resident books for their own household.

    `points` null or empty: every gate of the community; `buildings` null or empty: the household's
    building (its unit doors and lifts); `floors` null: the household's floor at the lifts.
    `phone_key_allowed`: the visitor's page may register a key the visitor's phone makes, whose
    codes open the pass's doors within its window with no signal (off unless asked).
    """

    household_id: UUID | None = None
    visitor_name: VisitorName
    visitor_phone: Phone
    purpose: Purpose = ""
    valid_from: datetime
    valid_until: datetime
    entries: Entries = 1
    points: Ids | None = None
    buildings: Ids | None = None
    floors: Annotated[list[Floor], Meta(max_length=20)] | None = None
    plate: Plate | None = None
    id_type: IdType | None = None
    id_number: IdNumber | None = None
    phone_key_allowed: bool = False

    def __post_init__(self) -> None:
        """The window runs forwards; an ID number comes with its type."""
        _window(self.valid_from, self.valid_until)
        if (self.id_type is None) != (self.id_number is None):
            raise ValueError("id_type and id_number go together")


class WalkInCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A visitor registered at the desk after an ID check; the household is asked to consent."""

    household_id: UUID
    visitor_name: VisitorName
    visitor_phone: Phone
    id_type: IdType
    id_number: IdNumber
    purpose: Annotated[str, Meta(min_length=1, max_length=100)]
    entries: Entries = 1
    valid_until: datetime | None = None  # null: four hours from now
    points: Ids | None = None
    buildings: Ids | None = None
    plate: Plate | None = None

    def __post_init__(self) -> None:
        """The end of the window carries a time zone."""
        if self.valid_until is not None and self.valid_until.tzinfo is None:
            raise ValueError("valid_until needs a time zone offset")
        self.purpose = self.purpose.strip()
        if not self.purpose:
            raise ValueError("purpose must not be blank")


class ConsentBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A household member's answer to a walk-in visitor."""

    approve: bool


class RevokeBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Why a pass is revoked (kept in the audit log)."""

    reason: Annotated[str, Meta(max_length=200)] = ""


class RevealRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which identifiers of the visitor to show in full, and why; the purpose is audited."""

    fields: Annotated[list[RevealField], Meta(min_length=1, max_length=2)]
    purpose: Annotated[str, Meta(min_length=4, max_length=200)]

    def __post_init__(self) -> None:
        """A purpose of blanks is no purpose."""
        self.purpose = self.purpose.strip()
        if len(self.purpose) < 4:
            raise ValueError("purpose must state at least 4 characters")


class PlaceRef(msgspec.Struct, kw_only=True):
    """An access point or building the pass names."""

    id: UUID
    name: str


class DoorRef(msgspec.Struct, kw_only=True):
    """An access point a pass may name: its id, name and kind (gate, turnstile, unit_door, lift)."""

    id: UUID
    name: str
    kind: str


class BookingPlaces(msgspec.Struct, kw_only=True):
    """What a booking for a household may name: the community's gates, one by one (`points`), and
    the doors of the household's building, which a pass for that building opens."""

    household_id: UUID
    building_id: UUID
    gates: list[DoorRef]
    building_doors: list[DoorRef]


class VisitorPassRead(msgspec.Struct, kw_only=True):
    """A visitor pass; phone and ID number masked (138****5678, 5101**********1234)."""

    id: UUID
    community_id: UUID
    household_id: UUID
    household_label: str
    visitor_name: str
    visitor_phone: str
    id_type: IdType | None
    id_number: str | None
    purpose: str
    valid_from: datetime
    valid_until: datetime
    entries_allowed: int
    entries_used: int
    entries_left: int
    points: list[PlaceRef]
    buildings: list[PlaceRef]
    floors: list[int]
    plate: str
    status: PassStatus
    walk_in: bool
    shared: bool
    phone_key_allowed: bool
    phone_key_registered: bool  # the visitor's phone registered its key (revoked with the pass)
    booked_by: UUID | None
    created_by: UUID
    consent_by: UUID | None
    consent_at: datetime | None
    arrived_at: datetime | None
    last_entry_at: datetime | None
    inside: bool
    revoked_at: datetime | None
    created_at: datetime


class PassAccessRecord(msgspec.Struct, kw_only=True):
    """A pass or refusal of the visitor at a door."""

    id: UUID
    at: datetime
    door: str
    direction: str
    method: str
    result: str
    reason: str


class VisitorPassDetail(VisitorPassRead, kw_only=True):
    """A pass with its access records, newest first (at most 200)."""

    access_records: list[PassAccessRecord]


class VisitorPassPage(Page, kw_only=True):
    """A page of visitor passes, newest first."""

    items: list[VisitorPassRead]


class ShareRead(msgspec.Struct, kw_only=True):
    """The link to send the visitor; a new share replaces the previous link."""

    url: str
    token: str


class VisitorReveal(msgspec.Struct, kw_only=True):
    """The identifiers asked for, in full; the ones not asked for are null."""

    id: UUID
    phone: str | None = None
    id_number: str | None = None


class PublicQr(msgspec.Struct, kw_only=True):
    """A dynamic QR code for the gate reader: valid until `expires_at` (at most 60 s)."""

    token: str
    expires_at: datetime


class PublicPass(msgspec.Struct, kw_only=True):
    """What the visitor's shared link shows: no phone, no ID number, the name masked."""

    visitor_name: str
    community_name: str
    destination: str  # building and unit, e.g. 1栋1单元 (not the room)
    doors: list[str]
    floors: list[int]
    valid_from: datetime
    valid_until: datetime
    entries_left: int
    status: PassStatus
    qr: PublicQr | None
    code: str | None
    phone_key_allowed: bool  # the resident lets this phone register its own key
    phone_key: PhoneKeyRead | None  # the key registered for the pass, if any


class InsideRead(msgspec.Struct, kw_only=True):
    """A visitor inside the community now: entered at a gate, not seen leaving."""

    pass_id: UUID
    visitor_name: str
    visitor_phone: str
    household_id: UUID
    household_label: str
    walk_in: bool
    plate: str
    since: datetime
    door: str | None


class InsidePage(Page, kw_only=True):
    """A page of visitors inside now, longest inside first."""

    items: list[InsideRead]
