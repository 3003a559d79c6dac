"""Wire shapes of doors and access records."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

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


class AccessRecordRead(msgspec.Struct, kw_only=True):
    """One pass or refusal."""

    id: UUID
    device_id: UUID
    device_name: str
    person_id: UUID | None
    at: datetime
    direction: str
    method: str
    result: str
    reason: str


class AccessRecordPage(Page, kw_only=True):
    """A page of access records, newest first."""

    items: list[AccessRecordRead]
