"""The bridge's link to the platform: one outbound WebSocket, authenticated, with store-and-forward.

Connect → Challenge → Hello (Ed25519 signature) → Welcome(last_seq) → Inventory, then at once: event
batches from the outbox (a window of batches in flight, deleted on cumulative Ack), commands run on
the drivers, local rule sets stored and acknowledged, credential sets applied and acknowledged,
access queries answered, heartbeats both ways. No frame for 3 heartbeat
intervals means the link is dead; every failure reconnects with exponential backoff and jitter,
reset by a Welcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import msgspec
import structlog
import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from websockets.asyncio.client import ClientConnection, connect

from device_bridge import protocol as p
from device_bridge.identity import sign_challenge
from device_bridge.outbox import Outbox
from device_bridge.settings import VERSION

log = structlog.get_logger(__name__)

CommandHandler = Callable[[p.Command], Awaitable[p.CommandResult]]
RulesHandler = Callable[[p.Rules], Awaitable[None]]
CredentialsHandler = Callable[[p.Credentials], Awaitable[p.CredentialsApplied]]
FacesHandler = Callable[[p.FaceEnrol | p.FaceRemove], Awaitable[p.FaceApplied]]
SKEW_LOG_THRESHOLD = 2.0  # seconds


class LinkError(Exception):
    """The session ended; the link reconnects."""


class LinkRefused(LinkError):
    """The platform refused the bridge's Hello."""


class LinkDead(LinkError):
    """Nothing arrived from the platform for too long."""


class Backoff:
    """Exponential reconnect delays with jitter: initial, ×2 each time, capped; reset on success."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self.initial, self.maximum = initial, maximum
        self.attempt = 0

    def next(self) -> float:
        """The next delay in seconds (between half and all of the exponential step)."""
        step = min(self.maximum, self.initial * 2**self.attempt)
        self.attempt = min(self.attempt + 1, 32)
        return step * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        """Start again from the initial delay."""
        self.attempt = 0


class Link:
    """The WebSocket client; `run()` until cancelled, `notify()` after each outbox append."""

    def __init__(
        self,
        *,
        url: str,
        bridge_id: str,
        key: Ed25519PrivateKey,
        outbox: Outbox,
        inventory: Callable[[], list[p.DeviceInfo]],
        on_command: CommandHandler,
        on_rules: RulesHandler | None = None,
        on_credentials: CredentialsHandler | None = None,
        on_faces: FacesHandler | None = None,
        clock_skews: Callable[[], dict[str, float]] = dict,
        heartbeat_interval: float = 10.0,
        backoff: Backoff | None = None,
        version: str = VERSION,
        batch_size: int = 200,
        window: int = 5,
        handshake_timeout: float = 10.0,
    ) -> None:
        self.url, self.bridge_id, self.version = url, bridge_id, version
        self._key = key
        self.outbox = outbox
        self._inventory = inventory
        self._on_command = on_command
        self._on_rules = on_rules
        self._on_credentials = on_credentials
        self._on_faces = on_faces
        self._clock_skews = clock_skews
        self.heartbeat_interval = heartbeat_interval
        self.backoff = backoff or Backoff()
        self.batch_size, self.window = batch_size, window
        self.handshake_timeout = handshake_timeout
        self.state = "idle"
        self.skew = 0.0  # platform clock − bridge clock, from the handshake and heartbeats
        self.sessions = 0  # Welcomes received
        self.authenticated = asyncio.Event()
        self._wake = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._ws: ClientConnection | None = None
        self._last_rx = time.monotonic()
        self._acked = self._sent = 0
        self._in_flight: deque[tuple[int, float]] = deque()  # (last seq of a batch, sent at)
        self._commands: set[asyncio.Task[None]] = set()
        self._queries: dict[str, asyncio.Future[p.AccessAnswer]] = {}

    def platform_time(self) -> float:
        """Now, on the platform's clock as last measured."""
        return time.time() + self.skew

    def notify(self) -> None:
        """New events are in the outbox: wake the sender."""
        self._wake.set()

    async def send_inventory(self) -> None:
        """Send the device list again (after a configuration change); no-op when not connected."""
        if self._ws is not None and self.authenticated.is_set():
            await self._send(self._ws, p.Inventory(devices=self._inventory()))

    async def query(self, frame: p.AccessQuery, timeout: float) -> p.AccessAnswer | None:
        """Ask the platform to decide an access; None when not connected or no answer in time."""
        ws = self._ws
        if ws is None or not self.authenticated.is_set():
            return None
        future: asyncio.Future[p.AccessAnswer] = asyncio.get_running_loop().create_future()
        self._queries[frame.id] = future
        try:
            async with asyncio.timeout(timeout):
                await self._send(ws, frame)
                return await future
        except (TimeoutError, websockets.ConnectionClosed):
            log.warning("bridge.access.query_unanswered", query_id=frame.id, door=frame.door)
            return None
        finally:
            self._queries.pop(frame.id, None)

    async def run(self) -> None:
        """Keep the link up until cancelled, reconnecting with backoff."""
        try:
            while True:
                await self._connect_once()
                delay = self.backoff.next()
                self._set_state("reconnecting", delay=round(delay, 2))
                await asyncio.sleep(delay)
        finally:
            self.authenticated.clear()
            self._set_state("stopped")

    # -- one connection ---------------------------------------------------------------------------

    async def _connect_once(self) -> None:
        self._set_state("connecting", url=self.url)
        reason = "closed"
        try:
            async with connect(
                self.url,
                open_timeout=self.handshake_timeout,
                ping_interval=None,
                close_timeout=2,
                max_size=2**25,  # a full credential set is one frame (~115 B a credential)
            ) as ws:
                self._set_state("connected")
                self._ws = ws
                await self._session(ws)
        except LinkRefused:
            return  # logged as bridge.link.refused
        except (LinkError, OSError, TimeoutError, websockets.WebSocketException) as err:
            reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        except Exception as err:  # a bug must not stop the bridge for good: log it, reconnect
            log.exception("bridge.link.crashed", bridge_id=self.bridge_id)
            reason = f"internal error: {type(err).__name__}"
        finally:
            self._ws = None
            self.authenticated.clear()
            for task in list(self._commands):
                task.cancel()
        self._set_state("disconnected", reason=reason)

    async def _session(self, ws: ClientConnection) -> None:
        challenge = await self._handshake_frame(ws)
        if not isinstance(challenge, p.Challenge):
            raise LinkError(f"expected a challenge, got {type(challenge).__name__}")
        hello_at = time.time()
        signature = sign_challenge(self._key, challenge.nonce, self.bridge_id)
        await self._send(
            ws,
            p.Hello(
                bridge_id=self.bridge_id,
                signature=signature,
                version=self.version,
                protocol=p.REVISION,
            ),
        )
        reply = await self._handshake_frame(ws)
        if isinstance(reply, p.Refused):
            self._set_state("refused", reason=reply.reason)
            raise LinkRefused(reply.reason)
        if not isinstance(reply, p.Welcome):
            raise LinkError(f"expected welcome or refused, got {type(reply).__name__}")
        self.skew = reply.server_time - (hello_at + time.time()) / 2
        self.backoff.reset()
        self.sessions += 1
        await self.outbox.ack(reply.last_seq)
        await self.outbox.advance_to(reply.last_seq)
        self._acked = self._sent = reply.last_seq
        self._in_flight.clear()
        self._set_state(
            "authenticated",
            last_seq=reply.last_seq,
            outbox=await self.outbox.count(),
        )
        await self._send(ws, p.Inventory(devices=self._inventory()))
        self._last_rx = time.monotonic()
        self.authenticated.set()
        await _first_failure(
            self._reader(ws), self._sender(ws), self._heartbeats(ws), self._watchdog()
        )

    async def _handshake_frame(self, ws: ClientConnection) -> p.ToBridge:
        async with asyncio.timeout(self.handshake_timeout):
            raw = await ws.recv()
        self._last_rx = time.monotonic()
        if not isinstance(raw, bytes):
            raise LinkError("text frame in the handshake")
        try:
            return p.decode_to_bridge(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            raise LinkError(f"malformed handshake frame: {err}") from err

    async def _send(self, ws: ClientConnection, frame: p.Frame) -> None:
        data = p.encode(frame)
        async with self._send_lock:
            await ws.send(data)

    # -- the concurrent parts of a session ---------------------------------------------------------

    async def _reader(self, ws: ClientConnection) -> None:
        async for raw in ws:
            self._last_rx = time.monotonic()
            if not isinstance(raw, bytes):
                log.warning("bridge.link.malformed_frame", reason="text frame")
                continue
            try:
                frame = p.decode_to_bridge(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as err:
                log.warning("bridge.link.malformed_frame", reason=str(err), size=len(raw))
                continue
            if isinstance(frame, p.Ack):
                await self._on_ack(frame.seq)
            elif isinstance(frame, p.Command):
                task = asyncio.create_task(self._run_command(ws, frame), name=f"cmd-{frame.id}")
                self._commands.add(task)
                task.add_done_callback(self._commands.discard)
            elif isinstance(frame, p.Rules) and self._on_rules is not None:
                # In the reader, not a task: sets apply in the order they were sent.
                await self._apply_rules(ws, frame)
            elif isinstance(frame, p.Credentials) and self._on_credentials is not None:
                # In the reader too: a delta applies only on top of the one sent before it.
                await self._apply_credentials(ws, frame)
            elif isinstance(frame, p.FaceEnrol | p.FaceRemove) and self._on_faces is not None:
                # A task: photos to several readers take seconds; the handler keeps their order.
                task = asyncio.create_task(self._apply_faces(ws, frame), name=f"face-{frame.id}")
                self._commands.add(task)
                task.add_done_callback(self._commands.discard)
            elif isinstance(frame, p.AccessAnswer):
                future = self._queries.get(frame.id)
                if future is not None and not future.done():
                    future.set_result(frame)
                else:
                    log.info("bridge.access.late_answer", query_id=frame.id)
            elif isinstance(frame, p.HeartbeatAck):
                self._on_heartbeat_ack(frame)
            elif isinstance(frame, p.Reject):
                log.warning("bridge.link.rejected", reason=frame.reason, seq=frame.seq)
            else:
                log.warning("bridge.link.unexpected_frame", frame=type(frame).__name__)
        raise LinkError(f"platform closed the link ({ws.close_code} {ws.close_reason})".strip())

    async def _on_ack(self, seq: int) -> None:
        if seq <= self._acked:
            return
        if seq > self._sent:
            log.warning("bridge.link.ack_beyond_sent", seq=seq, sent=self._sent)
        self._acked = seq
        await self.outbox.ack(seq)
        self._wake.set()

    async def _apply_rules(self, ws: ClientConnection, frame: p.Rules) -> None:
        assert self._on_rules is not None
        try:
            await self._on_rules(frame)
        except Exception:  # not stored: no RulesApplied, the platform sends the set again
            log.exception("bridge.rules.not_applied", version=frame.version)
            return
        await self._send(ws, p.RulesApplied(version=frame.version))

    async def _apply_credentials(self, ws: ClientConnection, frame: p.Credentials) -> None:
        assert self._on_credentials is not None
        try:
            if frame.packed:  # a 100,000-entry set takes ~0.1 s to open: off the event loop
                frame = await asyncio.to_thread(p.unpack, frame)
            applied = await self._on_credentials(frame)
        except Exception:  # not stored: no answer, the platform sends the set again
            log.exception("bridge.access.not_applied", version=frame.version)
            return
        await self._send(ws, applied)

    async def _apply_faces(self, ws: ClientConnection, frame: p.FaceEnrol | p.FaceRemove) -> None:
        assert self._on_faces is not None
        try:
            applied = await self._on_faces(frame)
            await self._send(ws, applied)
        except websockets.ConnectionClosed:  # the platform sends it again on the next full set
            log.warning("bridge.faces.result_lost", request=frame.id)
        except Exception:
            log.exception("bridge.faces.failed", request=frame.id)

    async def _sender(self, ws: ClientConnection) -> None:
        ack_timeout = 3 * self.heartbeat_interval
        while True:
            self._wake.clear()
            while self._in_flight and self._in_flight[0][0] <= self._acked:
                self._in_flight.popleft()
            if self._in_flight and time.monotonic() - self._in_flight[0][1] > ack_timeout:
                log.warning("bridge.link.ack_timeout", acked=self._acked, sent=self._sent)
                self._sent = self._acked  # resend; the platform dedupes on seq
                self._in_flight.clear()
                continue
            events: list[p.Event] = []
            if len(self._in_flight) < self.window:
                events = await self.outbox.pending(after=self._sent, limit=self.batch_size)
            if not events:
                wait = None
                if self._in_flight:
                    wait = max(0.0, ack_timeout - (time.monotonic() - self._in_flight[0][1]))
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                continue
            await self._send(ws, p.EventBatch(events=events))
            self._sent = events[-1].seq
            self._in_flight.append((self._sent, time.monotonic()))

    async def _heartbeats(self, ws: ClientConnection) -> None:
        while True:
            beat = p.Heartbeat(
                sent_at=time.time(),
                outbox=await self.outbox.count(),
                device_skew=self._clock_skews(),
            )
            await self._send(ws, beat)
            await asyncio.sleep(self.heartbeat_interval)

    def _on_heartbeat_ack(self, ack: p.HeartbeatAck) -> None:
        self.skew = ack.server_time - (ack.sent_at + time.time()) / 2
        if abs(self.skew) > SKEW_LOG_THRESHOLD:
            log.warning("bridge.clock.skew", skew=round(self.skew, 3), bridge_id=self.bridge_id)

    async def _watchdog(self) -> None:
        limit = 3 * self.heartbeat_interval
        while True:
            await asyncio.sleep(self.heartbeat_interval / 2)
            silent = time.monotonic() - self._last_rx
            if silent > limit:
                raise LinkDead(f"no frame from the platform for {silent:.1f} s")

    async def _run_command(self, ws: ClientConnection, command: p.Command) -> None:
        try:
            result = await self._on_command(command)
        except Exception:
            log.exception("bridge.command.crashed", command_id=command.id, device=command.device)
            result = p.CommandResult(id=command.id, status="failed", detail="internal error")
        try:
            await self._send(ws, result)
        except websockets.ConnectionClosed:
            log.warning("bridge.command.result_lost", command_id=command.id, status=result.status)

    def _set_state(self, state: str, **fields: Any) -> None:
        self.state = state
        level = "warning" if state in {"refused", "disconnected"} else "info"
        getattr(log, level)(f"bridge.link.{state}", bridge_id=self.bridge_id, **fields)


async def _first_failure(*coros: Coroutine[Any, Any, None]) -> None:
    """Run the coroutines together until one ends or fails; cancel the rest; re-raise a failure."""
    tasks = [asyncio.create_task(c) for c in coros]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if not task.cancelled() and (err := task.exception()) is not None:
            raise err
    raise LinkError("session ended")
