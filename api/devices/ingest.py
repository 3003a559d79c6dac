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

from api.access.tables import AccessRecord
from api.alarms.effects import Effects
from api.alarms.raising import on_events
from api.devices.tables import Device, DeviceEvent
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
            await _apply(community_id, stored)
            alarms = await on_events(community_id, stored)  # announced by the link after the Ack
    for seq, reason in rejected:
        log.warning("bridge.event.rejected", bridge_id=str(bridge_id), seq=seq, reason=reason)
    return IngestResult(
        ack=max(e.seq for e in events), stored=stored, rejected=rejected, alarms=alarms
    )


async def _apply(community_id: UUID, stored: list[dict[str, Any]]) -> None:
    """What new events change: device status, access records."""
    records = []
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
        data = event["data"] = _data(event)
        kind = event["kind"]
        if kind in ("device.online", "device.offline"):
            await Device.update(
                {Device.reported_online: kind == "device.online", Device.last_seen: event["at"]}
            ).where(Device.id == event["device"])
        elif kind in ("access.granted", "access.denied") and data.get("method") != "app":
            # App openings are recorded by the platform when it sends the command.
            records.append(
                AccessRecord(
                    community=community_id,
                    device=event["device"],
                    at=event["at"],
                    person=person if (person := _person(data)) in known else None,
                    direction=str(data.get("direction", "in"))[:3],
                    method=str(data.get("method", "card"))[:8],
                    result="granted" if kind == "access.granted" else "denied",
                    reason=str(data.get("reason", ""))[:200],
                )
            )
    if records:
        await AccessRecord.insert(*records)
