"""Wire shapes of the equipment ledger, spare parts and label sheets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.paging import Page
from api.devices.ledger.lifecycle import Status

# Kinds of assets added by hand; apart from the kinds bridges report (protocol.DeviceKind), so no
# domain that acts on a bridge's devices by kind ever picks up a hand-added one.
ManualKind = Literal[
    "extinguisher", "hydrant", "elevator", "pump", "light", "gate", "fire_door", "other"
]
Party = Annotated[str, Meta(max_length=100)]
Text100 = Annotated[str, Meta(max_length=100)]
Floor = Annotated[int, Meta(ge=-10, le=200)]
Fen = Annotated[int, Meta(ge=0, le=2_000_000_000)]  # an amount in fen (分); ¥20,000,000 at most


class AssetRead(msgspec.Struct, kw_only=True):
    """An asset of the ledger: a device a bridge reports (bridged) or one added by hand."""

    id: UUID
    asset_code: str
    community_id: UUID
    community_name: str
    kind: str
    name: str
    bridged: bool
    online: bool | None  # None: not driven by a bridge
    building_id: UUID | None
    building_name: str | None
    unit_id: UUID | None
    unit_number: str | None
    floor: int | None
    location_text: str
    owner_party: str
    user_party: str
    om_party: str
    vendor: str
    model: str
    serial_no: str
    install_date: date | None
    warranty_end: date | None
    status: Status
    label_code: str | None
    notes: str
    purchase_cost: int | None  # fen
    created_at: datetime


class AssetPage(Page, kw_only=True):
    """A page of assets."""

    items: list[AssetRead]


class AssetCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An asset added by hand (a device no bridge drives)."""

    community_id: UUID
    kind: ManualKind
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    building_id: UUID | None = None
    unit_id: UUID | None = None
    floor: Floor | None = None
    location_text: Annotated[str, Meta(max_length=200)] = ""
    owner_party: Party = ""
    user_party: Party = ""
    om_party: Party = ""
    vendor: Text100 = ""
    model: Text100 = ""
    serial_no: Text100 = ""
    install_date: date | None = None
    warranty_end: date | None = None
    status: Literal["in_stock", "installed", "in_service"] = "in_stock"
    notes: Annotated[str, Meta(max_length=2000)] = ""
    purchase_cost: Fen | None = None


class AssetUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Ledger fields to change; name, building and unit only of assets added by hand."""

    name: Annotated[str, Meta(min_length=1, max_length=100)] | msgspec.UnsetType = msgspec.UNSET
    building_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    unit_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    floor: Floor | msgspec.UnsetType | None = msgspec.UNSET
    location_text: Annotated[str, Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    owner_party: Party | msgspec.UnsetType = msgspec.UNSET
    user_party: Party | msgspec.UnsetType = msgspec.UNSET
    om_party: Party | msgspec.UnsetType = msgspec.UNSET
    vendor: Text100 | msgspec.UnsetType = msgspec.UNSET
    model: Text100 | msgspec.UnsetType = msgspec.UNSET
    serial_no: Text100 | msgspec.UnsetType = msgspec.UNSET
    install_date: date | msgspec.UnsetType | None = msgspec.UNSET
    warranty_end: date | msgspec.UnsetType | None = msgspec.UNSET
    notes: Annotated[str, Meta(max_length=2000)] | msgspec.UnsetType = msgspec.UNSET
    purchase_cost: Fen | msgspec.UnsetType | None = msgspec.UNSET


class StatusChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Move an asset along its lifecycle, with a note of why."""

    status: Status
    note: Annotated[str, Meta(max_length=500)] = ""


class HistoryRead(msgspec.Struct, kw_only=True):
    """One change of an asset."""

    id: UUID
    at: datetime
    actor_id: UUID | None
    action: str
    from_status: str
    to_status: str
    changes: dict[str, Any]
    note: str


class HistoryPage(Page, kw_only=True):
    """A page of an asset's history, newest first."""

    items: list[HistoryRead]


# -- spare parts ---------------------------------------------------------------------------------


class PartRead(msgspec.Struct, kw_only=True):
    """A spare part and its stock; `low` when the stock is at or under its minimum."""

    id: UUID
    community_id: UUID
    code: str
    name: str
    category: str
    unit: str
    stock: int
    min_stock: int
    low: bool
    place: str
    unit_cost: int | None  # fen
    created_at: datetime


class PartPage(Page, kw_only=True):
    """A page of spare parts."""

    items: list[PartRead]


Code = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class PartCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new spare part, its opening stock recorded as a movement in."""

    community_id: UUID
    code: Code
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    category: Annotated[str, Meta(max_length=48)] = ""
    unit: Annotated[str, Meta(min_length=1, max_length=12)] = "个"
    stock: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    min_stock: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    place: Text100 = ""
    unit_cost: Fen | None = None


class PartUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A part's description and minimum level; its stock changes only by movements."""

    name: Annotated[str, Meta(min_length=1, max_length=100)] | msgspec.UnsetType = msgspec.UNSET
    category: Annotated[str, Meta(max_length=48)] | msgspec.UnsetType = msgspec.UNSET
    unit: Annotated[str, Meta(min_length=1, max_length=12)] | msgspec.UnsetType = msgspec.UNSET
    min_stock: Annotated[int, Meta(ge=0, le=1_000_000)] | msgspec.UnsetType = msgspec.UNSET
    place: Text100 | msgspec.UnsetType = msgspec.UNSET
    unit_cost: Fen | msgspec.UnsetType | None = (
        msgspec.UNSET
    )  # later uses only: history keeps its own


MovementKind = Literal["in", "out", "adjust"]


class MovementCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A stock movement: `in` and `out` a positive quantity, `adjust` the counted stock."""

    kind: MovementKind
    quantity: Annotated[int, Meta(ge=0, le=1_000_000)]
    reason: Annotated[str, Meta(max_length=500)] = ""
    device_id: UUID | None = None


class MovementRead(msgspec.Struct, kw_only=True):
    """One movement of a part's stock."""

    id: UUID
    part_id: UUID
    kind: str
    quantity: int
    stock_after: int
    reason: str
    device_id: UUID | None
    work_order_id: UUID | None
    unit_cost: int | None  # fen, the part's when it moved
    actor_id: UUID | None
    at: datetime


class MovementPage(Page, kw_only=True):
    """A page of a part's movements, newest first."""

    items: list[MovementRead]


class TakeItem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """So many of one part."""

    part_id: UUID
    quantity: Annotated[int, Meta(ge=1, le=10_000)]


class TakeRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Parts taken out together for one use (an asset, a reason): all or none."""

    community_id: UUID
    items: Annotated[list[TakeItem], Meta(min_length=1, max_length=50)]
    device_id: UUID | None = None
    reason: Annotated[str, Meta(max_length=500)] = ""


class LabelRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The assets to print labels for, in order."""

    asset_ids: Annotated[list[UUID], Meta(min_length=1, max_length=200)]
