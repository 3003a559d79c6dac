"""Ingest of bridge events: batched, idempotent on (bridge, seq), acknowledged only after commit.

Side effects (device status here; access records, alarms, calls in the domains' handlers) run only
for events stored now, so a replay after a crash changes nothing. The handlers belong to domains
above devices: api/app.py wires them (`DeviceEventHandler`), so this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import structlog

from api.core.effects import Effects
from api.devices.rows import DeviceEventRow
from api.devices.tables import Device, DeviceEvent
from api.piccolo_conf import DB
from device_bridge import protocol

log = structlog.get_logger()


DeviceEventHandler = Callable[[UUID, list[DeviceEventRow]], Awaitable[Effects]]
"""A domain's handler of a batch's new events (community, the rows stored now): it
runs inside the ingest's transaction and returns what to announce after commit."""


class IngestResult(msgspec.Struct, kw_only=True):
    """What a batch did: the seq to acknowledge, what was new, what was rejected and why, and what
    the handlers announce once the batch is committed."""

    ack: int
    stored: list[DeviceEventRow]
    rejected: list[tuple[int, str]]
    effects: Effects = msgspec.field(default_factory=Effects)


def _row(event: dict[str, Any]) -> DeviceEventRow:
    """A stored event with its `data` decoded (a raw query returns JSONB as text)."""
    data = event["data"]
    decoded = data if isinstance(data, dict) else msgspec.json.decode(data)
    return msgspec.convert({**event, "data": decoded}, DeviceEventRow)


async def ingest(
    bridge_id: UUID,
    community_id: UUID,
    devices: dict[str, UUID],
    events: list[protocol.Event],
    handlers: Sequence[DeviceEventHandler],
) -> IngestResult:
    """Store a batch in one transaction; unknown devices are rejected (and acknowledged)."""
    received = datetime.now(UTC)
    kept, rejected = [], []
    for event in events:
        if event.device in devices:
            kept.append(event)
        else:
            rejected.append((event.seq, f"unknown device {event.device!r}"))
    stored: list[DeviceEventRow] = []
    effects = Effects()
    async with DB.transaction():
        if kept:
            # One statement for the whole batch: unnest the columns (several times faster than a
            # VALUES list); ON CONFLICT makes a replayed batch store nothing twice.
            rows = await DeviceEvent.raw(
                "INSERT INTO device_events"
                " (bridge, seq, community, device, kind, at, received_at, data) "
                "SELECT {}, s, {}, d, k, a, {}, j::jsonb FROM unnest("
                "{}::int[], {}::uuid[], {}::text[], {}::timestamptz[], {}::text[])"
                " AS t(s, d, k, a, j) "
                "ON CONFLICT (bridge, seq) DO NOTHING"
                " RETURNING id, community, seq, device, kind, at, data",
                bridge_id,
                community_id,
                received,
                [e.seq for e in kept],
                [devices[e.device] for e in kept],
                [e.kind for e in kept],
                [datetime.fromtimestamp(e.at, UTC) for e in kept],
                [msgspec.json.encode(e.data).decode() for e in kept],
            )
            stored = [_row(r) for r in rows]
            await _device_status(stored)
            for handler in handlers:
                effects.merge(await handler(community_id, stored))  # announced after the Ack
    for seq, reason in rejected:
        log.warning("bridge.event.rejected", bridge_id=str(bridge_id), seq=seq, reason=reason)
    return IngestResult(
        ack=max(e.seq for e in events), stored=stored, rejected=rejected, effects=effects
    )


async def _device_status(stored: list[DeviceEventRow]) -> None:
    """Keep the devices' reported status."""
    for event in stored:
        if event.kind in ("device.online", "device.offline"):
            await Device.update(
                {Device.reported_online: event.kind == "device.online", Device.last_seen: event.at}
            ).where(Device.id == event.device)
