"""The managers' console in the browser: the residents registry (a manager finds a household in
the tree, registers a resident there, reveals an ID number for a stated purpose, moves a resident
out in one step) on a phone and a 1440×900 console."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from api.accounts.tables import RoleAssignment
from api.core.auth import Role
from api.people.tables import Person
from e2e.conftest import artifact
from e2e.pages import HomePage, LoginPage
from tests.helpers import World, audit_rows
from tests.people.test_people import new_id_number, new_phone

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


@pytest.mark.req("REG-06", partial=True)
async def test_a_manager_finds_a_household_adds_a_resident_and_reveals_an_id_on_a_console(
    desktop: Page, world: World
) -> None:
    await signed_in(desktop, world, Role.PROPERTY_MANAGER)
    await desktop.locator("[data-test=side-residents]").click()
    await expect(desktop.locator("[data-test=resident-total]")).to_contain_text("共 2 人")

    # Two taps: the building, then the room.
    tree = desktop.locator("[data-test=household-tree]")
    await tree.get_by_role("radio", name="1栋", exact=True).click()
    await tree.locator("[data-test=tree-room-0101]").click()
    await expect(desktop.locator("[data-test=resident-item]")).to_have_count(1)
    await expect(desktop.locator("[data-test=resident-item]")).to_contain_text("张三")

    number, phone = new_id_number(), new_phone()
    await desktop.locator("[data-test=resident-add]").click()
    await desktop.locator("[data-test=person-form-name] input").fill("王小明")
    await desktop.locator("[data-test=person-form-phone] input").fill(phone)
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")  # a wrong check digit
    await desktop.locator("[data-test=person-form-id] input").fill(wrong)
    await desktop.locator("[data-test=person-form-save]").click()
    form = desktop.locator("[data-test=person-form-sheet]")
    await expect(form).to_contain_text("证件号码应为 18 位，校验位须正确")  # checked before sending
    await desktop.locator("[data-test=person-form-id] input").fill(number)
    await desktop.locator("[data-test=person-form-relation-member]").click()
    await desktop.locator("[data-test=person-form-save]").click()
    await expect(form).to_be_hidden()

    sheet = desktop.locator("[data-test=person-sheet]")
    await expect(sheet.locator("[data-test=person-sheet-name]")).to_have_text("王小明")
    masked = number[:4] + "*" * 10 + number[-4:]
    await expect(sheet.locator("[data-test=person-id]")).to_contain_text(masked)
    await sheet.locator("[data-test=person-reveal]").click()
    await sheet.locator("[data-test=reveal-purpose] input").fill("核对身份办理门禁卡")
    await sheet.locator("[data-test=reveal-send]").click()
    await expect(sheet.locator("[data-test=person-id]")).to_contain_text(number)
    await desktop.screenshot(path=artifact("manager-residents-desktop.png"))
    # The newest 王小明: the suite's database holds others of the name.
    added = (
        await Person.select(Person.id)
        .where(Person.name == "王小明")
        .order_by(Person.created_at, ascending=False)
        .first()
    )
    assert added is not None
    reveals = await audit_rows("person.revealed", added["id"])
    assert reveals
    assert reveals[0]["purpose"] == "核对身份办理门禁卡"


@pytest.mark.req("REG-06", partial=True)
async def test_a_manager_moves_a_resident_out_on_a_phone(phone: Page, world: World) -> None:
    await signed_in(phone, world, Role.PROPERTY_MANAGER)
    await phone.locator("[data-test=cap-residents]").click()
    search = phone.locator("[data-test=resident-search] input")
    await search.fill("13812345678")  # an exact phone: the blind index finds 张三
    await search.press("Enter")
    await expect(phone.locator("[data-test=resident-item]")).to_have_count(1)
    await phone.locator("[data-test=resident-item]").click()

    sheet = phone.locator("[data-test=person-sheet]")
    await sheet.locator("[data-test=person-move-out]").click()
    await expect(sheet.locator("[data-test=move-out-form]")).to_contain_text("撤销")
    await phone.screenshot(path=artifact("manager-move-out-phone.png"))
    await sheet.locator("[data-test=move-out-send]").click()
    await expect(phone.locator(".van-toast")).to_contain_text("房屋权限 1 个")
    await expect(sheet.locator("[data-test=person-sheet-status]")).to_contain_text("已迁出")

    # 张三's account (the world's resident) holds no role on the household any more.
    assert not await RoleAssignment.exists().where(
        RoleAssignment.account == world.a.users[Role.RESIDENT].id
    )
    await sheet.locator(".van-popup__close-icon").click()
    await expect(sheet).to_be_hidden()
    await phone.locator("[data-test=resident-residence-moved_out]").click()
    await expect(phone.locator("[data-test=resident-item]")).to_have_count(1)


@pytest.mark.req("SEC-09", partial=True)
async def test_the_security_administrator_tightens_the_lockout_and_a_login_locks_after_it(
    desktop: Page, phone: Page, world: World
) -> None:
    await signed_in(desktop, world, Role.SECURITY_ADMIN)
    await desktop.locator("[data-test=side-security_policy]").click()
    threshold = desktop.locator("[data-test=policy-lockout_threshold] input")
    await expect(threshold).to_have_value("5")
    version = desktop.locator("[data-test=policy-version]")
    before = await version.inner_text()
    await threshold.fill("6")
    await desktop.locator("[data-test=policy-save]").click()
    await expect(desktop.locator("[data-test=policy-lockout_threshold]")).to_contain_text(
        "不能超过标准要求的上限"
    )  # weaker than the floor: refused before sending
    await threshold.fill("3")
    await desktop.locator("[data-test=policy-save]").click()
    await expect(desktop.locator(".van-toast")).to_contain_text("安全策略已更新")
    await expect(version).not_to_have_text(before)  # a new version
    await desktop.screenshot(path=artifact("security-admin-policy-desktop.png"))

    try:
        user = world.a.users[Role.RESIDENT]
        await LoginPage(phone).open()
        error = phone.locator("[data-test=login-error]")
        for attempt in range(3):
            await phone.locator("[data-test=login-username] input").fill(user.username)
            await phone.locator("[data-test=login-password] input").fill(f"Wrong-pass-{attempt}x")
            await phone.locator("[data-test=login-submit]").click()
            if attempt < 2:
                await expect(error).to_have_text("用户名或密码错误")
        await expect(error).to_contain_text("账号已被锁定")  # at the third, not the fifth
        await phone.screenshot(path=artifact("resident-locked-phone.png"))
    finally:  # later tests in this session log in under the floor again
        tightened = await version.inner_text()
        await threshold.fill("5")
        await desktop.locator("[data-test=policy-save]").click()
        await expect(version).not_to_have_text(tightened)
