"""Page objects of the PWA, addressed by data-test attributes."""

from __future__ import annotations

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
