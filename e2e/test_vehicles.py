"""Vehicles on the phone with the real site bridge: an unknown car read at the car park's entrance
shows live on the guard's lane console (车道轮询), and the guard lets it in as temporary parking;
the arm is closed again from the console with a stated reason."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from api.core.auth import Role
from api.vehicles.tables import Lane, PassRecord
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from e2e.conftest import artifact
from e2e.pages import HomePage, LoginPage
from tests.helpers import World, eventually, running

CAMERA, BARRIER = "lpr-carpark", "barrier-carpark"  # device_bridge/demo.toml
ENTRANCE = "地库入口 车牌识别"


def lane(page: Page, name: str) -> Locator:
    return page.locator("[data-test=lane]").filter(has_text=name)


def arm(bridge: Bridge) -> str:
    assert bridge.sim is not None
    return str(bridge.sim.fleet.devices[BARRIER].state["barrier"])


@pytest.mark.req("VEH-15", partial=True)
async def test_a_guard_sees_an_unknown_car_on_the_lane_console_and_lets_it_in(
    phone: Page, world: World, site_settings: BridgeSettings
) -> None:
    async with running(site_settings) as bridge:
        await eventually(lambda: Lane.count().where(Lane.community == world.a.community))
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.GUARD])
        home = await HomePage(phone, "guard").wait()
        await home.open_capability("lane_console")
        await expect(phone.locator("[data-test=lane-console]")).to_be_visible(timeout=10_000)
        entrance = lane(phone, ENTRANCE)
        await expect(entrance).to_contain_text("暂无过车记录")
        live = phone.locator("[data-test=lane-console-live]")
        await expect(live).to_have_attribute("data-connected", "true")

        assert bridge.sim is not None
        await bridge.sim.read_plate(CAMERA, plate="川A77777", colour="blue", confidence=0.62)
        # Live: no reload.
        await expect(entrance.locator("[data-test=lane-plate]")).to_have_text("川A***77")
        await expect(entrance.locator("[data-test=lane-decision]")).to_have_text("待处理")
        await expect(entrance.locator("[data-test=lane-reason]")).to_have_text("未登记车辆")
        await expect(entrance.locator("[data-test=lane-low-confidence]")).to_contain_text("62%")
        assert arm(bridge) == "closed"
        await phone.screenshot(path=artifact("guard-lane-console-unknown.png"), full_page=True)

        await entrance.locator("[data-test=lane-admit]").click()
        await expect(entrance.locator("[data-test=lane-reason]")).to_have_text("临时停车放行")
        await expect(entrance.locator("[data-test=lane-decision]")).to_have_text("放行")
        await expect(entrance.locator("[data-test=lane-admit]")).to_have_count(0)
        assert arm(bridge) == "open"
        admitted = await PassRecord.select().where(
            (PassRecord.community == world.a.community) & (PassRecord.reason == "temporary")
        )
        assert [(r["plate_masked"], r["decided_by"]) for r in admitted] == [
            ("川A***77", world.a.users[Role.GUARD].id)
        ]
        await phone.screenshot(path=artifact("guard-lane-console-admitted.png"), full_page=True)

        # Close the arm from the console: the reason is asked for first.
        await entrance.locator("[data-test=lane-close]").click()
        dialog = phone.locator("[data-test=arm-dialog]")
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="远程落杆").click()
        await expect(dialog).to_contain_text("请填写原因")
        await dialog.locator("[data-test=arm-reason] textarea").fill("车辆已通过，手动落杆")
        await phone.screenshot(path=artifact("guard-lane-console-close.png"), full_page=True)
        await dialog.get_by_role("button", name="远程落杆").click()
        await expect(entrance.locator("[data-test=lane-reason]")).to_have_text("远程落杆")
        await expect(entrance).to_contain_text("车辆已通过，手动落杆")
        assert arm(bridge) == "closed"
