"""Wire shapes of doors and access records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.paging import Page


class DoorRead(msgspec.Struct, kw_only=True):
    """A door the caller may open."""

    id: UUID
    name: str
    role: str  # gate | unit_door
    online: bool


class DoorOpen(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Open a door from the app."""

    direction: Literal["in", "out"] = "in"


class DoorOpenResult(msgspec.Struct, kw_only=True):
    """What happened at the door."""

    result: Literal["granted", "denied", "failed"]
    reason: str
    record_id: UUID
    command_status: str | None
    guards_notified: bool = False  # a grant the door did not carry out raised the door alarm


class AccessRecordRead(msgspec.Struct, kw_only=True):
    """One pass or refusal."""

    id: UUID
    device_id: UUID
    device_name: str
    person_id: UUID | None
    person_name: str = ""
    at: datetime
    direction: str
    method: str
    result: str
    reason: str
    credential_id: UUID | None = None
    visitor_pass_id: UUID | None = None
    decided_by: str = ""
    photo: str = ""


class AccessRecordPage(Page, kw_only=True):
    """A page of access records, newest first."""

    items: list[AccessRecordRead]


# -- access points, schedules, groups ------------------------------------------------------------

Name = Annotated[str, Meta(min_length=1, max_length=100)]
PointKind = Literal["gate", "unit_door", "turnstile", "lift", "key_room"]
Direction = Literal["in", "out", "both"]
Floors = Annotated[list[Annotated[int, Meta(ge=-10, le=200)]], Meta(max_length=200)]
Ids = Annotated[list[UUID], Meta(max_length=500)]
Reason = Annotated[str, Meta(min_length=2, max_length=200)]


class AccessPointCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A place people pass; `device` the door controller or lift that guards it."""

    community_id: UUID
    name: Name
    kind: PointKind
    direction: Direction = "both"
    device_id: UUID | None = None
    zone_id: UUID | None = None
    building_id: UUID | None = None
    unit_id: UUID | None = None
    floors: Floors = msgspec.field(default_factory=list)


class AccessPointUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change an access point; absent fields stay."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    kind: PointKind | msgspec.UnsetType = msgspec.UNSET
    direction: Direction | msgspec.UnsetType = msgspec.UNSET
    device_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    zone_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    building_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    unit_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    floors: Floors | msgspec.UnsetType = msgspec.UNSET


class AccessPointRead(msgspec.Struct, kw_only=True):
    """An access point."""

    id: UUID
    community_id: UUID
    name: str
    kind: str
    direction: str
    device_id: UUID | None
    zone_id: UUID | None
    building_id: UUID | None
    unit_id: UUID | None
    floors: list[int]


class AccessPointPage(Page, kw_only=True):
    """A page of access points."""

    items: list[AccessPointRead]


HHMM = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]


class Window(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A weekly window: days 1 (Monday) … 7, wall-clock start and end (end < start: overnight)."""

    days: Annotated[list[Annotated[int, Meta(ge=1, le=7)]], Meta(min_length=1, max_length=7)]
    start: HHMM
    end: HHMM

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days must not repeat")


Windows = Annotated[list[Window], Meta(max_length=28)]
Holidays = Annotated[list[date], Meta(max_length=400)]


class AccessScheduleCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """When a group's members may pass."""

    community_id: UUID
    name: Name
    windows: Windows
    holidays: Holidays = msgspec.field(default_factory=list)


class AccessScheduleUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a schedule; absent fields stay."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    windows: Windows | msgspec.UnsetType = msgspec.UNSET
    holidays: Holidays | msgspec.UnsetType = msgspec.UNSET


class AccessScheduleRead(msgspec.Struct, kw_only=True):
    """A schedule."""

    id: UUID
    community_id: UUID
    name: str
    windows: list[Window]
    holidays: list[date]


class AccessGroupCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Access points given together, with an optional schedule."""

    community_id: UUID
    name: Name
    point_ids: Ids = msgspec.field(default_factory=list)
    schedule_id: UUID | None = None


class AccessGroupUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a group; absent fields stay."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    point_ids: Ids | msgspec.UnsetType = msgspec.UNSET
    schedule_id: UUID | msgspec.UnsetType | None = msgspec.UNSET


class AccessGroupRead(msgspec.Struct, kw_only=True):
    """An access group."""

    id: UUID
    community_id: UUID
    name: str
    point_ids: list[UUID]
    schedule_id: UUID | None


# -- credentials ---------------------------------------------------------------------------------

EnrolKind = Literal["card", "pin", "face", "fingerprint"]


class CredentialCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Enrol a card, a PIN, an enrolled face or a fingerprint for a person of the community.

    A fingerprint's `value` is the template id the fingerprint device gave when it enrolled the
    finger (the device keeps the template and matches; the platform never sees the print).

    With `household_access` the credential passes the person's household gates and unit doors.
    """

    person_id: UUID
    kind: EnrolKind
    value: Annotated[str, Meta(min_length=4, max_length=32)] | None = None
    face_id: UUID | None = None
    household_access: bool = True
    group_ids: Ids = msgspec.field(default_factory=list)
    point_ids: Ids = msgspec.field(default_factory=list)
    floors: Floors = msgspec.field(default_factory=list)
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind in ("card", "pin", "fingerprint") and not self.value:
            raise ValueError("a card, PIN or fingerprint needs its value")
        if self.kind == "face" and self.face_id is None:
            raise ValueError("a face credential needs face_id")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")


class CredentialRead(msgspec.Struct, kw_only=True):
    """A credential; card numbers shown masked, PINs never."""

    id: UUID
    community_id: UUID
    kind: str
    person_id: UUID | None
    person_name: str | None
    household_id: UUID | None
    visitor_pass_id: UUID | None
    masked: str
    face_id: UUID | None
    label: str  # a phone key's name
    group_ids: list[UUID]
    point_ids: list[UUID]
    floors: list[int]
    valid_from: datetime | None
    valid_until: datetime | None
    uses: int
    status: str
    revoked_at: datetime | None
    revoke_reason: str
    created_at: datetime


class CredentialPage(Page, kw_only=True):
    """A page of credentials, newest first."""

    items: list[CredentialRead]


class CredentialRevoke(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Why the credential is revoked (kept in the audit log)."""

    reason: Reason


PhoneKeyAlgorithm = Literal["ES256", "Ed25519"]
PHONE_NAME = Meta(min_length=1, max_length=40)


class PhoneKeyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Register the key a phone made for itself (its private half never leaves the phone).

    `public_key`: the public key as SubjectPublicKeyInfo (DER), base64 — WebCrypto's
    `exportKey("spki")`; `ES256` is ECDSA on P-256 with SHA-256, `Ed25519` the Edwards curve.
    """

    name: Annotated[str, PHONE_NAME]
    algorithm: PhoneKeyAlgorithm
    public_key: Annotated[str, Meta(min_length=40, max_length=240)]


class PhoneKeyRead(msgspec.Struct, kw_only=True):
    """One of the caller's phone keys: its QR codes are made on that phone, offline too."""

    id: UUID
    name: str
    algorithm: PhoneKeyAlgorithm
    status: str
    created_at: datetime
    revoked_at: datetime | None
    revoke_reason: str


class QrToken(msgspec.Struct, kw_only=True):
    """A resident's dynamic QR: show it at a reader before it expires."""

    token: str
    expires_at: datetime
    credential_id: UUID


# -- guards: remote open, emergency release ------------------------------------------------------


class RemoteOpen(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A guard opens a door from the desk; the reason is required and audited."""

    reason: Reason
    direction: Literal["in", "out"] = "in"


class EmergencyRelease(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Unlock every door of the community, or of one building, until ended."""

    community_id: UUID
    reason: Reason
    scope: Literal["community", "building"] = "community"
    building_id: UUID | None = None

    def __post_init__(self) -> None:
        if (self.scope == "building") != (self.building_id is not None):
            raise ValueError("a building release names its building (and only it)")


class EmergencyReleaseEnd(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """End a release: lock the released doors again; a community's end also brings down every
    barrier's arm held up by a fire (VEH-18)."""

    community_id: UUID
    reason: Reason
    building_id: UUID | None = None


class ReleaseResult(msgspec.Struct, kw_only=True):
    """What each door (and, at the end of a community's release, each barrier) answered."""

    doors: int
    ok: int
    failed: list[str]
    barriers: int = 0
