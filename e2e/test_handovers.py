"""The duty handover on phones: the outgoing guard hands the shift over (open items, notes, keys)
to the incoming guard on the roster, who acknowledges it on their own phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from api.alarms.tables import DutyShift
from api.core.auth import Role
from api.operations.tables import Handover
from e2e.conftest import artifact, open_phone
from e2e.pages import HomePage, LoginPage
from tests.helpers import World, make_account, on_duty


@pytest.mark.req("OPS-11", partial=True)
async def test_a_guard_hands_over_the_shift_and_the_next_guard_acknowledges_it(
    phone: Page, chromium: Browser, live_url: str, world: World
) -> None:
    outgoing = world.a.users[Role.GUARD]
    incoming = await make_account(Role.GUARD, community=world.a.community)
    await on_duty(outgoing, world.a.community)
    now = datetime.now(UTC)
    await DutyShift(
        community=world.a.community,
        account=incoming.id,
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=13),
    ).save()

    await (await LoginPage(phone).open()).log_in(outgoing)
    await (await HomePage(phone, "guard").wait()).open_capability("handover")
    form = phone.locator("[data-test=handover-form]")
    await expect(form).to_contain_text(incoming.username)  # the only other guard, chosen
    await phone.locator("[data-test=handover-open-items] textarea").fill(
        "3栋电梯困人告警待维保确认"
    )
    await phone.locator("[data-test=handover-keys] textarea").fill("对讲机 4 台、总钥匙 1 把")
    await phone.locator("[data-test=handover-submit]").click()
    item = phone.locator("[data-test=handover-item]").first
    await expect(item).to_have_attribute("data-state", "pending")
    await expect(item).to_contain_text("3栋电梯困人告警待维保确认")
    await expect(phone.locator("[data-test=handover-ack]")).to_have_count(0)  # not theirs to sign

    next_phone = await open_phone(chromium, live_url)
    try:
        await (await LoginPage(next_phone).open()).log_in(incoming)
        await (await HomePage(next_phone, "guard").wait()).open_capability("handover")
        mine = next_phone.locator("[data-test=handover-item]").first
        await expect(mine).to_contain_text("对讲机 4 台")
        await expect(mine).to_contain_text("班次")  # on the outgoing guard's shift
        await next_phone.locator("[data-test=handover-ack-note] input").fill("钥匙已清点")
        await next_phone.locator("[data-test=handover-ack]").click()
        await expect(mine).to_have_attribute("data-state", "acknowledged")
        await expect(mine).to_contain_text("钥匙已清点")
        await next_phone.screenshot(path=artifact("handover-acknowledged.png"))
    finally:
        await next_phone.context.close()
    row = await Handover.select().where(Handover.to_account == incoming.id).first()
    assert row is not None
    assert row["acknowledged_at"] is not None
    assert row["shift"] is not None
