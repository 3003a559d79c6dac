"""The manager's 车辆管理 in the browser with the real site bridge: on a 1440×900 console the
manager sets up a car park with 2 temporary spaces and moves the site's entrance lane into it;
two visitors' cars read by the sim camera are let in at the edge, the count fills live and the car
park shows 临时车位已满, on the console and on a 390×844 phone. The manager then blacklists a plate
on the screen and the bridge refuses it at the barrier."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from api.core.auth import Role
from api.vehicles.tables import Lane, PassRecord
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from device_bridge.vehicles import Lane as BridgeLane
from e2e.conftest import PHONE, artifact
from e2e.pages import HomePage, LoginPage
from tests.helpers import ApiClient, World, eventually, running
from tests.visitors.helpers import book

CAMERA, BARRIER = "lpr-carpark", "barrier-carpark"  # device_bridge/demo.toml
ENTRANCE = "地库入口 车牌识别"
DESKTOP = {"width": 1440, "height": 900}


def decided(bridge: Bridge, plate: str) -> str:
    """The bridge's decision for a plate at a fresh lane (no debounce, nothing counted)."""
    lane = BridgeLane(camera=uuid.uuid4().hex, barrier=BARRIER, car_park=uuid.uuid4().hex)
    return bridge.vehicles.decide(lane, plate).reason


def lanes_made(world: World) -> Callable[[], Awaitable[bool]]:
    """The site's two lanes, made by the platform from the bridge's inventory."""

    async def made() -> bool:
        return await Lane.count().where(Lane.community == world.a.community) >= 2

    return made


@pytest.mark.req("VEH-22", partial=True)
@pytest.mark.req("VEH-23", partial=True)
async def test_a_manager_sets_up_a_car_park_that_fills_to_full_and_blacklists_a_plate(
    phone: Page, world: World, site_settings: BridgeSettings, resident: ApiClient
) -> None:
    async with running(site_settings) as bridge:
        await eventually(lanes_made(world))
        await phone.set_viewport_size(DESKTOP)
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.PROPERTY_MANAGER])
        await HomePage(phone, "property_manager").wait()
        await phone.locator("[data-test=side-vehicle_admin]").click()
        await expect(phone.locator("[data-test=parks-pane]")).to_be_visible(timeout=10_000)
        await expect(phone.locator("[data-test=parks-live]")).to_have_attribute(
            "data-connected", "true"
        )

        # A car park of 5 spaces, 2 of them temporary.
        await phone.locator("[data-test=park-add]").click()
        await phone.locator("[data-test=park-form-save]").click()
        await expect(phone.locator("[data-test=park-form-sheet]")).to_contain_text("请填写名称")
        await phone.locator("[data-test=park-form-name] input").fill("访客停车场")
        await phone.locator("[data-test=park-form-capacity] input").fill("5")
        await phone.locator("[data-test=park-form-temporary] input").fill("2")
        await phone.locator("[data-test=park-form-save]").click()
        visitors = phone.locator("[data-test=park]").filter(has_text="访客停车场")
        await expect(visitors.locator("[data-test=park-temporary]")).to_have_text("临时车位 0 / 2")

        # The site's entrance lane now counts the new car park.
        await (
            phone.locator("[data-test=park]")
            .filter(has_text=ENTRANCE)
            .locator("[data-test=park-open]")
            .click()
        )
        await (
            phone.locator("[data-test=car-park-lane]")
            .filter(has_text=ENTRANCE)
            .locator("[data-test=lane-edit]")
            .click()
        )
        dialog = phone.locator("[data-test=lane-edit-dialog]")
        await dialog.locator("[data-test=lane-edit-park]").select_option(label="访客停车场")
        await dialog.get_by_role("button", name="保存").click()
        await expect(
            phone.locator("[data-test=car-park-lane]").filter(has_text=ENTRANCE)
        ).to_have_count(0)
        await phone.locator("[data-test=car-park-back]").click()
        await visitors.locator("[data-test=park-open]").click()
        page = phone.locator("[data-test=car-park-page]")
        await expect(page.locator("[data-test=car-park-lane]")).to_contain_text(ENTRANCE)
        await expect(page.locator("[data-test=car-park-live]")).to_have_attribute(
            "data-connected", "true"
        )

        # Two visitors booked with their plates drive in: the count fills live, then full.
        for plate in ("川A61111", "川A62222"):
            await book(resident, plate=plate)
        await eventually(lambda: decided(bridge, "川A62222") == "visitor")
        assert bridge.sim is not None
        await bridge.sim.read_plate(CAMERA, plate="川A61111")
        await expect(page.locator("[data-test=park-temporary]")).to_have_text("临时车位 1 / 2")
        await expect(page.locator("[data-test=park-full]")).to_have_count(0)
        await bridge.sim.read_plate(CAMERA, plate="川A62222")
        await expect(page.locator("[data-test=park-full]")).to_have_text("临时车位已满")
        await expect(page.locator("[data-test=park-occupied]")).to_have_text("2 / 5")
        await phone.screenshot(path=artifact("manager-car-park-full-desktop.png"))
        await phone.set_viewport_size(PHONE)
        await expect(page.locator("[data-test=park-full]")).to_be_in_viewport()
        await phone.screenshot(path=artifact("manager-car-park-full-phone.png"), full_page=True)

        # The blacklist on the screen reaches the barrier.
        await phone.goto("/vehicle-admin?tab=blacklist")
        await phone.locator("[data-test=blacklist-add]").click()
        await phone.locator("[data-test=vehicle-form-plate] input").fill("川A 88888")
        await phone.locator("[data-test=blacklist-form-save]").click()
        await expect(phone.locator("[data-test=blacklist-form-sheet]")).to_contain_text(
            "请填写原因"
        )
        await phone.locator("[data-test=vehicle-form-reason] textarea").fill("多次冲卡")
        await phone.locator("[data-test=blacklist-form-save]").click()
        entry = phone.locator("[data-test=blacklist-item]")
        await expect(entry.locator("[data-test=blacklist-plate]")).to_have_text("川A***88")
        await phone.screenshot(path=artifact("manager-blacklist-phone.png"), full_page=True)
        await eventually(lambda: decided(bridge, "川A88888") == "blacklisted")
        await bridge.sim.read_plate(CAMERA, plate="川A88888")
        refused = await eventually(
            lambda: (
                PassRecord.select()
                .where(
                    (PassRecord.community == world.a.community)
                    & (PassRecord.reason == "blacklisted")
                )
                .first()
            )
        )
        assert (refused["decision"], refused["plate_masked"]) == ("denied", "川A***88")

        # The entry's page: its history as audited, and the refused pass.
        await entry.locator("a").click()
        await expect(phone.locator("[data-test=vehicle-page-class]")).to_have_text("黑名单")
        history = phone.locator("[data-test=vehicle-history-item]")
        await expect(history).to_contain_text("列入黑名单")
        await expect(history).to_contain_text("多次冲卡")
        await expect(phone.locator("[data-test=vehicle-pass]")).to_contain_text("黑名单车辆")
