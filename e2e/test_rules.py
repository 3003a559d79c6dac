"""The manager's 规则 console in the browser: a property manager writes a linkage rule in the
editor, reading what it will do as it is typed, then an intrusion at the demo site's bridge fires
it — the camera's snapshot and the rule's actions are on the alarm's page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, ViewportSize, expect

from api.alarms.tables import Alarm, AlarmEntry
from api.core.auth import Role
from device_bridge.settings import BridgeSettings
from e2e.conftest import artifact
from e2e.pages import AlarmDetailPage, HomePage, LoginPage
from e2e.test_alarms import device_id, logged_in, settled
from tests.helpers import ApiClient, World, eventually, running
from tests.jobs import ALARM_JOBS, Jobs

DESKTOP: ViewportSize = {"width": 1440, "height": 900}
DETECTOR = "zone-east"  # an intrusion detector of the demo site (device_bridge/demo.toml)
CAMERA = "cam-north-gate"  # 北门 摄像机
RULE = "东区入侵联动"


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The alarm jobs (the linkage, the escalation) run by the `jobs` worker."""
    return ALARM_JOBS


@pytest.mark.req("LNK-01")
@pytest.mark.req("ALM-06", partial=True)
async def test_the_manager_writes_a_linkage_rule_and_sees_it_fire(
    phone: Page,
    chromium: Browser,
    world: World,
    site_settings: BridgeSettings,
    browser: Callable[[], Awaitable[ApiClient]],
    live_url: str,
    jobs: Jobs,
) -> None:
    manager_user = world.a.users[Role.PROPERTY_MANAGER]
    manager = await logged_in(browser, manager_user)
    async with running(site_settings) as bridge:
        assert bridge.sim is not None
        detector = await device_id(site_settings, DETECTOR)
        camera = await device_id(site_settings, CAMERA)
        made = await manager.post(
            "/api/v1/zones",
            json={
                "community_id": str(world.a.community),
                "name": "东区",
                "kind": "area",
                "devices": [str(detector), str(camera)],
                "armed": True,
            },
        )
        assert made.status_code == 201, made.text
        zone_id = made.json()["id"]

        await (await LoginPage(phone).open()).log_in(manager_user)
        await (await HomePage(phone, "property_manager").wait()).open_capability("rules")
        pane = phone.locator("[data-test=linkage-pane]")
        await expect(pane).to_contain_text("还没有联动规则")

        # The editor checks before sending, and says what the rule will do as it is written.
        await phone.locator("[data-test=rule-add]").click()
        sheet = phone.locator("[data-test=rule-form-sheet]")
        preview = phone.locator("[data-test=rule-preview]")
        blank = "任意防区 入侵报警时：抓拍 报警防区的摄像机，通知值班保安。"
        await expect(preview).to_have_text(blank)
        await phone.locator("[data-test=rule-form-save]").click()
        await expect(sheet).to_contain_text("请填写名称")
        await phone.locator("[data-test=rule-form-name] input").fill(RULE)
        await phone.locator("[data-test=rule-form-zone]").select_option(zone_id)
        await phone.locator("[data-test=rule-form-from]").fill("22:00")
        await expect(sheet).to_contain_text("请同时填写开始和结束时间")
        await phone.locator("[data-test=rule-form-until]").fill("06:00")
        await expect(preview).to_have_text(
            "东区 入侵报警（夜间 22:00–次日 06:00）时：抓拍 北门 摄像机，通知值班保安。"
        )
        await phone.locator("[data-test=rule-action-add]").click()
        await phone.locator("[data-test=rule-action-kind-2]").select_option("escalate")
        after = phone.locator("[data-test=rule-action-after-2] input")
        await after.fill("0")
        await expect(sheet).to_contain_text("升级时间为 1–86400 秒")
        await after.fill("120")
        await expect(preview).to_have_text(
            "东区 入侵报警（夜间 22:00–次日 06:00）时：抓拍 北门 摄像机，通知值班保安，"
            "120 秒未确认则升级通知物业管理员。"
        )
        await preview.scroll_into_view_if_needed()
        await settled(phone)
        await phone.screenshot(path=artifact("manager-rule-editor-phone.png"))
        # The demo is now, whatever the hour: all day, and a short escalation to watch it happen.
        await phone.locator("[data-test=rule-form-from]").fill("")
        await phone.locator("[data-test=rule-form-until]").fill("")
        await after.fill("3")
        said = "东区 入侵报警时：抓拍 北门 摄像机，通知值班保安，3 秒未确认则升级通知物业管理员。"
        await expect(preview).to_have_text(said)
        await phone.locator("[data-test=rule-form-save]").click()
        await expect(sheet).to_be_hidden()

        item = phone.locator("[data-test=rule-item]")
        await expect(item).to_have_count(1)
        await expect(item.locator("[data-test=rule-sentence]")).to_have_text(said)
        rule_id = await item.get_attribute("data-rule-id")
        toggle = phone.locator(f"[data-test=rule-toggle-{rule_id}]")
        await toggle.click()
        await expect(item).to_have_attribute("data-enabled", "false")
        await expect(item).to_contain_text("已停用")
        await toggle.click()
        await expect(item).to_have_attribute("data-enabled", "true")
        await phone.screenshot(path=artifact("manager-rules-phone.png"), full_page=True)

        # The same console on a control-room PC, with its side navigation.
        context = await chromium.new_context(viewport=DESKTOP, base_url=live_url, locale="zh-CN")
        try:
            desktop = await context.new_page()
            await (await LoginPage(desktop).open()).log_in(manager_user)
            await HomePage(desktop, "property_manager").wait()
            await desktop.locator("[data-test=side-rules]").click()
            await expect(desktop.locator("[data-test=rule-sentence]")).to_have_text(said)
            await desktop.screenshot(path=artifact("manager-rules-desktop.png"))
            await desktop.locator(f"[data-test=rule-open-{rule_id}]").click()
            await expect(desktop.locator("[data-test=rule-preview]")).to_have_text(said)
            await settled(desktop)
            await desktop.screenshot(path=artifact("manager-rule-editor-desktop.png"))
        finally:
            await context.close()

        # An intrusion at the site: the rule fires.
        await bridge.sim.trigger(DETECTOR, "alarm.intrusion")
        raised = await eventually(
            lambda: Alarm.select(Alarm.id).where(Alarm.source_device == detector).first()
        )
        alarm_id = str(raised["id"])
        await jobs.run()  # the linkage now, the escalation 3 s later

        async def to_live_server(route: Route) -> None:
            url = urlsplit(route.request.url)
            served = await route.fetch(url=f"{live_url}{url.path}?{url.query}")
            await route.fulfill(response=served)

        await phone.route("http://127.0.0.1:8000/api/v1/objects/**", to_live_server)
        async with phone.expect_response(lambda r: "/api/v1/objects/" in r.url) as picture:
            await phone.goto(f"/alarms/{alarm_id}")
            detail = await AlarmDetailPage(phone).wait()
        # The camera's picture is stored and served (the sim camera's SVG as an attachment).
        assert (await picture.value).ok
        await expect(detail.header).to_contain_text("入侵报警")
        await expect(detail.timeline).to_contain_text(f"{RULE}：抓拍 · 成功")
        await expect(detail.timeline).to_contain_text(f"{RULE}：通知 · 成功")
        await expect(detail.timeline).to_contain_text(f"{RULE}：超时升级 · 已安排")
        snapshot = phone.locator("[data-test=alarm-media-0]")
        await expect(snapshot).to_contain_text("联动抓拍")
        kinds = await detail.entries.evaluate_all("els => els.map(e => e.dataset.kind)")
        assert {"raised", "linkage", "media", "escalated"} <= set(kinds), kinds
        await phone.screenshot(path=artifact("manager-rule-fired-phone.png"), full_page=True)

    # What the page showed is what the server holds: the picture came from the zone's camera.
    media = (
        await AlarmEntry.select(AlarmEntry.data)
        .where((AlarmEntry.alarm == raised["id"]) & (AlarmEntry.kind == "media"))
        .output(load_json=True)
    )
    assert [m["data"]["device"] for m in media] == [str(camera)]
    answer = await manager.get(f"/api/v1/alarms/{alarm_id}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["escalated_at"] is not None


@pytest.mark.req("LNK-02", partial=True)
async def test_the_manager_sets_up_a_zone_schedule_a_plan_and_a_shift_on_the_console(
    chromium: Browser,
    world: World,
    live_url: str,
    browser: Callable[[], Awaitable[ApiClient]],
) -> None:
    """On a 1440×900 console: a zone armed at night on weekdays, an intrusion plan with ordered
    steps, a guard rostered for tonight — each checked before it is sent."""
    manager_user = world.a.users[Role.PROPERTY_MANAGER]
    guard = world.a.users[Role.GUARD]
    context = await chromium.new_context(viewport=DESKTOP, base_url=live_url, locale="zh-CN")
    try:
        page = await context.new_page()
        await (await LoginPage(page).open()).log_in(manager_user)
        await HomePage(page, "property_manager").wait()
        await page.locator("[data-test=side-rules]").click()
        await page.locator(".rules-tab-zones").click()

        # A zone, then its schedule: Monday to Friday, armed 22:00, disarmed 06:00 the next day.
        await page.locator("[data-test=zone-add]").click()
        await page.locator("[data-test=zone-form-save]").click()
        await expect(page.locator("[data-test=zone-form-sheet]")).to_contain_text("请填写名称")
        await page.locator("[data-test=zone-form-name] input").fill("地库")
        await page.locator("[data-test=zone-form-save]").click()
        zone = page.locator("[data-test=zone-item]").filter(has_text="地库")
        await expect(zone).to_have_attribute("data-armed", "true")
        await expect(zone).to_contain_text("无摄像机覆盖")
        zone_id = await zone.get_attribute("data-zone-id")
        await page.locator(f"[data-test=zone-arm-{zone_id}]").click()
        await expect(zone).to_have_attribute("data-armed", "false")
        await zone.locator("button.card__open").click()
        for day in (5, 6):
            await page.locator(f"[data-test=zone-schedule-day-{day}]").click()
        await page.locator("[data-test=zone-schedule-arm]").fill("22:00")
        await page.locator("[data-test=zone-schedule-disarm]").fill("06:00")
        await expect(page.locator("[data-test=zone-schedule-preview]")).to_have_text(
            "周一至周五 22:00 布防，次日 06:00 撤防"
        )
        await page.locator("[data-test=zone-schedule-add]").click()
        await expect(page.locator("[data-test=zone-schedule]")).to_have_text(
            "周一至周五 22:00 布防，次日 06:00 撤防"
        )
        await settled(page)
        await page.screenshot(path=artifact("manager-zone-desktop.png"))
        await page.locator("[data-test=zone-form-sheet] .van-popup__close-icon").click()

        # An intrusion plan for that zone, its steps in order.
        await page.locator(".rules-tab-plans").click()
        await page.locator("[data-test=plan-add]").click()
        await page.locator("[data-test=plan-form-title] input").fill("地库入侵处置")
        await page.locator("[data-test=plan-form-zone]").select_option(zone_id)
        await page.locator("[data-test=plan-form-step-0] input").fill("调取地库视频，确认入侵位置")
        await page.locator("[data-test=plan-step-add]").click()
        await page.locator("[data-test=plan-form-save]").click()
        await expect(page.locator("[data-test=plan-form-steps-problem]")).to_have_text(
            "请填写每个步骤"
        )
        await page.locator("[data-test=plan-form-step-1] input").fill("通知巡逻保安前往地库")
        await page.locator("[data-test=plan-form-save]").click()
        plan = page.locator("[data-test=plan-item]").filter(has_text="地库入侵处置")
        await expect(plan.locator("ol > li")).to_have_text(
            ["调取地库视频，确认入侵位置", "通知巡逻保安前往地库"]
        )
        await expect(plan).to_contain_text("地库")

        # The zone cannot go while the plan names it: the API's zone_in_use, said in words.
        await page.locator(".rules-tab-zones").click()
        await zone.locator("button.card__open").click()
        await page.locator("[data-test=zone-form-delete]").click()
        await page.locator(".van-dialog__confirm").click()
        await expect(page.get_by_text("还有预案或联动规则使用此防区，请先修改它们")).to_be_visible()
        await page.locator("[data-test=zone-form-sheet] .van-popup__close-icon").click()
        await expect(zone).to_be_visible()

        # The guard on tonight's shift.
        await page.locator(".rules-tab-roster").click()
        await expect(page.locator("[data-test=roster-on-duty]")).to_contain_text(guard.username)
        await page.locator("[data-test=shift-add]").click()
        await page.locator("[data-test=shift-form-guard]").select_option(str(guard.id))
        await page.locator("[data-test=shift-form-save]").click()
        shift = page.locator("[data-test=shift-item]")
        await expect(shift).to_have_count(1)
        await expect(shift).to_contain_text(guard.username)
        await settled(page)
        await page.screenshot(path=artifact("manager-roster-desktop.png"))
    finally:
        await context.close()

    # What the console showed is what the server holds.
    manager = await logged_in(browser, manager_user)
    schedules = (await manager.get(f"/api/v1/zones/{zone_id}/schedules")).json()
    assert [(s["weekdays"], s["arm_at"], s["disarm_at"]) for s in schedules] == [
        ([0, 1, 2, 3, 4], "22:00:00", "06:00:00")
    ]
    plans = (await manager.get("/api/v1/plans", params={"alarm_type": "intrusion"})).json()
    assert [(p["zone_id"], p["steps"]) for p in plans["items"]] == [
        (zone_id, ["调取地库视频，确认入侵位置", "通知巡逻保安前往地库"])
    ]
    shifts = (await manager.get("/api/v1/duty-shifts")).json()
    assert [s["account_id"] for s in shifts["items"]] == [str(guard.id)]
