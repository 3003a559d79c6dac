"""The guard's lane console (车道轮询, VEH-15): every lane's last read, the arm lifted or closed
remotely with a stated reason, and the guard's answer to a read the bridge held.

Each action is one pass record of the lane, with who decided (`decided_by`) and the stated
reason (`note`), audited with the reason as its purpose, and announced live to the community's
records channel like every read (`vehicle.pass`). The arm moves by a command to the lane's
barrier through its bridge (api/devices/service.command, as a door opened from the desk); the
record says how the command ended (`remote_open`, `remote_open_failed`, …).

A held or refused read at a lane (not a remote lift or close) is answered once (`resolves` is
unique): let in as temporary
parking (the arm lifts; an entry takes a space), refused (the arm stays down), or its plate
corrected and decided again here, from the same credentials the bridges decide on (a registered
car's or a visitor pass's plate is let in, a blacklisted one stays out, still unknown is held
for the guard again). A bare remote lift names no car and counts no space.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
from asyncpg.exceptions import UniqueViolationError

from api.access.credentials import PLATE_KINDS, index_of
from api.access.tables import Credential
from api.audit.service import record
from api.core.auth import Caller, require_staff, staff_communities
from api.core.crypto import FieldCipher
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.realtime import records_channel
from api.core.storage import ObjectStore
from api.devices import service as devices
from api.devices.bus import CommandBus
from api.piccolo_conf import DB
from api.vehicles import identifiers
from api.vehicles.arrivals import cars_arrived
from api.vehicles.errors import (
    InvalidLane,
    NotResolvable,
    OrderPending,
    PlateRequired,
    ReasonRequired,
)
from api.vehicles.parking import lane_read, move_occupancy
from api.vehicles.passes import image_url, lane_names, pass_read
from api.vehicles.schemas import (
    LaneActionResult,
    LaneStatus,
    PassRecordRead,
    PassResolve,
)
from api.vehicles.tables import Lane, ParkingOrder, PassRecord, Vehicle
from api.visitors.tables import VisitorPass

PERMISSION = "barrier.control"
COMMAND_TIMEOUT = 5.0  # seconds the barrier has to answer
RESOLVABLE = ("held", "denied")
COUNTED = ("temporary", "visitor", "resident")  # the guard's grants that let a car through
TEMPORARY_REASONS = ("temporary", "visitor")


def announce(effects: Effects, read: PassRecordRead) -> None:
    """A new pass record, live to the community's records channel (plates masked)."""
    effects.send(
        {"type": "vehicle.pass", "record": msgspec.to_builtins(read)},
        records_channel(read.community_id),
    )


async def lanes(
    caller: Caller, objects: ObjectStore, community_id: UUID | None
) -> list[LaneStatus]:
    """Every lane of the caller's communities with its last read (none yet: null)."""
    where = staff_communities(caller, PERMISSION, Lane.community, community_id)
    if where is None:
        return []
    rows = await Lane.select().where(where).order_by(Lane.name)
    if not rows:
        return []
    last = {
        r["lane"]: r
        for r in await PassRecord.select()
        .where(PassRecord.lane.is_in([r["id"] for r in rows]))
        .distinct(on=[PassRecord.lane])
        .order_by(PassRecord.lane)
        .order_by(PassRecord.at, ascending=False)
    }
    found = []
    for r in rows:
        read = pass_read(last[r["id"]], {r["id"]: r["name"]}) if r["id"] in last else None
        url = await image_url(objects, read.image) if read else None
        found.append(LaneStatus(lane=lane_read(r), last=read, image_url=url))
    return found


async def _lane(caller: Caller, lane_id: UUID) -> dict[str, Any]:
    lane = await Lane.select().where(Lane.id == lane_id).first()
    if lane is None:
        raise NotFound()
    require_staff(caller, PERMISSION, lane["community"])
    return lane


async def _move_arm(
    caller: Caller, bus: CommandBus, lane: dict[str, Any], action: str, reason: str
) -> str:
    """The barrier command's status: ok, failed, timeout, unsupported, or offline (not sent)."""
    try:
        outcome = await devices.command(
            bus,
            lane["barrier"],
            action,
            {"method": "remote", "reason": reason},
            requested_by=caller.account_id,
            timeout=COMMAND_TIMEOUT,
        )
    except devices.BridgeUnavailable:
        return "offline"
    return outcome.status


async def _save(
    caller: Caller, row: PassRecord, action: str, reason: str, effects: Effects, **details: Any
) -> PassRecordRead:
    """Store the record (and its space), audit it; announce it after commit."""
    move = 0  # a car the guard let in (or out) takes a space; a bare remote lift names no car
    if row.car_park and row.decision == "granted" and row.reason in COUNTED:
        move = -1 if row.direction == "out" else 1
    try:
        async with DB.transaction():
            await row.save()
            if move and row.car_park:
                temporary = move if row.reason in TEMPORARY_REASONS else 0
                await move_occupancy(row.car_park, move, temporary, effects)
            await record(
                action,
                actor=caller,
                outcome="ok" if not row.reason.endswith(_FAILURES) else "failed",
                target_type="lane",
                target_id=row.lane,
                community_id=row.community,
                purpose=reason,
                details={
                    "record_id": str(row.id),
                    "decision": row.decision,
                    "reason": row.reason,
                    **details,
                },
            )
    except UniqueViolationError:
        raise NotResolvable() from None
    found = await PassRecord.select().where(PassRecord.id == row.id).first()
    assert found is not None
    read = pass_read(found, await lane_names([found]))
    announce(effects, read)
    return read


_FAILURES = ("_failed", "_timeout", "_unsupported", "_offline")


async def control_barrier(
    caller: Caller,
    bus: CommandBus,
    lane_id: UUID,
    *,
    action: Literal["open", "close"],
    reason: str,
    effects: Effects,
) -> LaneActionResult:
    """Lift or close a lane's arm; recorded and audited whether or not the barrier obeyed. An
    offline bridge: recorded, then 503 bridge_offline."""
    reason = reason.strip()
    lane = await _lane(caller, lane_id)
    if not reason:
        raise ReasonRequired(field="reason")
    if lane["barrier"] is None:
        raise InvalidLane("The lane has no barrier.", field="barrier_id")
    status = await _move_arm(caller, bus, lane, action, reason)
    done = status == "ok"
    row = PassRecord(
        community=lane["community"],
        lane=lane["id"],
        car_park=lane["car_park"],
        at=datetime.now(UTC),
        direction=lane["direction"],
        decision=("granted" if action == "open" else "denied") if done else "held",
        reason=f"remote_{action}" if done else f"remote_{action}_{status}",
        decided_by=caller.account_id,
        note=reason,
    )
    read = await _save(caller, row, f"barrier.remote_{action}", reason, effects, command=status)
    if status == "offline":
        raise devices.BridgeUnavailable(record_id=str(read.id))
    return LaneActionResult(record=read, command_status=status)


async def _decide(community_id: UUID, plate: str) -> tuple[str, str, dict[str, Any] | None]:
    """A corrected plate decided as the bridge would, from the community's active plate
    credentials: (decision, reason, the credential row)."""
    credential = (
        await Credential.select(
            Credential.id,
            Credential.kind,
            Credential.valid_from,
            Credential.valid_until,
            Credential.visitor_pass,
        )
        .where(
            (Credential.community == community_id)
            & Credential.kind.is_in(list(PLATE_KINDS))
            & (Credential.value_index == index_of("plate", plate))
            & (Credential.status == "active")
        )
        .first()
    )
    if credential is None:
        return "held", "unknown", None
    now = datetime.now(UTC)
    if credential["kind"] == "plate_block":
        ended = credential["valid_until"] and now >= credential["valid_until"]
        if not ended and not (credential["valid_from"] and now < credential["valid_from"]):
            return "denied", "blacklisted", credential
        return "held", "unknown", None
    if credential["valid_from"] and now < credential["valid_from"]:
        return "denied", "not_yet_valid", credential
    if credential["valid_until"] and now >= credential["valid_until"]:
        return "denied", "expired", credential
    return "granted", "visitor" if credential["visitor_pass"] else "resident", credential


async def resolve(
    caller: Caller,
    bus: CommandBus,
    cipher: FieldCipher,
    record_id: UUID,
    data: PassResolve,
    effects: Effects,
) -> LaneActionResult:
    """Answer a held or refused read once: let it in as temporary parking, refuse it, or correct
    its plate and decide again; a grant lifts the lane's arm."""
    held = await PassRecord.select().where(PassRecord.id == record_id).first()
    if held is None:
        raise NotFound()
    require_staff(caller, PERMISSION, held["community"])
    reason = data.reason.strip()
    if data.action == "correct" and not (data.plate or "").strip():
        raise PlateRequired(field="plate")
    if (
        held["lane"] is None
        or held["decision"] not in RESOLVABLE
        or held["reason"].startswith("remote_")
    ):
        raise NotResolvable()
    if await PassRecord.exists().where(PassRecord.resolves == record_id):
        raise NotResolvable()
    if data.action == "admit" and await ParkingOrder.exists().where(
        (ParkingOrder.exit_read == record_id) & (ParkingOrder.status == "pending")
    ):
        raise OrderPending()  # its fee is waived with a reason (api/vehicles/payments/orders.py)
    lane = await _lane(caller, held["lane"])
    plate_columns = {k: held[k] for k in ("plate", "plate_index", "plate_masked")}
    vehicle, household, visitor_pass = held["vehicle"], held["household"], held["visitor_pass"]
    details: dict[str, Any] = {"resolves": str(record_id)}
    if data.action == "admit":
        decision, why = "granted", "temporary"
    elif data.action == "refuse":
        decision, why = "denied", "refused"
    else:
        plate, _ = identifiers.clean(data.plate or "")
        stored = identifiers.stored(cipher, plate)
        plate_columns = msgspec.structs.asdict(stored)
        decision, why, credential = await _decide(lane["community"], plate)
        vehicle, household = await _owner(lane["community"], stored.plate_index, credential)
        visitor_pass = credential["visitor_pass"] if credential else None
        details.update(corrected_from=held["plate_masked"], corrected_to=stored.plate_masked)
    status = None
    if decision == "granted":
        status = await _move_arm(caller, bus, lane, "open", reason or why)
        if status != "ok":
            decision, why = "held", f"{why}_{status}"
    row = PassRecord(
        community=lane["community"],
        lane=lane["id"],
        car_park=lane["car_park"],
        vehicle=vehicle,
        household=household,
        visitor_pass=visitor_pass,
        at=datetime.now(UTC),
        direction=lane["direction"],
        colour=held["colour"],
        vehicle_type=held["vehicle_type"],
        confidence=held["confidence"],
        decision=decision,
        reason=why,
        image=held["image"],
        decided_by=caller.account_id,
        note=reason,
        resolves=record_id,
        **plate_columns,
    )
    verb = {"admit": "admitted", "refuse": "refused", "correct": "corrected"}[data.action]
    read = await _save(
        caller, row, f"vehicle_pass.{verb}", reason, effects, command=status or "", **details
    )
    if visitor_pass and read.decision == "granted" and read.direction == "in":
        async with DB.transaction():
            await cars_arrived(read.community_id, [(visitor_pass, read.at, lane["name"])], effects)
    if status == "offline":
        raise devices.BridgeUnavailable(record_id=str(read.id))
    return LaneActionResult(record=read, command_status=status)


async def _owner(
    community_id: UUID, plate_index: str, credential: dict[str, Any] | None
) -> tuple[UUID | None, UUID | None]:
    """The registry's vehicle of a plate and the household its passes belong to (the vehicle's,
    or the visitor pass's host)."""
    car = (
        await Vehicle.select(Vehicle.id, Vehicle.household)
        .where(
            (Vehicle.community == community_id)
            & (Vehicle.plate_index == plate_index)
            & (Vehicle.status != "cancelled")
        )
        .first()
    )
    if car is not None:
        return car["id"], car["household"]
    if credential and credential["visitor_pass"]:
        host = (
            await VisitorPass.select(VisitorPass.household)
            .where(VisitorPass.id == credential["visitor_pass"])
            .first()
        )
        return None, host["household"] if host else None
    return None, None
