"""The accounts console in the browser: the security administrator creates a guard account on a
1440×900 console and hands over its one-time password; the guard's first login asks for a TOTP
enrolment; the administrator disables the account on a phone, and an administrator's roles are
not editable (三员分立)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from api.core.auth import Role
from e2e.conftest import artifact, open_phone
from e2e.pages import HomePage, LoginPage
from tests.helpers import World

DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
async def desktop(chromium: Browser, live_url: str) -> AsyncIterator[Page]:
    """A control-room PC's browser."""
    context = await chromium.new_context(viewport=DESKTOP, base_url=live_url, locale="zh-CN")
    page = await context.new_page()
    yield page
    await context.close()


@pytest.mark.req("IAM-01", partial=True)
async def test_the_security_admin_creates_a_guard_who_must_enrol_and_change_the_password(
    desktop: Page, world: World, chromium: Browser, live_url: str
) -> None:
    await (await LoginPage(desktop).open()).log_in(world.admins[Role.SECURITY_ADMIN])
    await HomePage(desktop, "security_admin").wait()
    await desktop.locator("[data-test=side-accounts]").click()
    await expect(desktop.locator("[data-test=account-item]").first).to_be_visible()

    username = f"guard.{uuid.uuid4().hex[:6]}"
    await desktop.locator("[data-test=account-add]").click()
    await desktop.locator("[data-test=account-form-username] input").fill("王")
    await desktop.locator("[data-test=account-form-save]").click()
    sheet = desktop.locator("[data-test=account-form-sheet]")
    await expect(sheet).to_contain_text("用户名为 3–64 位字母")
    await expect(sheet).to_contain_text("请选择小区")
    await desktop.locator("[data-test=account-form-username] input").fill(username)
    await desktop.locator("[data-test=account-form-name] input").fill("王保安")
    await desktop.locator("[data-test=account-form-role]").select_option("guard")
    # Among many communities: found by its code, then chosen.
    await desktop.locator("[data-test=account-form-community-search]").fill(world.a.code)
    await desktop.locator("[data-test=account-form-community]").select_option(
        str(world.a.community)
    )
    await desktop.locator("[data-test=account-form-save]").click()

    message = desktop.locator(".van-dialog__message")
    await expect(message).to_contain_text("王保安")
    password = (await message.inner_text()).split("密码 ")[1].split(" ")[0]
    await desktop.locator(".van-dialog__confirm").click()
    row = desktop.locator(f"[data-test=account-item][data-username='{username}']")
    await expect(row).to_contain_text("保安")
    await expect(desktop.locator(".van-dialog")).to_be_hidden()
    await desktop.screenshot(path=artifact("security-admin-accounts-desktop.png"), full_page=True)

    guard = await open_phone(chromium, live_url)
    try:
        await (
            (await LoginPage(guard).open())
            .page.locator("[data-test=login-username] input")
            .fill(username)
        )
        await guard.locator("[data-test=login-password] input").fill(password)
        await guard.locator("[data-test=login-submit]").click()
        await expect(guard.get_by_text("绑定身份验证器")).to_be_visible()
    finally:
        await guard.context.close()

    phone = await open_phone(chromium, live_url)
    try:
        await (await LoginPage(phone).open()).log_in(world.admins[Role.SECURITY_ADMIN])
        await HomePage(phone, "security_admin").wait()
        await phone.locator("[data-test=cap-accounts]").click()
        await phone.locator("[data-test=account-search] input").fill(username)
        await phone.keyboard.press("Enter")
        await phone.locator(f"[data-test=account-item][data-username='{username}']").click()
        account = phone.locator("[data-test=account-sheet]")
        await expect(account).to_contain_text("保安")
        await phone.locator("[data-test=account-toggle]").click()
        await expect(phone.locator("[data-test=account-status]")).to_contain_text("已停用")
        await phone.screenshot(path=artifact("security-admin-account-phone.png"), full_page=True)

        # An administrator's account: its one role is not editable here (三员分立).
        await phone.locator("[data-test=account-sheet] .van-popup__close-icon").click()
        await expect(account).to_be_hidden()
        await phone.locator("[data-test=account-search] input").fill(
            world.admins[Role.AUDIT_ADMIN].username
        )
        await phone.keyboard.press("Enter")
        await phone.locator("[data-test=account-item]").first.click()
        await expect(phone.locator("[data-test=account-roles-fixed]")).to_be_visible()
        await expect(phone.locator("[data-test=role-grant-save]")).to_have_count(0)
    finally:
        await phone.context.close()
