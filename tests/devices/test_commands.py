"""The generic device command route sends maintenance actions only, in scope, audited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from api.core.auth import Role
from api.devices.tables import Device, DeviceCommand
from device_bridge import protocol
from tests.devices.peer import EnrolledBridge, Peer, enrol
from tests.fixtures import AsRole
from tests.helpers import ApiClient, Login, World, assert_error, audit_rows, make_account

SITE = [
    protocol.DeviceInfo(id="gate-north", kind="door_controller", name="北门", driver="sim"),
    protocol.DeviceInfo(id="zone-east", kind="intrusion_zone", name="东周界", driver="sim"),
    protocol.DeviceInfo(id="cam-square", kind="camera", name="广场", driver="sim"),
    protocol.DeviceInfo(id="barrier-carpark", kind="barrier", name="车库道闸", driver="sim"),
]
OFFER = {"session": "s-1", "sdp": "v=0", "kind": "live"}


@pytest.fixture
async def site(
    admin: ApiClient, world: World, live_url: str
) -> AsyncIterator[tuple[Peer, EnrolledBridge]]:
    """A scripted bridge of community A with a gate, a zone, a camera and a barrier."""
    bridge = await enrol(admin, world.a.community)
    async with Peer.authenticated(live_url, bridge, SITE) as peer:
        yield peer, bridge


async def device_id(bridge: EnrolledBridge, external_id: str) -> str:
    row = (
        await Device.select(Device.id)
        .where((Device.bridge == bridge.id) & (Device.external_id == external_id))
        .first()
    )
    return str(row["id"])


async def next_command(peer: Peer) -> protocol.Command:
    """The next command the bridge receives (other frames, such as deltas, are skipped)."""
    while not isinstance(frame := await peer.recv(), protocol.Command):
        pass
    return frame


async def answered(peer: Peer, client: ApiClient, device: str, action: str) -> protocol.Command:
    """Send a command through the route while the scripted bridge answers it; the command seen."""

    async def answer() -> protocol.Command:
        command = await next_command(peer)
        await peer.send(protocol.CommandResult(id=command.id, status="ok", data={}))
        return command

    answering = asyncio.create_task(answer())
    response = await client.post(f"/api/v1/devices/{device}/commands", json={"action": action})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"
    return await asyncio.wait_for(answering, 5)  # a guard against hanging, not a timing check


@pytest.mark.parametrize(
    ("external_id", "action", "args"),
    [
        ("gate-north", "open", {}),
        ("gate-north", "unlock", {"reason": "emergency"}),
        ("zone-east", "disarm", {}),
        ("cam-square", "snapshot", {}),
        ("cam-square", "media.offer", OFFER),
        ("barrier-carpark", "open", {}),
    ],
)
async def test_maintenance_cannot_act_on_doors_zones_media_or_barriers_through_it(
    as_role: AsRole,
    site: tuple[Peer, EnrolledBridge],
    external_id: str,
    action: str,
    args: dict[str, object],
) -> None:
    peer, bridge = site
    maintenance = await as_role(Role.MAINTENANCE)
    device = await device_id(bridge, external_id)
    refused = await maintenance.post(
        f"/api/v1/devices/{device}/commands", json={"action": action, "args": args}
    )
    assert_error(refused, 404, "not_found")
    # The refused action never reached the bridge: the next command it sees is the status check.
    assert (await answered(peer, maintenance, device, "status")).action == "status"
    sent = await DeviceCommand.select(DeviceCommand.action).where(DeviceCommand.device == device)
    assert [r["action"] for r in sent] == ["status"]
    outcomes = {
        (r["details"]["action"], r["outcome"]) for r in await audit_rows("device.command", device)
    }
    assert outcomes == {(action, "denied"), ("status", "ok")}


async def test_system_admin_cannot_act_on_doors_either(
    as_role: AsRole, site: tuple[Peer, EnrolledBridge]
) -> None:
    _, bridge = site
    admin = await as_role(Role.SYSTEM_ADMIN)
    gate = await device_id(bridge, "gate-north")
    refused = await admin.post(f"/api/v1/devices/{gate}/commands", json={"action": "unlock"})
    assert_error(refused, 404, "not_found")


async def test_system_admin_of_another_community_gets_404(
    site: tuple[Peer, EnrolledBridge], login: Login, world: World
) -> None:
    _, bridge = site
    other = await login(await make_account(Role.SYSTEM_ADMIN, community=world.b.community))
    for external_id, action in (("gate-north", "status"), ("gate-north", "open")):
        answer = await other.post(
            f"/api/v1/devices/{await device_id(bridge, external_id)}/commands",
            json={"action": action},
        )
        assert_error(answer, 404, "not_found")
    assert await audit_rows("device.command", await device_id(bridge, "gate-north")) == []


@pytest.mark.parametrize("action", sorted(protocol.MAINTENANCE_ACTIONS))
async def test_maintenance_actions_still_work_and_are_audited(
    as_role: AsRole, site: tuple[Peer, EnrolledBridge], world: World, action: str
) -> None:
    peer, bridge = site
    maintenance = await as_role(Role.MAINTENANCE)
    zone = await device_id(bridge, "zone-east")
    command = await answered(peer, maintenance, zone, action)
    assert (command.device, command.action) == ("zone-east", action)
    [entry] = await audit_rows("device.command", zone)
    assert (entry["details"], entry["outcome"]) == ({"action": action}, "ok")
    assert entry["actor_id"] == world.a.users[Role.MAINTENANCE].id
