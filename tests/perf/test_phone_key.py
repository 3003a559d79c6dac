"""Benchmark: a phone key's QR code verified at the bridge, next to a bare ECDSA verification.

2,000 phones with ECDSA P-256 keys (the form every browser makes) are cached; 2,000 codes they
computed (`AJ2:`, each a new one) are decided (`AccessControl.decide`: parse, window, signature,
spent-code check, door, schedule) and another 2,000 presented (`present`: the decision, the
access.granted event committed to a real SQLite outbox and the spent code stored). The baseline,
in the same run, is the bare primitive: `cryptography`'s ECDSA P-256 / SHA-256 verification of the
same messages with the same keys, signatures already in DER. Ed25519 phone keys are measured too.
"""

from __future__ import annotations

import logging
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import structlog
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from device_bridge import protocol as p
from device_bridge.access import AccessControl, Decision
from device_bridge.access_cache import CredentialCache
from device_bridge.outbox import Outbox
from tests.device_bridge.fake_platform import Issuer
from tests.perf.sizes import size
from tests.phone_key import Algorithm, Phone

PHONES = size(2_000, smoke=50)
PRESENTATIONS = size(2_000, smoke=100)
DOORS = ["gate-north", "gate-south", "door-1-1"]


def _ms(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000


async def test_phone_key_codes_verified_at_the_bridge(tmp_path: Path) -> None:
    """p50/p99 of a phone-key code's decision against a bare ECDSA verify; the ratio."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        await _bench(tmp_path)
    finally:
        structlog.configure(**saved)


async def _setup(
    tmp_path: Path, algorithm: Algorithm
) -> tuple[AccessControl, list[tuple[Phone, str]], Outbox, CredentialCache]:
    phones = [(Phone(algorithm), str(uuid.uuid4())) for _ in range(PHONES)]
    entries = [
        p.CredentialEntry(
            id=cred, kind="phone_key", doors=DOORS, person=f"p-{i}", public_key=phone.raw()
        )
        for i, (phone, cred) in enumerate(phones)
    ]
    issuer = Issuer()
    cache = await CredentialCache.open(tmp_path / f"credentials-{algorithm}.sqlite3")
    assert await cache.apply(issuer.frame(entries, full=True))
    outbox = await Outbox.open(tmp_path / f"outbox-{algorithm}.sqlite3")

    async def record(kind: str, device: str, data: dict[str, Any]) -> int:
        return await outbox.append(kind, device, None, data)

    async def no_door(device: str, action: str, args: dict[str, Any]) -> p.CommandResult:
        return p.CommandResult(id="bench", status="ok")

    control = AccessControl(
        cache, record=record, execute=no_door, kinds=dict.fromkeys(DOORS, "door_controller").get
    )
    return control, phones, outbox, cache


def _codes(phones: list[tuple[Phone, str]], first_seq: int) -> list[str]:
    """PRESENTATIONS codes of random phones, signed now, each a new one: a phone's codes are
    numbered on from `first_seq`, as its 换一个码 numbers them."""
    rng = random.Random(first_seq)
    now = time.time()
    shown: dict[int, int] = {}
    codes = []
    for _ in range(PRESENTATIONS):
        k = rng.randrange(len(phones))
        seq = shown[k] = shown.get(k, first_seq - 1) + 1
        codes.append(phones[k][0].code(phones[k][1], at=now, seq=seq))
    return codes


async def _timed(samples: list[float], coro: Any) -> Decision:
    start = time.perf_counter()
    result = await coro
    samples.append(time.perf_counter() - start)
    return result


async def _run(
    tmp_path: Path, algorithm: Algorithm
) -> tuple[list[float], list[float], list[tuple[bytes, bytes, bytes]]]:
    control, phones, outbox, cache = await _setup(tmp_path, algorithm)
    decide: list[float] = []
    present: list[float] = []
    # Codes of one window: decided within it (the window turns every 30 s; a run takes less).
    codes = _codes(phones, 0)
    for code in codes:
        decision = await _timed(decide, control.decide("gate-north", "qr", code))
        assert decision.granted, decision
    for code in _codes(phones, 500):
        decision = await _timed(present, control.present("gate-south", "qr", code))
        assert decision.granted, decision
    keys = {cred: phone.raw() for phone, cred in phones}
    parsed = [p.parse_phone_qr(c) for c in codes]
    triples = [(keys[c.cred], p.phone_key_nonce(c), c.signature) for c in parsed]
    await outbox.close()
    await cache.close()
    return decide, present, triples


async def _bench(tmp_path: Path) -> None:
    decide, present, triples = await _run(tmp_path, "ES256")
    # The baseline: cryptography's ECDSA verify, the same messages, keys parsed, signatures in DER.
    loaded = {
        raw: ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        for raw, _, _ in triples
    }
    prepared = [
        (
            loaded[raw],
            message,
            encode_dss_signature(int.from_bytes(sig[:32]), int.from_bytes(sig[32:])),
        )
        for raw, message, sig in triples
    ]
    algorithm = ec.ECDSA(hashes.SHA256())
    bare: list[float] = []
    for key, message, der in prepared:
        start = time.perf_counter()
        key.verify(der, message, algorithm)
        bare.append(time.perf_counter() - start)
    ed_decide, ed_present, _ = await _run(tmp_path, "Ed25519")

    def line(name: str, samples: list[float]) -> str:
        return (
            f"  {name}: p50 {_ms(samples, 50) * 1000:.0f} µs, p99 {_ms(samples, 99) * 1000:.0f} µs"
            f" (ratio to the bare ECDSA verify: p50 {_ms(samples, 50) / _ms(bare, 50):.2f}×,"
            f" p99 {_ms(samples, 99) / _ms(bare, 99):.2f}×)"
        )

    print(
        f"\nphone-key QR codes at the bridge, {PHONES:,} phone keys cached, "
        f"{PRESENTATIONS:,} presentations each:\n"
        f"  bare ECDSA P-256 verify (cryptography): p50 {_ms(bare, 50) * 1000:.0f} µs, "
        f"p99 {_ms(bare, 99) * 1000:.0f} µs\n"
        + line("ES256 phone code decide", decide)
        + "\n"
        + line("ES256 phone code present (decide + outbox commit + spent code stored)", present)
        + "\n"
        + line("Ed25519 phone code decide", ed_decide)
        + "\n"
        + line("Ed25519 phone code present", ed_present)
    )
