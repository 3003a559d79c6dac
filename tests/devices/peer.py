"""A scripted bridge for platform-side tests: speaks the wire protocol frame by frame.

The real bridge (device_bridge) is used where the whole path matters; this peer lets a test send
exactly the wrong thing (a bad signature, a replayed answer, garbage) to see what the platform does.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field

import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from device_bridge import protocol
from tests.helpers import ApiClient


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

    `authenticated` keeps the Rules and Credentials frames that came before its HeartbeatAck.
    """

    ws: websockets.ClientConnection
    challenge: protocol.Challenge
    rules: list[protocol.Rules] = field(default_factory=list)
    credentials: list[protocol.Credentials] = field(default_factory=list)

    @classmethod
    async def open(cls, live_url: str) -> Peer:
        """Connect and read the platform's challenge."""
        ws = await websockets.connect(
            live_url.replace("http", "ws") + "/api/v1/bridge/link", max_size=MAX_FRAME
        )
        challenge = protocol.decode_to_bridge(await ws.recv())
        assert isinstance(challenge, protocol.Challenge)
        return cls(ws, challenge)

    def hello(self, bridge: EnrolledBridge, key: Ed25519PrivateKey | None = None) -> protocol.Hello:
        """A Hello signed over this link's challenge (with another key when given)."""
        message = protocol.challenge_message(self.challenge.nonce, bridge.id)
        return protocol.Hello(bridge_id=bridge.id, signature=(key or bridge.key).sign(message))

    async def send(self, frame: protocol.Frame) -> None:
        """Send a frame."""
        await self.ws.send(protocol.encode(frame))

    async def recv(self) -> protocol.ToBridge:
        """Receive the next frame."""
        return protocol.decode_to_bridge(await self.ws.recv())

    @classmethod
    async def authenticated(
        cls, live_url: str, bridge: EnrolledBridge, devices: list[protocol.DeviceInfo]
    ) -> tuple[Peer, protocol.Welcome]:
        """A link past authentication, with the inventory registered (the Rules and the full
        Credentials set the platform sends after it are in `rules` and `credentials`)."""
        peer = await cls.open(live_url)
        await peer.send(peer.hello(bridge))
        welcome = await peer.recv()
        assert isinstance(welcome, protocol.Welcome), welcome
        await peer.send(protocol.Inventory(devices=devices))
        await peer.send(protocol.Heartbeat(sent_at=time.time()))  # frames are handled in order:
        while not isinstance(frame := await peer.recv(), protocol.HeartbeatAck):  # the inventory
            match frame:  # is in once the ack comes
                case protocol.Rules():
                    peer.rules.append(frame)
                case protocol.Credentials():
                    peer.credentials.append(frame)
                case _:
                    raise AssertionError(f"unexpected frame before the HeartbeatAck: {frame}")
        return peer, welcome
