"""Alarm tests: a scripted site (a bridge speaking the protocol), jobs in burst mode.

The arq pool of the app is swapped for one on a queue of the test's own (tests/plugins/jobs.py),
and jobs run in an arq worker in burst mode with the alarm jobs. Push delivery is the outside
edge: its job is a stub here, and tests look at the Notification rows instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets

from api.core.auth import Role
from api.devices.tables import Bridge, Device
from device_bridge import protocol
from tests.devices.peer import EnrolledBridge, Peer, enrol
from tests.helpers import JPEG, World, eventually
from tests.jobs import ALARM_JOBS

DEVICES = [
    protocol.DeviceInfo(
        id="zone-east",
        kind="intrusion_zone",
        name="东侧周界 防区",
        driver="sim",
        attrs={"role": "perimeter"},
    ),
    protocol.DeviceInfo(id="zone-hall", kind="intrusion_zone", name="大堂 防区", driver="sim"),
    protocol.DeviceInfo(id="cam-east", kind="camera", name="东侧 摄像机", driver="sim"),
    protocol.DeviceInfo(
        id="door-1-1",
        kind="door_controller",
        name="1栋1单元 单元门",
        driver="sim",
        attrs={"building": "1", "unit": "1", "role": "unit_door"},
    ),
    protocol.DeviceInfo(id="smoke-0101", kind="smoke_sensor", name="0101 烟感", driver="sim"),
    protocol.DeviceInfo(id="panic-0101", kind="panic_button", name="0101 紧急按钮", driver="sim"),
    protocol.DeviceInfo(id="speaker-1", kind="speaker", name="1栋 广播", driver="sim"),
]


@dataclass
class ScriptedSite:
    """A scripted bridge of community A: sends events, answers commands, keeps what it receives."""

    peer: Peer
    bridge: EnrolledBridge
    devices: dict[str, uuid.UUID]
    seq: int = 0
    commands: list[protocol.Command] = field(default_factory=list)
    rules: list[protocol.Rules] = field(default_factory=list)
    acks: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                frame = await self.peer.recv()
                match frame:
                    case protocol.Ack(seq=seq):
                        self.acks.put_nowait(seq)
                    case protocol.Command():
                        self.commands.append(frame)
                        data: dict[str, Any] = (
                            {"content_type": "image/jpeg", "data": JPEG}
                            if frame.action == "snapshot"
                            else {}
                        )
                        await self.peer.send(
                            protocol.CommandResult(id=frame.id, status="ok", data=data)
                        )
                    case protocol.Rules():
                        self.rules.append(frame)

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

    async def close(self) -> None:
        """Close the link; wait until the platform has seen it go (its logs stay in this test)."""
        await self.peer.ws.close()
        if self.reader is not None:
            await self.reader

        async def offline() -> bool:
            row = await Bridge.select(Bridge.online).where(Bridge.id == self.bridge.id).first()
            return bool(row and not row["online"])

        await eventually(offline)
        await asyncio.sleep(0.05)  # the link handler logs `bridge.link.down` just after


async def device_ids(bridge_id: str) -> dict[str, uuid.UUID]:
    """The platform's ids of a bridge's devices, by external id."""
    rows = await Device.select(Device.id, Device.external_id).where(Device.bridge == bridge_id)
    return {r["external_id"]: r["id"] for r in rows}


@pytest.fixture
async def site(live_url: str, login: Callable, world: World) -> AsyncIterator[ScriptedSite]:
    """A scripted bridge of community A with intrusion zones, a camera, a door, sensors."""
    admin = await login(world.admins[Role.SYSTEM_ADMIN])
    bridge = await enrol(admin, world.a.community)
    peer, _ = await Peer.authenticated(live_url, bridge, DEVICES)
    scripted = ScriptedSite(peer=peer, bridge=bridge, devices=await device_ids(bridge.id))
    scripted.reader = asyncio.create_task(scripted._read())
    yield scripted
    await scripted.close()


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The alarm jobs run by the `jobs` worker."""
    return ALARM_JOBS
