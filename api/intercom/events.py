"""The ingest hook of the intercom: station events become calls, inside the ingest transaction.

`intercom.call_started` creates the call, resolves the household from the dialled room label and
rings its members (live event and push); guard-room calls (a gate's 呼叫管理处, a lift's emergency
button) ring the guards on duty and the community board. `intercom.call_ended` ends the call with
the station's outcome. What to announce is returned as `Effects`, applied after commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from api.audit.service import record
from api.communities.tables import Household
from api.core import jobs
from api.core.effects import Effects
from api.devices.rows import DeviceEventRow
from api.devices.tables import Device
from api.intercom import reads, service
from api.intercom.tables import Call
from api.push.schemas import PushMessage
from api.push.service import DISPATCH, notify

log = structlog.get_logger()

KINDS = ("intercom.call_started", "intercom.call_ended")
STATIONS = ("door_station", "indoor_station", "lift")
RING_S = 30  # the station's default ring time; a push older than this is useless


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


async def _household(community_id: UUID, station: dict[str, Any], room: str) -> UUID | None:
    """The household a room label names: '1-1-0302' (building-unit-room) in the community.

    A unit's own station only calls within its unit.
    """
    parts = room.split("-")
    if len(parts) != 3 or not all(parts):
        return None
    building, unit, number = parts
    if station["building_number"] is not None and (
        station["building_number"],
        station["unit_number"],
    ) != (building, unit):
        return None
    row = (
        await Household.select(Household.id)
        .where(
            (Household.community == community_id)
            & (Household.building.number == building)
            & (Household.unit.number == unit)
            & (Household.room == number)
        )
        .first()
    )
    return row["id"] if row else None


def incoming(row: dict[str, Any], door_name: str | None) -> dict[str, Any]:
    """The live event that opens the incoming-call screen."""
    return {
        "type": "call.incoming",
        "call_id": str(row["id"]),
        "station": row["station_name"],
        "station_id": str(row["station"]) if row["station"] else None,
        "door_name": door_name,
        "target": row["target"],
        "reason": row["reason"],
        "household_label": reads.label_of(row),
        "started_at": row["started_at"].isoformat(),
        "from_app": row["caller"] is not None,
    }


def push_message(row: dict[str, Any]) -> PushMessage:
    """The push that opens the call: 【访客呼叫】北门 门口机."""
    if row["reason"] == "app" and row["target"] == "household":
        title, body = f"【管理处来电】{row['station_name']}", "管理处呼叫您，请接听。"
    elif row["reason"] == "app":
        title, body = f"【住户呼叫】{row['station_name']}", "住户呼叫管理处，请接听。"
    elif row["reason"] == "lift_emergency":
        title, body = (
            f"【电梯紧急呼叫】{row['station_name']}",
            "电梯内乘客呼叫监控中心，请立即接听。",
        )
    elif row["target"] == "guard_room":
        title, body = f"【呼叫管理处】{row['station_name']}", "门口机呼叫管理处，请接听。"
    else:
        title, body = f"【访客呼叫】{row['station_name']}", f"访客呼叫 {reads.label_of(row)}"
    return PushMessage(
        title=title,
        body=body,
        url=f"/calls/{row['id']}",
        tag=f"call-{row['id']}",
        urgency="high",
        ttl=RING_S,
        data={"call_id": str(row["id"]), "type": "call.incoming"},
    )


async def _started(
    community_id: UUID, event: DeviceEventRow, station: dict[str, Any], effects: Effects
) -> None:
    data = event.data
    call_id = _uuid(data.get("call"))
    if call_id is None or await Call.exists().where(Call.id == call_id):
        log.warning("intercom.call.ignored", event_id=event.id, reason="bad or known call id")
        return
    target = "guard_room" if data.get("target") == "guard_room" else "household"
    reason = str(data.get("reason") or "visitor")[:24]
    room = str(data.get("room") or "")[:24]
    household = await _household(community_id, station, room) if target == "household" else None
    call = Call(
        id=call_id,
        community=community_id,
        station=event.device,
        household=household,
        target=target,
        reason=reason,
        room=room,
        started_at=event.at,
        event=event.id,
    )
    if target == "household" and household is None:
        call.state, call.outcome, call.ended_at, call.duration_s = (
            "ended",
            "unknown_room",
            event.at,
            0.0,
        )
    await call.save()
    await record(
        "call.started",
        actor_name="device",
        target_type="call",
        target_id=call_id,
        community_id=community_id,
        details={"target": target, "reason": reason, "room": room, "event": event.id},
    )
    if call.state == "ended":
        log.info("intercom.call.unknown_room", call_id=str(call_id), room=room)
        effects.job(jobs.HANG_UP_CALL, call_id=call_id, outcome="unknown_room")
        return
    row = await reads.call_row(call_id)
    assert row is not None
    accounts = await reads.members(row)
    door = await reads.door_of(row)
    effects.send(incoming(row, door["name"] if door else None), *reads.channels_of(row, accounts))
    if accounts:
        effects.after(DISPATCH, *await notify(sorted(accounts), push_message(row)))
    log.info("intercom.call.started", call_id=str(call_id), target=target, members=len(accounts))


async def _ended(event: DeviceEventRow, effects: Effects) -> None:
    data = event.data
    call_id = _uuid(data.get("call"))
    row = await reads.call_row(call_id) if call_id else None
    if row is None or row["station"] != event.device:
        log.warning("intercom.call_ended.unknown", event_id=event.id)
        return
    outcome = str(data.get("outcome"))
    if outcome not in service.STATION_OUTCOMES:
        outcome = "hangup" if row["state"] == "live" else "unanswered"
    if outcome == "answered":  # the station's word for "ended after being answered"
        outcome = "hangup"
    if row["state"] == "ringing" and outcome in ("hangup", "limit", "network"):
        outcome = "unanswered"  # the visitor left (or the line dropped) before anyone answered
    duration = data.get("duration_s")
    at: datetime = event.at
    await service.finish(
        row,
        outcome,
        effects,
        at=at,
        duration_s=float(duration)
        if isinstance(duration, int | float) and row["answered_at"]
        else None,
    )


async def on_events(community_id: UUID, stored: list[DeviceEventRow]) -> Effects:
    """The ingest hook (inside the ingest's transaction); a batch without calls costs nothing."""
    effects = Effects()
    events = [e for e in stored if e.kind in KINDS and e.device is not None]
    if not events:
        return effects
    stations = {
        r["id"]: r
        for r in await Device.select(
            Device.id,
            Device.kind,
            Device.building.number.as_alias("building_number"),
            Device.unit.number.as_alias("unit_number"),
        ).where(Device.id.is_in(list({e.device for e in events})))
    }
    for event in events:
        station = stations.get(event.device)
        if station is None or station["kind"] not in STATIONS:
            continue
        if event.kind == "intercom.call_started":
            await _started(community_id, event, station, effects)
        else:
            await _ended(event, effects)
    return effects
