"""Access points, schedules and groups: what managers configure, and what each change touches.

A change to a point, a group or a schedule changes where (or when) credentials pass, so it logs a
change for every credential it affects; after commit the bridges get their delta
(api/access/sync.py). Door controllers and lifts get an access point of their own when a bridge's
inventory first names them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import UUID

import msgspec
from piccolo.columns.combination import WhereRaw

from api.access.credentials import after_commit, log_changes
from api.access.schemas import (
    AccessGroupCreate,
    AccessGroupRead,
    AccessGroupUpdate,
    AccessPointCreate,
    AccessPointPage,
    AccessPointRead,
    AccessPointUpdate,
    AccessScheduleCreate,
    AccessScheduleRead,
    AccessScheduleUpdate,
    Window,
)
from api.access.tables import AccessGroup, AccessPoint, AccessSchedule, Credential
from api.alarms.tables import IntrusionZone
from api.audit.service import record
from api.communities.tables import Building, Unit
from api.core.auth import Caller, Scope, require_staff
from api.core.effects import Effects
from api.core.errors import Conflict, InvalidInput, NotFound
from api.core.paging import equals, paged_page
from api.devices.tables import Device
from api.piccolo_conf import DB

POINT_DEVICE_KINDS = ("door_controller", "lift")
_ROLES = {"gate", "unit_door", "turnstile", "key_room"}


class UnknownReference(InvalidInput):
    """A device, zone, place, point or schedule named in the body is not in the community."""

    code = "unknown_reference"
    message = "A referenced device, zone, place, point or schedule is not in this community."


class DeviceHasPoint(Conflict):
    """The device already guards another access point."""

    code = "device_has_access_point"
    message = "This device already guards an access point."


_COSMETIC = {"name", "direction", "zone"}  # fields no bridge entry depends on

# -- automatic points ----------------------------------------------------------------------------


def _point_kind(device: dict[str, Any]) -> str:
    if device["kind"] == "lift":
        return "lift"
    attrs = device["attrs"]
    attrs = attrs if isinstance(attrs, dict) else msgspec.json.decode(attrs or "{}")
    role = str(attrs.get("role", ""))
    if role in _ROLES:
        return role
    return "unit_door" if device["unit"] or device["building"] else "gate"


async def ensure_for_bridge(bridge_id: UUID) -> int:
    """Give each door controller and lift of the bridge an access point; how many were new."""
    devices = await Device.select(
        Device.id,
        Device.community,
        Device.kind,
        Device.name,
        Device.attrs,
        Device.building,
        Device.unit,
        Device.building.floors.as_alias("building_floors"),
    ).where((Device.bridge == bridge_id) & Device.kind.is_in(list(POINT_DEVICE_KINDS)))
    if not devices:
        return 0
    have = {
        r["device"]
        for r in await AccessPoint.select(AccessPoint.device).where(
            AccessPoint.device.is_in([d["id"] for d in devices])
        )
    }
    now = datetime.now(UTC)
    new = [
        AccessPoint(
            community=d["community"],
            device=d["id"],
            name=d["name"],
            kind=_point_kind(d),
            direction="both",
            building=d["building"],
            unit=d["unit"],
            floors=list(range(1, (d["building_floors"] or 0) + 1)) if d["kind"] == "lift" else [],
            created_at=now,
        )
        for d in devices
        if d["id"] not in have
    ]
    if new:
        await AccessPoint.insert(*new).on_conflict(action="DO NOTHING")
    return len(new)


# -- what a change touches -----------------------------------------------------------------------


def _jsonb_has(column: str, value: UUID) -> WhereRaw:
    return WhereRaw(f"{column} @> {{}}::jsonb", msgspec.json.encode([str(value)]).decode())


async def _affected_by_groups(community_id: UUID, group_ids: Iterable[UUID]) -> list[UUID]:
    """Credentials in any of the groups: one query however many groups there are."""
    groups = [str(g) for g in group_ids]
    if not groups:
        return []
    rows = await Credential.select(Credential.id).where(
        (Credential.community == community_id) & WhereRaw("groups ?| {}::text[]", groups)
    )
    return [r["id"] for r in rows]


async def _affected_by_point(community_id: UUID, point_id: UUID) -> list[UUID]:
    """Credentials that list the point, are in a group with it, or hold household access."""
    groups = [
        r["id"]
        for r in await AccessGroup.select(AccessGroup.id).where(
            (AccessGroup.community == community_id) & _jsonb_has("points", point_id)
        )
    ]
    rows = await Credential.select(Credential.id).where(
        (Credential.community == community_id)
        & (_jsonb_has("points", point_id) | Credential.household.is_not_null())
    )
    return [r["id"] for r in rows] + await _affected_by_groups(community_id, groups)


async def _in_community(table: Any, ids: Iterable[UUID | None], community_id: UUID) -> None:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return
    found = await table.count().where(
        table.id.is_in(list(wanted)) & (table.community == community_id)
    )
    if found != len(wanted):
        raise UnknownReference()


_REMOVE_POINT = {  # constant table names only
    name: f"UPDATE {name} SET points = points - {{}}"  # noqa: S608
    " WHERE community = {} AND points @> {}::jsonb"
    for name in ("access_groups", "credentials")
}


_Configured = type[AccessPoint] | type[AccessSchedule] | type[AccessGroup]


async def _configured(
    table: _Configured, row_id: UUID, caller: Caller, permission: str = "access.configure"
) -> dict[str, Any]:
    """The row, if the caller holds the permission as staff of its community; else 404."""
    row = await table.select().where(table.id == row_id).output(load_json=True).first()
    if row is None:
        raise NotFound()
    require_staff(caller, permission, row["community"])
    return row


async def _in_scope(
    table: _Configured, caller: Caller, permission: str, community_id: UUID | None
) -> list[dict[str, Any]]:
    """The rows of the communities the caller holds the permission in, by name."""
    where = Scope.of(caller, permission).where(table.community)
    if where is None:
        return []
    if community_id is not None:
        where &= table.community == community_id
    return await table.select().where(where).order_by(table.name).output(load_json=True)


async def _audit(
    caller: Caller, action: str, target_id: UUID, community: UUID, details: dict[str, Any]
) -> None:
    """Audit a write of a point, schedule or group ("access_group.update" → type access_group)."""
    await record(
        action,
        actor=caller,
        target_type=action.partition(".")[0],
        target_id=target_id,
        community_id=community,
        details=details,
    )


def _reader(caller: Caller) -> str:
    """The permission through which the caller reads the configuration (guards, managers and
    system administrators); NotFound when none."""
    permission = "credential.read" if caller.holds("credential.read") else "access.configure"
    Scope.of(caller, permission)
    return permission


def _point_reader(caller: Caller) -> str:
    """Like `_reader`, and police too: they filter their jurisdiction's access log by point."""
    if caller.holds("credential.read") or caller.holds("access.configure"):
        return _reader(caller)
    reader = Scope.held(caller, "access.read")
    if reader is not None and reader.staff:
        return "access.read"
    raise NotFound()


# -- access points -------------------------------------------------------------------------------


def _point_read(r: dict[str, Any]) -> AccessPointRead:
    return AccessPointRead(
        id=r["id"],
        community_id=r["community"],
        name=r["name"],
        kind=r["kind"],
        direction=r["direction"],
        device_id=r["device"],
        zone_id=r["zone"],
        building_id=r["building"],
        unit_id=r["unit"],
        floors=list(r["floors"] or []),
    )


async def list_points(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    kind: str | None = None,
) -> AccessPointPage:
    """Access points in the caller's communities."""
    permission = _point_reader(caller)
    return await paged_page(
        AccessPointPage,
        _point_read,
        AccessPoint.select().order_by(AccessPoint.name).output(load_json=True),
        Scope.of(caller, permission).where(AccessPoint.community),
        equals(AccessPoint.community, community_id),
        equals(AccessPoint.kind, kind),
        page=page,
        page_size=page_size,
    )


async def _point(
    caller: Caller, point_id: UUID, permission: str = "access.configure"
) -> dict[str, Any]:
    return await _configured(AccessPoint, point_id, caller, permission)


async def _check_point_refs(community_id: UUID, values: dict[str, Any]) -> None:
    await _in_community(Device, [values.get("device")], community_id)
    await _in_community(IntrusionZone, [values.get("zone")], community_id)
    await _in_community(Building, [values.get("building")], community_id)
    await _in_community(Unit, [values.get("unit")], community_id)


async def create_point(
    caller: Caller, data: AccessPointCreate, effects: Effects
) -> AccessPointRead:
    """Add an access point; household credentials reach a new gate or unit door at once."""
    require_staff(caller, "access.configure", data.community_id)
    values: dict[str, Any] = {
        "device": data.device_id,
        "zone": data.zone_id,
        "building": data.building_id,
        "unit": data.unit_id,
    }
    await _check_point_refs(data.community_id, values)
    if data.device_id and await AccessPoint.exists().where(AccessPoint.device == data.device_id):
        raise DeviceHasPoint()
    row = AccessPoint(
        community=data.community_id,
        name=data.name,
        kind=data.kind,
        direction=data.direction,
        floors=data.floors,
        device=data.device_id,
        zone=data.zone_id,
        building=data.building_id,
        unit=data.unit_id,
        created_at=datetime.now(UTC),
    )
    async with DB.transaction():
        await row.save()
        if data.device_id is not None:
            await log_changes(
                data.community_id, await _affected_by_point(data.community_id, row.id)
            )
        await _audit(
            caller,
            "access_point.create",
            row.id,
            data.community_id,
            {"name": data.name, "kind": data.kind},
        )
    after_commit(effects, data.community_id)
    return await get_point(caller, row.id)


async def get_point(caller: Caller, point_id: UUID) -> AccessPointRead:
    """One access point."""
    return _point_read(await _point(caller, point_id, _reader(caller)))


async def update_point(
    caller: Caller, point_id: UUID, data: AccessPointUpdate, effects: Effects
) -> AccessPointRead:
    """Change an access point; the credentials that reach it are sent again."""
    current = await _point(caller, point_id)
    names = {"device_id": "device", "zone_id": "zone", "building_id": "building", "unit_id": "unit"}
    values = {
        names.get(f, f): v
        for f in data.__struct_fields__
        if (v := getattr(data, f)) is not msgspec.UNSET
    }
    if not values:
        return _point_read(current)
    community = current["community"]
    await _check_point_refs(community, values)
    moved = data.device_id and data.device_id != current["device"]
    if moved and await AccessPoint.exists().where(AccessPoint.device == data.device_id):
        raise DeviceHasPoint()
    async with DB.transaction():
        await AccessPoint.update(cast(Any, values)).where(AccessPoint.id == point_id)
        if set(values) - _COSMETIC:  # where credentials pass changed
            await log_changes(community, await _affected_by_point(community, point_id))
        await _audit(caller, "access_point.update", point_id, community, {"fields": sorted(values)})
    after_commit(effects, community)
    return await get_point(caller, point_id)


async def delete_point(caller: Caller, point_id: UUID, effects: Effects) -> None:
    """Remove an access point (from every group and credential that names it)."""
    current = await _point(caller, point_id)
    community = current["community"]
    async with DB.transaction():
        affected = await _affected_by_point(community, point_id)
        for tablename in ("access_groups", "credentials"):
            await AccessPoint.raw(
                _REMOVE_POINT[tablename],
                str(point_id),
                community,
                msgspec.json.encode([str(point_id)]).decode(),
            )
        await AccessPoint.delete().where(AccessPoint.id == point_id)
        await log_changes(community, affected)
        await _audit(caller, "access_point.delete", point_id, community, {"name": current["name"]})
    after_commit(effects, community)


# -- schedules -----------------------------------------------------------------------------------


def _schedule_read(r: dict[str, Any]) -> AccessScheduleRead:
    return AccessScheduleRead(
        id=r["id"],
        community_id=r["community"],
        name=r["name"],
        windows=msgspec.convert(r["windows"] or [], list[Window]),
        holidays=[date.fromisoformat(d) for d in r["holidays"] or []],
    )


async def list_schedules(
    caller: Caller, *, community_id: UUID | None = None
) -> list[AccessScheduleRead]:
    """Schedules in the caller's communities."""
    rows = await _in_scope(AccessSchedule, caller, "access.configure", community_id)
    return [_schedule_read(r) for r in rows]


async def _schedule(caller: Caller, schedule_id: UUID) -> dict[str, Any]:
    return await _configured(AccessSchedule, schedule_id, caller)


def _schedule_values(data: AccessScheduleCreate | AccessScheduleUpdate) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if data.name is not msgspec.UNSET:
        values["name"] = data.name
    if data.windows is not msgspec.UNSET:
        values["windows"] = msgspec.to_builtins(data.windows)
    if data.holidays is not msgspec.UNSET:
        values["holidays"] = sorted({d.isoformat() for d in data.holidays})
    return values


async def create_schedule(caller: Caller, data: AccessScheduleCreate) -> AccessScheduleRead:
    """Add a schedule."""
    require_staff(caller, "access.configure", data.community_id)
    row = AccessSchedule(
        community=data.community_id, created_at=datetime.now(UTC), **_schedule_values(data)
    )
    async with DB.transaction():
        await row.save()
        await _audit(
            caller, "access_schedule.create", row.id, data.community_id, {"name": data.name}
        )
    return _schedule_read(await _schedule(caller, row.id))


async def update_schedule(
    caller: Caller, schedule_id: UUID, data: AccessScheduleUpdate, effects: Effects
) -> AccessScheduleRead:
    """Change a schedule; credentials of the groups that use it are sent again."""
    current = await _schedule(caller, schedule_id)
    values = _schedule_values(data)
    community = current["community"]
    if values:
        async with DB.transaction():
            await AccessSchedule.update(cast(Any, values)).where(AccessSchedule.id == schedule_id)
            groups = [
                r["id"]
                for r in await AccessGroup.select(AccessGroup.id).where(
                    AccessGroup.schedule == schedule_id
                )
            ]
            await log_changes(community, await _affected_by_groups(community, groups))
            await _audit(
                caller, "access_schedule.update", schedule_id, community, {"fields": sorted(values)}
            )
        after_commit(effects, community)
    return _schedule_read(await _schedule(caller, schedule_id))


async def delete_schedule(caller: Caller, schedule_id: UUID, effects: Effects) -> None:
    """Remove a schedule; its groups pass at any time from now on."""
    current = await _schedule(caller, schedule_id)
    community = current["community"]
    async with DB.transaction():
        groups = [
            r["id"]
            for r in await AccessGroup.select(AccessGroup.id).where(
                AccessGroup.schedule == schedule_id
            )
        ]
        await AccessGroup.update({AccessGroup.schedule: None}).where(
            AccessGroup.schedule == schedule_id
        )
        await AccessSchedule.delete().where(AccessSchedule.id == schedule_id)
        await log_changes(community, await _affected_by_groups(community, groups))
        await _audit(
            caller, "access_schedule.delete", schedule_id, community, {"name": current["name"]}
        )
    after_commit(effects, community)


# -- groups --------------------------------------------------------------------------------------


def _group_read(r: dict[str, Any]) -> AccessGroupRead:
    return AccessGroupRead(
        id=r["id"],
        community_id=r["community"],
        name=r["name"],
        point_ids=[UUID(str(p)) for p in r["points"] or []],
        schedule_id=r["schedule"],
    )


async def list_groups(caller: Caller, *, community_id: UUID | None = None) -> list[AccessGroupRead]:
    """Groups in the caller's communities."""
    rows = await _in_scope(AccessGroup, caller, _reader(caller), community_id)
    return [_group_read(r) for r in rows]


async def _group(caller: Caller, group_id: UUID) -> dict[str, Any]:
    return await _configured(AccessGroup, group_id, caller)


async def create_group(caller: Caller, data: AccessGroupCreate) -> AccessGroupRead:
    """Add a group."""
    require_staff(caller, "access.configure", data.community_id)
    await _in_community(AccessPoint, data.point_ids, data.community_id)
    await _in_community(AccessSchedule, [data.schedule_id], data.community_id)
    row = AccessGroup(
        community=data.community_id,
        name=data.name,
        points=[str(p) for p in dict.fromkeys(data.point_ids)],
        schedule=data.schedule_id,
        created_at=datetime.now(UTC),
    )
    async with DB.transaction():
        await row.save()
        await _audit(
            caller,
            "access_group.create",
            row.id,
            data.community_id,
            {"name": data.name, "points": len(data.point_ids)},
        )
    return _group_read(await _group(caller, row.id))


async def update_group(
    caller: Caller, group_id: UUID, data: AccessGroupUpdate, effects: Effects
) -> AccessGroupRead:
    """Change a group; its credentials are sent again."""
    current = await _group(caller, group_id)
    community = current["community"]
    values: dict[str, Any] = {}
    if data.name is not msgspec.UNSET:
        values["name"] = data.name
    if data.point_ids is not msgspec.UNSET:
        await _in_community(AccessPoint, data.point_ids, community)
        values["points"] = [str(p) for p in dict.fromkeys(data.point_ids)]
    if data.schedule_id is not msgspec.UNSET:
        await _in_community(AccessSchedule, [data.schedule_id], community)
        values["schedule"] = data.schedule_id
    if values:
        async with DB.transaction():
            await AccessGroup.update(cast(Any, values)).where(AccessGroup.id == group_id)
            await log_changes(community, await _affected_by_groups(community, [group_id]))
            await _audit(
                caller, "access_group.update", group_id, community, {"fields": sorted(values)}
            )
        after_commit(effects, community)
    return _group_read(await _group(caller, group_id))


async def delete_group(caller: Caller, group_id: UUID, effects: Effects) -> None:
    """Remove a group (from every credential that holds it)."""
    current = await _group(caller, group_id)
    community = current["community"]
    async with DB.transaction():
        affected = await _affected_by_groups(community, [group_id])
        await Credential.raw(
            "UPDATE credentials SET groups = groups - {}"
            " WHERE community = {} AND groups @> {}::jsonb",
            str(group_id),
            community,
            msgspec.json.encode([str(group_id)]).decode(),
        )
        await AccessGroup.delete().where(AccessGroup.id == group_id)
        await log_changes(community, affected)
        await _audit(caller, "access_group.delete", group_id, community, {"name": current["name"]})
    after_commit(effects, community)
