"""A minimal platform peer for the bridge's tests: the real protocol, over a real WebSocket.

It verifies Hello signatures with Ed25519, stores events deduplicated by seq, acks cumulatively,
answers heartbeats, sends commands and local rule sets (after each Welcome, as the platform does),
sends credential sets and answers access queries (`answer`). `Issuer` makes credential sets and
signs dynamic QR codes as the platform does. Knobs let a test break it: refuse, go silent, hang up
after N events, ack slowly, skew its clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from websockets.asyncio.server import Server, ServerConnection, serve

from device_bridge import protocol as p


class FakePlatform:
    """The platform side of the link, for one or more enrolled bridges."""

    def __init__(self, keys: dict[str, Ed25519PublicKey]) -> None:
        self.keys = keys
        self.events: dict[int, p.Event] = {}  # by seq: stored exactly once
        self.received: list[int] = []  # every seq as it arrived, duplicates included
        self.inventories: list[list[p.DeviceInfo]] = []
        self.heartbeats: list[p.Heartbeat] = []
        self.hellos = 0
        self.revision = 0  # the frame revision the last Hello said
        self.welcomes = 0
        self.refusals: list[str] = []
        self.refuse: str | None = None  # refuse every Hello with this reason
        self.silent = False  # after Welcome, send nothing at all (no acks, no heartbeat acks)
        self.hang_up_after: int | None = None  # abort the connection once this many are stored
        self.ack_delay = 0.0
        self.skip_acks = 0  # store this many batches without acking them (lost acks)
        self.clock_offset = 0.0  # the platform's clock minus the real one
        self.rules: p.Rules | None = None  # sent after every Welcome, when set
        self.rules_applied: list[int] = []  # versions the bridge acknowledged, in order
        self.credentials_applied: list[p.CredentialsApplied] = []
        self.queries: list[p.AccessQuery] = []
        self.faces_applied: list[p.FaceApplied] = []
        # How access queries are answered; None (or an answer of None): never answered.
        self.answer: Callable[[p.AccessQuery], p.AccessAnswer | None] | None = None
        self.port = 0
        self._server: Server | None = None
        self._conn: ServerConnection | None = None
        self._results: dict[str, asyncio.Future[p.CommandResult]] = {}
        self.connected = asyncio.Event()
        self.changed = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL a bridge is configured with."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen (on the same port again after a stop)."""
        self._server = await serve(self._handle, "127.0.0.1", self.port)
        self.port = next(iter(self._server.sockets)).getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.connected.clear()

    async def kick(self) -> None:
        """Abort the current connection without a closing handshake (a network cut)."""
        if self._conn is not None:
            self._conn.transport.abort()

    def now(self) -> float:
        """The platform's clock."""
        return time.time() + self.clock_offset

    # -- what the tests look at -------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """The highest seq with every seq up to it stored (what Welcome reports)."""
        seq = 0
        while seq + 1 in self.events:
            seq += 1
        return seq

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Wait until `predicate()` holds."""
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.05):
                        await self.changed.wait()

    async def command(
        self, device: str, action: str, args: dict[str, Any] | None = None, *, within: float = 2.0
    ) -> p.CommandResult:
        """Send a command to the connected bridge and wait for its result."""
        assert self._conn is not None, "no bridge connected"
        command = p.Command(
            id=uuid.uuid4().hex,
            device=device,
            action=action,
            args=args or {},
            deadline=self.now() + within,
        )
        future: asyncio.Future[p.CommandResult] = asyncio.get_running_loop().create_future()
        self._results[command.id] = future
        await self._conn.send(p.encode(command))
        return await asyncio.wait_for(future, within + 2.0)

    async def send_rules(self, version: int, rules: list[p.LocalRule]) -> None:
        """Push a new complete rule set to the connected bridge (and after every later Welcome)."""
        assert self._conn is not None, "no bridge connected"
        self.rules = p.Rules(version=version, rules=rules)
        await self._conn.send(p.encode(self.rules))

    async def send_credentials(self, frame: p.Credentials) -> p.CredentialsApplied:
        """Send a credential set or delta and wait for the bridge's CredentialsApplied."""
        assert self._conn is not None, "no bridge connected"
        answered = len(self.credentials_applied)
        await self._conn.send(p.encode(frame))
        await self.wait_for(lambda: len(self.credentials_applied) > answered)
        return self.credentials_applied[answered]

    async def send_faces(self, frame: p.FaceEnrol | p.FaceRemove) -> p.FaceApplied:
        """Send a face enrolment or removal and wait for the bridge's FaceApplied."""
        assert self._conn is not None, "no bridge connected"
        await self._conn.send(p.encode(frame))
        await self.wait_for(lambda: any(a.id == frame.id for a in self.faces_applied))
        return next(a for a in self.faces_applied if a.id == frame.id)

    async def send_raw(self, data: bytes | str) -> None:
        """Send anything at all to the bridge."""
        assert self._conn is not None
        await self._conn.send(data)

    # -- the protocol -----------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        nonce = os.urandom(32)
        await ws.send(p.encode(p.Challenge(nonce=nonce, server_time=self.now())))
        hello = p.decode_to_platform(await ws.recv())  # type: ignore[arg-type]
        assert isinstance(hello, p.Hello)
        self.hellos += 1
        self.revision = hello.protocol
        reason = self.refuse or self._verify(hello, nonce)
        if reason:
            self.refusals.append(reason)
            await ws.send(p.encode(p.Refused(reason=reason)))
            await ws.close(1008, reason)
            return
        self._conn = ws
        self.welcomes += 1
        await ws.send(p.encode(p.Welcome(last_seq=self.last_seq, server_time=self.now())))
        if self.rules is not None:
            await ws.send(p.encode(self.rules))
        self.connected.set()
        try:
            async for raw in ws:
                frame = p.decode_to_platform(raw)  # type: ignore[arg-type]
                await self._on_frame(ws, frame)
                self.changed.set()
        except Exception:  # noqa: S110 - a dropped connection ends the session, as on the platform
            pass
        finally:
            if self._conn is ws:
                self._conn = None
                self.connected.clear()
            self.changed.set()

    def _verify(self, hello: p.Hello, nonce: bytes) -> str:
        key = self.keys.get(hello.bridge_id)
        if key is None:
            return "unknown bridge"
        try:
            key.verify(hello.signature, p.challenge_message(nonce, hello.bridge_id))
        except InvalidSignature:
            return "bad signature"
        return ""

    async def _on_frame(self, ws: ServerConnection, frame: p.ToPlatform) -> None:
        if isinstance(frame, p.Inventory):
            self.inventories.append(frame.devices)
        elif isinstance(frame, p.EventBatch):
            for event in frame.events:
                self.received.append(event.seq)
                self.events.setdefault(event.seq, event)
            if self.hang_up_after is not None and len(self.events) >= self.hang_up_after:
                self.hang_up_after = None
                ws.transport.abort()  # stored, never acked: the bridge must resend, we dedupe
                return
            if self.silent:
                return
            if self.skip_acks:
                self.skip_acks -= 1
                return
            if self.ack_delay:
                await asyncio.sleep(self.ack_delay)
            await ws.send(p.encode(p.Ack(seq=self.last_seq)))
        elif isinstance(frame, p.Heartbeat):
            self.heartbeats.append(frame)
            if not self.silent:
                ack = p.HeartbeatAck(server_time=self.now(), sent_at=frame.sent_at)
                await ws.send(p.encode(ack))
        elif isinstance(frame, p.RulesApplied):
            self.rules_applied.append(frame.version)
        elif isinstance(frame, p.CredentialsApplied):
            self.credentials_applied.append(frame)
        elif isinstance(frame, p.AccessQuery):
            self.queries.append(frame)
            answer = self.answer(frame) if self.answer is not None else None
            if answer is not None:
                await ws.send(p.encode(answer))
        elif isinstance(frame, p.FaceApplied):
            self.faces_applied.append(frame)
        elif isinstance(frame, p.CommandResult):
            future = self._results.pop(frame.id, None)
            if future is not None and not future.done():
                future.set_result(frame)


class Issuer:
    """The platform's credential side for one bridge: its digest key, a QR signing key, the set."""

    def __init__(self, *, kid: str = "k1", timezone: str = "Asia/Shanghai") -> None:
        self.key = os.urandom(32)
        self.kid = kid
        self.signer = Ed25519PrivateKey.generate()
        self.timezone = timezone
        self.version = 0

    def digest(self, kind: str, value: str) -> bytes:
        """HMAC-SHA256(key, "kind:value"), as the platform computes it."""
        return hmac.new(self.key, f"{kind}:{value}".encode(), hashlib.sha256).digest()

    def frame(
        self,
        upserts: list[p.CredentialEntry],
        removals: list[str] | None = None,
        *,
        full: bool = False,
        since: int | None = None,
    ) -> p.Credentials:
        """The next version: a full set, or a delta from the current version (or `since`)."""
        previous, self.version = self.version, self.version + 1
        public = self.signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return p.Credentials(
            version=self.version,
            since=None if full else (previous if since is None else since),
            key=self.key,
            qr_keys={self.kid: public},
            timezone=self.timezone,
            upserts=upserts,
            removals=removals or [],
        )

    def qr(
        self,
        cred: str,
        *,
        iat: float | None = None,
        ttl: float = 30.0,
        nonce: bytes | None = None,
        signer: Ed25519PrivateKey | None = None,
        kid: str | None = None,
    ) -> str:
        """A signed dynamic QR token for a credential."""
        issued = time.time() if iat is None else iat
        claims = p.QrClaims(
            cred=cred,
            iat=issued,
            exp=issued + ttl,
            nonce=nonce or os.urandom(12),
            kid=kid or self.kid,
        )
        return p.qr_token(claims, (signer or self.signer).sign)
