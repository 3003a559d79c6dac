"""Work orders from device faults, once per fault: through a scripted site bridge, the offline,
video-loss and door events of its devices open one order per device and fault; repeats count on
it; a fault after the order closed opens a new one linked to the old; a race opens one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

import pytest

from api.core.auth import Role
from api.core.effects import Effects
from api.devices.tables import Device
from api.piccolo_conf import DB
from api.workorders import faults
from api.workorders.tables import WorkOrder
from device_bridge import protocol
from device_bridge.identity import load_bridge_id
from device_bridge.settings import BridgeSettings
from tests.devices.peer import ScriptedBridge
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, audit_rows, eventually, running
from tests.integration.test_site import device_id
from tests.workorders.helpers import make_device

URL = "/api/v1/workorders"
DOOR = "unit1-door"
CAMERA = "gate-cam"


@pytest.fixture
def site_devices() -> list[protocol.DeviceInfo]:
    """The site of community A: a unit door and a camera."""
    return [
        protocol.DeviceInfo(id=DOOR, kind="door_controller", name="1栋1单元 门禁", driver="sim"),
        protocol.DeviceInfo(id=CAMERA, kind="camera", name="东门 摄像机", driver="sim"),
    ]


async def _device(site: ScriptedBridge, external_id: str) -> UUID:
    row = await eventually(
        lambda: (
            Device.select(Device.id)
            .where((Device.external_id == external_id) & (Device.bridge == UUID(site.bridge.id)))
            .first()
        )
    )
    return UUID(str(row["id"]))


async def _orders(device: UUID) -> list[dict]:
    return await WorkOrder.select().where(WorkOrder.device == device).order_by(WorkOrder.created_at)


@pytest.mark.req("OPS-16", partial=True)
async def test_a_door_going_offline_and_back_ten_times_in_an_hour_opens_one_order(
    site: ScriptedBridge, world: World, as_role: AsRole
) -> None:
    door = await _device(site, DOOR)
    for _ in range(10):
        await site.event("device.offline", DOOR)
        await site.event("device.online", DOOR)

    orders = await _orders(door)
    assert len(orders) == 1
    order = orders[0]
    assert (order["kind"], order["fault"], order["state"], order["repeats"]) == (
        "fault",
        "device_offline",
        "new",
        10,
    )
    assert order["community"] == world.a.community
    assert order["title"] == "设备离线 · 1栋1单元 门禁"
    assert order["previous"] is None
    assert len(await audit_rows("workorder.created", order["id"])) == 1
    fixer = await as_role(Role.MAINTENANCE)
    listed = (await fixer.get(URL, params={"device_id": str(door)})).json()
    assert [(o["id"], o["repeats"]) for o in listed["items"]] == [(str(order["id"]), 10)]


async def test_each_fault_of_a_device_has_its_own_order_and_a_bridges_outage_none(
    site: ScriptedBridge,
) -> None:
    door, camera = await _device(site, DOOR), await _device(site, CAMERA)
    await site.event("video.loss", CAMERA)
    await site.event("video.loss", CAMERA)
    await site.event("door.open_failed", DOOR)
    await site.event("device.offline", DOOR)
    await site.event("door.forced", DOOR)  # an alarm, not a fault of the door

    assert [(o["fault"], o["repeats"], o["priority"]) for o in await _orders(camera)] == [
        ("video_loss", 2, "high")
    ]
    assert sorted(o["fault"] for o in await _orders(door)) == ["device_offline", "door_open_failed"]
    assert (
        await WorkOrder.count().where(WorkOrder.device.is_null() & WorkOrder.fault.is_not_null())
        == 0
    )


@pytest.mark.req("OPS-23", partial=True)
async def test_a_fault_that_recurs_after_its_order_closed_opens_a_new_order_linked_to_the_old(
    site: ScriptedBridge, world: World, as_role: AsRole
) -> None:
    door = await _device(site, DOOR)
    await site.event("device.offline", DOOR)
    first = (await _orders(door))[0]
    oid = str(first["id"])
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    staff = world.a.users[Role.MAINTENANCE]
    await manager.post(f"{URL}/{oid}/assign", json={"assignee_id": str(staff.id)})
    await fixer.post(f"{URL}/{oid}/moves", json={"to": "in_progress"})
    await fixer.post(
        f"{URL}/{oid}/moves", json={"to": "done", "cause": "电源适配器损坏", "report": "更换电源"}
    )
    await site.event("device.offline", DOOR)  # done, not verified: it counts on the order
    assert [o["repeats"] for o in await _orders(door)] == [2]
    r = await manager.post(f"{URL}/{oid}/moves", json={"to": "closed"})
    assert r.json()["state"] == "closed"

    await site.event("device.offline", DOOR)
    await site.event("device.offline", DOOR)

    orders = await _orders(door)
    assert [(o["state"], o["repeats"], o["previous"]) for o in orders] == [
        ("closed", 2, None),
        ("new", 2, first["id"]),
    ]
    archive = (await fixer.get(f"{URL}/faults", params={"device_id": str(door)})).json()
    assert [(o["id"], o["cause"]) for o in archive["items"]] == [(oid, "电源适配器损坏")]


async def test_concurrent_reports_of_one_fault_open_one_order(world: World) -> None:
    device = await make_device(world.a.community, "2号岗 摄像机", "camera")

    async def report() -> tuple[UUID, bool]:
        async with DB.transaction():
            answer = await faults.open_fault(
                world.a.community,
                device,
                "video_loss",
                at=datetime.now(UTC),
                effects=Effects(),
                device_name="2号岗 摄像机",
            )
        return answer

    answers = await asyncio.gather(*(report() for _ in range(20)))

    assert len({order_id for order_id, _ in answers}) == 1
    assert sum(opened for _, opened in answers) == 1
    orders = await _orders(device)
    assert [(o["repeats"], o["state"]) for o in orders] == [(20, "new")]


async def test_a_granted_door_that_does_not_open_opens_the_doors_fault_order_beside_its_alarm(
    browser: Callable[[], Awaitable[ApiClient]], site_settings: BridgeSettings, world: World
) -> None:
    resident = await browser()
    await resident.login(world.a.users[Role.RESIDENT])
    async with running(site_settings) as bridge:
        door = await device_id("door-1-1", load_bridge_id(site_settings))
        assert bridge.sim is not None
        await bridge.sim.set_fault("door-1-1", drop=True)  # online, but the door never answers
        answer = await resident.post(f"/api/v1/doors/{door}/open", json={})
        await resident.post(f"/api/v1/doors/{door}/open", json={})
    assert answer.json()["result"] == "failed"
    orders = [o for o in await _orders(UUID(str(door))) if o["fault"] == "door_open_failed"]
    assert [(o["repeats"], o["priority"]) for o in orders] == [(2, "high")]
    assert "住户 App 开门已授权，门未打开" in orders[0]["description"]
