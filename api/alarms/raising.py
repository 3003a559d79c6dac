"""Raising alarms: the one way in (`open_alarm`), device events (the ingest hook), entry delays.

SOS from the app comes in through sos.py.

An event raises at most one alarm (its id is kept on the alarm, unique). While an alarm of the
same type from the same device is unacknowledged — or a household's SOS of the last 30 minutes is
open — a new trigger adds a `repeated` entry to it instead of flooding the board with copies; a
repeat of an SOS already acknowledged also pushes to the first responders again.

Intrusion trips count only in an armed zone, and only if the zone stayed armed from the trip until
its entry delay ran out: "armed now, and not re-armed or disarmed since the trip". The rule gives
the same answer whenever it is asked, so the deferred check (and the sweep that stands in for a
lost job) can ask it again safely.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import structlog
from piccolo.columns.combination import WhereRaw

from api.alarms.catalogue import (
    EVENT_KINDS,
    KINDS,
    OPEN_STATES,
    ROOM_LABELS,
    alarm_type_of,
    retention_of,
)
from api.alarms.plans import plan_for
from api.alarms.reads import BOARD, alarm_row
from api.alarms.roster import recipients
from api.alarms.rows import AlarmRow, ZoneRow
from api.alarms.tables import Alarm, AlarmEntry, IntrusionZone
from api.audit.service import record
from api.communities.tables import Household
from api.core import jobs
from api.core.auth import Caller
from api.core.effects import Effects
from api.devices.rows import DeviceEventRow
from api.devices.tables import Device, DeviceEvent
from api.piccolo_conf import DB
from api.push.schemas import PushMessage
from api.push.service import DISPATCH, notify

log = structlog.get_logger()

REPEAT_WINDOW = timedelta(minutes=30)  # an open SOS of the household this recent absorbs a new one
SWEEP_LOOKBACK = timedelta(hours=1)
SWEEP_SLACK = timedelta(seconds=30)  # a deferred check this late is presumed lost
_ZONE_ORDER = {"household_sos": 0, "household": 1, "perimeter": 2, "area": 3}
_DEVICE_COLUMNS = (
    Device.id,
    Device.name,
    Device.kind,
    Device.attrs,
    Device.protection_zone,
    Device.map_x,
    Device.map_y,
    Device.building.number.as_alias("building"),
    Device.unit.number.as_alias("unit"),
)


def _now() -> datetime:
    return datetime.now(UTC)


def zone_of(zones: list[ZoneRow], device_id: UUID) -> ZoneRow | None:
    """The zone a device belongs to; a household's own zones first when it is in several."""
    mine = [z for z in zones if str(device_id) in {str(d) for d in z.devices or []}]
    return min(mine, key=lambda z: _ZONE_ORDER.get(z.kind, 9)) if mine else None


def armed_since(zone: ZoneRow, at: datetime) -> bool:
    """The zone is armed and has not changed state since `at`."""
    changed = zone.state_changed_at
    return zone.armed and (changed is None or changed <= at)


async def community_zones(community_id: UUID) -> list[ZoneRow]:
    rows = (
        await IntrusionZone.select()
        .where(IntrusionZone.community == community_id)
        .output(load_json=True)
    )
    return msgspec.convert(rows, list[ZoneRow])


def household_place(row: dict[str, Any]) -> str:
    return f"{row['building']}栋{row['unit']}单元{row['room']}"


async def household_row(household_id: UUID) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await Household.select(
            Household.id,
            Household.community,
            Household.room,
            Household.building.number.as_alias("building"),
            Household.unit.number.as_alias("unit"),
        )
        .where(Household.id == household_id)
        .first()
    )
    return row


def message(
    alarm_id: UUID,
    alarm_type: str,
    severity: str,
    place: str,
    body: str,
    *,
    tag: str | None = None,
) -> PushMessage:
    """The push notification of an alarm: 【火警】1栋1单元0101 (tagged by the alarm by default)."""
    urgent = severity in ("high", "critical")
    return PushMessage(
        title=f"【{KINDS[alarm_type].label}】{place}",
        body=body or "请立即查看并处置。",
        url=f"/alarms/{alarm_id}",
        tag=tag or f"alarm-{alarm_id}",
        urgency="high" if urgent else "normal",
        ttl=3600 if severity == "critical" else 600,
        data={"alarm_id": str(alarm_id), "type": alarm_type, "severity": severity},
    )


async def tell(
    alarm: AlarmRow,
    roles: Sequence[str],
    body: str,
    effects: Effects,
    *,
    tag: str | None = None,
) -> int:
    """Notify recipient roles of an alarm (in the caller's transaction); how many accounts."""
    accounts = await recipients(alarm.community, roles, household_id=alarm.household)
    if alarm.raised_by in accounts and alarm.type == "sos":
        accounts.discard(alarm.raised_by)  # the resident knows they pressed it
    if accounts:
        place = (alarm.location or {}).get("text") or alarm.title
        msg = message(alarm.id, alarm.type, alarm.severity, place, body, tag=tag)
        effects.after(DISPATCH, *await notify(sorted(accounts), msg))
    return len(accounts)


async def _alert_again(alarm_id: UUID, entry_id: UUID, note: str, effects: Effects) -> None:
    """A repeat of an alarm someone already acknowledged tells its first responders again.

    While the alarm is still `new` its first pushes are fresh and escalation is running, so a
    repeat only records itself (no spam). Once acknowledged, a new press means the situation
    changed and the guards who think it is in hand must hear it. The push gets a tag of its own:
    under the alarm's tag the browser would replace the first notification silently.
    """
    alarm = await alarm_row(alarm_id)
    if alarm is None or alarm.state == "new":
        return
    roles = list(KINDS[alarm.type].first)
    body = note or "再次求助，请立即处置。"
    told = await tell(alarm, roles, body, effects, tag=f"alarm-{alarm_id}:{entry_id}")
    await AlarmEntry(
        alarm=alarm_id,
        at=_now(),
        kind="notified",
        data={"roles": roles, "accounts": told, "repeat": str(entry_id)},
    ).save()


async def _open_duplicate(
    alarm_type: str, device_id: UUID | None, household_id: UUID | None
) -> UUID | None:
    """An open alarm a new trigger of the same thing should join instead of a copy."""
    if device_id is not None:
        where = (
            (Alarm.type == alarm_type) & (Alarm.source_device == device_id) & (Alarm.state == "new")
        )
    elif alarm_type == "sos" and household_id is not None:
        where = (
            (Alarm.type == "sos")
            & (Alarm.household == household_id)
            & Alarm.state.is_in(list(OPEN_STATES))
            & (Alarm.raised_at > _now() - REPEAT_WINDOW)
        )
    else:
        return None
    row = await Alarm.select(Alarm.id).where(where).first()
    return row["id"] if row else None


async def open_alarm(
    community_id: UUID,
    alarm_type: str,
    *,
    effects: Effects,
    place: str,
    location: dict[str, Any] | None = None,
    device_id: UUID | None = None,
    zone_id: UUID | None = None,
    household_id: UUID | None = None,
    raised_by: Caller | None = None,
    event_id: int | None = None,
    note: str = "",
) -> UUID:
    """Raise an alarm inside the caller's transaction (or join the open one it repeats).

    Attaches the most specific emergency plan, tells the first responders at once, and leaves
    the board update, the push delivery and the linkage job to `effects`.
    """
    now = _now()
    actor = raised_by.account_id if raised_by else None
    repeated = await _open_duplicate(alarm_type, device_id, household_id)
    if repeated is not None:
        entry = AlarmEntry(
            alarm=repeated,
            at=now,
            kind="repeated",
            actor=actor,
            text=note,
            data={"event": event_id, "location": location or {}},
        )
        await entry.save()
        await _alert_again(repeated, entry.id, note, effects)
        effects.after(BOARD, repeated)
        return repeated
    kind = KINDS[alarm_type]
    plan = await plan_for(community_id, alarm_type, zone_id)
    alarm = Alarm(
        community=community_id,
        type=alarm_type,
        severity=kind.severity,
        source_device=device_id,
        zone=zone_id,
        household=household_id,
        raised_by=actor,
        location={"text": place, **(location or {})},
        title=f"{kind.label} · {place}"[:200],
        plan=plan["id"] if plan else None,
        plan_steps=plan["steps"] if plan else [],
        event=event_id,
        retention=retention_of(alarm_type),
        raised_at=now,
    )
    await alarm.save()
    await AlarmEntry(
        alarm=alarm.id,
        at=now,
        kind="raised",
        actor=actor,
        text=note,
        data={"event": event_id, "device": str(device_id) if device_id else None},
    ).save()
    roles = list(kind.first)
    if household_id is not None and alarm_type != "sos":
        roles.append("household")  # their smoke or gas detector, their door: they hear of it
    row = await alarm_row(alarm.id)
    assert row is not None  # saved just now, in this transaction
    told = await tell(row, roles, note, effects)
    await AlarmEntry(
        alarm=alarm.id, at=now, kind="notified", data={"roles": roles, "accounts": told}
    ).save()
    await record(
        "alarm.raised",
        actor=raised_by,
        actor_name=None if raised_by else "device",
        target_type="alarm",
        target_id=alarm.id,
        community_id=community_id,
        details={"type": alarm_type, "event": event_id},
    )
    effects.after(BOARD, alarm.id)
    effects.job(jobs.RUN_LINKAGE, alarm_id=alarm.id, job_id=f"linkage:{alarm.id}")
    log.info("alarm.raised", alarm_id=str(alarm.id), type=alarm_type, event_id=event_id)
    return alarm.id


def _place(
    device: dict[str, Any] | None, zone: ZoneRow | None, household: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Where a device alarm is, as text and as the location fields the board maps.

    A household zone's alarm names the home and the room: 1栋1单元0101 · 卫生间 · 紧急按钮.
    """
    location: dict[str, Any] = {}
    parts = []
    if household is not None:
        parts.append(household)
        location["household"] = household
    if zone is not None:
        room = ROOM_LABELS.get(zone.room)
        parts.append(zone.name if room is None or room in zone.name else f"{zone.name}（{room}）")
        location["zone"] = zone.name
        if room is not None:
            location.update(room=zone.room, room_name=room)
    if device is not None:
        parts.append(device["name"])
        location.update(
            device=device["name"],
            building=device["building"],
            unit=device["unit"],
            map_x=device["map_x"],
            map_y=device["map_y"],
        )
    return " · ".join(dict.fromkeys(parts)) or "未知位置", location


def _is_perimeter(device: dict[str, Any] | None, zone: ZoneRow | None) -> bool:
    if zone is not None:
        return zone.kind == "perimeter"
    if device is None:
        return False
    attrs = device["attrs"] if isinstance(device["attrs"], dict) else {}
    return attrs.get("role") == "perimeter" or device["protection_zone"] == 1


async def _raise_for_event(
    community_id: UUID,
    event: DeviceEventRow,
    alarm_type: str,
    device: dict[str, Any] | None,
    zone: ZoneRow | None,
    effects: Effects,
) -> UUID:
    if alarm_type == "intrusion" and _is_perimeter(device, zone):
        alarm_type = "perimeter"
    household = await household_row(zone.household) if zone and zone.household else None
    place, location = _place(device, zone, household_place(household) if household else None)
    return await open_alarm(
        community_id,
        alarm_type,
        effects=effects,
        place=place,
        location=location,
        device_id=event.device,
        zone_id=zone.id if zone else None,
        household_id=zone.household if zone else None,
        event_id=event.id,
    )


async def on_events(community_id: UUID, stored: list[DeviceEventRow]) -> Effects:
    """The ingest hook: alarms for the new events of a batch, inside the ingest's transaction.

    Returns what to announce after commit. A batch with no alarm-worthy event costs nothing here.
    """
    effects = Effects()
    candidates = [e for e in stored if e.kind in EVENT_KINDS and e.device is not None]
    if not candidates:
        return effects
    devices = {
        d["id"]: d
        for d in await Device.select(*_DEVICE_COLUMNS)
        .where(Device.id.is_in(list({e.device for e in candidates})))
        .output(load_json=True)
    }
    zones = await community_zones(community_id)
    for event in candidates:
        assert event.device is not None  # (kept by the filter above)
        device = devices.get(event.device)
        alarm_type = alarm_type_of(event.kind, event.data, device["kind"] if device else None)
        if alarm_type is None:
            continue
        zone = zone_of(zones, event.device)
        if event.kind == "alarm.intrusion" and zone is not None:
            if not armed_since(zone, event.at):
                log.info("alarm.trip.disarmed", zone_id=str(zone.id), event_id=event.id)
                continue
            if zone.entry_delay > 0:
                effects.job(
                    jobs.CONFIRM_TRIP,
                    event_id=event.id,
                    defer=float(zone.entry_delay),
                    job_id=f"trip:{community_id}:{event.id}",
                )
                continue
        await _raise_for_event(community_id, event, alarm_type, device, zone, effects)
    return effects


async def door_open_failed(
    community_id: UUID, *, device_id: UUID, note: str, effects: Effects
) -> UUID:
    """A door the platform granted did not open (standard 6.5.14): the door alarm, in the
    caller's transaction (the access record of the attempt is written in the same one)."""
    device = (
        await Device.select(*_DEVICE_COLUMNS)
        .where(Device.id == device_id)
        .output(load_json=True)
        .first()
    )
    zone = zone_of(await community_zones(community_id), device_id)
    place, location = _place(device, zone)
    return await open_alarm(
        community_id,
        "door_open_failed",
        effects=effects,
        place=place,
        location=location,
        device_id=device_id,
        zone_id=zone.id if zone else None,
        note=note,
    )


async def _decided(event_id: int) -> bool:
    """Whether an event has raised an alarm or joined one already."""
    if await Alarm.exists().where(Alarm.event == event_id):
        return True
    return bool(
        await AlarmEntry.exists().where(
            (AlarmEntry.kind == "repeated") & WhereRaw("data->>'event' = {}", str(event_id))
        )
    )


async def confirm_trip(event_id: int, *, now: datetime | None = None) -> Effects:
    """After the entry delay: raise the intrusion alarm if the zone stayed armed all along."""
    effects = Effects()
    now = now or _now()
    row = (
        await DeviceEvent.select().where(DeviceEvent.id == event_id).output(load_json=True).first()
    )
    event = None if row is None else msgspec.convert(row, DeviceEventRow)
    if event is None or event.kind != "alarm.intrusion" or event.device is None:
        return effects
    async with DB.transaction():
        # One decision per event even when the job and the sweep ask at once.
        await DB.run_ddl(f"SELECT pg_advisory_xact_lock({0x616C726D}, {int(event_id) % 2**31})")
        if await _decided(event_id):
            return effects
        zone = zone_of(await community_zones(event.community), event.device)
        if zone is None or not armed_since(zone, event.at):
            log.info("alarm.trip.cancelled", event_id=event_id)
            return effects
        due = event.at + timedelta(seconds=zone.entry_delay)
        if now < due:  # early (a device clock a little ahead): ask again when it is due
            effects.job(jobs.CONFIRM_TRIP, event_id=event_id, defer=(due - now).total_seconds())
            return effects
        device = (
            await Device.select(*_DEVICE_COLUMNS)
            .where(Device.id == event.device)
            .output(load_json=True)
            .first()
        )
        await _raise_for_event(event.community, event, "intrusion", device, zone, effects)
    return effects


async def due_trips(now: datetime | None = None) -> list[int]:
    """Trips in armed zones whose entry delay ran out a while ago with no decision (lost jobs)."""
    now = now or _now()
    zones = msgspec.convert(
        await IntrusionZone.select()
        .where(IntrusionZone.armed.eq(True) & (IntrusionZone.entry_delay > 0))
        .output(load_json=True),
        list[ZoneRow],
    )
    found: list[int] = []
    for zone in zones:
        if not zone.devices:
            continue
        since = max(zone.state_changed_at or now - SWEEP_LOOKBACK, now - SWEEP_LOOKBACK)
        rows = await DeviceEvent.select(DeviceEvent.id).where(
            (DeviceEvent.community == zone.community)
            & (DeviceEvent.kind == "alarm.intrusion")
            & DeviceEvent.device.is_in([UUID(str(d)) for d in zone.devices])
            & (DeviceEvent.at >= since)
            & (DeviceEvent.at < now - timedelta(seconds=zone.entry_delay) - SWEEP_SLACK)
        )
        for row in rows:
            if not await _decided(row["id"]):
                found.append(row["id"])
    return found
