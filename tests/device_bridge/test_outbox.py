"""The outbox: committed before sent, seqs never reused, nothing lost or half-written on SIGKILL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from device_bridge import outbox as outbox_module
from device_bridge.outbox import Outbox

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import asyncio, sys
from pathlib import Path
from device_bridge import outbox as outbox_module
from device_bridge.outbox import Outbox

async def main():
    outbox = await Outbox.open(Path(sys.argv[1]))
    while True:
        seq = await outbox.append("sensor.reading", "temp-1", None, {"n": "?", "pad": "x" * 400})
        print(seq, flush=True)  # only after the commit

asyncio.run(main())
"""


@pytest.fixture
async def outbox(tmp_path: Path) -> Outbox:
    """A fresh outbox file."""
    return await Outbox.open(tmp_path / "outbox.sqlite3")


class TestAppendPendingAck:
    async def test_seqs_start_at_one_and_pending_pages_in_order(self, outbox: Outbox) -> None:
        seqs = [
            await outbox.append("door.opened", f"door-{i}", 1000.0 + i, {"i": i}) for i in range(5)
        ]
        assert seqs == [1, 2, 3, 4, 5]
        page = await outbox.pending(after=0, limit=3)
        assert [e.seq for e in page] == [1, 2, 3]
        assert page[0].kind == "door.opened" and page[0].device == "door-0"
        assert page[0].at == 1000.0 and page[0].data == {"i": 0}
        assert [e.seq for e in await outbox.pending(after=3, limit=10)] == [4, 5]
        await outbox.close()

    async def test_ack_is_cumulative_and_count_follows(self, outbox: Outbox) -> None:
        await outbox.append_many([("sensor.reading", "t", None, {"v": i}) for i in range(10)])
        assert await outbox.count() == 10
        assert await outbox.ack(4) == 4
        assert await outbox.count() == 6
        assert [e.seq for e in await outbox.pending(after=0, limit=100)] == list(range(5, 11))
        assert await outbox.ack(4) == 0  # acking again is harmless
        await outbox.close()

    async def test_bytes_and_nested_data_survive(self, outbox: Outbox) -> None:
        data = {"content_type": "image/png", "data": b"\x89PNG\x00", "tags": ["a", {"b": 1}]}
        await outbox.append("camera.snapshot", "cam-1", None, data)
        (event,) = await outbox.pending()
        assert event.data == data
        await outbox.close()


class TestAppendOnce:
    async def test_a_key_seen_before_stores_nothing_even_after_the_event_was_acked(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "o.sqlite3"
        first = await Outbox.open(path)
        assert await first.append_once("m-1:7", "sensor.reading", "m-1", None, {}) == 1
        assert await first.append_once("m-1:8", "sensor.reading", "m-1", None, {}) == 2
        await first.ack(2)  # delivered to the platform: the keys stay
        await first.close()
        again = await Outbox.open(path)
        assert await again.append_once("m-1:7", "sensor.reading", "m-1", None, {}) is None
        assert await again.count() == 0
        assert await again.append("k.x", "d", None, {}) == 3  # no seq was used up
        await again.close()

    async def test_only_the_keys_of_the_latest_events_are_kept(
        self, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(outbox_module, "KEYS_KEPT", 3)
        for n in range(5):
            assert await outbox.append_once(f"k{n}", "k.x", "d", None, {"n": n}) == n + 1
        assert await outbox.append_once("k4", "k.x", "d", None, {}) is None
        assert await outbox.append_once("k2", "k.x", "d", None, {}) is None
        assert await outbox.append_once("k1", "k.x", "d", None, {"n": 1}) == 6  # forgotten
        store = outbox._store
        assert store is not None
        kept = await outbox._run(lambda: store.db.execute("SELECT key FROM received").fetchall())
        assert sorted(kept) == [("k1",), ("k3",), ("k4",)]
        await outbox.close()


class TestDurability:
    async def test_events_survive_reopen(self, tmp_path: Path) -> None:
        path = tmp_path / "o.sqlite3"
        first = await Outbox.open(path)
        await first.append_many([("access.granted", "door-1-1", None, {"n": i}) for i in range(3)])
        await first.close()
        again = await Outbox.open(path)
        assert [e.data["n"] for e in await again.pending()] == [0, 1, 2]
        await again.close()

    async def test_seq_is_never_reused_after_acks_and_restart(self, tmp_path: Path) -> None:
        path = tmp_path / "o.sqlite3"
        first = await Outbox.open(path)
        await first.append_many([("k.x", "d", None, {}) for _ in range(7)])
        await first.ack(7)  # every row gone
        await first.close()
        again = await Outbox.open(path)
        assert await again.count() == 0
        assert await again.append("k.x", "d", None, {}) == 8
        await again.close()

    async def test_advance_to_skips_seqs_the_platform_already_has(self, outbox: Outbox) -> None:
        await outbox.append("k.x", "d", None, {})
        assert await outbox.advance_to(50)
        assert not await outbox.advance_to(10)
        assert await outbox.append("k.x", "d", None, {}) == 51
        await outbox.close()

    async def test_wal_and_full_sync(self, tmp_path: Path) -> None:
        outbox = await Outbox.open(tmp_path / "o.sqlite3")
        store = outbox._store
        assert store is not None
        sync = await outbox._run(lambda: store.db.execute("PRAGMA synchronous").fetchone()[0])
        assert sync == 2  # FULL
        await outbox.close()
        db = sqlite3.connect(tmp_path / "o.sqlite3")
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.close()

    async def test_sigkill_mid_append_loses_nothing_committed(self, tmp_path: Path) -> None:
        path = tmp_path / "o.sqlite3"
        proc = subprocess.Popen(  # noqa: ASYNC220 - read line by line, then killed
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, cwd=ROOT, text=True
        )
        assert proc.stdout is not None
        printed = [int(proc.stdout.readline()) for _ in range(300)]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        printed += [int(line) for line in proc.stdout.read().split()]

        outbox = await Outbox.open(path)
        stored = await outbox.pending(after=0, limit=1_000_000)
        seqs = [e.seq for e in stored]
        assert seqs == list(range(1, len(seqs) + 1)), "a gap in the committed seqs"
        assert set(printed) <= set(seqs), "an append reported committed was lost"
        assert all(e.data == {"n": "?", "pad": "x" * 400} for e in stored), "a half-written row"
        assert await outbox.append("k.x", "d", None, {}) == len(seqs) + 1
        await outbox.close()
