"""Page objects of the PWA, addressed by data-test attributes."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from tests.helpers import TestUser


class LoginPage:
    """The login screen and its TOTP step."""

    def __init__(self, page: Page) -> None:
        self.page = page

    async def open(self) -> LoginPage:
        """Go to the app; an unauthenticated visitor lands on the login screen."""
        await self.page.goto("/")
        await expect(self.page.locator("[data-test=login-username]")).to_be_visible()
        return self

    async def log_in(self, user: TestUser) -> None:
        """Password, then the TOTP code when the account is staff."""
        await self.page.locator("[data-test=login-username] input").fill(user.username)
        await self.page.locator("[data-test=login-password] input").fill(user.password)
        await self.page.locator("[data-test=login-submit]").click()
        if user.totp_secret:
            code = self.page.locator("[data-test=totp-code] input")
            await expect(code).to_be_visible()
            await code.fill(user.totp_now())
            await self.page.locator("[data-test=totp-submit]").click()


class HomePage:
    """The role's home screen."""

    def __init__(self, page: Page, role: str) -> None:
        self.page = page
        self.root = page.locator(f"[data-test=home-{role}]")

    async def wait(self) -> HomePage:
        """Wait until the home screen of the role shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    async def open_capability(self, key: str) -> None:
        """Tap a tile of the home grid."""
        await self.page.locator(f"[data-test=cap-{key}]").click()


class DoorsPage:
    """The resident's 开门 screen: the doors of the household and its access history."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=doors-page]")
        self.result = page.locator("[data-test=door-result]")
        self.history = page.locator("[data-test=access-history]")
        self.records = page.locator("[data-test=access-item]")

    async def wait(self) -> DoorsPage:
        """Wait until the screen shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    def door(self, name: str) -> Locator:
        """The row of the door with this name."""
        return self.page.locator("[data-test=door-list] > li").filter(has_text=name)

    def open_button(self, name: str) -> Locator:
        """The 开门 button of a door."""
        return self.door(name).locator("[data-test^=door-open-]")


class DevicesPage:
    """The staff's device status list."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=devices-page]")
        self.items = page.locator("[data-test=device-item]")
        self.live = page.locator("[data-test=devices-live]")

    async def wait(self) -> DevicesPage:
        """Wait until the screen shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    def device(self, name: str) -> Locator:
        """The row of the device with this name."""
        return self.items.filter(has_text=name)

    async def filter(self, which: str) -> None:
        """Tap a status chip: all, online or offline."""
        await self.page.locator(f"[data-test=device-filter-{which}]").click()

    async def kind(self, kind: str) -> None:
        """Pick a device kind (or "all") from the kind menu."""
        await self.page.locator("[data-test=device-kind] .van-dropdown-menu__item").click()
        await self.page.locator(f"[data-test=device-kind-{kind}]").click()

    async def search(self, text: str) -> None:
        """Type into the search box (the list follows as one types)."""
        await self.page.locator("[data-test=device-search] input").fill(text)


class BridgesPage:
    """The system administrator's bridges and the enrolment of a new one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=bridges-page]")
        self.items = page.locator("[data-test=bridge-item]")
        self.token = page.locator("[data-test=bridge-token]")

    async def wait(self) -> BridgesPage:
        """Wait until the screen shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    def bridge(self, bridge_id: object) -> Locator:
        """The card of one bridge."""
        return self.page.locator(f"[data-test=bridge-item][data-bridge-id='{bridge_id}']")

    async def issue_token(self, community: object) -> str:
        """添加网关 for a community; the one-time token it shows."""
        await self.page.locator("[data-test=bridge-add]").click()
        await self.page.locator(f"[data-test=bridge-community-{community}]").click()
        await self.page.locator("[data-test=bridge-issue]").click()
        await expect(self.token).to_be_visible()
        return (await self.token.inner_text()).strip()


class AlarmBoardPage:
    """The guard's 告警 board: alarms newest first, by state chip, live."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=alarm-board]")
        self.items = page.locator("[data-test=alarm-item]")
        self.live = page.locator("[data-test=alarms-live]")

    async def wait(self) -> AlarmBoardPage:
        """Wait until the board shows and its live channel is connected."""
        await expect(self.root).to_be_visible(timeout=10_000)
        await expect(self.live).to_have_class(re.compile("board__live--on"), timeout=10_000)
        return self

    def alarm(self, alarm_id: object) -> Locator:
        """The row of one alarm."""
        return self.page.locator(f"[data-test=alarm-item][data-alarm-id='{alarm_id}']")

    async def filter(self, which: str) -> None:
        """Tap a state chip: new (未处理), active (处理中) or closed (已结束)."""
        await self.page.locator(f"[data-test=alarm-filter-{which}]").click()

    async def open(self, alarm_id: object) -> AlarmDetailPage:
        """Tap an alarm's row."""
        await self.page.locator(f"[data-test=alarm-{alarm_id}]").click()
        return await AlarmDetailPage(self.page).wait()


class AlarmDetailPage:
    """One alarm: header, pictures, the emergency plan's checklist, actions and the timeline."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=alarm-detail]")
        self.header = page.locator("[data-test=alarm-header]")
        self.state = page.locator("[data-test=alarm-state]")
        self.timeline = page.locator("[data-test=alarm-timeline]")
        self.entries = page.locator("[data-test=timeline-entry]")

    async def wait(self) -> AlarmDetailPage:
        """Wait until the alarm has loaded."""
        await expect(self.header).to_be_visible(timeout=10_000)
        return self

    def action(self, name: str) -> Locator:
        """An action button: ack, dispatch, resolve or false."""
        return self.page.locator(f"[data-test=alarm-{name}]")

    def step(self, index: int) -> Locator:
        """A step of the emergency plan."""
        return self.page.locator(f"[data-test=plan-step-{index}]")

    async def act_with_note(self, name: str, note: str = "") -> None:
        """派警, 处理完成 or 误报, with an optional note in the dialog."""
        await self.action(name).click()
        if note:
            await self.page.locator("[data-test=alarm-action-note] textarea").fill(note)
        await self.page.locator("[data-test=alarm-action-confirm]").click()

    async def add_note(self, text: str) -> None:
        """Write a note on the timeline."""
        await self.page.locator("[data-test=alarm-note] textarea").fill(text)
        await self.page.locator("[data-test=alarm-note-send]").click()


class SosPage:
    """The resident's 一键求助: the button on the home screen, its dialog, the status screen."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.button = page.locator("[data-test=sos-button]")
        self.confirm = page.locator("[data-test=sos-confirm]")
        self.status = page.locator("[data-test=sos-status]")
        self.heading = page.locator("[data-test=sos-heading]")
        self.acknowledged_by = page.locator("[data-test=sos-acknowledged-by]")
        self.entries = page.locator("[data-test=sos-entry]")

    async def call_for_help(self, *, pressed: bool = False) -> str:
        """Press SOS (unless `pressed` already) and confirm; the SOS id, from the page's address."""
        if not pressed:
            await self.button.click()
        await expect(self.confirm).to_be_visible()
        await self.confirm.click()
        await expect(self.status).to_be_visible(timeout=15_000)
        return self.page.url.rstrip("/").rsplit("/", 1)[-1]
