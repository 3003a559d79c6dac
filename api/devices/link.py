"""The platform's end of a bridge link: challenge, authenticate, then frames both ways.

Frames from the bridge are handled in order, so an Ack for a batch covers every batch before it.
Commands from any api instance arrive over Redis (api/devices/bus.py) and are forwarded here.
What the domains above devices keep on a bridge (credentials, fail-safe rules, access decisions,
handlers of its events) the link reaches through `LinkHooks`, which api/app.py wires into the
app's state as `link_hooks`: devices imports none of those domains.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect
from redis.asyncio import Redis

from api.core.effects import Effects, apply_after_commit
from api.core.realtime import community_channel, publish, records_channel
from api.devices import service
from api.devices.bus import CommandBus, commands_channel, credentials_channel
from api.devices.ingest import DeviceEventHandler, ingest
from api.devices.tables import Bridge
from device_bridge import protocol

log = structlog.get_logger()

# Event kinds that say what a device is doing and name nobody: they go on the community's board,
# which every `board.read` holder follows (maintenance, system administrators included). Any other
# kind (access decisions, plate reads, barrier passes, calls, analytics), and any event whose data
# names a person, a plate or a credential, goes on the records channel, which only callers who may
# read the community's access records follow.
BOARD_KINDS = ("device.", "door.", "alarm.", "sensor.", "video.loss", "elevator.", "broadcast.")
NAMING_FIELDS = frozenset({"person", "plate", "credential", "card", "room", "visitor"})


def event_channel(community_id: uuid.UUID, kind: str, data: Any) -> str:
    """The live channel of one stored device event (see BOARD_KINDS)."""
    if isinstance(data, str | bytes):
        data = msgspec.json.decode(data)
    names = isinstance(data, dict) and not NAMING_FIELDS.isdisjoint(data)
    if kind.startswith(BOARD_KINDS) and not names:
        return community_channel(community_id)
    return records_channel(community_id)


HELLO_TIMEOUT = 10.0
SILENCE_LIMIT = 30.0  # three missed heartbeats: the link is dead even if TCP has not noticed


@dataclass(frozen=True, kw_only=True)
class LinkHooks:
    """What the domains above devices do over a link (api/app.py wires them).

    `rules_for` gives the bridge's fail-safe Rules (None: none to send); `credentials_for` the
    full credential set (`since` None) or the delta since a version; `*_sent`/`*_applied` note
    what the bridge was sent and holds; `on_inventory` runs after an inventory (doors may have
    come); `decide` answers an AccessQuery; `on_events` handle each batch's new events;
    `link_restored` runs when the bridge is back (the alarm of its outage closes).
    `faces_for` the face enrolments and removals the face readers need after a credential frame
    (`full`: a full set, when open requests are sent again), `faces_applied` what they did.
    """

    on_events: Sequence[DeviceEventHandler]
    link_restored: Callable[[uuid.UUID], Awaitable[Effects]]
    on_inventory: Callable[[uuid.UUID], Awaitable[object]]
    rules_for: Callable[[uuid.UUID], Awaitable[protocol.Rules | None]]
    rules_applied: Callable[[uuid.UUID, int], Awaitable[None]]
    credentials_for: Callable[
        [uuid.UUID, uuid.UUID, int | None], Awaitable[protocol.Credentials | None]
    ]
    credentials_sent: Callable[[uuid.UUID, protocol.Credentials], Awaitable[None]]
    credentials_applied: Callable[[uuid.UUID, int], Awaitable[None]]
    decide: Callable[[uuid.UUID, uuid.UUID, protocol.AccessQuery, Redis], Awaitable[protocol.Frame]]
    faces_for: Callable[[uuid.UUID, uuid.UUID, bool], Awaitable[Sequence[protocol.Frame]]]
    faces_applied: Callable[[uuid.UUID, protocol.FaceApplied], Awaitable[None]]


class Link:
    """One authenticated bridge connection."""

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        bridge: Bridge,
        bus: CommandBus,
        channels: ChannelsPlugin,
        hooks: LinkHooks,
        *,
        revision: int = 1,
    ) -> None:
        self.socket = socket
        self.packs = revision >= 2  # the bridge opens packed credential sets
        self.hooks = hooks
        self.bridge = bridge
        self.bus = bus
        self.channels = channels
        self.devices: dict[str, uuid.UUID] = {}
        self.session = uuid.uuid4().hex
        self.replaced = False
        self.rules_sent: protocol.Rules | None = None
        self.credentials_sent: int | None = None  # the version of the last Credentials sent
        self.credentials_lock = asyncio.Lock()  # deltas chain: one computed and sent at a time
        self.ids = {"bridge_id": str(bridge.id), "session": self.session}

    async def send(self, frame: protocol.Frame) -> None:
        """Send one frame."""
        await self.socket.send_bytes(protocol.encode(frame))

    async def send_rules(self) -> None:
        """The community's fail-safe rules for this bridge, unless this link sent the same."""
        frame = await self.hooks.rules_for(self.bridge.id)
        if frame is not None and frame != self.rules_sent:
            await self.send(frame)
            self.rules_sent = frame

    async def send_credentials(self, *, full: bool = False) -> None:
        """The full credential set (possibly empty), or the delta since the last one this link
        sent, if any. Deltas wait for the full set that follows the inventory."""
        async with self.credentials_lock:
            since = None if full else self.credentials_sent
            if since is None and not full:
                return
            frame = await self.hooks.credentials_for(self.bridge.id, self.bridge.community, since)
            if frame is None:
                return
            await self.send(protocol.pack(frame) if self.packs else frame)
            self.credentials_sent = frame.version
            await self.hooks.credentials_sent(self.bridge.id, frame)
            full = frame.since is None
            if full or frame.removals or any(e.kind == "face" for e in frame.upserts):
                try:
                    faces = await self.hooks.faces_for(self.bridge.id, self.bridge.community, full)
                except Exception:  # the set went; the faces go again with the next full set
                    log.exception("bridge.faces.not_sent", **self.ids)
                    faces = []
                for face_frame in faces:  # after the set: the readers match what it grants
                    await self.send(face_frame)
            log.info(
                "bridge.credentials.sent",
                version=frame.version,
                since=frame.since,
                upserts=len(frame.upserts),
                removals=len(frame.removals),
                **self.ids,
            )

    async def run(self) -> None:
        """Serve the link until the bridge goes, falls silent, or a newer link replaces it."""
        async with self.bus.listen(self.bridge.id) as messages:
            await self.bus.kick(self.bridge.id, self.session)
            forward = asyncio.create_task(self._forward(messages))
            try:
                await self._receive()
            finally:
                forward.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await forward

    async def _receive(self) -> None:
        while True:
            try:
                async with asyncio.timeout(SILENCE_LIMIT):
                    data = await self.socket.receive_bytes()
            except TimeoutError:
                log.warning("bridge.link.silent", **self.ids)
                return
            try:
                frame = protocol.decode_to_platform(data)
            except (msgspec.DecodeError, msgspec.ValidationError) as err:
                log.warning("bridge.frame.malformed", error=str(err)[:200], **self.ids)
                await self.send(protocol.Reject(reason=f"malformed frame: {str(err)[:200]}"))
                continue
            await self._handle(frame)

    async def _handle(self, frame: protocol.ToPlatform) -> None:
        match frame:
            case protocol.EventBatch(events=events) if events:
                result = await ingest(
                    self.bridge.id,
                    self.bridge.community,
                    self.devices,
                    events,
                    self.hooks.on_events,
                )
                await self.send(protocol.Ack(seq=result.ack))
                for seq, reason in result.rejected:
                    await self.send(protocol.Reject(reason=reason, seq=seq))
                for event in result.stored:
                    publish(
                        self.channels,
                        {
                            "type": "device.event",
                            "kind": event.kind,
                            "device_id": str(event.device),
                            "at": event.at.isoformat(),
                            # inline pictures (a plate read's snapshot) stay off the sockets
                            "data": {k: v for k, v in event.data.items() if not k.endswith("_b64")},
                        },
                        event_channel(self.bridge.community, event.kind, event.data),
                    )
                # after the Ack: the batch is committed
                await apply_after_commit(result.effects, self.socket.app.state, self.channels)
            case protocol.Inventory(devices=devices):
                self.devices = await service.sync_inventory(self.bridge, devices)
                await self.hooks.on_inventory(self.bridge.id)
                log.info("bridge.inventory", devices=len(devices), **self.ids)
                await self.send_rules()  # new devices may widen a rule's scope
                await self.send_credentials(full=True)  # doors may have come or gone
            case protocol.CredentialsApplied(version=version, ok=ok):
                if ok:
                    await self.hooks.credentials_applied(self.bridge.id, version)
                else:
                    log.warning("bridge.credentials.refused", version=version, **self.ids)
                    await self.send_credentials(full=True)
            case protocol.AccessQuery():
                redis = self.socket.app.state.redis
                await self.send(
                    await self.hooks.decide(self.bridge.id, self.bridge.community, frame, redis)
                )
            case protocol.FaceApplied():
                await self.hooks.faces_applied(self.bridge.id, frame)
            case protocol.RulesApplied(version=version):
                await self.hooks.rules_applied(self.bridge.id, version)
            case protocol.CommandResult():
                await self.bus.publish_result(frame)
            case protocol.Heartbeat():
                received = time.time()
                await service.heartbeat(self.bridge.id, frame, received)
                await self.send(protocol.HeartbeatAck(server_time=received, sent_at=frame.sent_at))
                await self.send_credentials()  # a missed push is caught up here
            case _:
                await self.send(protocol.Reject(reason=f"unexpected frame {type(frame).__name__}"))

    async def _forward(self, messages: Any) -> None:
        """Commands for this bridge from any instance; a kick from a newer link closes this one."""
        async for channel, data in messages:
            if channel == commands_channel(self.bridge.id):
                try:
                    await self.socket.send_bytes(data)
                except (WebSocketDisconnect, RuntimeError, OSError):  # the bridge is going
                    await self.bus.undelivered(data)
            elif channel == credentials_channel(self.bridge.id):
                try:
                    await self.send_credentials()
                except Exception:  # this task also forwards commands: it must live on
                    log.exception("bridge.credentials.failed", **self.ids)
            elif data.decode() != self.session:
                log.info("bridge.link.replaced", **self.ids)
                self.replaced = True
                await self.socket.close(code=4000, reason="replaced by a newer link")
                return


@websocket("/api/v1/bridge/link", name="bridge_link")
async def bridge_link(socket: WebSocket[Any, Any, Any], channels: ChannelsPlugin) -> None:
    """Where bridges connect: signed challenge, then the link."""
    await socket.accept()
    nonce = secrets.token_bytes(32)
    await socket.send_bytes(
        protocol.encode(protocol.Challenge(nonce=nonce, server_time=time.time()))
    )
    peer = socket.client.host if socket.client else None
    try:
        async with asyncio.timeout(HELLO_TIMEOUT):
            hello = protocol.decode_to_platform(await socket.receive_bytes())
        if not isinstance(hello, protocol.Hello):
            raise service.LinkRefused("expected hello")
        bridge = await service.authenticate(hello, nonce)
    except (service.LinkRefused, msgspec.DecodeError, msgspec.ValidationError, TimeoutError) as err:
        reason = str(err) or type(err).__name__
        log.warning("bridge.link.refused", reason=reason, peer=peer)
        with contextlib.suppress(Exception):
            await socket.send_bytes(protocol.encode(protocol.Refused(reason=reason)))
            await socket.close(code=4401, reason="refused")
        return
    except WebSocketDisconnect:
        return
    last_seq = await service.link_up(bridge, hello.version)
    await socket.send_bytes(
        protocol.encode(protocol.Welcome(last_seq=last_seq, server_time=time.time()))
    )
    log.info("bridge.link.up", bridge_id=str(bridge.id), peer=peer, last_seq=last_seq)
    state = socket.app.state
    try:
        restored = await state.link_hooks.link_restored(bridge.id)
        await apply_after_commit(restored, state, channels)
    except Exception:  # the link must not fail on it: the sweep closes what this missed
        log.exception("bridge.link.restored_failed", bridge_id=str(bridge.id))
    link = Link(
        socket,
        bridge,
        CommandBus(state.redis),
        channels,
        state.link_hooks,
        revision=hello.protocol,
    )
    await link.send_rules()
    reason = "link closed"
    try:
        await link.run()
    except WebSocketDisconnect:
        reason = "bridge disconnected"
    finally:
        if not link.replaced and await service.link_down(bridge.id, reason=reason):
            publish(
                channels,
                {"type": "bridge.offline", "bridge_id": str(bridge.id)},
                community_channel(bridge.community),
            )
        log.info("bridge.link.down", bridge_id=str(bridge.id), reason=reason)
