"""Patrol areas and their checkpoints: set up by property managers, read by guards too.

A checkpoint's `code` is what its QR label encodes: 128 random bits, so a label cannot be guessed
from another, and only those who set patrols up read it (guards scan it; they never list it).
A new code (`new_code`) retires the old label at once.

A checkpoint's reference photo (what the guard looks for, shown beside it in the round) is set by
managers and served through the API (`photo_url`: a stable address, new with each photo, that the
phone may cache), not a presigned link: the guard's round is read every 30 s.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from piccolo.table import Table

from api.audit.service import record
from api.core.auth import Caller, Scope, require_staff
from api.core.errors import InvalidInput, NotFound
from api.core.paging import equals, paged_page
from api.core.storage import ObjectStore, RetentionClass, is_image
from api.devices.tables import Device
from api.patrol.errors import InUse, InvalidPhoto, UnknownArea, UnknownDevice
from api.patrol.rows import CheckpointRow
from api.patrol.schemas import (
    CheckpointCreate,
    CheckpointPage,
    CheckpointPhoto,
    CheckpointRead,
    CheckpointUpdate,
    PatrolAreaCreate,
    PatrolAreaPage,
    PatrolAreaRead,
    PatrolAreaUpdate,
)
from api.patrol.tables import Checkpoint, PatrolArea, PatrolRoute
from api.piccolo_conf import DB

CODE_PREFIX = "anju-cp:"
PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def _now() -> datetime:
    return datetime.now(UTC)


def new_code() -> str:
    """A checkpoint code: what the QR label encodes."""
    return CODE_PREFIX + secrets.token_urlsafe(16)


async def row_in_scope(caller: Caller, table: type[Table], row_id: UUID, permission: str) -> Any:
    """A row of a patrol table the caller holds the permission for (staff of its community)."""
    scope = Scope.of(caller, permission)
    row = (
        await table.select().where(table._meta.primary_key == row_id).output(load_json=True).first()
    )
    if row is None or not scope.staff_in(row["community"]):
        raise NotFound()
    return row


async def audited(
    caller: Caller, action: str, target_type: str, target_id: UUID, community: UUID, **details: Any
) -> None:
    """Record a patrol write in the audit log (inside the caller's transaction)."""
    await record(
        action,
        actor=caller,
        target_type=target_type,
        target_id=target_id,
        community_id=community,
        details=details or None,
    )


def changes_of(table: type[Table], data: msgspec.Struct, rename: dict[str, str]) -> dict[Any, Any]:
    """The columns a PATCH body sets (its fields not UNSET), by column; `rename` maps a body field
    to its column's name where they differ."""
    out: dict[Any, Any] = {}
    for field in data.__struct_fields__:
        value = getattr(data, field)
        column = rename.get(field, field)
        if value is not msgspec.UNSET and column in {c._meta.name for c in table._meta.columns}:
            out[getattr(table, column)] = value
    return out


# -- areas -----------------------------------------------------------------------------------------


def _area(row: dict[str, Any]) -> PatrolAreaRead:
    return PatrolAreaRead(
        id=row["id"], community_id=row["community"], name=row["name"], note=row["note"]
    )


async def create_area(caller: Caller, data: PatrolAreaCreate) -> PatrolAreaRead:
    """A new patrol area (property managers)."""
    require_staff(caller, "patrol.configure", data.community_id)
    async with DB.transaction():
        area = PatrolArea(
            community=data.community_id, name=data.name, note=data.note, created_at=_now()
        )
        await area.save()
        await audited(caller, "patrol.area_created", "patrol_area", area.id, data.community_id)
    return await get_area(caller, area.id)


async def get_area(caller: Caller, area_id: UUID) -> PatrolAreaRead:
    """One area."""
    return _area(await row_in_scope(caller, PatrolArea, area_id, "patrol.read"))


async def list_areas(
    caller: Caller, *, page: int, page_size: int, community_id: UUID | None
) -> PatrolAreaPage:
    """The areas of the communities where the caller is staff."""
    return await paged_page(
        PatrolAreaPage,
        _area,
        PatrolArea.select().order_by(PatrolArea.name),
        Scope.of(caller, "patrol.read").where(PatrolArea.community),
        equals(PatrolArea.community, community_id),
        page=page,
        page_size=page_size,
    )


async def update_area(caller: Caller, area_id: UUID, data: PatrolAreaUpdate) -> PatrolAreaRead:
    """Rename an area or change its note."""
    row = await row_in_scope(caller, PatrolArea, area_id, "patrol.configure")
    changes = changes_of(PatrolArea, data, {})
    if changes:
        async with DB.transaction():
            await PatrolArea.update(changes).where(PatrolArea.id == area_id)
            await audited(
                caller,
                "patrol.area_updated",
                "patrol_area",
                area_id,
                row["community"],
                fields=sorted(c._meta.name for c in changes),
            )
    return await get_area(caller, area_id)


async def delete_area(caller: Caller, area_id: UUID) -> None:
    """Delete an area without checkpoints (409 otherwise)."""
    row = await row_in_scope(caller, PatrolArea, area_id, "patrol.configure")
    if await Checkpoint.exists().where(Checkpoint.area == area_id):
        raise InUse()
    async with DB.transaction():
        await PatrolArea.delete().where(PatrolArea.id == area_id)
        await audited(caller, "patrol.area_deleted", "patrol_area", area_id, row["community"])


# -- checkpoints -----------------------------------------------------------------------------------


def photo_url(checkpoint_id: UUID, key: str) -> str | None:
    """Where the point's reference photo is read; the key's last part makes each photo's own."""
    if not key:
        return None
    version = key.rsplit("/", 1)[-1].split(".", 1)[0]
    return f"/api/v1/patrol/checkpoints/{checkpoint_id}/photo?v={version}"


def _checkpoint(row: dict[str, Any], scope: Scope | None) -> CheckpointRead:
    cp = msgspec.convert(row, CheckpointRow)
    return CheckpointRead(
        id=cp.id,
        community_id=cp.community,
        area_id=cp.area,
        name=cp.name,
        needs_photo=cp.needs_photo,
        needs_note=cp.needs_note,
        lat=cp.lat,
        lon=cp.lon,
        device_id=cp.device,
        code=cp.code if scope is not None and scope.staff_in(cp.community) else None,
        photo_url=photo_url(cp.id, cp.photo),
    )


async def checkpoint_row(checkpoint_id: UUID) -> CheckpointRow | None:
    """One checkpoint's row."""
    row = await Checkpoint.select().where(Checkpoint.id == checkpoint_id).first()
    return None if row is None else msgspec.convert(row, CheckpointRow)


async def _check_device(community_id: UUID, device_id: UUID | None) -> None:
    if device_id is not None and not await Device.exists().where(
        (Device.id == device_id) & (Device.community == community_id)
    ):
        raise UnknownDevice(field="device_id")


async def create_checkpoint(caller: Caller, data: CheckpointCreate) -> CheckpointRead:
    """A new checkpoint in an area, with a fresh QR code."""
    scope = Scope.of(caller, "patrol.configure")
    area = await PatrolArea.select().where(PatrolArea.id == data.area_id).first()
    if area is None or not scope.staff_in(area["community"]):
        raise UnknownArea(field="area_id")
    await _check_device(area["community"], data.device_id)
    async with DB.transaction():
        cp = Checkpoint(
            community=area["community"],
            area=data.area_id,
            name=data.name,
            code=new_code(),
            needs_photo=data.needs_photo,
            needs_note=data.needs_note,
            lat=data.lat,
            lon=data.lon,
            device=data.device_id,
            created_at=_now(),
        )
        await cp.save()
        await audited(caller, "patrol.checkpoint_created", "patrol_checkpoint", cp.id, cp.community)
    return await get_checkpoint(caller, cp.id)


async def get_checkpoint(caller: Caller, checkpoint_id: UUID) -> CheckpointRead:
    """One checkpoint (its code only for managers)."""
    row = await row_in_scope(caller, Checkpoint, checkpoint_id, "patrol.read")
    return _checkpoint(row, Scope.held(caller, "patrol.configure"))


async def list_checkpoints(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None,
    area_id: UUID | None,
) -> CheckpointPage:
    """Checkpoints of the communities where the caller is staff, by area and name."""
    configure = Scope.held(caller, "patrol.configure")
    return await paged_page(
        CheckpointPage,
        lambda row: _checkpoint(row, configure),
        Checkpoint.select().order_by(Checkpoint.area).order_by(Checkpoint.name),
        Scope.of(caller, "patrol.read").where(Checkpoint.community),
        equals(Checkpoint.community, community_id),
        equals(Checkpoint.area, area_id),
        page=page,
        page_size=page_size,
    )


async def update_checkpoint(
    caller: Caller, checkpoint_id: UUID, data: CheckpointUpdate
) -> CheckpointRead:
    """Change a checkpoint; a new code retires its old label."""
    row = await row_in_scope(caller, Checkpoint, checkpoint_id, "patrol.configure")
    if data.device_id is not msgspec.UNSET:
        await _check_device(row["community"], data.device_id)
    changes = changes_of(Checkpoint, data, {"device_id": "device"})
    if data.new_code:
        changes[Checkpoint.code] = new_code()
    lat = changes.get(Checkpoint.lat, row["lat"])
    lon = changes.get(Checkpoint.lon, row["lon"])
    if (lat is None) != (lon is None):
        raise InvalidInput("lat and lon go together.", field="lat")
    if changes:
        async with DB.transaction():
            await Checkpoint.update(changes).where(Checkpoint.id == checkpoint_id)
            await audited(
                caller,
                "patrol.checkpoint_updated",
                "patrol_checkpoint",
                checkpoint_id,
                row["community"],
                fields=sorted(c._meta.name for c in changes),
            )
    return await get_checkpoint(caller, checkpoint_id)


async def delete_checkpoint(caller: Caller, checkpoint_id: UUID) -> None:
    """Delete a checkpoint no route uses (409 otherwise); its scans stay on record."""
    row = await row_in_scope(caller, Checkpoint, checkpoint_id, "patrol.configure")
    routes = (
        await PatrolRoute.select(PatrolRoute.checkpoints)
        .where(PatrolRoute.community == row["community"])
        .output(load_json=True)
    )
    if any(str(checkpoint_id) in map(str, r["checkpoints"]) for r in routes):
        raise InUse()
    async with DB.transaction():
        await Checkpoint.delete().where(Checkpoint.id == checkpoint_id)
        await audited(
            caller,
            "patrol.checkpoint_deleted",
            "patrol_checkpoint",
            checkpoint_id,
            row["community"],
        )


# -- reference photos ------------------------------------------------------------------------------


async def set_photo(
    caller: Caller, checkpoint_id: UUID, data: CheckpointPhoto | None, store: ObjectStore
) -> CheckpointRead:
    """Set (or with None remove) a checkpoint's reference photo; the old one is deleted."""
    row = await row_in_scope(caller, Checkpoint, checkpoint_id, "patrol.configure")
    if data is not None and not is_image(data.content_type, data.data):
        raise InvalidPhoto(field="data")
    key = ""
    if data is not None:
        ext = PHOTO_EXTENSIONS[data.content_type]
        key = f"patrol/{row['community']}/points/{checkpoint_id}/{uuid.uuid4().hex}.{ext}"
        # kept while the point keeps it: a photo replaced or removed is deleted below
        await store.put(
            key, data.data, content_type=data.content_type, retention=RetentionClass.PERMANENT
        )
    try:
        async with DB.transaction():
            await Checkpoint.update({Checkpoint.photo: key}).where(Checkpoint.id == checkpoint_id)
            await audited(
                caller,
                "patrol.checkpoint_photo_set" if key else "patrol.checkpoint_photo_removed",
                "patrol_checkpoint",
                checkpoint_id,
                row["community"],
            )
    except Exception:
        if key:
            await store.delete(key)  # nothing half-written: no object without its point
        raise
    if row["photo"]:
        await store.delete(row["photo"])
    return await get_checkpoint(caller, checkpoint_id)


async def read_photo(caller: Caller, checkpoint_id: UUID, store: ObjectStore) -> tuple[bytes, str]:
    """The checkpoint's reference photo and its content type (staff who read patrols)."""
    row = await row_in_scope(caller, Checkpoint, checkpoint_id, "patrol.read")
    if not row["photo"]:
        raise NotFound()
    info = await store.info(row["photo"])
    return await store.get(row["photo"]), info.content_type
