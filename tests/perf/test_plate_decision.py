"""Benchmark: a plate read at the bridge → decision → barrier command issued, offline.

With 10,000 plates cached (as the credential sync sends them: keyed digests) and no link, 2,000
reads at a strict lane and 2,000 at a fuzzy lane are read (`VehicleControl.read`: normalise, the
digest look-up — on the fuzzy lane, for an unknown read, the look-up of every plate one edit
away —, the plate.read event committed to a real SQLite outbox, the barrier command issued; the
barrier's own latency is left out: its command is a no-op here). The baseline, measured in the
same run, is a bare dict look-up of the same plate.
"""

from __future__ import annotations

import logging
import random
import statistics
import time
from pathlib import Path
from typing import Any

import structlog

from device_bridge import protocol as p
from device_bridge.access_cache import CredentialCache
from device_bridge.outbox import Outbox
from device_bridge.vehicles import VehicleControl
from tests.device_bridge.fake_platform import Issuer
from tests.perf.sizes import size

PLATES = size(10_000, smoke=500)
READS = size(2_000, smoke=200)
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def _ms(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000


def _lanes(fuzzy: bool) -> list[p.DeviceInfo]:
    return [
        p.DeviceInfo(id="barrier", kind="barrier", name="道闸", driver="sim"),
        p.DeviceInfo(
            id="lpr",
            kind="plate_camera",
            name="车牌",
            driver="sim",
            attrs={"barrier": "barrier", "fuzzy": fuzzy},
        ),
    ]


async def test_plate_reads_decided_at_the_bridge(tmp_path: Path) -> None:
    """p50/p99 of read → decision → barrier command against a bare dict look-up."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        await _bench(tmp_path)
    finally:
        structlog.configure(**saved)


async def _bench(tmp_path: Path) -> None:
    rng = random.Random(11)
    issuer = Issuer()
    numbers = list({"川A" + "".join(rng.choices(LETTERS, k=5)) for _ in range(PLATES * 2)})[:PLATES]
    entries = [
        p.CredentialEntry(
            id=f"car-{i:05d}", kind="plate", doors=["barrier"], digests=[issuer.digest("plate", n)]
        )
        for i, n in enumerate(numbers)
    ]
    cache = await CredentialCache.open(tmp_path / "credentials.sqlite3")
    assert await cache.apply(issuer.frame(entries, full=True))
    outbox = await Outbox.open(tmp_path / "outbox.sqlite3")
    opened: list[str] = []

    async def record(kind: str, device: str, data: dict[str, Any]) -> int:
        return await outbox.append(kind, device, None, data)

    async def barrier(device: str, action: str, args: dict[str, Any]) -> p.CommandResult:
        opened.append(device)
        return p.CommandResult(id="bench", status="ok")

    reads = [rng.choice(numbers) for _ in range(READS)]
    unknown = ["川B" + "".join(rng.choices(LETTERS, k=5)) for _ in range(READS)]
    results: dict[str, list[float]] = {}
    for name, fuzzy, plates in (
        ("known plate, strict lane", False, reads),
        ("unknown plate, strict lane", False, unknown),
        ("unknown plate, fuzzy lane (≈230 neighbours looked up)", True, unknown),
    ):
        devices = _lanes(fuzzy)
        control = VehicleControl(
            cache, record=record, execute=barrier, devices=lambda d=devices: d, debounce=0
        )
        samples = results[name] = []
        for plate in plates:
            start = time.perf_counter()
            await control.read("lpr", {"plate": plate})
            samples.append(time.perf_counter() - start)
    assert len(opened) == READS  # every known plate lifted the barrier, no unknown one did

    index = {n: e.id for n, e in zip(numbers, entries, strict=True)}
    bare: list[float] = []
    for plate in reads:
        start = time.perf_counter()
        found = index.get(plate)
        bare.append(time.perf_counter() - start)
        assert found is not None
    await outbox.close()
    await cache.close()
    lines = [
        f"  {name}: p50 {_ms(s, 50) * 1000:.0f} µs, p99 {_ms(s, 99) * 1000:.0f} µs"
        f" (ratio to the bare look-up: p50 {_ms(s, 50) / _ms(bare, 50):.0f}×)"
        for name, s in results.items()
    ]
    print(
        f"\nplate reads at the bridge, {PLATES:,} plates cached, {READS:,} reads each "
        "(decision + parked car stored + outbox commit + barrier command):\n"
        f"  bare dict look-up: p50 {_ms(bare, 50) * 1000:.2f} µs, "
        f"p99 {_ms(bare, 99) * 1000:.2f} µs\n" + "\n".join(lines)
    )
