"""Self-registration (业主认证) in the browser: a person opens the community's join link on a
phone, proves the phone with the code the (console) SMS sender got, and files a request; the
manager approves it on a 1440×900 console; the new resident logs in and opens the unit door
through the real site bridge."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from playwright.async_api import Browser, Page, expect

from api.core.auth import Role
from device_bridge.settings import BridgeSettings
from e2e.conftest import artifact
from e2e.pages import DoorsPage, HomePage, LoginPage
from e2e.test_doors import UNIT_DOOR, inventory_in
from tests.helpers import TestUser, World, running
from tests.people.test_people import new_phone

DESKTOP = {"width": 1440, "height": 900}
PASSWORD = "Join-Us-2026!x"


@pytest.fixture
async def desktop(chromium: Browser, live_url: str) -> AsyncIterator[Page]:
    """The manager's control-room PC."""
    context = await chromium.new_context(viewport=DESKTOP, base_url=live_url, locale="zh-CN")
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def fresh_budgets(app: Litestar) -> None:
    """Every browser here is 127.0.0.1: start with the join budgets of earlier runs spent none."""
    async for key in app.state.redis.scan_iter("anju:join:budget:*"):
        await app.state.redis.delete(key)


@pytest.mark.req("REG-11", partial=True)
@pytest.mark.usefixtures("fresh_budgets")
async def test_a_manager_approves_a_self_registered_resident_who_then_opens_a_door(
    app: Litestar, phone: Page, desktop: Page, world: World, site_settings: BridgeSettings
) -> None:
    async with running(site_settings):
        await inventory_in(site_settings)
        manager = world.a.users[Role.PROPERTY_MANAGER]
        await (await LoginPage(desktop).open()).log_in(manager)
        await HomePage(desktop, "property_manager").wait()
        await desktop.locator("[data-test=side-residents]").click()
        await desktop.locator("[data-test=join-requests-open]").click()
        link = desktop.locator("[data-test=join-link] a")
        await expect(link).to_have_attribute("href", re.compile(r"/join/[\w-]+$"))
        path = "/join/" + str(await link.get_attribute("href")).rsplit("/join/", 1)[1]

        # The person, on their own phone, without an account.
        await phone.goto(path)
        await expect(phone.locator("[data-test=join-community]")).to_contain_text("测试小区")
        await expect(phone.locator("[data-test^=join-unit-][aria-checked=true]")).to_have_count(1)
        number = new_phone()
        await phone.locator("[data-test=join-room] input").fill("0102")
        await phone.locator("[data-test=join-name] input").fill("王小明")
        await phone.locator("[data-test=join-phone] input").fill(number)
        await phone.locator("[data-test=join-send-code]").click()
        await expect(phone.locator("[data-test=join-code-sent]")).to_be_visible()
        text = app.state.sms.last(number)
        assert text
        found = re.search(r"\d{6}", text)
        assert found
        await phone.locator("[data-test=join-code] input").fill(
            "000000" if found.group(0) != "000000" else "111111"
        )
        username = "wang-" + number[-6:]
        await phone.locator("[data-test=join-username] input").fill(username)
        await phone.locator("[data-test=join-password] input").fill(PASSWORD)
        await phone.locator("[data-test=join-submit]").click()
        await expect(
            phone.locator("[data-test=join-page] .van-field__error-message")
        ).to_contain_text("验证码错误或已过期")
        await phone.locator("[data-test=join-code] input").fill(found.group(0))
        await phone.screenshot(path=artifact("join-form-phone.png"), full_page=True)
        await phone.locator("[data-test=join-submit]").click()
        await expect(phone.locator("[data-test=join-filed]")).to_contain_text("申请已提交")
        await phone.screenshot(path=artifact("join-filed-phone.png"), full_page=True)

        # The manager's queue shows the request; approving it makes the resident.
        await desktop.reload()
        item = desktop.locator("[data-test=join-item]", has_text="王小明")
        await expect(item).to_contain_text("0102")
        await expect(item).to_contain_text(number[:3] + "****" + number[-4:])
        await desktop.screenshot(path=artifact("join-requests-desktop.png"), full_page=True)
        await item.locator("[data-test=join-approve]").click()
        await expect(desktop.get_by_text("已通过 王小明 的认证")).to_be_visible()
        await expect(item).to_have_count(0)

        # The new resident logs in on the phone and opens the unit door.
        resident = TestUser(
            id=world.a.community, username=username, role=Role.RESIDENT, password=PASSWORD
        )
        await (await LoginPage(phone).open()).log_in(resident)
        home = await HomePage(phone, "resident").wait()
        await home.open_capability("open_door")
        doors = await DoorsPage(phone).wait()
        await doors.open_button(UNIT_DOOR).click()
        await expect(doors.result).to_contain_text("门已打开")
        await phone.screenshot(path=artifact("join-resident-door-open.png"), full_page=True)
