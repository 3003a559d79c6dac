"""Guards at the desk: open a door remotely with a stated reason; release doors in an emergency.

Both are audited with the reason. A remote opening is an access record with method "remote". An
emergency release unlocks every door controller of the community (or one building) and stays until
ended; the community's live board hears of both ends (`access.emergency_release`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.access.schemas import DoorOpenResult, EmergencyRelease, EmergencyReleaseEnd, ReleaseResult
from api.access.tables import AccessRecord
from api.audit.service import record
from api.communities.tables import Building
from api.core.auth import Caller, require_staff
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.realtime import community_channel
from api.devices import service as devices
from api.devices.bus import CommandBus
from api.devices.tables import Device
from api.piccolo_conf import DB

RELEASE_TIMEOUT = 5.0  # seconds each door has to answer


async def remote_open(
    caller: Caller, bus: CommandBus, device_id: UUID, *, reason: str, direction: str
) -> DoorOpenResult:
    """Open a door for someone at it; the reason goes into the record and the audit log."""
    device = (
        await Device.select(Device.id, Device.community, Device.kind)
        .where(Device.id == device_id)
        .first()
    )
    if device is None or device["kind"] != "door_controller":
        raise NotFound()
    require_staff(caller, "door.remote_open", device["community"])
    entry = AccessRecord(
        community=device["community"],
        device=device_id,
        account=caller.account_id,
        at=datetime.now(UTC),
        direction=direction,
        method="remote",
        result="failed",
        decided_by="platform",
    )
    status: str | None = None
    try:
        outcome = await devices.command(
            bus,
            device_id,
            "open",
            {"method": "remote", "direction": direction, "reason": reason},
            requested_by=caller.account_id,
        )
    except devices.BridgeUnavailable:
        entry.reason, status = f"bridge offline; {reason}"[:200], "offline"
    else:
        entry.command, status = outcome.id, outcome.status
        entry.result = "granted" if outcome.status == "ok" else "failed"
        entry.reason = reason if outcome.status == "ok" else f"{outcome.status}; {reason}"[:200]
    async with DB.transaction():
        await entry.save()
        await record(
            "door.remote_open",
            actor=caller,
            outcome="ok" if entry.result == "granted" else "failed",
            target_type="device",
            target_id=device_id,
            community_id=device["community"],
            purpose=reason,
            details={"result": entry.result, "direction": direction},
        )
    if status == "offline":
        raise devices.BridgeUnavailable(record_id=str(entry.id))
    return DoorOpenResult(
        result="granted" if entry.result == "granted" else "failed",
        reason=entry.reason,
        record_id=entry.id,
        command_status=status,
    )


async def _doors(community_id: UUID, building_id: UUID | None) -> list[dict[str, Any]]:
    """The community's door controllers (of one of its buildings); NotFound for a building of
    another community, before any door is told or anything is audited."""
    where = (Device.community == community_id) & (Device.kind == "door_controller")
    if building_id is not None:
        if not await Building.exists().where(
            (Building.id == building_id) & (Building.community == community_id)
        ):
            raise NotFound()
        where &= Device.building == building_id
    return await Device.select(Device.id, Device.name).where(where).order_by(Device.name)


async def _each(
    caller: Caller, bus: CommandBus, doors: list[dict[str, Any]], action: str, reason: str
) -> ReleaseResult:
    async def one(door: dict[str, Any]) -> str | None:
        try:
            outcome = await devices.command(
                bus,
                door["id"],
                action,
                {"reason": f"emergency release: {reason}"[:200]},
                requested_by=caller.account_id,
                timeout=RELEASE_TIMEOUT,
            )
        except devices.BridgeUnavailable:
            return door["name"]
        return None if outcome.status == "ok" else door["name"]

    # Not inside a transaction: every command records itself.
    failed = [name for name in await asyncio.gather(*(one(d) for d in doors)) if name]
    return ReleaseResult(doors=len(doors), ok=len(doors) - len(failed), failed=failed)


async def release(
    caller: Caller, bus: CommandBus, data: EmergencyRelease, effects: Effects
) -> ReleaseResult:
    """Unlock every door of the community or a building (fire, evacuation)."""
    require_staff(caller, "access.emergency", data.community_id)
    doors = await _doors(data.community_id, data.building_id)
    result = await _each(caller, bus, doors, "unlock", data.reason)
    await _announce(
        caller, data.community_id, data.building_id, data.reason, result, "start", effects
    )
    return result


async def _barriers(community_id: UUID) -> list[dict[str, Any]]:
    """The community's barriers: a fire's fail-safe rule lifts and holds their arms (`unlock`)."""
    return (
        await Device.select(Device.id, Device.name)
        .where((Device.community == community_id) & (Device.kind == "barrier"))
        .order_by(Device.name)
    )


async def end_release(
    caller: Caller, bus: CommandBus, data: EmergencyReleaseEnd, effects: Effects
) -> ReleaseResult:
    """Lock the released doors again; the end of a community's release also locks its barriers,
    which brings down the arms a fire held up and returns them to normal (VEH-18)."""
    require_staff(caller, "access.emergency", data.community_id)
    doors = await _doors(data.community_id, data.building_id)
    barriers = await _barriers(data.community_id) if data.building_id is None else []
    result = await _each(caller, bus, doors + barriers, "lock", data.reason)
    result.doors, result.barriers = len(doors), len(barriers)
    await _announce(
        caller, data.community_id, data.building_id, data.reason, result, "end", effects
    )
    return result


async def _announce(
    caller: Caller,
    community_id: UUID,
    building_id: UUID | None,
    reason: str,
    result: ReleaseResult,
    phase: str,
    effects: Effects,
) -> None:
    await record(
        f"access.emergency_release.{phase}",
        actor=caller,
        outcome="ok" if not result.failed else "partial",
        target_type="building" if building_id else "community",
        target_id=building_id or community_id,
        community_id=community_id,
        purpose=reason,
        details={
            "doors": result.doors,
            "barriers": result.barriers,
            "ok": result.ok,
            "failed": result.failed,
        },
    )
    effects.send(
        {
            "type": "access.emergency_release",
            "phase": phase,
            "community_id": str(community_id),
            "building_id": str(building_id) if building_id else None,
            "reason": reason,
            "doors": result.doors,
            "barriers": result.barriers,
            "failed": result.failed,
            "by": caller.display_name,
        },
        community_channel(community_id),
    )
