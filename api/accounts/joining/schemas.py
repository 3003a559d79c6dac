"""What the join page sends and sees, and what the manager reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.accounts.schemas import Password, Username
from api.people.schemas import Phone

Status = Literal["pending", "approved", "rejected"]
Code = Annotated[str, Meta(pattern=r"^[0-9]{6}$", examples=["123456"])]
Room = Annotated[str, Meta(min_length=1, max_length=20, examples=["0101"])]
Name = Annotated[str, Meta(min_length=1, max_length=50)]


class JoinUnit(msgspec.Struct, kw_only=True):
    """A unit to pick on the join page."""

    id: UUID
    number: str


class JoinBuilding(msgspec.Struct, kw_only=True):
    """A building with its units (never its rooms or residents)."""

    id: UUID
    number: str
    name: str
    units: list[JoinUnit]


class JoinPage(msgspec.Struct, kw_only=True):
    """The community a join link belongs to, and the places to pick from."""

    community_name: str
    buildings: list[JoinBuilding]


class CodeRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Send a one-time code to this phone."""

    phone: Phone


class CodeSent(msgspec.Struct, kw_only=True):
    """The same answer whatever the phone: a code is on its way if the number can take one."""

    expires_in: int


class JoinRequestCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The person's request: their place, name, the phone they proved, their chosen login."""

    unit_id: UUID
    room: Room
    name: Name
    phone: Phone
    code: Code
    username: Username
    password: Password


class JoinFiled(msgspec.Struct, kw_only=True):
    """The same answer whether the room exists or not: the manager will review it."""

    status: Status


class JoinRequestRead(msgspec.Struct, kw_only=True):
    """A request as the manager reviews it; `room_found` false: the unit has no such room."""

    id: UUID
    community_id: UUID
    building_number: str
    unit_number: str
    room: str
    room_found: bool
    household_id: UUID | None
    name: str
    phone: str  # masked
    username: str
    status: Status
    reason: str
    account_id: UUID | None
    created_at: datetime
    decided_at: datetime | None


class JoinRequestPage(msgspec.Struct, kw_only=True):
    """A page of requests, oldest pending first."""

    items: list[JoinRequestRead]
    total: int
    page: int
    page_size: int


class RejectBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Why the request is refused (shown to the manager's colleagues and the audit log)."""

    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class JoinLinkRead(msgspec.Struct, kw_only=True):
    """The community's join link: the public code and the page's path."""

    community_id: UUID
    code: str
    path: str
