"""Intercom tests: a scripted site whose stations answer `media.offer` with a canned SDP.

The real aiortc peer at the bridge is tested with the bridge; here the platform's side matters:
who is told, who may answer and unlock, what the station is told, what is stored. Jobs run in an
arq worker in burst mode; push delivery is an outside edge (its job only counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets

from api.core.auth import Role
from device_bridge import protocol
from tests.alarms.conftest import ScriptedSite, device_ids
from tests.devices.peer import Peer, enrol
from tests.helpers import TestUser, World, make_account
from tests.jobs import INTERCOM_JOBS

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 200
OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=browser offer\r\nt=0 0\r\n"

DEVICES = [
    protocol.DeviceInfo(
        id="station-north",
        kind="door_station",
        name="北门 门口机",
        driver="sim",
        attrs={"role": "gate", "door": "gate-north"},
    ),
    protocol.DeviceInfo(
        id="gate-north",
        kind="door_controller",
        name="北门 门禁",
        driver="sim",
        attrs={"role": "gate"},
    ),
    protocol.DeviceInfo(
        id="station-1-1",
        kind="door_station",
        name="1栋1单元 门口机",
        driver="sim",
        attrs={"building": "1", "unit": "1", "role": "unit_door"},
    ),
    protocol.DeviceInfo(
        id="lift-1-1",
        kind="lift",
        name="1栋1单元 电梯",
        driver="sim",
        attrs={"building": "1", "unit": "1"},
    ),
    protocol.DeviceInfo(id="cam-east", kind="camera", name="东侧 摄像机", driver="sim"),
    protocol.DeviceInfo(
        id="cam-lobby",
        kind="camera",
        name="1栋 大堂 摄像机",
        driver="sim",
        attrs={"building": "1", "unit": "1", "role": "lobby"},
    ),
]


def answer_sdp(session: str) -> str:
    """The canned answer of the scripted bridge for one media session."""
    return f"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=answer {session}\r\nt=0 0\r\n"


@dataclass
class StationSite(ScriptedSite):
    """A scripted bridge of community A whose stations and cameras speak the media commands."""

    failing: dict[str, str] = field(default_factory=dict)  # action -> status to answer with
    answered: asyncio.Event = field(default_factory=asyncio.Event)

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

    def _result(self, command: protocol.Command) -> protocol.CommandResult:
        status = self.failing.get(command.action)
        if status:
            return protocol.CommandResult(id=command.id, status=status, detail="scripted")  # type: ignore[arg-type]
        data: dict[str, Any] = {}
        if command.action == "media.offer":
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

    async def ring(
        self,
        station: str = "station-north",
        room: str = "1-1-0101",
        target: str = "household",
        **data: Any,
    ) -> str:
        """A station's call starts; the call id."""
        call = str(uuid.uuid4())
        body = {"call": call, "target": target, **data}
        if target == "household":
            body["room"] = room
        await self.event("intercom.call_started", station, body)
        return call

    async def end(
        self, call: str, outcome: str, station: str = "station-north", **data: Any
    ) -> None:
        """The station reports the call's end."""
        await self.event(
            "intercom.call_ended",
            station,
            {"call": call, "outcome": outcome, "duration_s": 0, "clip": True, **data},
        )


@pytest.fixture
async def site(live_url: str, login: Callable, world: World) -> AsyncIterator[StationSite]:
    """The scripted bridge of community A with two door stations, a gate, a lift, cameras."""
    admin = await login(world.admins[Role.SYSTEM_ADMIN])
    bridge = await enrol(admin, world.a.community)
    peer, _ = await Peer.authenticated(live_url, bridge, DEVICES)
    scripted = StationSite(peer=peer, bridge=bridge, devices=await device_ids(bridge.id))
    scripted.reader = asyncio.create_task(scripted._read())
    yield scripted
    await scripted.close()


@dataclass
class Household:
    """Community A's first household with two members, and a resident of its second."""

    first: TestUser
    second: TestUser
    neighbour: TestUser


@pytest.fixture
async def family(world: World) -> Household:
    """A second member of household 0101, and a resident of 0102 (another household)."""
    second = await make_account(
        Role.RESIDENT, community=world.a.community, household=world.a.households[0]
    )
    neighbour = await make_account(
        Role.RESIDENT, community=world.a.community, household=world.a.households[1]
    )
    return Household(first=world.a.users[Role.RESIDENT], second=second, neighbour=neighbour)


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The intercom jobs run by the `jobs` worker."""
    return INTERCOM_JOBS
