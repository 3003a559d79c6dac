"""Benchmark: device fault → work order, at 100 faults/s through the de-duplication path.

First each device's two faults open their orders (timed apart: an opening also writes the history,
the audit entry and the managers' notifications). Then N faults arrive open-loop at RATE per second
(each at its own scheduled time, whatever the earlier ones are doing), spread over the DEVICES
devices and two fault kinds, every one landing on its open order (the ON CONFLICT … DO UPDATE
path). Latency is from a fault's scheduled time to its transaction's commit. The baseline is the
same arrivals doing a bare INSERT of the same rows into a copy of the table without its indexes,
in the same run on the same database.
Prints p50/p99 of both and their ratio.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from api.core.effects import Effects
from api.piccolo_conf import DB
from api.workorders import faults
from api.workorders.tables import WorkOrder
from tests.helpers import World
from tests.perf.sizes import size
from tests.workorders.helpers import make_device

RATE = 100  # faults per second
N = size(3_000, smoke=200)
DEVICES = size(200, smoke=20)
KINDS = ("device_offline", "video_loss")


async def _paced(
    work: list[tuple[UUID, str]], one: Callable[[UUID, str], Awaitable[None]]
) -> list[float]:
    """Run `one(device, fault)` for each item at RATE/s, open loop; each one's latency (s)."""
    start = time.perf_counter() + 0.05
    latencies: list[float] = []

    async def fire(i: int, device: UUID, fault: str) -> None:
        due = start + i / RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await one(device, fault)
        latencies.append(time.perf_counter() - due)

    await asyncio.gather(*(fire(i, d, f) for i, (d, f) in enumerate(work)))
    return latencies


def _ms(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000


async def test_fault_to_work_order_latency_against_a_bare_insert(world: World) -> None:
    community = world.a.community
    devices = [await make_device(community, f"bench {i}", "camera") for i in range(DEVICES)]
    work = [(devices[i % DEVICES], KINDS[(i // DEVICES) % 2]) for i in range(N)]

    async def fault(device: UUID, kind: str) -> None:
        async with DB.transaction():
            await faults.open_fault(
                community, device, kind, at=datetime.now(UTC), effects=Effects(), device_name="b"
            )

    openings: list[float] = []
    for device in devices:
        for kind in KINDS:
            start = time.perf_counter()
            await fault(device, kind)
            openings.append(time.perf_counter() - start)
    opened = await WorkOrder.count().where(WorkOrder.device.is_in(devices))
    assert opened == DEVICES * len(KINDS)

    dedup = await _paced(work, fault)
    assert await WorkOrder.count().where(WorkOrder.device.is_in(devices)) == opened
    repeats = await WorkOrder.raw(
        "SELECT sum(repeats) AS n FROM work_orders WHERE device = ANY({})", devices
    )
    assert repeats[0]["n"] == N + opened  # every fault counted, none lost

    await WorkOrder.raw("CREATE TABLE bench_work_orders (LIKE work_orders INCLUDING DEFAULTS)")
    try:

        async def insert(device: UUID, kind: str) -> None:
            now = datetime.now(UTC)
            async with DB.transaction():
                await WorkOrder.raw(
                    "INSERT INTO bench_work_orders (id, community, kind, priority, state, "
                    "waiting_for, title, description, device, fault, repeats, last_seen_at, "
                    "created_at, due_at, cause, report, rating_note) VALUES ({}, {}, 'fault', "
                    "'normal', 'new', '', 'b', '', {}, {}, 1, {}, {}, {}, '', '', '')",
                    uuid4(),
                    community,
                    device,
                    kind,
                    now,
                    now,
                    now + timedelta(hours=24),
                )

        bare = await _paced(work, insert)
        assert (await WorkOrder.raw("SELECT count(*) AS n FROM bench_work_orders"))[0]["n"] == N
    finally:
        await WorkOrder.raw("DROP TABLE bench_work_orders")

    p50, p99 = _ms(dedup, 50), _ms(dedup, 99)
    b50, b99 = _ms(bare, 50), _ms(bare, 99)
    print(
        f"\nfault → work order at {RATE} faults/s, {N} faults on {DEVICES} devices × "
        f"{len(KINDS)} kinds, each on its open order: p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"bare INSERT p50 {b50:.1f} ms, p99 {b99:.1f} ms; ratio p50 {p50 / b50:.2f}, "
        f"p99 {p99 / b99:.2f}; opening an order (one at a time): "
        f"median {statistics.median(openings) * 1000:.1f} ms"
    )
