"""Logging in on a phone: a resident with a password, a guard with password and TOTP."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from api.core.auth import Role
from e2e.conftest import artifact
from e2e.pages import HomePage, LoginPage
from tests.helpers import World


@pytest.mark.req("IAM-04")
@pytest.mark.req("PLAT-05", partial=True)
class TestPhoneLogin:
    async def test_resident_lands_on_resident_home(self, phone: Page, world: World) -> None:
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
        home = await HomePage(phone, "resident").wait()
        await expect(home.root).to_contain_text("开门")  # Chinese first
        await phone.screenshot(path=artifact("resident-home.png"), full_page=True)

    async def test_guard_needs_totp_then_lands_on_guard_home(
        self, phone: Page, world: World
    ) -> None:
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.GUARD])
        home = await HomePage(phone, "guard").wait()
        await expect(home.root).to_contain_text("告警")
        await phone.screenshot(path=artifact("guard-home.png"), full_page=True)

    async def test_wrong_password_shows_error_and_stays(self, phone: Page, world: World) -> None:
        login = await LoginPage(phone).open()
        await phone.locator("[data-test=login-username] input").fill(
            world.a.users[Role.RESIDENT].username
        )
        await phone.locator("[data-test=login-password] input").fill("Wrong-password-1")
        await phone.locator("[data-test=login-submit]").click()
        await expect(phone.get_by_text("用户名或密码错误")).to_be_visible()
        await expect(login.page.locator("[data-test=login-username]")).to_be_visible()


class TestInstallable:
    async def test_manifest_and_service_worker(self, phone: Page) -> None:
        await phone.goto("/")
        manifest = await phone.evaluate(
            "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
        )
        assert manifest["display"] == "standalone"
        assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}
        registered = await phone.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
        assert registered is True
