"""The places console in the browser: a property manager adds a building, a unit and a household
on a phone and finds it again in two taps; the system administrator adds a community on a
1440×900 console with its side navigation. Forms say what is wrong before and after the server."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from api.core.auth import Role
from e2e.conftest import artifact, open_phone
from e2e.pages import HomePage, LoginPage
from tests.fixtures import AsRole
from tests.helpers import World

DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
async def desktop(chromium: Browser, live_url: str) -> AsyncIterator[Page]:
    """A control-room PC's browser."""
    context = await chromium.new_context(viewport=DESKTOP, base_url=live_url, locale="zh-CN")
    page = await context.new_page()
    yield page
    await context.close()


async def signed_in(page: Page, world: World, role: Role) -> None:
    await (await LoginPage(page).open()).log_in(world.admins.get(role) or world.a.users[role])
    await HomePage(page, role.value).wait()


@pytest.mark.req("REG-02", partial=True)
async def test_a_manager_adds_a_building_and_a_household_and_finds_it_in_two_taps(
    phone: Page, world: World
) -> None:
    await signed_in(phone, world, Role.PROPERTY_MANAGER)
    await phone.locator("[data-test=cap-places]").click()
    # The manager's one community opens at once, with its code.
    pane = phone.locator("[data-test=community-pane]")
    await expect(pane).to_contain_text(world.a.code)

    await phone.locator("[data-test=building-add]").click()
    await phone.locator("[data-test=building-form-number] input").fill("06")
    await phone.locator("[data-test=building-form-floors] input").fill("12")
    await phone.locator("[data-test=building-form-save]").click()
    sheet = phone.locator("[data-test=building-form-sheet]")
    await expect(sheet).to_contain_text("楼栋号为 1–999 的数字")  # checked before sending
    await phone.locator("[data-test=building-form-number] input").fill("6")
    await phone.locator("[data-test=building-form-save]").click()
    building = phone.locator("[data-test=building-item][data-building-number='6']")
    await expect(building).to_contain_text(world.a.code + "006")

    await building.click()
    await expect(phone.locator("[data-test=building-code]")).to_contain_text(world.a.code + "006")
    await phone.locator("[data-test=unit-add]").click()
    await phone.locator("[data-test=unit-form-save]").click()
    await expect(phone.locator("[data-test=unit-item][data-unit-number='1']")).to_be_visible()

    await phone.locator("[data-test=household-add-1]").click()
    room = phone.locator("[data-test=household-form-room] input")
    await room.fill("1302")
    await phone.locator("[data-test=household-form-save]").click()
    form = phone.locator("[data-test=household-form-sheet]")
    await expect(form).to_contain_text("房号的楼层不在本楼栋的楼层范围内")  # 12 floors
    await room.fill("0302")
    await phone.locator("[data-test=household-form-rented]").click()
    await phone.locator("[data-test=household-form-save]").click()
    chip = phone.locator("[data-test=room-1-0302]")
    await expect(chip).to_be_visible()
    await expect(form).to_be_hidden()
    await phone.screenshot(path=artifact("manager-building-phone.png"), full_page=True)

    # The same room again: the server's refusal (409 duplicate_code) lands on the field.
    await phone.locator("[data-test=household-add-1]").click()
    await room.fill("0302")
    await phone.locator("[data-test=household-form-save]").click()
    await expect(form).to_contain_text("编号已被占用")
    await phone.locator("[data-test=household-form-sheet] .van-popup__close-icon").click()
    await expect(form).to_be_hidden()

    await chip.click()
    household = phone.locator("[data-test=household-sheet]")
    await expect(household).to_contain_text("6栋1单元0302")
    await expect(phone.locator("[data-test=household-code]")).to_contain_text(
        world.a.code + "006" + "01" + "0302"
    )

    # On a control-room screen the same page has the side navigation and no tab bar.
    await phone.locator("[data-test=household-sheet] .van-popup__close-icon").click()
    await expect(household).to_be_hidden()
    await expect(phone.locator(".van-toast")).to_be_hidden()
    await phone.set_viewport_size(DESKTOP)
    await expect(phone.locator("[data-test=side-nav]")).to_be_visible()
    await expect(phone.locator("[data-test=tabbar]")).to_be_hidden()
    await expect(phone.locator("[data-test=side-places]")).to_have_attribute("aria-current", "page")
    await phone.screenshot(path=artifact("manager-building-desktop.png"), full_page=True)


@pytest.mark.req("REG-02", partial=True)
async def test_the_system_admin_adds_a_community_on_a_desktop_console(
    desktop: Page, world: World, chromium: Browser, live_url: str
) -> None:
    await signed_in(desktop, world, Role.SYSTEM_ADMIN)
    await expect(desktop.locator("[data-test=tabbar]")).to_be_hidden()
    await desktop.locator("[data-test=side-communities]").click()
    await expect(desktop.locator("[data-test=community-item]").first).to_be_visible()

    await desktop.locator("[data-test=community-add]").click()
    await desktop.locator("[data-test=community-form-code] input").fill("510104000000000")
    await desktop.locator("[data-test=community-form-name] input").fill("锦江新苑")
    await desktop.locator("[data-test=community-form-address] input").fill("锦江区新苑路 8 号")
    await desktop.locator("[data-test=community-form-save]").click()
    # The server refuses an implausible division code: its code's message is on the field.
    sheet = desktop.locator("[data-test=community-form-sheet]")
    await expect(sheet).to_contain_text("小区编码不符合 GB/T 31000 规则")
    code = f"510104001002{secrets.randbelow(899) + 100}"
    await desktop.locator("[data-test=community-form-code] input").fill(code)
    await desktop.locator("[data-test=community-form-save]").click()

    await expect(desktop).to_have_url(re.compile(r"/places/communities/"))
    await expect(sheet).to_be_hidden()
    await expect(desktop.locator(".van-toast")).to_be_hidden()
    await expect(desktop.locator("[data-test=community-pane]")).to_contain_text(code)
    await expect(desktop.locator("[data-test=side-communities]")).to_have_attribute(
        "aria-current", "page"
    )
    await desktop.screenshot(path=artifact("admin-community-desktop.png"), full_page=True)

    phone = await open_phone(chromium, live_url)
    try:
        await signed_in(phone, world, Role.SYSTEM_ADMIN)
        await phone.locator("[data-test=cap-communities]").click()
        await phone.locator("[data-test=community-search] input").fill(code)
        await phone.keyboard.press("Enter")
        await expect(phone.locator("[data-test=community-item]")).to_have_count(1)
        await expect(phone.locator("[data-test=side-nav]")).to_be_hidden()
        await phone.screenshot(path=artifact("admin-communities-phone.png"), full_page=True)
    finally:
        await phone.context.close()


@pytest.mark.req("REG-02", partial=True)
async def test_a_manager_retires_a_home_its_unit_and_its_building_on_a_desktop(
    desktop: Page, world: World, as_role: AsRole
) -> None:
    api = await as_role(Role.PROPERTY_MANAGER)
    number = str(secrets.randbelow(800) + 100)
    building = await api.post(
        f"/api/v1/communities/{world.a.community}/buildings", json={"number": number, "floors": 6}
    )
    building_id = building.json()["id"]
    unit = await api.post(f"/api/v1/buildings/{building_id}/units", json={"number": "1"})
    home = await api.post(
        f"/api/v1/units/{unit.json()['id']}/households", json={"room": "0101", "housing": "vacant"}
    )
    assert home.status_code == 201, home.text

    await signed_in(desktop, world, Role.PROPERTY_MANAGER)
    await desktop.goto(f"/places/buildings/{building_id}")
    confirm = desktop.locator(".van-dialog__confirm")

    # The unit still holds a home: the refusal says so, and the unit stays.
    await desktop.locator("[data-test=unit-retire-1]").click()
    await confirm.click()
    await expect(desktop.locator(".van-toast")).to_contain_text("请先停用")
    await expect(desktop.locator("[data-test=unit-item][data-unit-number='1']")).to_be_visible()

    # The home first (nobody lives there), then the unit, then the building.
    await expect(desktop.locator(".van-toast")).to_be_hidden()
    await desktop.locator("[data-test=room-1-0101]").click()
    await desktop.locator("[data-test=household-retire]").click()
    await expect(desktop.locator(".van-dialog")).to_contain_text("停用“")
    await desktop.screenshot(path=artifact("manager-retire-desktop.png"))
    await confirm.click()
    await expect(desktop.locator("[data-test=room-1-0101]")).to_be_hidden()
    await desktop.locator("[data-test=unit-retire-1]").click()
    await confirm.click()
    await expect(desktop.locator("[data-test=unit-item]")).to_have_count(0)
    await desktop.locator("[data-test=building-retire]").click()
    await confirm.click()
    await expect(desktop.locator("[data-test=community-pane]")).to_be_visible()
    await expect(
        desktop.locator(f"[data-test=building-item][data-building-number='{number}']")
    ).to_have_count(0)
