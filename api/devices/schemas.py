"""Wire shapes of bridges, devices and commands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.paging import Page


class EnrolmentTokenCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Ask for a one-time token to enrol a new bridge for a community."""

    community_id: UUID
    valid_hours: Annotated[int, Meta(ge=1, le=168)] = 24


class EnrolmentTokenRead(msgspec.Struct, kw_only=True):
    """The token, shown once."""

    token: str
    community_id: UUID
    expires_at: datetime


class EnrolRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A bridge presenting its token and public key."""

    token: Annotated[str, Meta(min_length=16, max_length=128)]
    public_key: Annotated[str, Meta(min_length=40, max_length=64)]
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    version: Annotated[str, Meta(max_length=32)] = ""


class EnrolResult(msgspec.Struct, kw_only=True):
    """The new bridge's identity."""

    bridge_id: UUID
    community_id: UUID


class BridgeRead(msgspec.Struct, kw_only=True):
    """A bridge and its link state."""

    id: UUID
    community_id: UUID
    community_name: str
    name: str
    version: str
    online: bool
    last_seen: datetime | None
    clock_skew: float | None
    devices: int


class BridgePage(Page, kw_only=True):
    """A page of bridges."""

    items: list[BridgeRead]


class DeviceRead(msgspec.Struct, kw_only=True):
    """A device as the console shows it."""

    id: UUID
    community_id: UUID
    community_name: str
    bridge_id: UUID
    external_id: str
    kind: str
    name: str
    building_id: UUID | None
    unit_id: UUID | None
    protection_zone: int | None
    map_x: float | None
    map_y: float | None
    online: bool
    last_seen: datetime | None
    clock_skew: float | None


class DevicePage(Page, kw_only=True):
    """A page of devices."""

    items: list[DeviceRead]


class DeviceUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where a device is: name, protection zone (standard 4.1.1) and map position."""

    name: Annotated[str, Meta(min_length=1, max_length=100)] | msgspec.UnsetType = msgspec.UNSET
    protection_zone: Annotated[int, Meta(ge=1, le=4)] | msgspec.UnsetType | None = msgspec.UNSET
    map_x: Annotated[float, Meta(ge=0, le=1)] | msgspec.UnsetType | None = msgspec.UNSET
    map_y: Annotated[float, Meta(ge=0, le=1)] | msgspec.UnsetType | None = msgspec.UNSET


class CommandCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A maintenance command for a device: `status` or `time.sync` (MAINTENANCE_ACTIONS)."""

    action: Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[a-z][a-z_.]*$")]
    args: dict[str, Any] = {}
    timeout: Annotated[float, Meta(gt=0, le=30)] = 5.0


CommandOutcome = Literal["ok", "failed", "timeout", "unsupported"]


class CommandRead(msgspec.Struct, kw_only=True):
    """A command and its outcome."""

    id: UUID
    device_id: UUID
    action: str
    status: str
    detail: str
    data: dict[str, Any] = {}
    requested_at: datetime
    completed_at: datetime | None
