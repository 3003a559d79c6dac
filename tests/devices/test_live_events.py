"""Live device events over the real WebSocket: person- and plate-bearing events reach only those
who may read the community's access records; device state reaches every board."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.channels import ChannelsPlugin

from api.core.auth import Role
from api.core.realtime import community_channel, publish, records_channel
from api.devices.link import event_channel
from device_bridge import protocol
from tests.devices.peer import EnrolledBridge, Peer, enrol
from tests.helpers import ApiClient, World, live_socket, next_event, user

SITE = [
    protocol.DeviceInfo(id="gate-north", kind="door_controller", name="北门", driver="sim"),
    protocol.DeviceInfo(id="lpr-carpark", kind="plate_camera", name="车库车牌", driver="sim"),
]


@pytest.fixture
async def bridge(admin: ApiClient, world: World) -> EnrolledBridge:
    """A scripted bridge of community A."""
    return await enrol(admin, world.a.community)


def naming_and_state(person: object) -> list[protocol.Event]:
    """An access decision with a person id and a plate read, then a door's state."""
    at = time.time()
    return [
        protocol.Event(
            seq=1,
            kind="access.granted",
            device="gate-north",
            at=at,
            data={"method": "card", "person": str(person), "direction": "in"},
        ),
        protocol.Event(
            seq=2,
            kind="plate.read",
            device="lpr-carpark",
            at=at,
            data={"plate": "川A12345", "colour": "blue", "direction": "in"},
        ),
        protocol.Event(
            seq=3, kind="door.opened", device="gate-north", at=at, data={"mode": "momentary"}
        ),
    ]


def data_of(event: dict[str, Any]) -> dict[str, Any]:
    data = event["data"]
    return json.loads(data) if isinstance(data, str) else dict(data)


async def device_events_until_door_opened(ws: Any) -> list[dict[str, Any]]:
    """Every device event a socket gets up to the door's state, which follows the other two in
    the batch: events of one link are published in order and a socket receives them in order."""
    seen = []
    while True:
        event = await next_event(ws, lambda e: e["type"] == "device.event")
        seen.append(event)
        if event["kind"] == "door.opened":
            return seen


@pytest.mark.parametrize("role", [Role.MAINTENANCE, Role.SYSTEM_ADMIN])
async def test_board_holders_without_access_records_get_no_persons_or_plates(
    live_url: str, bridge: EnrolledBridge, world: World, role: Role
) -> None:
    async with (
        live_socket(live_url, user(world, role)) as ws,
        Peer.authenticated(live_url, bridge, SITE) as peer,
    ):
        await peer.send(protocol.EventBatch(events=naming_and_state(world.a.persons[0])))
        assert await peer.recv() == protocol.Ack(seq=3)
        seen = await device_events_until_door_opened(ws)
    assert [e["kind"] for e in seen] == ["door.opened"]


@pytest.mark.parametrize("role", [Role.GUARD, Role.PROPERTY_MANAGER])
async def test_who_may_read_access_records_gets_them_live(
    live_url: str, bridge: EnrolledBridge, world: World, role: Role
) -> None:
    async with (
        live_socket(live_url, world.a.users[role]) as ws,
        Peer.authenticated(live_url, bridge, SITE) as peer,
    ):
        await peer.send(protocol.EventBatch(events=naming_and_state(world.a.persons[0])))
        assert await peer.recv() == protocol.Ack(seq=3)
        seen = await device_events_until_door_opened(ws)
    assert [e["kind"] for e in seen] == ["access.granted", "plate.read", "door.opened"]
    assert data_of(seen[0])["person"] == str(world.a.persons[0])
    assert data_of(seen[1])["plate"] == "川A12345"


async def test_a_guard_of_another_community_gets_none_of_them(
    app: Litestar, live_url: str, bridge: EnrolledBridge, world: World
) -> None:
    async with (
        live_socket(live_url, world.b.users[Role.GUARD]) as other,
        live_socket(live_url, world.a.users[Role.GUARD]) as own,
        Peer.authenticated(live_url, bridge, SITE) as peer,
    ):
        await peer.send(protocol.EventBatch(events=naming_and_state(world.a.persons[0])))
        assert await peer.recv() == protocol.Ack(seq=3)
        await device_events_until_door_opened(own)  # all three are published by now
        marker = {"type": "marker"}
        publish(app.plugins.get(ChannelsPlugin), marker, records_channel(world.b.community))
        assert await next_event(other, lambda _: True) == marker


@pytest.mark.parametrize(
    ("kind", "data", "board"),
    [
        ("door.opened", {"mode": "held", "reason": "fire"}, True),
        ("device.offline", {"reason": "timeout"}, True),
        ("alarm.intrusion", {"zone": "east"}, True),
        ("door.opened", {"mode": "momentary", "person": "p-1"}, False),
        ("barrier.opened", {}, False),
        ("intercom.call_started", {"call": "c", "target": "guard_room"}, False),
        ("video.analytics", {"rule": "line_crossing"}, False),
    ],
)
def test_only_state_that_names_nobody_goes_on_the_board(
    kind: str, data: dict[str, Any], board: bool
) -> None:
    community = uuid.uuid4()
    channel = event_channel(community, kind, json.dumps(data))
    expected = community_channel(community) if board else records_channel(community)
    assert channel == expected
