"""Benchmarks of plate reads on the platform path (the real bridge in this process, the live app).

1. An unknown plate at the sim camera → the bridge's decision → the platform's pass record → the
   guard's lane console socket (`vehicle.pass`): p50/p99, against the same read's arrival on the
   same socket as a plain device event (`device.event`: ingest and fan-out, no pass record).
2. Pass-record ingest at a sustained rate (200 reads/s for 60 s; smoke: 40/s for 3 s) at two lanes:
   the bridge's outbox backlog (events not yet acknowledged by the platform) at the start and the
   end, and records stored per second; against the same rate of plain sensor readings through the
   same bridge and link, in the same run.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

import pytest

from api.core.auth import Role
from api.vehicles.tables import PassRecord
from device_bridge import plate_image
from device_bridge.drivers.sim import client as sim_client
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.fixtures import AsRole
from tests.helpers import World, live_socket, running
from tests.perf.sizes import size
from tests.vehicles.test_site import IN, OUT, lanes

READS = size(200, smoke=10)
RATE = size(200, smoke=40)  # reads per second
SECONDS = size(60, smoke=3)


@pytest.fixture(autouse=True)
def quick_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sim barriers answer at once: what is measured is the path, not a motor."""
    monkeypatch.setitem(sim_client._LATENCY, ("barrier", "*"), (0.0, 0.001))


def _ms(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000


async def test_unknown_plate_to_the_lane_console(
    as_role: AsRole, live_url: str, site_settings: BridgeSettings, world: World
) -> None:
    """p50/p99 from the camera's read to the guard's console event, with the snapshot inline."""
    manager = await as_role(Role.PROPERTY_MANAGER)
    numbers = [f"川B{n:05d}" for n in range(READS)]
    pictures = {n: plate_image.render(n) for n in numbers}  # drawn before the clock runs
    async with running(site_settings) as bridge:
        await lanes(manager, bridge, world)
        assert bridge.sim is not None
        async with live_socket(live_url, world.a.users[Role.GUARD]) as ws:
            to_console, to_event = [], []
            for number in numbers:
                start = time.perf_counter()
                await bridge.sim.read_plate(IN, plate=number, image=pictures[number])
                record = event = None
                while record is None or event is None:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message["type"] == "device.event" and message["kind"] == "plate.read":
                        event = message
                        to_event.append(time.perf_counter() - start)
                    elif message["type"] == "vehicle.pass":
                        record = message["record"]
                        to_console.append(time.perf_counter() - start)
                assert (record["decision"], record["reason"]) == ("held", "unknown")
    print(
        f"\nunknown plate → guard's lane console, {READS} reads: "
        f"p50 {_ms(to_console, 50):.1f} ms, p99 {_ms(to_console, 99):.1f} ms; "
        f"same read as a plain device event p50 {_ms(to_event, 50):.1f} ms, "
        f"p99 {_ms(to_event, 99):.1f} ms; ratio {_ms(to_console, 50) / _ms(to_event, 50):.2f}"
    )


async def _sustain(
    bridge: Bridge, act: Any, rate: float, seconds: float
) -> tuple[int, int, list[int]]:
    """Run `act(i)` `rate` times a second for `seconds`, each in its own task (a read's display
    and voice must not hold the next car); (backlog at start, at end, each second's backlog)."""
    backlog_start = await bridge.outbox.count()
    samples: list[int] = []
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        due = start + i / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        task = asyncio.create_task(act(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        if i % int(rate) == 0:
            samples.append(await bridge.outbox.count())
    await asyncio.gather(*tasks)
    return backlog_start, await bridge.outbox.count(), samples


async def _drained(bridge: Bridge, timeout: float = 60.0) -> float:
    """Seconds until the platform has acknowledged everything."""
    start = time.perf_counter()
    async with asyncio.timeout(timeout):
        while await bridge.outbox.count():  # noqa: ASYNC110 - the outbox offers no event for it
            await asyncio.sleep(0.05)
    return time.perf_counter() - start


async def test_pass_record_ingest_sustained(
    as_role: AsRole, site_settings: BridgeSettings, world: World
) -> None:
    """200 reads/s for 60 s at an entrance and an exit: no backlog growth at the bridge."""
    manager = await as_role(Role.PROPERTY_MANAGER)
    async with running(site_settings) as bridge:
        await lanes(manager, bridge, world)
        sim = bridge.sim
        assert sim is not None
        await _drained(bridge)

        async def read(i: int) -> None:  # every car a new plate: no debounce, one record each
            await sim.read_plate(IN if i % 2 else OUT, plate=f"川C{i:05d}", confidence=0.95)

        async def reading(i: int) -> None:
            await sim.reading("temp-pump-room", value=20 + i % 10, unit="°C")

        total = int(RATE * SECONDS)
        began = time.perf_counter()
        p_start, p_end, p_samples = await _sustain(bridge, read, RATE, SECONDS)
        p_tail = await _drained(bridge)
        p_rate = total / (time.perf_counter() - began)
        stored = await PassRecord.count().where(PassRecord.community == world.a.community)
        assert stored == total

        began = time.perf_counter()
        b_start, b_end, b_samples = await _sustain(bridge, reading, RATE, SECONDS)
        b_tail = await _drained(bridge)
        b_rate = total / (time.perf_counter() - began)
    print(
        f"\npass-record ingest, {RATE} reads/s for {SECONDS} s ({total} reads, two lanes): "
        f"bridge backlog at start {p_start}, at end {p_end} (per second: {p_samples}), "
        f"drained {p_tail:.2f} s after the last read; {p_rate:,.0f} records/s end to end. "
        f"Baseline, the same rate of plain sensor readings: backlog {b_start} → {b_end} "
        f"(per second: {b_samples}), drained {b_tail:.2f} s after; {b_rate:,.0f} events/s; "
        f"ratio {p_rate / b_rate:.2f}"
    )
