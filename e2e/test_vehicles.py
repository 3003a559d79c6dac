"""Vehicles on the phone with the real site bridge: an unknown car read at the car park's entrance
shows live on the guard's lane console (车道轮询), and the guard lets it in as temporary parking;
the arm is closed again from the console with a stated reason. A resident registers a car on
我的车辆 and sees a visitor's car (booked with its plate) arrive."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.async_api import Locator, Page, expect

from api.core.auth import Role
from api.vehicles.tables import Lane, PassRecord
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from device_bridge.vehicles import Lane as BridgeLane
from e2e.conftest import artifact
from e2e.pages import HomePage, LoginPage
from tests.helpers import ApiClient, World, eventually, running
from tests.visitors.helpers import book

CAMERA, BARRIER = "lpr-carpark", "barrier-carpark"  # device_bridge/demo.toml
ENTRANCE = "地库入口 车牌识别"


def lane(page: Page, name: str) -> Locator:
    return page.locator("[data-test=lane]").filter(has_text=name)


def probe_of(bridge: Bridge) -> Callable[[str], str]:
    """The bridge's decision for a plate at a fresh lane (no debounce, nothing counted)."""

    def decide(plate: str) -> str:
        lane = BridgeLane(camera=uuid.uuid4().hex, barrier=BARRIER, car_park=uuid.uuid4().hex)
        return bridge.vehicles.decide(lane, plate).reason

    return decide


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


@pytest.mark.req("VEH-07", partial=True)
async def test_a_resident_registers_a_car_and_sees_a_visitors_car_arrive(
    phone: Page, world: World, site_settings: BridgeSettings, resident: ApiClient
) -> None:
    async with running(site_settings) as bridge:
        await eventually(lambda: Lane.count().where(Lane.community == world.a.community))
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
        home = await HomePage(phone, "resident").wait()
        await home.open_capability("my_cars")
        page = phone.locator("[data-test=my-cars]")
        await expect(page).to_be_visible(timeout=10_000)
        await expect(phone.locator("[data-test=my-cars-empty]")).to_be_visible()

        await phone.locator("[data-test=car-submit]").click()
        await expect(phone.locator("[data-test=car-register]")).to_contain_text("请填写车牌号")
        await phone.locator("[data-test=car-plate-input] input").fill("川A 12345")
        await phone.locator("[data-test=car-type]").select_option("suv")
        await phone.locator("[data-test=car-submit]").click()
        car = phone.locator("[data-test=car]")
        await expect(car).to_have_count(1)
        await expect(car.locator("[data-test=car-plate]")).to_have_text("川A***45")
        await expect(car.locator("[data-test=car-status]")).to_have_text("待审核")
        await expect(car).to_contain_text("SUV")
        await phone.screenshot(path=artifact("resident-my-cars.png"), full_page=True)

        # A visitor booked with a plate drives in: the household sees the car arrive.
        visit = await book(resident, plate="川A66666")
        probe = probe_of(bridge)
        await eventually(lambda: probe("川A66666") == "visitor")
        assert bridge.sim is not None
        await bridge.sim.read_plate(CAMERA, plate="川A66666")
        await eventually(lambda: PassRecord.count().where(PassRecord.visitor_pass == visit["id"]))
        await phone.reload()
        arrival = phone.locator("[data-test=visitor-car]")
        await expect(arrival).to_have_count(1, timeout=10_000)
        await expect(arrival).to_contain_text("王小明的车")
        await expect(arrival).to_contain_text(f"到达{ENTRANCE}")
        await phone.screenshot(path=artifact("resident-visitor-car-arrived.png"), full_page=True)
        await arrival.get_by_role("link").click()
        await expect(phone).to_have_url(re.compile(f"/visitors/{visit['id']}$"))
