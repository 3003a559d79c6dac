"""Assets of the ledger: list, add by hand, edit, move along the lifecycle, history, labels.

An asset is a `devices` row. A device a bridge reports is in the ledger from its first inventory
(status in service, a label code); one added here has no bridge and a kind of `ManualKind`. Every
write records one history row and one audit entry in the same transaction, so the history is the
audit trail of the asset as the console shows it.
"""

from __future__ import annotations

import functools
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import msgspec
from piccolo.columns import Column

from api.audit.service import record
from api.communities.tables import Building, Unit
from api.core.auth import Caller, Scope, require_staff
from api.core.errors import NotFound
from api.core.paging import equals, paged_page
from api.core.query import like
from api.devices.ledger import labels as labels_pdf
from api.devices.ledger.errors import BadPlace, BridgeManaged, TransitionNotAllowed
from api.devices.ledger.lifecycle import allowed
from api.devices.ledger.schemas import (
    AssetCreate,
    AssetPage,
    AssetRead,
    AssetUpdate,
    HistoryPage,
    HistoryRead,
    StatusChange,
)
from api.devices.tables import AssetHistory, Device
from api.piccolo_conf import DB

LABEL_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud or typed
LABEL_LENGTH = 12  # 31^12, about 2^59: a label code cannot be guessed from another
_CODE = re.compile(r"^(?:aj)?0*(\d{1,9})$", re.IGNORECASE)


def new_label_code() -> str:
    """A random label code, the key of the asset's public report page."""
    return "".join(secrets.choice(LABEL_ALPHABET) for _ in range(LABEL_LENGTH))


def asset_code(asset_no: int) -> str:
    """The unified asset code: AJ and the asset's number, six digits at least."""
    return f"AJ{asset_no:06d}"


_COLUMNS = (
    Device.id,
    Device.asset_no,
    Device.community,
    Device.community._.name.as_alias("community_name"),
    Device.bridge,
    Device.bridge._.online.as_alias("bridge_online"),
    Device.reported_online,
    Device.kind,
    Device.name,
    Device.building,
    Device.building._.name.as_alias("building_name"),
    Device.unit,
    Device.unit._.number.as_alias("unit_number"),
    Device.floor,
    Device.location_text,
    Device.owner_party,
    Device.user_party,
    Device.om_party,
    Device.vendor,
    Device.model,
    Device.serial_no,
    Device.install_date,
    Device.warranty_end,
    Device.status,
    Device.label_code,
    Device.notes,
    Device.purchase_cost,
    Device.created_at,
)


def _read(row: dict[str, Any]) -> AssetRead:
    bridged = row["bridge"] is not None
    return AssetRead(
        id=row["id"],
        asset_code=asset_code(row["asset_no"]),
        community_id=row["community"],
        community_name=row["community_name"],
        kind=row["kind"],
        name=row["name"],
        bridged=bridged,
        online=bool(row["reported_online"] and row["bridge_online"]) if bridged else None,
        building_id=row["building"],
        building_name=row["building_name"],
        unit_id=row["unit"],
        unit_number=row["unit_number"],
        floor=row["floor"],
        location_text=row["location_text"],
        owner_party=row["owner_party"],
        user_party=row["user_party"],
        om_party=row["om_party"],
        vendor=row["vendor"],
        model=row["model"],
        serial_no=row["serial_no"],
        install_date=row["install_date"],
        warranty_end=row["warranty_end"],
        status=row["status"],
        label_code=row["label_code"],
        notes=row["notes"],
        purchase_cost=row["purchase_cost"],
        created_at=row["created_at"],
    )


def _search(q: str) -> Any:
    pattern = like(q)
    found = (
        Device.name.ilike(pattern)
        | Device.serial_no.ilike(pattern)
        | Device.vendor.ilike(pattern)
        | Device.model.ilike(pattern)
        | Device.location_text.ilike(pattern)
        | Device.external_id.ilike(pattern)
    )
    if m := _CODE.match(q.strip()):
        found |= Device.asset_no == int(m.group(1))
    return found


_bridged = {True: Device.bridge.is_not_null(), False: Device.bridge.is_null()}


def _warranty_ends(today: date, days: int) -> Any:
    return (Device.warranty_end >= today) & (Device.warranty_end <= today + timedelta(days=days))


async def list_assets(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    kind: str | None = None,
    status: str | None = None,
    building_id: UUID | None = None,
    bridged: bool | None = None,
    warranty_within: int | None = None,
    q: str | None = None,
) -> AssetPage:
    """Assets in the caller's scope by asset code; `warranty_within` days: those whose warranty
    ends from today to that many days ahead."""
    today = datetime.now(UTC).date()
    return await paged_page(
        AssetPage,
        _read,
        Device.select(*_COLUMNS).order_by(Device.asset_no),
        Scope.of(caller, "ledger.read").where(Device.community),
        equals(Device.community, community_id),
        equals(Device.kind, kind),
        equals(Device.status, status),
        equals(Device.building, building_id),
        None if bridged is None else _bridged[bridged],
        None if warranty_within is None else _warranty_ends(today, warranty_within),
        _search(q) if q else None,
        page=page,
        page_size=page_size,
    )


async def get_asset(caller: Caller, asset_id: UUID, permission: str = "ledger.read") -> AssetRead:
    """One asset in scope; NotFound outside it."""
    row = await Device.select(*_COLUMNS).where(Device.id == asset_id).first()
    if row is None:
        raise NotFound()
    require_staff(caller, permission, row["community"])
    return _read(row)


async def _check_place(
    community_id: UUID, building_id: UUID | None, unit_id: UUID | None, floor: int | None
) -> UUID | None:
    """The building the place is in (a unit's, when only the unit is given); BadPlace when the
    building or unit is not of the community, the unit not of the building, or the floor above
    the building's top."""
    if unit_id is not None:
        unit = await Unit.select(Unit.building, Unit.community).where(Unit.id == unit_id).first()
        if unit is None or unit["community"] != community_id:
            raise BadPlace(field="unit_id")
        if building_id is not None and unit["building"] != building_id:
            raise BadPlace(field="unit_id")
        building_id = unit["building"]
    if building_id is not None:
        building = (
            await Building.select(Building.community, Building.floors)
            .where(Building.id == building_id)
            .first()
        )
        if building is None or building["community"] != community_id:
            raise BadPlace(field="building_id")
        if floor is not None and floor > building["floors"]:
            raise BadPlace(field="floor")
    return building_id


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, UUID | date) else value


async def _history(
    caller: Caller | None,
    device_id: UUID,
    community_id: UUID,
    action: str,
    *,
    from_status: str = "",
    to_status: str = "",
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    await AssetHistory(
        community=community_id,
        device=device_id,
        at=datetime.now(UTC),
        actor=caller.account_id if caller else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        changes=msgspec.json.encode(changes or {}).decode(),
        note=note,
    ).save()
    await record(
        f"asset.{action}",
        actor=caller,
        target_type="device",
        target_id=device_id,
        community_id=community_id,
        details={"fields": sorted(changes or {}), "from": from_status, "to": to_status},
    )


async def create_asset(caller: Caller, data: AssetCreate) -> AssetRead:
    """Add an asset no bridge drives (an extinguisher, a hydrant, a pump, …) to the ledger."""
    require_staff(caller, "ledger.write", data.community_id)
    building = await _check_place(data.community_id, data.building_id, data.unit_id, data.floor)
    row = Device(
        community=data.community_id,
        bridge=None,
        external_id="",
        kind=data.kind,
        name=data.name,
        building=building,
        unit=data.unit_id,
        floor=data.floor,
        location_text=data.location_text,
        owner_party=data.owner_party,
        user_party=data.user_party,
        om_party=data.om_party,
        vendor=data.vendor,
        model=data.model,
        serial_no=data.serial_no,
        install_date=data.install_date,
        warranty_end=data.warranty_end,
        status=data.status,
        notes=data.notes,
        purchase_cost=data.purchase_cost,
        reported_online=False,
        label_code=new_label_code(),
    )
    async with DB.transaction():
        await row.save()
        await _history(caller, row.id, data.community_id, "created", to_status=data.status)
    return await get_asset(caller, row.id)


_FIELDS: dict[str, Column] = {
    "name": Device.name,
    "building_id": Device.building,
    "unit_id": Device.unit,
    "floor": Device.floor,
    "location_text": Device.location_text,
    "owner_party": Device.owner_party,
    "user_party": Device.user_party,
    "om_party": Device.om_party,
    "vendor": Device.vendor,
    "model": Device.model,
    "serial_no": Device.serial_no,
    "install_date": Device.install_date,
    "warranty_end": Device.warranty_end,
    "notes": Device.notes,
    "purchase_cost": Device.purchase_cost,
}
_FROM_BRIDGE = ("name", "building_id", "unit_id")  # the inventory sets these on every sync


async def update_asset(caller: Caller, asset_id: UUID, data: AssetUpdate) -> AssetRead:
    """Change ledger fields; each change kept in the history as [old, new]."""
    asset = await get_asset(caller, asset_id, "ledger.write")
    given = {f: v for f in _FIELDS if (v := getattr(data, f)) is not msgspec.UNSET}
    if asset.bridged and (managed := [f for f in _FROM_BRIDGE if f in given]):
        raise BridgeManaged(field=managed[0])
    if {"building_id", "unit_id", "floor"} & given.keys():
        building = given.get("building_id", asset.building_id)
        unit = given.get("unit_id", asset.unit_id)
        if "building_id" in given and "unit_id" not in given and building != asset.building_id:
            unit = None  # a new building drops the old building's unit
        given["unit_id"] = unit
        given["building_id"] = await _check_place(
            asset.community_id, building, unit, given.get("floor", asset.floor)
        )
    current = msgspec.structs.asdict(asset)
    changes = {f: [_plain(current[f]), _plain(v)] for f, v in given.items() if current[f] != v}
    if changes:
        async with DB.transaction():
            await Device.update({_FIELDS[f]: given[f] for f in changes}).where(
                Device.id == asset_id
            )
            await _history(caller, asset_id, asset.community_id, "updated", changes=changes)
    return await get_asset(caller, asset_id)


async def change_status(caller: Caller, asset_id: UUID, data: StatusChange) -> AssetRead:
    """Move an asset along its lifecycle (lifecycle.MOVES); a move from a status the asset left
    meanwhile is refused, as is any move the lifecycle does not have."""
    asset = await get_asset(caller, asset_id, "ledger.write")
    if not allowed(asset.status, data.status):
        raise TransitionNotAllowed(current=asset.status, requested=data.status)
    async with DB.transaction():
        moved = (
            await Device.update({Device.status: data.status})
            .where((Device.id == asset_id) & (Device.status == asset.status))
            .returning(Device.id)
        )
        if not moved:
            raise TransitionNotAllowed(current="changed", requested=data.status)
        await _history(
            caller,
            asset_id,
            asset.community_id,
            "status",
            from_status=asset.status,
            to_status=data.status,
            note=data.note,
        )
    return await get_asset(caller, asset_id)


async def asset_history(
    caller: Caller, asset_id: UUID, *, page: int, page_size: int
) -> HistoryPage:
    """The changes of an asset, newest first."""
    asset = await get_asset(caller, asset_id)
    return await paged_page(
        HistoryPage,
        lambda r: HistoryRead(
            id=r["id"],
            at=r["at"],
            actor_id=r["actor"],
            action=r["action"],
            from_status=r["from_status"],
            to_status=r["to_status"],
            changes=r["changes"],
            note=r["note"],
        ),
        AssetHistory.select().order_by(AssetHistory.at, ascending=False).output(load_json=True),
        AssetHistory.device == asset_id,
        AssetHistory.community == asset.community_id,
        page=page,
        page_size=page_size,
    )


async def ensure_label_codes(asset_ids: list[UUID]) -> None:
    """Give a label code to each of these assets that has none yet (devices a bridge reported
    before the ledger existed); a code once given never changes."""
    missing = await Device.select(Device.id).where(
        Device.id.is_in(asset_ids) & Device.label_code.is_null()
    )
    for row in missing:
        await Device.update({Device.label_code: new_label_code()}).where(
            (Device.id == row["id"]) & Device.label_code.is_null()
        )


class LabelledAsset(msgspec.Struct, frozen=True, kw_only=True):
    """What a label code names: for the public report page (work orders) to file a request."""

    id: UUID
    community_id: UUID
    asset_code: str
    kind: str
    name: str
    location: str
    status: str


async def find_by_label(label_code: str) -> LabelledAsset | None:
    """The asset behind a QR label's code, None for a code no asset holds (or a retired one)."""
    row = (
        await Device.select(*_COLUMNS)
        .where((Device.label_code == label_code) & (Device.status != "retired"))
        .first()
    )
    if row is None:
        return None
    asset = _read(row)
    return LabelledAsset(
        id=asset.id,
        community_id=asset.community_id,
        asset_code=asset.asset_code,
        kind=asset.kind,
        name=asset.name,
        location=place_text(asset),
        status=asset.status,
    )


def place_text(asset: AssetRead) -> str:
    """Where an asset is, as a label or a list shows it: building, unit, floor, free text."""
    parts = [
        asset.building_name or "",
        f"{asset.unit_number}单元" if asset.unit_number else "",
        f"{asset.floor}层" if asset.floor is not None else "",
        asset.location_text,
    ]
    return " ".join(p for p in parts if p)


async def label_sheet(
    caller: Caller, asset_ids: list[UUID], *, public_url: str, font: Path | None
) -> bytes:
    """The PDF of QR labels of these assets, in the order asked; NotFound when one is not in
    the caller's scope (nothing is printed). Assets without a label code get one first."""
    scope = Scope.of(caller, "ledger.read")
    wanted = list(dict.fromkeys(asset_ids))
    rows = await Device.select(Device.id, Device.community).where(Device.id.is_in(wanted))
    if len(rows) != len(wanted) or not all(scope.staff_in(r["community"]) for r in rows):
        raise NotFound()
    async with DB.transaction():
        await ensure_label_codes(wanted)
        for r in rows:
            await record(
                "asset.label_printed",
                actor=caller,
                target_type="device",
                target_id=r["id"],
                community_id=r["community"],
            )
    found = {
        r["id"]: _read(r) for r in await Device.select(*_COLUMNS).where(Device.id.is_in(wanted))
    }
    labels = [(found[i], place_text(found[i])) for i in wanted]
    return await anyio.to_thread.run_sync(
        functools.partial(labels_pdf.sheet, labels, public_url=public_url, font=font)
    )
