"""Page objects of the PWA, addressed by data-test attributes."""

from __future__ import annotations

from playwright.async_api import Page, expect

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
