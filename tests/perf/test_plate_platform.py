"""Benchmarks of plate reads on the platform path (the real bridge in this process, the live app).

1. An unknown plate at the sim camera → the bridge's decision → the platform's pass record → the
   guard's lane console socket (`vehicle.pass`): p50/p99, against the same read's arrival on the
   same socket as a plain device event (`device.event`: ingest and fan-out, no pass record).
2. Pass-record ingest at a sustained rate (200 reads/s for 60 s; smoke: 40/s for 3 s) at an
   entrance and an exit: reads made at that rate as a bridge records them, taken in the link's
   batches (whatever is pending, up to 200) into the platform's ingest with every hook; the
   backlog (made, not yet ingested) at the start, each second and the end; against the same rate
   of plain sensor readings, in the same run. (A whole bridge in this process, its sim devices and
   the app on one event loop, does not keep 200 reads/s itself: the rig, not the ingest, is then
   measured — docs/vehicles.md.)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from api.app import LINK_HOOKS
from api.core.auth import Role
from api.devices.ingest import ingest
from api.devices.tables import Bridge, Device
from api.vehicles.tables import CarPark, Lane, PassRecord
from device_bridge import plate_image, protocol
from device_bridge.drivers.sim import client as sim_client
from device_bridge.settings import BridgeSettings
from tests.fixtures import AsRole
from tests.helpers import World, live_socket, running
from tests.perf.sizes import size
from tests.vehicles.test_site import IN, lanes

READS = size(200, smoke=10)
RATE = size(200, smoke=40)  # reads per second
SECONDS = size(60, smoke=3)
BATCH = 200  # the link's batch size (device_bridge/link.py)


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


class _Feed:
    """Events made at a steady rate, as a bridge's outbox fills, and taken in batches."""

    def __init__(self, make: Any, rate: float, seconds: float) -> None:
        self.make, self.rate, self.total = make, rate, int(rate * seconds)
        self.start = time.perf_counter()
        self.taken = 0

    def made(self) -> int:
        return min(int((time.perf_counter() - self.start) * self.rate), self.total)

    def backlog(self) -> int:
        return self.made() - self.taken

    def take(self, limit: int) -> list[protocol.Event]:
        upto = min(self.made(), self.taken + limit)
        batch = [self.make(seq) for seq in range(self.taken + 1, upto + 1)]
        self.taken = upto
        return batch


async def _sustain(
    bridge_id: Any, community: Any, devices: dict[str, Any], make: Any
) -> tuple[int, int, list[int], float]:
    """Ingest a feed of `RATE` events a second for `SECONDS` as the link does (whatever is pending,
    up to `BATCH` a frame): (backlog at start, at end, each second's, seconds it ran over)."""
    feed = _Feed(make, RATE, SECONDS)
    start_backlog, samples, next_sample = feed.backlog(), [], 0.0
    while feed.taken < feed.total:
        elapsed = time.perf_counter() - feed.start
        if elapsed >= next_sample:
            samples.append(feed.backlog())
            next_sample += 1.0
        batch = feed.take(BATCH)
        if not batch:
            await asyncio.sleep(0.005)
            continue
        await ingest(bridge_id, community, devices, batch, LINK_HOOKS.on_events)
    lag = (time.perf_counter() - feed.start) - SECONDS
    return start_backlog, feed.backlog(), samples, max(lag, 0.0)


async def test_pass_record_ingest_sustained(world: World) -> None:
    """200 reads/s for 60 s into the platform's ingest (the link's batches, every hook, the pass
    records): the backlog stays flat; against the same rate of plain sensor readings."""
    bridge = Bridge(community=world.a.community, name="bench-plates", public_key="")
    await bridge.save()
    rows = {}
    for external, kind in (
        ("lpr-in", "plate_camera"),
        ("lpr-out", "plate_camera"),
        ("barrier", "barrier"),
        ("temp", "temperature_sensor"),
    ):
        device = Device(
            community=world.a.community,
            bridge=bridge.id,
            external_id=external,
            kind=kind,
            name=external,
        )
        await device.save()
        rows[external] = device.id
    park = CarPark(
        community=world.a.community, name="bench", capacity=100_000, created_at=datetime.now(UTC)
    )
    await park.save()
    for camera, direction in (("lpr-in", "in"), ("lpr-out", "out")):
        await Lane(
            community=world.a.community,
            car_park=park.id,
            name=camera,
            direction=direction,
            barrier=rows["barrier"],
            camera=rows[camera],
            created_at=datetime.now(UTC),
        ).save()
    now = time.time()

    def read(seq: int) -> protocol.Event:  # as the bridge records a decided read
        out = seq % 2 == 0
        return protocol.Event(
            seq=seq,
            kind="plate.read",
            device="lpr-out" if out else "lpr-in",
            at=now,
            data={
                "plate": f"川C{seq // 2:05d}",
                "read": "",
                "colour": "blue",
                "confidence": 0.95,
                "direction": "out" if out else "in",
                "decision": "granted" if out else "held",
                "reason": "exit" if out else "unknown",
                "decided_by": "bridge",
            },
        )

    def reading(seq: int) -> protocol.Event:
        return protocol.Event(
            seq=seq,
            kind="sensor.reading",
            device="temp",
            at=now,
            data={"value": 20 + seq % 10, "unit": "°C"},
        )

    p_start, p_end, p_samples, p_lag = await _sustain(bridge.id, world.a.community, rows, read)
    total = int(RATE * SECONDS)
    assert await PassRecord.count().where(PassRecord.community == world.a.community) == total

    other = Bridge(community=world.a.community, name="bench-readings", public_key="")
    await other.save()
    b_start, b_end, b_samples, b_lag = await _sustain(other.id, world.a.community, rows, reading)
    print(
        f"\npass-record ingest, {RATE} reads/s for {SECONDS} s ({total} reads, an entrance and an "
        f"exit, the link's batching, every ingest hook): backlog at start {p_start}, at end "
        f"{p_end}, each second {p_samples}, max {max(p_samples)}; finished {p_lag:.2f} s after the "
        f"last read was made. Baseline, the same rate of plain sensor readings: backlog "
        f"{b_start} → {b_end}, max {max(b_samples)}, finished {b_lag:.2f} s after; ratio of the "
        f"max backlogs {max(p_samples) / max(max(b_samples), 1):.2f}"
    )
