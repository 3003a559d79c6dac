"""Benchmark: offline access decisions at the bridge, and applying a 10,000-credential set there.

With 10,000 credentials cached and no link, 2,000 card and 2,000 dynamic-QR presentations are
decided (`AccessControl.decide`: the decision alone) and presented (`present`: the decision, the
access.granted event committed to a real SQLite outbox, the QR nonce stored; the door command is
a no-op here, the door's own latency is test_door_open's baseline). The baselines, measured in the
same run, are the bare primitives: an HMAC-SHA256 digest and a dict look-up for a card, an Ed25519
verification for a QR code. Then a full `Credentials` frame of 10,000 entries: its size on the wire
and the time the bridge takes to decode it and apply it (one transaction).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import statistics
import time
from pathlib import Path
from typing import Any

import structlog

from device_bridge import protocol as p
from device_bridge.access import AccessControl
from device_bridge.access_cache import CredentialCache
from device_bridge.outbox import Outbox
from tests.device_bridge.fake_platform import Issuer
from tests.perf.sizes import size

CREDENTIALS = size(10_000, smoke=500)
PRESENTATIONS = size(2_000, smoke=200)
DOORS = ["gate-north", "gate-south", "door-1-1"]


def _ms(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000


def _entries(issuer: Issuer) -> tuple[list[p.CredentialEntry], list[str]]:
    """8,000 cards and 2,000 QR credentials, each at two or three doors; the card numbers."""
    rng = random.Random(5)
    numbers = [f"{rng.getrandbits(40):012d}" for _ in range(CREDENTIALS * 4 // 5)]
    entries = [
        p.CredentialEntry(
            id=f"card-{i:05d}",
            kind="card",
            doors=DOORS if i % 2 else DOORS[:2],
            digests=[issuer.digest("card", n)],
            person=f"person-{i:05d}",
            schedule=[p.Window(days=0b1111111, start=0, end=1440)],
        )
        for i, n in enumerate(numbers)
    ]
    entries += [
        p.CredentialEntry(id=f"qr-{i:05d}", kind="qr", doors=DOORS, person=f"person-q{i:05d}")
        for i in range(CREDENTIALS - len(numbers))
    ]
    return entries, numbers


async def _timed(samples: list[float], coro: Any) -> Any:
    start = time.perf_counter()
    result = await coro
    samples.append(time.perf_counter() - start)
    return result


async def test_offline_decisions_and_a_10k_credential_set(tmp_path: Path) -> None:
    """p50/p99 of card and QR decisions against their bare primitives; 10k set apply time/bytes."""
    saved = structlog.get_config()
    # One log line per decision, rendered to the console, would be most of what is measured.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        await _bench(tmp_path)
    finally:
        structlog.configure(**saved)


async def _bench(tmp_path: Path) -> None:
    issuer = Issuer()
    entries, numbers = _entries(issuer)
    frame = issuer.frame(entries, full=True)
    wire = p.encode(frame)

    cache = await CredentialCache.open(tmp_path / "credentials.sqlite3")
    start = time.perf_counter()
    decoded = p.decode_to_bridge(wire)
    assert isinstance(decoded, p.Credentials)
    assert await cache.apply(decoded)
    apply_s = time.perf_counter() - start
    assert len(cache) == CREDENTIALS

    outbox = await Outbox.open(tmp_path / "outbox.sqlite3")

    async def record(kind: str, device: str, data: dict[str, Any]) -> int:
        return await outbox.append(kind, device, None, data)

    async def no_door(device: str, action: str, args: dict[str, Any]) -> p.CommandResult:
        return p.CommandResult(id="bench", status="ok")

    control = AccessControl(
        cache, record=record, execute=no_door, kinds=dict.fromkeys(DOORS, "door_controller").get
    )
    rng = random.Random(9)
    cards = [rng.choice(numbers) for _ in range(PRESENTATIONS)]
    qr_ids = [e.id for e in entries if e.kind == "qr"]
    tokens = [issuer.qr(rng.choice(qr_ids)) for _ in range(PRESENTATIONS)]
    tokens_2 = [issuer.qr(rng.choice(qr_ids)) for _ in range(PRESENTATIONS)]

    card_decide: list[float] = []
    qr_decide: list[float] = []
    card_present: list[float] = []
    qr_present: list[float] = []
    for number in cards:
        decision = await _timed(card_decide, control.decide("gate-north", "card", number))
        assert decision.granted
    for token in tokens:
        decision = await _timed(qr_decide, control.decide("gate-north", "qr", token))
        assert decision.granted
    for number in cards:
        decision = await _timed(card_present, control.present("gate-south", "card", number))
        assert decision.granted
    for token in tokens_2:
        decision = await _timed(qr_present, control.present("gate-south", "qr", token))
        assert decision.granted
    assert await outbox.count() == 2 * PRESENTATIONS

    # Baselines: the bare primitives, same data, same run.
    key, index = issuer.key, {d: e.id for e in entries for d in e.digests}
    bare_card: list[float] = []
    for number in cards:
        start = time.perf_counter()
        found = index.get(hmac.new(key, f"card:{number}".encode(), hashlib.sha256).digest())
        bare_card.append(time.perf_counter() - start)
        assert found is not None
    public = issuer.signer.public_key()
    parsed = [p.parse_qr(t) for t in tokens]
    bare_qr: list[float] = []
    for _, signed, signature in parsed:
        start = time.perf_counter()
        public.verify(signature, signed)
        bare_qr.append(time.perf_counter() - start)

    await outbox.close()
    await cache.close()

    def line(name: str, samples: list[float], base: list[float]) -> str:
        return (
            f"  {name}: p50 {_ms(samples, 50) * 1000:.0f} µs, p99 {_ms(samples, 99) * 1000:.0f} µs"
            f" (ratio to the bare primitive: p50 {_ms(samples, 50) / _ms(base, 50):.1f}×)"
        )

    print(
        f"\noffline access decisions at the bridge, {CREDENTIALS:,} credentials cached, "
        f"{PRESENTATIONS:,} presentations each:\n"
        f"  bare HMAC digest + dict look-up: p50 {_ms(bare_card, 50) * 1000:.1f} µs, "
        f"p99 {_ms(bare_card, 99) * 1000:.1f} µs\n"
        f"  bare Ed25519 verify: p50 {_ms(bare_qr, 50) * 1000:.0f} µs, "
        f"p99 {_ms(bare_qr, 99) * 1000:.0f} µs\n"
        + line("card decide", card_decide, bare_card)
        + "\n"
        + line("QR decide", qr_decide, bare_qr)
        + "\n"
        + line("card present (decide + outbox commit)", card_present, bare_card)
        + "\n"
        + line("QR present (decide + outbox commit + nonce stored)", qr_present, bare_qr)
        + f"\ncredential set of {CREDENTIALS:,} entries: {len(wire) / 1024:.0f} KiB on the wire "
        f"({len(wire) / CREDENTIALS:.0f} B each); decode + apply at the bridge "
        f"{apply_s * 1000:.0f} ms"
    )
