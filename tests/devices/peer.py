"""A scripted bridge for platform-side tests: speaks the wire protocol frame by frame.

The real bridge (device_bridge) is used where the whole path matters. `Peer` is one raw link, so a
test can send exactly the wrong thing (a bad signature, a replayed answer, garbage) to see what
the platform does; `ScriptedBridge` is a well-behaved site built on it. Both are async context
managers that close their link on exit (tests/plugins/site.py links sites for a test and closes
them after).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from api.devices.tables import Device
from device_bridge import protocol
from tests.helpers import JPEG, ApiClient, released

OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=browser offer\r\nt=0 0\r\n"
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 200


@dataclass
class EnrolledBridge:
    """A bridge registered with the platform: its id and private key."""

    id: str
    community_id: str
    key: Ed25519PrivateKey


async def enrol(
    admin: ApiClient, community_id: object, name: str = "test-bridge"
) -> EnrolledBridge:
    """Issue a token as a system administrator and enrol a fresh key with it."""
    token = (
        await admin.post(
            "/api/v1/bridges/enrolment-tokens", json={"community_id": str(community_id)}
        )
    ).json()["token"]
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(
        key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ).decode()
    answer = await admin.post(
        "/api/v1/bridges/enroll", json={"token": token, "public_key": public, "name": name}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return EnrolledBridge(id=body["bridge_id"], community_id=body["community_id"], key=key)


MAX_FRAME = 2**25  # as the bridge: a full set of 10,000 credentials is one frame


@dataclass
class Peer:
    """One link: connect, answer the challenge, then send and receive frames.

    `async with Peer.open(url) as peer` (a raw link) or `async with Peer.authenticated(url,
    bridge, devices) as peer` (past the Welcome, its inventory in): leaving hangs up and, when the
    platform welcomed the link, waits until it has let go of it, so no link outlives its test. A
    test whose subject is the hang-up itself does it first (`peer.ws.close()`); leaving is then
    only the wait. `authenticated` keeps the Rules and Credentials frames that came before its
    HeartbeatAck.
    """

    ws: websockets.ClientConnection
    challenge: protocol.Challenge
    rules: list[protocol.Rules] = field(default_factory=list)
    credentials: list[protocol.Credentials] = field(default_factory=list)
    bridge_id: str | None = None  # whom the last Hello sent spoke for
    welcome: protocol.Welcome | None = None  # the platform's Welcome, once received

    @classmethod
    async def connect(cls, live_url: str) -> Peer:
        """Connect and read the platform's challenge (the caller closes the link)."""
        ws = await websockets.connect(
            live_url.replace("http", "ws") + "/api/v1/bridge/link", max_size=MAX_FRAME
        )
        try:
            challenge = protocol.decode_to_bridge(await ws.recv())
            assert isinstance(challenge, protocol.Challenge)
        except BaseException:
            await ws.close()
            raise
        return cls(ws, challenge)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, live_url: str) -> AsyncIterator[Peer]:
        """A raw link, its challenge read; closed on leaving."""
        async with await cls.connect(live_url) as peer:
            yield peer

    @classmethod
    @contextlib.asynccontextmanager
    async def authenticated(
        cls, live_url: str, bridge: EnrolledBridge, devices: list[protocol.DeviceInfo]
    ) -> AsyncIterator[Peer]:
        """A link past authentication (its Welcome in `welcome`), with the inventory registered;
        closed on leaving."""
        async with cls.open(live_url) as peer:
            await peer.authenticate(bridge, devices)
            yield peer

    async def __aenter__(self) -> Peer:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is None:
            await self.close()
        else:  # the test failed: hang up, and let its own error be the one reported
            await self.ws.close()

    async def close(self) -> None:
        """Hang up; when the platform welcomed this link, wait until it has let go of it."""
        await self.ws.close()
        if self.welcome is not None:
            await released(self.bridge_id)

    def hello(self, bridge: EnrolledBridge, key: Ed25519PrivateKey | None = None) -> protocol.Hello:
        """A Hello signed over this link's challenge (with another key when given)."""
        message = protocol.challenge_message(self.challenge.nonce, bridge.id)
        return protocol.Hello(bridge_id=bridge.id, signature=(key or bridge.key).sign(message))

    async def send(self, frame: protocol.Frame) -> None:
        """Send a frame."""
        if isinstance(frame, protocol.Hello):
            self.bridge_id = frame.bridge_id
        await self.ws.send(protocol.encode(frame))

    async def recv(self) -> protocol.ToBridge:
        """Receive the next frame."""
        frame = protocol.decode_to_bridge(await self.ws.recv())
        if isinstance(frame, protocol.Welcome):
            self.welcome = frame
        return frame

    async def authenticate(
        self, bridge: EnrolledBridge, devices: list[protocol.DeviceInfo]
    ) -> protocol.Welcome:
        """Say Hello, register the inventory and read up to the HeartbeatAck that follows it (the
        Rules and the full Credentials set the platform sends after it go to `rules` and
        `credentials`)."""
        await self.send(self.hello(bridge))
        welcome = await self.recv()
        assert isinstance(welcome, protocol.Welcome), welcome
        await self.send(protocol.Inventory(devices=devices))
        await self.send(protocol.Heartbeat(sent_at=time.time()))  # frames are handled in order:
        while not isinstance(frame := await self.recv(), protocol.HeartbeatAck):  # the inventory
            match frame:  # is in once the ack comes
                case protocol.Rules():
                    self.rules.append(frame)
                case protocol.Credentials():
                    self.credentials.append(frame)
                case _:
                    raise AssertionError(f"unexpected frame before the HeartbeatAck: {frame}")
        return welcome


def door_event(seq: int, kind: str, device: str = "gate-north", **data: Any) -> protocol.Event:
    """An event a door reports now (an access decision, say) with its data, for an EventBatch."""
    return protocol.Event(seq=seq, kind=kind, device=device, at=time.time(), data=data)


def answer_sdp(session: str) -> str:
    """The canned answer of the scripted bridge for one media session."""
    return f"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=answer {session}\r\nt=0 0\r\n"


class ScriptedBridge:
    """A linked site with an inventory: `async with ScriptedBridge(url, bridge, devices) as site`.

    With `auto` (the default) a reader task plays a well-behaved bridge: it keeps every command and
    answers it (a snapshot with a JPEG, `media.offer` with a canned SDP, `intercom.media` with a
    picture and a clip, an action in `failing` with that status, the rest with "ok"), keeps and
    applies credential sets, keeps rules, and hands acks and access answers to `event` and `ask`.
    Without it nothing is read for the test: it reads and answers frame by frame (`next_of`).
    Leaving closes the link and waits until the platform has seen it go, so no link of one test
    outlives it (nor do its logs).
    """

    def __init__(
        self,
        live_url: str,
        bridge: EnrolledBridge,
        inventory: list[protocol.DeviceInfo],
        *,
        auto: bool = True,
    ) -> None:
        self.live_url, self.bridge, self.inventory, self.auto = live_url, bridge, inventory, auto
        self.devices: dict[str, uuid.UUID] = {}  # the platform's ids, by external id
        self.seq = 0
        self.failing: dict[str, str] = {}  # action -> status to answer with
        self.commands: list[protocol.Command] = []
        self.rules: list[protocol.Rules] = []
        self.credentials: list[protocol.Credentials] = []
        self.other: list[protocol.ToBridge] = []  # frames `next_of` passed over
        self.acks: asyncio.Queue[int] = asyncio.Queue()
        self.answers: asyncio.Queue[protocol.AccessAnswer] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None
        self._closed = False

    async def __aenter__(self) -> ScriptedBridge:
        self.peer = await Peer.connect(self.live_url)
        try:
            if self.auto:
                await self.peer.authenticate(self.bridge, self.inventory)
                for full in self.peer.credentials:  # the full set follows the inventory, even empty
                    self.credentials.append(full)
                    await self.peer.send(protocol.CredentialsApplied(version=full.version))
                self.reader = asyncio.create_task(self._read())
            else:  # the Rules and the full Credentials set that follow the inventory are the test's
                await self.peer.send(self.peer.hello(self.bridge))
                assert isinstance(await self.peer.recv(), protocol.Welcome)
                await self.peer.send(protocol.Inventory(devices=self.inventory))
        except BaseException:
            await self.peer.ws.close()
            raise
        rows = await Device.select(Device.id, Device.external_id).where(
            Device.bridge == self.bridge.id
        )
        self.devices = {r["external_id"]: r["id"] for r in rows}
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the link (once); wait until the platform has seen it go."""
        if self._closed:
            return
        self._closed = True
        await self.peer.close()
        if self.reader is not None:
            await self.reader
        await asyncio.sleep(0.05)  # the link handler logs `bridge.link.down` just after

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                frame = await self.peer.recv()
                match frame:
                    case protocol.Ack(seq=seq):
                        self.acks.put_nowait(seq)
                    case protocol.Command():
                        self.commands.append(frame)
                        await self.peer.send(self._result(frame))
                    case protocol.Rules():
                        self.rules.append(frame)
                    case protocol.Credentials(version=version):
                        self.credentials.append(frame)
                        await self.peer.send(protocol.CredentialsApplied(version=version))
                    case protocol.AccessAnswer():
                        self.answers.put_nowait(frame)

    def _result(self, command: protocol.Command) -> protocol.CommandResult:
        status = self.failing.get(command.action)
        if status:
            return protocol.CommandResult(id=command.id, status=status, detail="scripted")  # type: ignore[arg-type]
        data: dict[str, Any] = {}
        if command.action == "snapshot":
            data = {"content_type": "image/jpeg", "data": JPEG}
        elif command.action == "media.offer":
            data = {"sdp": answer_sdp(command.args["session"])}
        elif command.action == "intercom.media":
            data = {
                "snapshot": JPEG,
                "snapshot_type": "image/jpeg",
                "clip": WEBM,
                "clip_type": "video/webm",
            }
        return protocol.CommandResult(id=command.id, status="ok", data=data)

    def sent(self, action: str) -> list[protocol.Command]:
        """Commands of one action the platform sent, in order."""
        return [c for c in self.commands if c.action == action]

    async def event(self, kind: str, device: str, data: dict[str, Any] | None = None) -> int:
        """Report one event and wait until the platform has committed it."""
        self.seq += 1
        event = protocol.Event(
            seq=self.seq, kind=kind, device=device, at=time.time(), data=data or {}
        )
        await self.peer.send(protocol.EventBatch(events=[event]))
        while (await asyncio.wait_for(self.acks.get(), 5)) < self.seq:
            pass
        return self.seq

    async def replay(self, seq: int, kind: str, device: str) -> None:
        """Send an event again with a seq already used (as after a bridge crash)."""
        event = protocol.Event(seq=seq, kind=kind, device=device, at=time.time())
        await self.peer.send(protocol.EventBatch(events=[event]))
        await asyncio.wait_for(self.acks.get(), 5)

    async def ask(
        self, door: str, method: str, value: str, direction: str = "in", floor: int | None = None
    ) -> protocol.AccessAnswer:
        """Ask the platform to decide a presentation (as a bridge does for what it cannot)."""
        query = protocol.AccessQuery(
            id=uuid.uuid4().hex,
            door=door,
            method=method,  # type: ignore[arg-type]
            value=value,
            direction=direction,  # type: ignore[arg-type]
            floor=floor,
        )
        await self.peer.send(query)
        answer = await asyncio.wait_for(self.answers.get(), 5)
        assert answer.id == query.id
        return answer

    def removed(self) -> set[str]:
        """Credential ids the platform told this bridge to drop."""
        return {r for frame in self.credentials for r in frame.removals}

    def held(self) -> dict[str, protocol.CredentialEntry]:
        """The bridge's credential cache as the frames so far built it."""
        cache: dict[str, protocol.CredentialEntry] = {}
        for frame in self.credentials:
            if frame.since is None:
                cache = {}
            for entry in frame.upserts:
                cache[entry.id] = entry
            for gone in frame.removals:
                cache.pop(gone, None)
        return cache

    async def ring(
        self,
        station: str = "station-north",
        room: str = "1-1-0101",
        target: str = "household",
        **data: Any,
    ) -> str:
        """A door station's call starts; the call id."""
        call = str(uuid.uuid4())
        body = {"call": call, "target": target, **data}
        if target == "household":
            body["room"] = room
        await self.event("intercom.call_started", station, body)
        return call

    async def end(
        self, call: str, outcome: str, station: str = "station-north", **data: Any
    ) -> None:
        """The door station reports the call's end."""
        await self.event(
            "intercom.call_ended",
            station,
            {"call": call, "outcome": outcome, "duration_s": 0, "clip": True, **data},
        )

    async def next_credentials(self, timeout: float = 6.0) -> protocol.Credentials:
        """The next Credentials frame (other frames are kept in `other`); without `auto` only."""
        frame: protocol.Credentials = await self.next_of(protocol.Credentials, timeout)
        return frame

    async def next_of(self, kind: type, timeout: float = 6.0) -> Any:
        """The next frame of a type; frames met on the way are kept (`credentials`, `other`)."""
        assert not self.auto, "the reader task takes the frames of an auto bridge"
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.peer.recv()
                if isinstance(frame, protocol.Credentials):
                    self.credentials.append(frame)
                elif not isinstance(frame, kind):
                    self.other.append(frame)
                if isinstance(frame, kind):
                    return frame

    async def settle(self) -> None:
        """Round-trip a heartbeat: every frame the platform sent before is read."""
        await self.peer.send(protocol.Heartbeat(sent_at=time.time()))
        await self.next_of(protocol.HeartbeatAck)
