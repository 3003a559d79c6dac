"""Benchmark: bridge event ingest into PostgreSQL against a raw asyncpg COPY of the same rows.

Prints events/s of both, measured in the same run on the same database, and their ratio.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import asyncpg

from api.app import LINK_HOOKS
from api.devices.ingest import ingest
from api.devices.tables import Bridge, Device, DeviceEvent
from api.settings import Settings
from device_bridge import protocol
from tests.helpers import World
from tests.perf.sizes import size

N = size(20_000, smoke=1_000)
BATCH = 200


async def test_ingest_against_copy(settings: Settings, world: World) -> None:
    """Idempotent batched ingest (INSERT … ON CONFLICT, side effects) vs COPY."""
    bridge = Bridge(community=world.a.community, name="bench", public_key="")
    await bridge.save()
    device = Device(
        community=world.a.community,
        bridge=bridge.id,
        external_id="door",
        kind="door_controller",
        name="bench door",
    )
    await device.save()
    devices = {"door": device.id}
    now = time.time()
    events = [
        protocol.Event(seq=i, kind="door.opened", device="door", at=now, data={"n": i})
        for i in range(1, N + 1)
    ]

    start = time.perf_counter()
    for i in range(0, N, BATCH):
        await ingest(
            bridge.id, world.a.community, devices, events[i : i + BATCH], LINK_HOOKS.on_events
        )
    ingest_rate = N / (time.perf_counter() - start)
    assert await DeviceEvent.count().where(DeviceEvent.bridge == bridge.id) == N

    other = Bridge(community=world.a.community, name="bench-copy", public_key="")
    await other.save()
    at = datetime.fromtimestamp(now, UTC)
    rows = [
        (other.id, e.seq, world.a.community, device.id, e.kind, at, at, json.dumps(e.data))
        for e in events
    ]
    conn = await asyncpg.connect(settings.database_url)
    try:
        start = time.perf_counter()
        await conn.copy_records_to_table(
            "device_events",
            records=rows,
            columns=["bridge", "seq", "community", "device", "kind", "at", "received_at", "data"],
        )
        copy_rate = N / (time.perf_counter() - start)
    finally:
        await conn.close()
    assert await DeviceEvent.count().where(DeviceEvent.bridge == other.id) == N
    print(
        f"\nevent ingest, {N} events in batches of {BATCH}: {ingest_rate:,.0f} events/s; "
        f"raw COPY {copy_rate:,.0f} events/s; ratio {ingest_rate / copy_rate:.3f}"
    )
