"""关怀模式 (elder-friendly mode) on a resident's phone: turned on in the profile and remembered on
the device, large type on the browser's own size, large targets, the four big actions, voice
prompts, an easier SOS; and the system's reduced-motion and contrast settings followed."""

from __future__ import annotations

import pytest
from playwright.async_api import FloatRect, Locator, Page, expect

from api.core.auth import Role
from device_bridge.settings import BridgeSettings
from e2e.conftest import artifact
from e2e.pages import DoorsPage, ElderHomePage, HomePage, LoginPage, SosPage
from e2e.test_doors import UNIT_DOOR, inventory_in
from tests.helpers import World, running

# Every speechSynthesis.speak() is noted (and still spoken) so the test reads what was said.
NOTE_SPEECH = """
if (window.speechSynthesis) {
  const speak = speechSynthesis.speak.bind(speechSynthesis);
  window.__spoken = [];
  speechSynthesis.speak = (u) => { window.__spoken.push(u.text + "|" + u.lang); speak(u); };
}
"""

# Visible things a finger taps that are smaller than 48 × 48 CSS px: "tag text w×h" each.
SMALL_TARGETS = """
() => [...document.querySelectorAll(
  'a[href], button, input, [role=button], [role=switch], [role=tab],'
  + '.van-tabbar-item, .van-nav-bar__left'
)].filter((el) => {
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && el.closest('[aria-hidden=true]') === null
    && (box.width < 48 || box.height < 48);
}).map((el) => {
  const box = el.getBoundingClientRect();
  return `${el.tagName} ${el.textContent.trim().slice(0, 12)} ${box.width}x${box.height}`;
})
"""


async def font_px(page: Page, selector: str) -> float:
    """The computed font size of the first element matching the selector, in CSS px."""
    size = await page.locator(selector).first.evaluate("el => getComputedStyle(el).fontSize")
    return float(size.removesuffix("px"))


async def box_of(locator: Locator) -> FloatRect:
    """Where the element is on the screen (it must be visible), once no transition is running.

    A dialog enters scaled to 0.7 for a frame even with reduced motion; measured in that frame
    a 81 px button reads 56.7 px.
    """
    await locator.page.wait_for_function(
        '!document.querySelector(\'[class*="-enter-"], [class*="-leave-"]\')'
    )
    box = await locator.bounding_box()
    assert box is not None
    return box


async def spoken(page: Page) -> list[str]:
    return await page.evaluate("window.__spoken ?? []")


async def turn_on_elder_mode(phone: Page) -> None:
    """我的 → 关怀模式 on."""
    await phone.locator("[data-test=tab-profile]").click()
    toggle = phone.locator("[data-test=elder-toggle]")
    await expect(toggle).to_have_attribute("aria-checked", "false")
    await expect(phone.locator("[data-test=elder-cell]")).to_contain_text("关怀模式")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-checked", "true")
    await expect(phone.locator("html")).to_have_class("elder")


class TestElderMode:
    async def test_resident_turns_it_on_and_opens_the_door_from_the_large_home(
        self, phone: Page, world: World, site_settings: BridgeSettings
    ) -> None:
        await phone.add_init_script(NOTE_SPEECH)
        await phone.emulate_media(reduced_motion="reduce")
        async with running(site_settings):
            await inventory_in(site_settings)
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
            await HomePage(phone, "resident").wait()
            await expect(phone.locator("[data-test=home-grid]")).to_be_visible()
            await phone.screenshot(path=artifact("resident-home.png"), full_page=True)
            await phone.locator("[data-test=cap-open_door]").click()
            await DoorsPage(phone).wait()
            await expect(DoorsPage(phone).door(UNIT_DOOR)).to_be_visible()
            await phone.screenshot(path=artifact("resident-doors.png"), full_page=True)

            await turn_on_elder_mode(phone)
            assert "关怀模式已开启|zh-CN" in await spoken(phone)
            # The toggle itself is a large target in elder mode.
            assert (await box_of(phone.locator("[data-test=elder-toggle]")))["height"] >= 48
            await phone.screenshot(path=artifact("resident-profile-elder.png"), full_page=True)

            # Remembered on this device: a reload keeps it.
            await phone.reload()
            await phone.locator("[data-test=tab-home]").click()
            home = await ElderHomePage(phone).wait()
            await expect(home.buttons).to_have_text(["开门", "一键求助", "访客", "呼叫记录"])
            await expect(phone.locator("[data-test=home-grid]")).to_have_count(0)
            assert await font_px(phone, "body") >= 18
            for button in await home.buttons.all():
                assert (await box_of(button))["height"] >= 72
            assert await phone.evaluate(SMALL_TARGETS) == []
            await phone.screenshot(path=artifact("resident-home-elder.png"), full_page=True)

            await phone.locator("[data-test=elder-open_door]").click()
            doors = await DoorsPage(phone).wait()
            await doors.open_button(UNIT_DOOR).click()
            await expect(doors.result).to_contain_text("门已打开")
            assert "门已打开|zh-CN" in await spoken(phone)
            assert await font_px(phone, "body") >= 18
            assert await font_px(phone, "[data-test=door-list] .door__name") >= 18
            assert await phone.evaluate(SMALL_TARGETS) == []
            await phone.screenshot(path=artifact("resident-doors-elder.png"), full_page=True)

        # Off again: the usual home with its grid.
        await phone.locator("[data-test=tab-profile]").click()
        await phone.locator("[data-test=elder-toggle]").click()
        await expect(phone.locator("html")).not_to_have_class("elder")
        await phone.locator("[data-test=tab-home]").click()
        await expect(phone.locator("[data-test=home-grid]")).to_be_visible()
        assert await phone.evaluate("localStorage.getItem('anju.elder')") == "0"

    @pytest.mark.req("ALM-11", partial=True)
    async def test_sos_is_one_large_confirmation(self, phone: Page, world: World) -> None:
        await phone.add_init_script(NOTE_SPEECH)
        await phone.emulate_media(reduced_motion="reduce")
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
        await HomePage(phone, "resident").wait()
        await turn_on_elder_mode(phone)
        await phone.locator("[data-test=tab-home]").click()
        await ElderHomePage(phone).wait()
        sos = SosPage(phone)
        await sos.button.click()
        await expect(sos.confirm).to_have_text("立即求助")
        box = await box_of(sos.confirm)
        assert box["height"] >= 72
        assert box["width"] >= 300
        assert "确定要求助吗？请按红色大按钮。|zh-CN" in await spoken(phone)
        assert await phone.evaluate(SMALL_TARGETS) == []
        await phone.screenshot(path=artifact("resident-sos-confirm-elder.png"))
        await sos.call_for_help(pressed=True)
        await expect(sos.heading).to_have_text("求助已发出")
        assert "求助已发出，保安正在赶来。|zh-CN" in await spoken(phone)


class TestSystemSettings:
    async def test_type_follows_the_browsers_font_size(self, phone: Page, world: World) -> None:
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
        await HomePage(phone, "resident").wait()
        await turn_on_elder_mode(phone)
        assert await font_px(phone, "body") == 18
        # A larger default size in the browser's settings (20 px): the type grows with it.
        cdp = await phone.context.new_cdp_session(phone)
        await cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 20}})
        assert await font_px(phone, "body") == 22.5
        await phone.locator("[data-test=tab-home]").click()
        assert await font_px(phone, "[data-test=elder-open_door]") == 22.5 * 1.75

    async def test_reduced_motion_and_more_contrast(self, phone: Page, world: World) -> None:
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
        await HomePage(phone, "resident").wait()
        await phone.locator("[data-test=tab-profile]").click()
        switch = phone.locator("[data-test=elder-toggle]")
        duration = "el => getComputedStyle(el).transitionDuration"
        assert await switch.evaluate(duration) == "0.3s"
        await phone.emulate_media(reduced_motion="reduce")
        assert await switch.evaluate(duration) == "1e-05s"

        root = "getComputedStyle(document.documentElement)"
        secondary = f"() => {root}.getPropertyValue('--van-text-color-2')"
        assert (await phone.evaluate(secondary)).strip() != "#3d3d3d"
        cdp = await phone.context.new_cdp_session(phone)
        await cdp.send(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-contrast", "value": "more"}]},
        )
        # The store follows the media query on Vue's next tick: wait for it, then read.
        darker = f"() => {root}.getPropertyValue('--van-text-color-2').trim() === '#3d3d3d'"
        await phone.wait_for_function(darker, timeout=5_000)
        assert (await phone.evaluate(secondary)).strip() == "#3d3d3d"
