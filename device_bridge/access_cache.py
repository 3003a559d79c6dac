"""The bridge's credential cache: the platform's latest `Credentials`, kept so doors decide offline.

SQLite next to the outbox (`<data dir>/credentials.sqlite3`, WAL, mode 0600: it holds the digest
key) stores the set as the platform sent it; memory holds the same set indexed by credential id and
by digest, so a decision reads no disk. A full set replaces everything and a delta applies only on
top of the version it was made from, each in one transaction (a 10,000-entry set is one
`executemany`). A restarted bridge loads the file and decides with no link at all.

Local uses. An entry (a granted "in" at an entry door, `access.uses_entry`) of a credential with
limited `uses`, and any grant of a visitor keypad code (it burns the code), is counted
here at once (memory, then the file) and written to a ledger with the seq of its `access.granted`
event. The platform counts the same pass when it stores that event and sends the new number in a
later delta. Until then, a set arriving from the platform still carries the old number: an entry's
`uses` is the platform's figure less the ledger's passes whose events the platform has not acked
(`acked`: every seq up to it is committed there), and keypad codes at or below a locally used
counter stay burnt. Ledger rows the platform has acked are dropped at the next apply.

Parked cars. The cars a lane let into a car park and has not seen leave (and which of them hold a
temporary space) are kept here too, so that a restarted bridge, offline or not, still knows how
many temporary spaces are taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from device_bridge.protocol import CredentialEntry, Credentials

log = structlog.get_logger(__name__)
T = TypeVar("T")

REVOKED_KEPT = 30 * 86400.0  # seconds a removed credential is still refused as "revoked"
# A car that entered a car park (car park, plate, whether on a temporary space) or, with None,
# left it.
Move = tuple[str, str, bool | None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    key BLOB NOT NULL,
    qr_keys BLOB NOT NULL,
    timezone TEXT NOT NULL,
    applied_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    uses INTEGER NOT NULL,
    next_counter INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked (
    id TEXT PRIMARY KEY,
    digests BLOB NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    entry TEXT NOT NULL,
    seq INTEGER NOT NULL,
    counter INTEGER,
    counted INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS parked (
    car_park TEXT NOT NULL,
    plate TEXT NOT NULL,
    temporary INTEGER NOT NULL,
    PRIMARY KEY (car_park, plate)
);
CREATE TABLE IF NOT EXISTS nonces (
    reader TEXT NOT NULL,
    nonce BLOB NOT NULL,
    exp REAL NOT NULL,
    PRIMARY KEY (reader, nonce)
);
"""

_entry_encoder = msgspec.msgpack.Encoder()
_entry_decoder = msgspec.msgpack.Decoder(CredentialEntry)
_keys_decoder = msgspec.msgpack.Decoder(dict[str, bytes])
_digests_decoder = msgspec.msgpack.Decoder(list[bytes])


@dataclass(slots=True)
class Held:
    """One cached credential: the platform's entry, and what is left of it after local passes."""

    entry: CredentialEntry
    uses: int  # -1: unlimited
    next_counter: int  # kind "code": the lowest HOTP counter still good


@dataclass(slots=True)
class Use:
    """A local pass of a counted credential, until the platform has acked its event."""

    entry: str
    counter: int | None
    held: Held | None  # the cached object it was counted on
    counted: bool = True  # an entry: one of `uses` (False: a keypad code used at a non-entry door)
    seq: int | None = None  # the access.granted event's seq, once recorded
    in_file: bool = False  # an apply already wrote the entry's row with this pass counted


@dataclass(slots=True)
class _State:
    """Everything the decisions read; replaced whole by an apply."""

    version: int = 0  # 0: nothing received yet
    key: bytes = b""
    qr_keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    entries: dict[str, Held] = field(default_factory=dict)
    by_digest: dict[bytes, tuple[str, int]] = field(default_factory=dict)  # → (id, counter)
    revoked: dict[str, float] = field(default_factory=dict)  # id → removed at
    revoked_digests: dict[bytes, str] = field(default_factory=dict)


def _index(held: Held, by_digest: dict[bytes, tuple[str, int]]) -> None:
    entry = held.entry
    for i, digest in enumerate(entry.digests):
        by_digest[digest] = (entry.id, entry.counter + i)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.error("bridge.access.unknown_timezone", timezone=name)
        return ZoneInfo("Asia/Shanghai")


class _Store:
    """The synchronous SQLite side; only ever called from the cache's worker thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)  # the digest key lives here
        os.close(fd)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        # A power cut may lose the last commits: the platform's next delta then does not fit
        # (ok=False) and a full set follows; a lost pass count errs by one at most.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        if "counted" not in {r[1] for r in self.db.execute("PRAGMA table_info(ledger)")}:
            self.db.execute("ALTER TABLE ledger ADD COLUMN counted INTEGER NOT NULL DEFAULT 1")

    def load(self, now: float) -> tuple[_State, list[tuple[str, int, int | None, int]]]:
        state = _State()
        row = self.db.execute("SELECT version, key, qr_keys, timezone FROM meta").fetchone()
        if row is not None:
            state.version, state.key = row[0], row[1]
            state.qr_keys = _public_keys(_keys_decoder.decode(row[2]))
            state.timezone = _zone(row[3])
        for body, uses, next_counter in self.db.execute(
            "SELECT body, uses, next_counter FROM entries"
        ):
            held = Held(_entry_decoder.decode(body), uses, next_counter)
            state.entries[held.entry.id] = held
            _index(held, state.by_digest)
        for cred, digests, at in self.db.execute("SELECT id, digests, at FROM revoked"):
            state.revoked[cred] = at
            for digest in _digests_decoder.decode(digests):
                state.revoked_digests[digest] = cred
        ledger = self.db.execute("SELECT entry, seq, counter, counted FROM ledger").fetchall()
        self.db.execute("DELETE FROM nonces WHERE exp < ?", (now,))
        return state, ledger

    def nonces(self, now: float) -> list[tuple[str, bytes, float]]:
        return self.db.execute(
            "SELECT reader, nonce, exp FROM nonces WHERE exp >= ?", (now,)
        ).fetchall()

    def parked(self) -> list[tuple[str, str, int]]:
        return self.db.execute("SELECT car_park, plate, temporary FROM parked").fetchall()

    def park(self, moves: list[Move]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for car_park, plate, temporary in moves:
                if temporary is None:
                    self.db.execute(
                        "DELETE FROM parked WHERE car_park = ? AND plate = ?", (car_park, plate)
                    )
                else:
                    self.db.execute(
                        "INSERT OR REPLACE INTO parked VALUES (?, ?, ?)",
                        (car_park, plate, temporary),
                    )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def apply(
        self,
        frame: Credentials,
        rows: list[tuple[str, bytes, int, int]],
        revoked: list[tuple[str, bytes, float]],
        acked: int,
        now: float,
    ) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if frame.since is None:
                self.db.execute("DELETE FROM entries")
            else:
                self.db.executemany(
                    "DELETE FROM entries WHERE id = ?", [(r,) for r in frame.removals]
                )
            self.db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)", rows)
            self.db.executemany("INSERT OR REPLACE INTO revoked VALUES (?, ?, ?)", revoked)
            self.db.executemany("DELETE FROM revoked WHERE id = ?", [(r[0],) for r in rows])
            self.db.execute("DELETE FROM revoked WHERE at < ?", (now - REVOKED_KEPT,))
            self.db.execute("DELETE FROM ledger WHERE seq <= ?", (acked,))
            self.db.execute("DELETE FROM ledger WHERE entry NOT IN (SELECT id FROM entries)")
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES (1, ?, ?, ?, ?, ?)",
                (
                    frame.version,
                    frame.key,
                    _entry_encoder.encode(frame.qr_keys),
                    frame.timezone,
                    now,
                ),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def count_use(self, use: Use, seq: int, *, in_file: bool) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if not in_file:
                self.db.execute(
                    "UPDATE entries SET uses = CASE WHEN uses > 0 AND ? THEN uses - 1 ELSE uses"
                    " END, next_counter = max(next_counter, ?) WHERE id = ?",
                    (use.counted, -1 if use.counter is None else use.counter + 1, use.entry),
                )
            self.db.execute(
                "INSERT INTO ledger VALUES (?, ?, ?, ?)",
                (use.entry, seq, use.counter, use.counted),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def use_nonce(self, reader: str, nonce: bytes, exp: float, now: float) -> None:
        self.db.execute("INSERT OR REPLACE INTO nonces VALUES (?, ?, ?)", (reader, nonce, exp))
        self.db.execute("DELETE FROM nonces WHERE exp < ?", (now - 60.0,))

    def close(self) -> None:
        self.db.close()


def _public_keys(raw: dict[str, bytes]) -> dict[str, Ed25519PublicKey]:
    keys = {}
    for kid, key in raw.items():
        try:
            keys[kid] = Ed25519PublicKey.from_public_bytes(key)
        except ValueError:
            log.error("bridge.access.bad_qr_key", kid=kid)
    return keys


class CredentialCache:
    """The cached credential set; `await CredentialCache.open(path)`, then `close()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-access")
        self._store: _Store | None = None
        self.state = _State()
        self._ledger: list[Use] = []  # local passes the platform may not have counted yet
        self._nonces: dict[tuple[str, bytes], float] = {}  # (reader, nonce) → exp
        self.parked: list[tuple[str, str, bool]] = []  # as loaded: (car park, plate, temporary)
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> CredentialCache:
        """Open (creating if needed) the cache at `path` and load it into memory."""
        cache = cls(path)
        store = cache._store = await cache._run(lambda: _Store(path))
        now = time.time()
        state, ledger = await cache._run(lambda: store.load(now))
        cache.state = state
        cache._ledger = [
            Use(e, c, state.entries.get(e), bool(counted), s) for e, s, c, counted in ledger
        ]
        nonces = await cache._run(lambda: store.nonces(now))
        cache._nonces = {(r, n): exp for r, n, exp in nonces}
        cache.parked = [(c, p, bool(t)) for c, p, t in await cache._run(store.parked)]
        log.info(
            "bridge.access.cache_loaded",
            version=state.version,
            credentials=len(state.entries),
            path=str(path),
        )
        return cache

    def _run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        # Submitted at once, in call order: the one worker thread runs jobs first come first served.
        return asyncio.get_running_loop().run_in_executor(self._executor, fn)

    @property
    def _db(self) -> _Store:
        if self._store is None:
            raise RuntimeError("credential cache is not open")
        return self._store

    @property
    def version(self) -> int:
        """The version of the set held (0: the platform never sent one)."""
        return self.state.version

    def __len__(self) -> int:
        return len(self.state.entries)

    # -- the platform's sets ----------------------------------------------------------------------

    async def apply(self, frame: Credentials, *, acked: int = 0) -> bool:
        """Store a full set or a fitting delta, then decide by it; False: a delta that does not fit.

        `acked`: the highest event seq the platform has committed (its counts include those passes).
        """
        async with self._lock:
            state = self.state
            if frame.since is not None and frame.since != state.version:
                log.warning(
                    "bridge.access.delta_mismatch",
                    held=state.version,
                    since=frame.since,
                    version=frame.version,
                )
                return False
            now = time.time()
            snapshot = len(self._ledger)
            pending = [u for u in self._ledger if u.seq is None or u.seq > acked]
            new, rows, revoked = _next_state(state, frame, pending, now)
            upserted = {e.id for e in frame.upserts}
            for use in pending:
                # In the row written now but not recorded yet: `record` must not count it again.
                use.in_file = use.in_file or (use.seq is None and use.entry in upserted)
            store = self._db
            await self._run(lambda: store.apply(frame, rows, revoked, acked, now))
            for use in self._ledger[snapshot:]:
                # Counted on the old set while the file was written: count it on the new one too.
                if new.entries.get(use.entry) is not use.held:
                    _count(new, use)
            self._ledger = [u for u in self._ledger if u.seq is None or u.seq > acked]
            for use in self._ledger:
                use.held = new.entries.get(use.entry)  # accounted for in the new set
            self.state = new
        log.info(
            "bridge.access.applied",
            version=frame.version,
            since=frame.since,
            upserts=len(frame.upserts),
            removals=len(frame.removals),
            credentials=len(new.entries),
        )
        return True

    # -- look-ups (memory only) -------------------------------------------------------------------

    def by_digest(self, digest: bytes) -> tuple[Held, int] | None:
        """The credential with this digest, and the HOTP counter of the digest (codes)."""
        found = self.state.by_digest.get(digest)
        if found is None:
            return None
        held = self.state.entries.get(found[0])
        return None if held is None else (held, found[1])

    def by_id(self, credential: str) -> Held | None:
        """The credential with this id."""
        return self.state.entries.get(credential)

    def revoked(self, *, credential: str = "", digest: bytes = b"") -> str:
        """The id of a credential the platform removed (by id or one of its digests), else ""."""
        if credential and credential in self.state.revoked:
            return credential
        return self.state.revoked_digests.get(digest, "") if digest else ""

    def nonce_used(self, reader: str, nonce: bytes, now: float) -> bool:
        """Whether this QR nonce already passed at this reader and has not expired."""
        exp = self._nonces.get((reader, nonce))
        return exp is not None and exp >= now

    # -- local passes -----------------------------------------------------------------------------

    def count(self, held: Held, counter: int | None, *, entry: bool = True) -> Use:
        """Count a pass in memory now (no await: the next decision sees it); `record` stores it.

        `entry`: it uses one of the credential's `uses`; `counter`: the keypad code it burnt.
        """
        use = Use(held.entry.id, counter, held, entry)
        _count(self.state, use)
        self._ledger.append(use)
        return use

    async def record(self, use: Use, seq: int) -> None:
        """Persist a counted pass with its event's seq."""
        use.seq = seq
        current = self.state.entries.get(use.entry)
        if current is not None and current is not use.held:
            # A set applied since the pass was counted did not include it.
            _count(self.state, use)
            use.held = current
        store = self._db
        in_file = use.in_file
        await self._run(lambda: store.count_use(use, seq, in_file=in_file))

    def use_nonce(self, reader: str, nonce: bytes, exp: float) -> None:
        """Mark a QR nonce used at this reader until `exp`, in memory; `store_nonce` stores it."""
        if len(self._nonces) > 10_000:
            now = time.time()
            self._nonces = {k: e for k, e in self._nonces.items() if e >= now}
        self._nonces[(reader, nonce)] = exp

    async def store_nonce(self, reader: str, nonce: bytes, exp: float) -> None:
        """Store a used QR nonce, so that a restarted bridge refuses it too."""
        store, now = self._db, time.time()
        await self._run(lambda: store.use_nonce(reader, nonce, exp, now))

    async def store_moves(self, moves: list[Move]) -> None:
        """Store cars entering and leaving car parks, in order, in one transaction."""
        store = self._db
        await self._run(lambda: store.park(moves))

    async def close(self) -> None:
        """Close the database and stop the worker thread."""
        if self._store is not None:
            store, self._store = self._store, None
            with contextlib.suppress(Exception):
                await self._run(store.close)
        self._executor.shutdown(wait=True)


def _count(state: _State, use: Use) -> None:
    held = state.entries.get(use.entry)
    if held is None:
        return
    if held.uses > 0 and use.counted:
        held.uses -= 1
    if use.counter is not None:
        held.next_counter = max(held.next_counter, use.counter + 1)


def _next_state(
    state: _State, frame: Credentials, pending: Iterable[Use], now: float
) -> tuple[_State, list[tuple[str, bytes, int, int]], list[tuple[str, bytes, float]]]:
    """The state after `frame`, the entry rows to write and the newly revoked credentials."""
    if frame.since is None:
        entries: dict[str, Held] = {}
        kept = {e.id for e in frame.upserts}
        removed = [h for i, h in state.entries.items() if i not in kept]
    else:
        entries = dict(state.entries)
        removed = [state.entries[i] for i in frame.removals if i in state.entries]
        for cred in frame.removals:
            entries.pop(cred, None)
    by_pass: dict[str, list[Use]] = {}
    for use in pending:
        by_pass.setdefault(use.entry, []).append(use)
    rows = []
    for entry in frame.upserts:
        held = Held(entry, entry.uses, entry.counter)
        for use in by_pass.get(entry.id, ()):
            if held.uses > 0 and use.counted:
                held.uses -= 1
            if use.counter is not None:
                held.next_counter = max(held.next_counter, use.counter + 1)
        entries[entry.id] = held
        rows.append((entry.id, _entry_encoder.encode(entry), held.uses, held.next_counter))
    new = _State(
        version=frame.version,
        key=frame.key,
        qr_keys=_public_keys(frame.qr_keys),
        timezone=_zone(frame.timezone),
        entries=entries,
        revoked={i: at for i, at in state.revoked.items() if now - at < REVOKED_KEPT},
    )
    revoked = [(h.entry.id, _entry_encoder.encode(h.entry.digests), now) for h in removed]
    for held in removed:
        new.revoked[held.entry.id] = now
    for entry in frame.upserts:
        new.revoked.pop(entry.id, None)
    if frame.since is not None and not removed and not frame.upserts:
        new.by_digest = state.by_digest
    elif frame.since is not None and len(frame.upserts) + len(removed) < len(entries) // 4:
        new.by_digest = dict(state.by_digest)
        for held in removed:
            for digest in held.entry.digests:
                new.by_digest.pop(digest, None)
        for entry in frame.upserts:
            old = state.entries.get(entry.id)
            for digest in old.entry.digests if old is not None else ():
                new.by_digest.pop(digest, None)
            _index(entries[entry.id], new.by_digest)
    else:
        for held in entries.values():
            _index(held, new.by_digest)
    new.revoked_digests = _revoked_digests(state, new, removed)
    return new, rows, revoked


def _revoked_digests(state: _State, new: _State, removed: list[Held]) -> dict[bytes, str]:
    digests = {d: i for d, i in state.revoked_digests.items() if i in new.revoked}
    for held in removed:
        for digest in held.entry.digests:
            digests[digest] = held.entry.id
    for digest in new.by_digest:
        digests.pop(digest, None)
    return digests
