"""Benchmark: a full set of 100,000 credentials to a bridge, packed (revision 2) against plain.

Prints, for the same entries in the same run: bytes on the wire plain and packed, the platform's
time to pack, and the bridge's time from the received frame to the applied cache (decode, unpack,
store in SQLite and index) each way, the best of two alternated runs; the ratios are packed
against plain.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

from device_bridge import protocol
from device_bridge.access_cache import CredentialCache
from tests.perf.sizes import size

N = size(100_000, smoke=2_000)
DOORS = ["door-1-1", "gate-north", "gate-south", "turnstile-north"]


def entries(n: int) -> list[protocol.CredentialEntry]:
    """Residents' cards as the platform sends them: a uuid, two to three doors, one digest."""
    people = [str(uuid.uuid4()) for _ in range(n // 3 + 1)]
    return [
        protocol.CredentialEntry(
            id=str(uuid.uuid4()),
            kind="card",
            doors=DOORS[i % 2 : 3],
            digests=[hashlib.sha256(f"card:{i:010d}".encode()).digest()],
            person=people[i // 3],
            floors=[1, 2 + i % 30],
        )
        for i in range(n)
    ]


async def _apply(path: Path, data: bytes) -> float:
    cache = await CredentialCache.open(path)
    try:
        start = time.perf_counter()
        frame = protocol.decode_to_bridge(data)
        assert isinstance(frame, protocol.Credentials)
        assert await cache.apply(protocol.unpack(frame))
        took = time.perf_counter() - start
        assert len(cache) == N
        return took
    finally:
        await cache.close()


async def test_100000_credentials_packed_against_plain(tmp_path: Path) -> None:
    frame = protocol.Credentials(
        version=1, since=None, key=b"k" * 32, qr_keys={}, upserts=entries(N)
    )
    plain = protocol.encode(frame)
    start = time.perf_counter()
    packed = protocol.encode(protocol.pack(frame))
    pack = time.perf_counter() - start
    runs: dict[str, list[float]] = {"plain": [], "packed": []}
    for i in range(2):  # alternated, the best of two each: warm-up favours neither
        for name, data in (("plain", plain), ("packed", packed)):
            runs[name].append(await _apply(tmp_path / f"{name}-{i}.sqlite3", data))
    plain_apply, packed_apply = min(runs["plain"]), min(runs["packed"])
    print(
        f"\ncredential set, {N:,} cards: plain {len(plain):,} bytes "
        f"({len(plain) / N:.0f} B/credential), packed {len(packed):,} bytes "
        f"({len(packed) / N:.0f} B/credential), ratio packed/plain {len(packed) / len(plain):.2f}; "
        f"pack {pack:.2f} s; bridge apply plain {plain_apply:.2f} s, packed {packed_apply:.2f} s, "
        f"ratio {packed_apply / plain_apply:.2f}"
    )
