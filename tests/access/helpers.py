"""What access tests share: the scripted site's doors and link, cards enrolled by the API."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from device_bridge import protocol
from tests.devices.peer import EnrolledBridge, Peer
from tests.helpers import ApiClient

DOORS = [
    protocol.DeviceInfo(
        id="door-1-1",
        kind="door_controller",
        name="1栋1单元门",
        driver="sim",
        attrs={"building": "1", "unit": "1", "role": "unit_door"},
    ),
    protocol.DeviceInfo(
        id="gate-north",
        kind="door_controller",
        name="北门",
        driver="sim",
        attrs={"role": "gate", "protection_zone": 1},
    ),
    protocol.DeviceInfo(
        id="parcel-room",
        kind="door_controller",
        name="快递间",
        driver="sim",
        attrs={"role": "key_room"},
    ),
]


class Site:
    """A linked scripted bridge: frames in, frames out, Credentials frames kept aside."""

    def __init__(self, peer: Peer, bridge: EnrolledBridge) -> None:
        self.peer = peer
        self.bridge = bridge
        self.credentials: list[protocol.Credentials] = []
        self.other: list[protocol.ToBridge] = []

    async def next_credentials(self, timeout: float = 6.0) -> protocol.Credentials:
        """The next Credentials frame (other frames are kept in `other`)."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.peer.recv()
                if isinstance(frame, protocol.Credentials):
                    self.credentials.append(frame)
                    return frame
                self.other.append(frame)

    async def next_of(self, kind: type, timeout: float = 6.0) -> Any:
        """The next frame of a type; Credentials frames met on the way are kept."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.peer.recv()
                if isinstance(frame, kind):
                    return frame
                if isinstance(frame, protocol.Credentials):
                    self.credentials.append(frame)
                else:
                    self.other.append(frame)

    async def settle(self) -> None:
        """Round-trip a heartbeat: every frame the platform sent before is read."""
        await self.peer.send(protocol.Heartbeat(sent_at=time.time()))
        await self.next_of(protocol.HeartbeatAck)


async def link(live_url: str, bridge: EnrolledBridge) -> Site:
    """Authenticate and send the inventory; the full credential set (if any) follows."""
    peer = await Peer.open(live_url)
    await peer.send(peer.hello(bridge))
    assert isinstance(await peer.recv(), protocol.Welcome)
    await peer.send(protocol.Inventory(devices=DOORS))
    return Site(peer, bridge)


async def enrol_card(
    manager: ApiClient, person: object, number: str, **extra: Any
) -> dict[str, Any]:
    """Enrol a card for a person; the credential read."""
    r = await manager.post(
        "/api/v1/credentials",
        json={"person_id": str(person), "kind": "card", "value": number, **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()


def unique_card() -> str:
    """A card number no other test uses."""
    return str(uuid.uuid4().int)[:10]
