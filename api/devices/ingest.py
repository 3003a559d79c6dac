"""Ingest of bridge events: batched, idempotent on (bridge, seq), acknowledged only after commit.

Side effects (device status, access records) run only for events stored now, so a replay after a
crash changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import structlog

from api.access import records as access_records
from api.access.credentials import after_commit
from api.access.tables import AccessRecord
from api.alarms.effects import Effects
from api.alarms.raising import on_events
from api.devices.tables import Device, DeviceEvent
from api.intercom.events import on_events as on_call_events
from api.people.tables import Person
from api.piccolo_conf import DB
from device_bridge import protocol

log = structlog.get_logger()


class IngestResult(msgspec.Struct, kw_only=True):
    """What a batch did: the seq to acknowledge, what was new, what was rejected and why."""

    ack: int
    stored: list[dict[str, Any]]
    rejected: list[tuple[int, str]]
    alarms: Effects = msgspec.field(default_factory=Effects)  # raised ids in `alarms.raised`


def _data(event: dict[str, Any]) -> dict[str, Any]:
    data = event["data"]
    return data if isinstance(data, dict) else msgspec.json.decode(data)


def _person(data: dict[str, Any]) -> UUID | None:
    try:
        return UUID(str(data["person"])) if data.get("person") else None
    except ValueError:
        return None


async def ingest(
    bridge_id: UUID, community_id: UUID, devices: dict[str, UUID], events: list[protocol.Event]
) -> IngestResult:
    """Store a batch in one transaction; unknown devices are rejected (and acknowledged)."""
    received = datetime.now(UTC)
    kept, rejected = [], []
    for event in events:
        if event.device in devices:
            kept.append(event)
        else:
            rejected.append((event.seq, f"unknown device {event.device!r}"))
    stored: list[dict[str, Any]] = []
    alarms = Effects()
    async with DB.transaction():
        if kept:
            # One statement for the whole batch: unnest the columns (several times faster than a
            # VALUES list); ON CONFLICT makes a replayed batch store nothing twice.
            stored = await DeviceEvent.raw(
                "INSERT INTO device_events"
                " (bridge, seq, community, device, kind, at, received_at, data) "
                "SELECT {}, s, {}, d, k, a, {}, j::jsonb FROM unnest("
                "{}::int[], {}::uuid[], {}::text[], {}::timestamptz[], {}::text[])"
                " AS t(s, d, k, a, j) "
                "ON CONFLICT (bridge, seq) DO NOTHING RETURNING id, seq, device, kind, at, data",
                bridge_id,
                community_id,
                received,
                [e.seq for e in kept],
                [devices[e.device] for e in kept],
                [e.kind for e in kept],
                [datetime.fromtimestamp(e.at, UTC) for e in kept],
                [msgspec.json.encode(e.data).decode() for e in kept],
            )
            await _apply(community_id, stored, alarms)
            alarms.merge(await on_events(community_id, stored))  # announced after the Ack
            alarms.merge(await on_call_events(community_id, stored))  # calls ring likewise
    for seq, reason in rejected:
        log.warning("bridge.event.rejected", bridge_id=str(bridge_id), seq=seq, reason=reason)
    return IngestResult(
        ack=max(e.seq for e in events), stored=stored, rejected=rejected, alarms=alarms
    )


async def _apply(community_id: UUID, stored: list[dict[str, Any]], effects: Effects) -> None:
    """What new events change: device status, access records (and what they count)."""
    candidates = {p for e in stored if (p := _person(_data(e)))}
    known = (
        {
            r["id"]
            for r in await Person.select(Person.id).where(
                Person.id.is_in(list(candidates)) & (Person.community == community_id)
            )
        }
        if candidates
        else set()
    )
    for event in stored:
        event["data"] = _data(event)
        kind = event["kind"]
        if kind in ("device.online", "device.offline"):
            await Device.update(
                {Device.reported_online: kind == "device.online", Device.last_seen: event["at"]}
            ).where(Device.id == event["device"])
    records, changed = await access_records.from_events(community_id, stored, known)
    if records:
        await AccessRecord.insert(*records)
        await _visitor_arrivals(records, effects)
    after_commit(effects, *changed)


async def _visitor_arrivals(records: list[AccessRecord], effects: Effects) -> None:
    """Visitor passes count their entries and tell the household (api/visitors/arrivals.py)."""
    from api.visitors.arrivals import on_access  # the visitors domain builds on access

    await on_access(records, effects)
