"""Protection zones (防区): configuration, arming and disarming by hand (schedules: schedules.py).

Community zones are configured by property managers; guards and managers arm and disarm them, a
resident their own household's zones. Household SOS zones are armed for good (standard 6.4.16).
Arming also tells the zone's detectors (`arm`/`disarm` commands through their bridge).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

import msgspec
import structlog

from api.alarms.catalogue import SOS_ZONE_MAX_DEVICES, Room
from api.alarms.errors import (
    CannotDisarm,
    TooManyDevices,
    UnknownDevice,
    UnknownHousehold,
    ZoneInUse,
)
from api.alarms.failsafe import RULES
from api.alarms.rows import ZoneRow
from api.alarms.schemas_config import (
    ArmResult,
    CommandOutcome,
    ZoneCreate,
    ZonePage,
    ZoneRead,
    ZoneUpdate,
)
from api.alarms.tables import EmergencyPlan, IntrusionZone, LinkageRule, ZoneSchedule
from api.audit.service import record
from api.communities.tables import Household
from api.core.auth import Caller, Scope, require_staff
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.core.realtime import community_channel
from api.devices import service as devices
from api.devices.bus import CommandBus
from api.devices.tables import Device
from api.piccolo_conf import DB

log = structlog.get_logger()

ARM_TIMEOUT = 3.0  # seconds a detector may take to answer arm/disarm


def _now() -> datetime:
    return datetime.now(UTC)


async def _kinds(device_ids: list[Any]) -> dict[str, str]:
    ids = [UUID(str(d)) for d in device_ids]
    if not ids:
        return {}
    rows = await Device.select(Device.id, Device.kind).where(Device.id.is_in(ids))
    return {str(r["id"]): r["kind"] for r in rows}


def _read(row: ZoneRow, kinds: dict[str, str]) -> ZoneRead:
    ids = [str(d) for d in row.devices or []]
    return ZoneRead(
        id=row.id,
        community_id=row.community,
        household_id=row.household,
        name=row.name,
        kind=row.kind,
        room=cast(Room, row.room) if row.room else None,
        armed=row.armed,
        entry_delay=row.entry_delay,
        devices=[UUID(d) for d in ids],
        cameras=sum(kinds.get(d) in ("camera", "plate_camera") for d in ids),
        state_changed_at=row.state_changed_at,
    )


async def zone_row(zone_id: UUID) -> ZoneRow | None:
    """One zone's row, JSON decoded."""
    row = (
        await IntrusionZone.select()
        .where(IntrusionZone.id == zone_id)
        .output(load_json=True)
        .first()
    )
    return None if row is None else msgspec.convert(row, ZoneRow)


async def read_zone(row: ZoneRow) -> ZoneRead:
    """A zone row as the API shows it."""
    return _read(row, await _kinds(row.devices or []))


async def _check_devices(community_id: UUID, ids: list[UUID]) -> None:
    if not ids:
        return
    found = await Device.count().where(Device.id.is_in(ids) & (Device.community == community_id))
    if found != len(ids):
        raise UnknownDevice(field="devices")


async def _check_household(community_id: UUID, household_id: UUID | None) -> None:
    if household_id is not None and not await Household.exists().where(
        (Household.id == household_id) & (Household.community == community_id)
    ):
        raise UnknownHousehold(field="household_id")


async def zone_in_scope(caller: Caller, zone_id: UUID, permission: str) -> ZoneRow:
    scope = Scope.of(caller, permission)
    row = await zone_row(zone_id)
    if row is None or not scope.allows(row.community, row.household):
        raise NotFound()
    return row


def announce(zone: ZoneRead, effects: Effects) -> None:
    effects.send(
        {"type": "zone", "zone": msgspec.to_builtins(zone)}, community_channel(zone.community_id)
    )
    effects.after(RULES, zone.community_id)  # its devices may be a fail-safe rule's scope


async def create_zone(caller: Caller, data: ZoneCreate, effects: Effects) -> ZoneRead:
    """A new zone (property managers); household SOS zones are armed and hold ≤ 4 devices."""
    require_staff(caller, "alarm.configure", data.community_id)
    await _check_household(data.community_id, data.household_id)
    await _check_devices(data.community_id, data.devices)
    if data.kind == "household_sos" and len(data.devices) > SOS_ZONE_MAX_DEVICES:
        raise TooManyDevices(field="devices")
    async with DB.transaction():
        zone = IntrusionZone(
            community=data.community_id,
            household=data.household_id,
            name=data.name,
            kind=data.kind,
            room=data.room or "",
            armed=data.armed or data.kind == "household_sos",
            entry_delay=data.entry_delay,
            devices=[str(d) for d in data.devices],
            state_changed_at=_now(),
        )
        await zone.save()
        await record(
            "zone.created",
            actor=caller,
            target_type="zone",
            target_id=zone.id,
            community_id=data.community_id,
            details={"kind": data.kind, "room": data.room, "devices": len(data.devices)},
        )
    row = await zone_row(zone.id)
    assert row is not None
    read = await read_zone(row)
    announce(read, effects)
    return read


async def get_zone(caller: Caller, zone_id: UUID) -> ZoneRead:
    """One zone: staff and police of the community, or a resident of its household."""
    return await read_zone(await zone_in_scope(caller, zone_id, "alarm.read"))


async def list_zones(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    kind: str | None = None,
) -> ZonePage:
    """Zones in scope: a community's for staff and police, a resident's household's for them."""
    rows, total = await paged(
        IntrusionZone.select()
        .order_by(IntrusionZone.kind)
        .order_by(IntrusionZone.name)
        .output(load_json=True),
        Scope.of(caller, "alarm.read").where(IntrusionZone.community, IntrusionZone.household),
        equals(IntrusionZone.community, community_id),
        IntrusionZone.kind == kind if kind else None,
        page=page,
        page_size=page_size,
    )
    zones = msgspec.convert(rows, list[ZoneRow])
    kinds = await _kinds([d for z in zones for d in z.devices or []])
    return ZonePage(
        items=[_read(z, kinds) for z in zones], total=total, page=page, page_size=page_size
    )


async def update_zone(
    caller: Caller, zone_id: UUID, data: ZoneUpdate, effects: Effects
) -> ZoneRead:
    """Rename a zone, change its entry delay or its devices."""
    row = await zone_in_scope(caller, zone_id, "alarm.configure")
    require_staff(caller, "alarm.configure", row.community)
    changes: dict[Any, Any] = {}
    if data.name is not msgspec.UNSET:
        changes[IntrusionZone.name] = data.name
    if data.entry_delay is not msgspec.UNSET:
        changes[IntrusionZone.entry_delay] = data.entry_delay
    if data.devices is not msgspec.UNSET:
        await _check_devices(row.community, data.devices)
        if row.kind == "household_sos" and len(data.devices) > SOS_ZONE_MAX_DEVICES:
            raise TooManyDevices(field="devices")
        changes[IntrusionZone.devices] = [str(d) for d in data.devices]
    if changes:
        async with DB.transaction():
            await IntrusionZone.update(changes).where(IntrusionZone.id == zone_id)
            await record(
                "zone.updated",
                actor=caller,
                target_type="zone",
                target_id=zone_id,
                community_id=row.community,
                details={"fields": sorted(c._meta.name for c in changes)},
            )
    updated = await zone_row(zone_id)
    assert updated is not None
    read = await read_zone(updated)
    announce(read, effects)
    return read


async def delete_zone(caller: Caller, zone_id: UUID, effects: Effects) -> None:
    """Delete a zone no plan or rule uses; its alarms keep their records (zone set null)."""
    row = await zone_in_scope(caller, zone_id, "alarm.configure")
    require_staff(caller, "alarm.configure", row.community)
    if await EmergencyPlan.exists().where(EmergencyPlan.zone == zone_id) or (
        await LinkageRule.exists().where(LinkageRule.zone == zone_id)
    ):
        raise ZoneInUse()
    async with DB.transaction():
        await ZoneSchedule.delete().where(ZoneSchedule.zone == zone_id)
        await IntrusionZone.delete().where(IntrusionZone.id == zone_id)
        await record(
            "zone.deleted",
            actor=caller,
            target_type="zone",
            target_id=zone_id,
            community_id=row.community,
        )
    effects.after(RULES, row.community)


async def tell_detectors(
    bus: CommandBus, row: ZoneRow, armed: bool, requested_by: UUID | None
) -> list[CommandOutcome]:
    """Send arm/disarm to the zone's intrusion detectors, concurrently (outside any transaction)."""
    ids = [UUID(str(d)) for d in row.devices or []]
    detectors = (
        [
            r["id"]
            for r in await Device.select(Device.id).where(
                Device.id.is_in(ids) & (Device.kind == "intrusion_zone")
            )
        ]
        if ids
        else []
    )

    async def one(device_id: UUID) -> CommandOutcome:
        try:
            result = await devices.command(
                bus,
                device_id,
                "arm" if armed else "disarm",
                {},
                requested_by=requested_by,
                timeout=ARM_TIMEOUT,
            )
        except devices.BridgeUnavailable:
            return CommandOutcome(device_id=device_id, status="bridge_offline")
        return CommandOutcome(device_id=device_id, status=result.status)

    return list(await asyncio.gather(*(one(d) for d in detectors)))


async def set_armed(row: ZoneRow, armed: bool, *, caller: Caller | None, by: str) -> ZoneRow:
    """Record the new state (audited); inside the caller's transaction."""
    if not armed and row.kind == "household_sos":
        raise CannotDisarm()
    now = _now()
    await IntrusionZone.update(
        {IntrusionZone.armed: armed, IntrusionZone.state_changed_at: now}
    ).where(IntrusionZone.id == row.id)
    await record(
        "zone.armed" if armed else "zone.disarmed",
        actor=caller,
        actor_name=None if caller else by,
        target_type="zone",
        target_id=row.id,
        community_id=row.community,
        details={"by": by},
    )
    return msgspec.structs.replace(row, armed=armed, state_changed_at=now)


async def arm(
    caller: Caller, bus: CommandBus, zone_id: UUID, armed: bool, effects: Effects
) -> ArmResult:
    """Arm or disarm a zone by hand; its detectors are told too. SOS zones never disarm (409)."""
    row = await zone_in_scope(caller, zone_id, "zone.arm")
    async with DB.transaction():
        row = await set_armed(row, armed, caller=caller, by="hand")
    commands = await tell_detectors(bus, row, armed, caller.account_id)
    read = await read_zone(row)
    announce(read, effects)
    return ArmResult(zone=read, commands=commands)
