"""The on-disk outbox: every event is committed here, with its seq, before it may be sent.

SQLite in WAL mode with synchronous=FULL, so a committed append survives a crash or power loss. A
counter row hands out seqs, so a seq is never reused, even after acknowledged rows are deleted. An
event a device may deliver again (an MQTT message the broker redelivers) is appended with a key,
kept in the same transaction, so a second delivery stores nothing. All access goes through one
worker thread, which owns the connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import structlog

from device_bridge.protocol import Event

log = structlog.get_logger(__name__)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    device TEXT NOT NULL,
    at REAL NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO counter (id, last_seq) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS received (
    key TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS received_seq ON received (seq);
"""

KEYS_KEPT = 10_000  # the keys of the last this many events; a redelivery comes long before

EventInput = tuple[str, str, float | None, dict[str, Any]]  # kind, device, at, data


class _Store:
    """The synchronous store; only ever called from the outbox's worker thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)  # explicit BEGIN/COMMIT below
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    def append(self, items: Iterable[EventInput], key: str | None = None) -> list[int]:
        """Commit `items`; with a `key` seen before, commit nothing and return no seqs."""
        seqs: list[int] = []
        self.db.execute("BEGIN IMMEDIATE")
        try:
            (last,) = self.db.execute("SELECT last_seq FROM counter WHERE id = 1").fetchone()
            if key is None or self._remember(key, last + 1):
                rows = []
                for kind, device, at, data in items:
                    last += 1
                    seqs.append(last)
                    stamp = time.time() if at is None else at
                    rows.append((last, kind, device, stamp, msgspec.msgpack.encode(data)))
                self.db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
                self.db.execute("UPDATE counter SET last_seq = ? WHERE id = 1", (last,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return seqs

    def _remember(self, key: str, seq: int) -> bool:
        """Record `key` for the event `seq` (forgetting the oldest); False if it was known."""
        if self.db.execute("SELECT 1 FROM received WHERE key = ?", (key,)).fetchone():
            return False
        self.db.execute("INSERT INTO received VALUES (?, ?)", (key, seq))
        self.db.execute("DELETE FROM received WHERE seq <= ?", (seq - KEYS_KEPT,))
        return True

    def pending(self, after: int, limit: int) -> list[Event]:
        rows = self.db.execute(
            "SELECT seq, kind, device, at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        ).fetchall()
        return [
            Event(seq=s, kind=k, device=d, at=a, data=msgspec.msgpack.decode(b))
            for s, k, d, a, b in rows
        ]

    def ack(self, seq: int) -> int:
        return self.db.execute("DELETE FROM events WHERE seq <= ?", (seq,)).rowcount

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM events").fetchone()[0])

    def last_seq(self) -> int:
        return int(self.db.execute("SELECT last_seq FROM counter WHERE id = 1").fetchone()[0])

    def advance_to(self, seq: int) -> bool:
        cur = self.db.execute(
            "UPDATE counter SET last_seq = ? WHERE id = 1 AND last_seq < ?", (seq, seq)
        )
        return cur.rowcount > 0

    def close(self) -> None:
        self.db.close()


class Outbox:
    """The async outbox over a SQLite file: `await Outbox.open(path)`, then `close()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-outbox")
        self._store: _Store | None = None

    @classmethod
    async def open(cls, path: Path) -> Outbox:
        """Open (creating if needed) the outbox at `path`."""
        outbox = cls(path)
        outbox._store = await outbox._run(lambda: _Store(path))
        return outbox

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    @property
    def _db(self) -> _Store:
        if self._store is None:
            raise RuntimeError("outbox is not open")
        return self._store

    async def append(
        self, kind: str, device: str, at: float | None, data: dict[str, Any] | None = None
    ) -> int:
        """Commit one event and return its seq; only after this returns may the event be sent."""
        store = self._db
        (seq,) = await self._run(lambda: store.append([(kind, device, at, data or {})]))
        return seq

    async def append_once(
        self, key: str, kind: str, device: str, at: float | None, data: dict[str, Any]
    ) -> int | None:
        """`append`, unless an event with this key was appended before (then None).

        The keys of the last `KEYS_KEPT` events are kept, committed with their events.
        """
        store = self._db
        seqs = await self._run(lambda: store.append([(kind, device, at, data)], key))
        return seqs[0] if seqs else None

    async def append_many(self, items: Sequence[EventInput]) -> list[int]:
        """Commit several events in one transaction; their seqs in order."""
        store = self._db
        return await self._run(lambda: store.append(items))

    async def pending(self, after: int = 0, limit: int = 200) -> list[Event]:
        """Up to `limit` stored events with seq > `after`, in seq order."""
        store = self._db
        return await self._run(lambda: store.pending(after, limit))

    async def ack(self, seq: int) -> int:
        """Delete every event with seq ≤ `seq` (the platform has committed them); how many went."""
        store = self._db
        return await self._run(lambda: store.ack(seq))

    async def count(self) -> int:
        """How many events wait for an ack."""
        store = self._db
        return await self._run(store.count)

    async def last_seq(self) -> int:
        """The highest seq ever handed out (0 for a new outbox)."""
        store = self._db
        return await self._run(store.last_seq)

    async def advance_to(self, seq: int) -> bool:
        """Never hand out a seq ≤ `seq` (the platform has it, e.g. after a lost data dir)."""
        store = self._db
        advanced = await self._run(lambda: store.advance_to(seq))
        if advanced:
            log.warning("bridge.outbox.counter_advanced", seq=seq, path=str(self.path))
        return advanced

    async def close(self) -> None:
        """Close the database and stop the worker thread."""
        if self._store is not None:
            store, self._store = self._store, None
            await self._run(store.close)
        self._executor.shutdown(wait=True)

    async def __aenter__(self) -> Outbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
