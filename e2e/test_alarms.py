"""Alarms from the phone with a real site bridge: a guard's board hears an intrusion live and the
guard handles it by the emergency plan; a resident's SOS is acknowledged and the resident sees
who."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Page, Route, expect

from api.core.auth import Role
from api.devices.tables import Device
from device_bridge.identity import load_bridge_id
from device_bridge.settings import BridgeSettings
from e2e.conftest import artifact
from e2e.pages import AlarmBoardPage, AlarmDetailPage, HomePage, LoginPage, SosPage, photo
from tests.helpers import ApiClient, TestUser, World, eventually, running

DETECTOR = "zone-east"  # an intrusion detector of the demo site (device_bridge/demo.toml)
PLAN_STEPS = [
    "调取东侧周界视频，确认入侵位置",
    "通知巡逻保安携带对讲机前往现场",
    "到场核实并在系统内反馈",
]

Browser = Callable[[], Awaitable[ApiClient]]


async def logged_in(browser: Browser, user: TestUser) -> ApiClient:
    """A fresh API client signed in as the user (alongside the phone, like a second device)."""
    api = await browser()
    await api.login(user)
    return api


def jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height of a JPEG."""
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG", "not a JPEG"
    return picture.size


async def settled(page: Page) -> None:
    """Wait for the page's CSS transitions (a dialog fading in) to end, for a clean screenshot."""
    await page.evaluate(
        "Promise.all(document.getAnimations()"
        ".filter(a => a instanceof CSSTransition).map(a => a.finished.catch(() => null)))"
    )


async def device_id(settings: BridgeSettings, external_id: str) -> UUID:
    """The platform's id of one of the bridge's devices, once its inventory is in."""
    bridge = load_bridge_id(settings)
    row = await eventually(
        lambda: (
            Device.select(Device.id)
            .where((Device.bridge == bridge) & (Device.external_id == external_id))
            .first()
        )
    )
    return UUID(str(row["id"]))


async def armed_zone_with_plan(manager: ApiClient, community: UUID, detector: UUID) -> None:
    """An armed area zone around the detector and an intrusion plan (as a property manager)."""
    zone = await manager.post(
        "/api/v1/zones",
        json={
            "community_id": str(community),
            "name": "东区 入侵防区",
            "kind": "area",
            "devices": [str(detector)],
            "armed": True,
        },
    )
    assert zone.status_code == 201, zone.text
    assert zone.json()["armed"] is True
    plan = await manager.post(
        "/api/v1/plans",
        json={
            "community_id": str(community),
            "alarm_type": "intrusion",
            "title": "入侵处置预案",
            "steps": PLAN_STEPS,
        },
    )
    assert plan.status_code == 201, plan.text


@pytest.mark.req("ALM-04")
@pytest.mark.req("ALM-08")
class TestGuardAlarmBoard:
    async def test_guard_hears_an_intrusion_live_acknowledges_and_ticks_the_plan(
        self,
        phone: Page,
        world: World,
        site_settings: BridgeSettings,
        browser: Browser,
        live_url: str,
    ) -> None:
        guard = world.a.users[Role.GUARD]
        manager = await logged_in(browser, world.a.users[Role.PROPERTY_MANAGER])
        async with running(site_settings) as bridge:
            assert bridge.sim is not None
            detector = await device_id(site_settings, DETECTOR)
            await armed_zone_with_plan(manager, world.a.community, detector)

            await (await LoginPage(phone).open()).log_in(guard)
            home = await HomePage(phone, "guard").wait()
            await home.open_capability("alarms")
            board = await AlarmBoardPage(phone).wait()
            await expect(board.items).to_have_count(0)
            await expect(phone.get_by_text("暂无未处理的告警")).to_be_visible()
            # The taps of the login let the browser play the alert sound: no hint to tap for it.
            await expect(phone.locator("[data-test=alarm-sound]")).to_have_count(0)
            await phone.evaluate("window.__sameBoard = true")  # gone if the page reloads

            await bridge.sim.trigger(DETECTOR, "alarm.intrusion")

            row = board.items.first
            await expect(row).to_be_visible(timeout=10_000)
            await expect(row).to_contain_text("入侵报警")
            await expect(row).to_contain_text("东区 入侵防区")
            await expect(row).to_have_attribute("data-state", "new")
            await expect(phone.locator("[data-test=alarm-count-new]")).to_have_text("1")
            assert await phone.evaluate("window.__sameBoard === true"), "the board was reloaded"
            notice = phone.locator(".alarm-notify").get_by_text("新告警：入侵报警")
            await expect(notice).to_be_visible()
            # A screen reader says it too, through the app's assertive live region.
            said = phone.locator("[data-test=live-assertive]")
            await expect(said).to_contain_text("新告警：入侵报警 东区 入侵防区")
            await phone.screenshot(path=artifact("guard-alarm-board.png"))
            alarm_id = await row.get_attribute("data-alarm-id")

            # Only fires: none; every type again: the intrusion is back.
            await phone.locator("[data-test=alarm-type-filter]").click()
            await phone.locator("[data-test=alarm-type-fire]").click()
            await expect(board.items).to_have_count(0)
            await phone.locator("[data-test=alarm-type-clear] .van-tag__close").click()
            await expect(board.alarm(alarm_id)).to_be_visible()

            detail = await board.open(alarm_id)
            await expect(detail.header).to_contain_text("入侵报警")
            await expect(detail.header).to_contain_text("严重")
            await expect(detail.header).to_contain_text("东侧周界 防区")
            await expect(detail.state).to_have_text("未处理")
            await expect(detail.step(0)).to_contain_text(PLAN_STEPS[0])
            await expect(detail.action("dispatch")).to_have_count(0)

            await detail.action("ack").click()
            await expect(detail.state).to_have_text("已确认")
            await expect(detail.action("ack")).to_have_count(0)
            await expect(detail.action("dispatch")).to_be_visible()
            await expect(detail.action("resolve")).to_be_visible()
            await expect(detail.action("false")).to_be_visible()
            await expect(detail.header).to_contain_text(guard.username)  # 处理人

            await detail.step(0).click()
            await expect(detail.step(0)).to_have_attribute("data-done", "true")
            await expect(detail.step(0)).to_contain_text(guard.username)
            await expect(detail.step(1)).to_have_attribute("data-done", "false")
            await expect(phone.locator("[data-test=alarm-plan]")).to_contain_text("1/3")
            await expect(detail.entries.last).to_have_attribute("data-kind", "step")

            # A photo of the scene from the camera: made ≤ 1280 px JPEG on the phone, then sent.
            # (Presigned URLs name the configured public address; the test server has its own port.)
            async def to_live_server(route: Route) -> None:
                url = urlsplit(route.request.url)
                served = await route.fetch(url=f"{live_url}{url.path}?{url.query}")
                await route.fulfill(response=served)

            await phone.route("http://127.0.0.1:8000/api/v1/objects/**", to_live_server)
            await phone.locator("[data-test=alarm-photo-input]").set_input_files(
                {"name": "scene.png", "mimeType": "image/png", "buffer": photo(2400, 1800)}
            )
            await expect(phone.get_by_text("照片已上传")).to_be_visible(timeout=10_000)
            shown = phone.locator("[data-test=alarm-media-0]")
            await expect(shown).to_contain_text("现场照片")
            await expect(shown.locator("img")).to_have_js_property("naturalWidth", 1280)
            kinds = await detail.entries.evaluate_all("els => els.map(e => e.dataset.kind)")
            assert {"raised", "acknowledged", "step"} <= set(kinds), kinds
            await expect(detail.timeline).to_contain_text("确认告警")
            await expect(detail.timeline).to_contain_text("完成预案步骤")
            await expect(detail.entries.first).to_have_attribute("data-kind", "raised")
            await expect(phone.locator(".van-toast")).to_be_hidden(timeout=5_000)
            await expect(notice).to_be_hidden()
            await phone.screenshot(path=artifact("guard-alarm.png"), full_page=True)

        # What the page showed is what the server holds.
        answer = await manager.get(f"/api/v1/alarms/{alarm_id}")
        assert answer.status_code == 200, answer.text
        alarm = answer.json()
        assert alarm["type"] == "intrusion"
        assert alarm["state"] == "acknowledged"
        assert alarm["assigned_to_name"] == guard.username
        assert [s["done"] for s in alarm["checklist"]] == [True, False, False]
        assert alarm["checklist"][0]["done_by"] == guard.username
        [media] = alarm["media"]
        assert media["content_type"] == "image/jpeg"
        assert media["source"] == "upload"
        stored = await manager.get(urlsplit(media["url"]).path, params=urlsplit(media["url"]).query)
        assert stored.status_code == 200, stored.text
        assert jpeg_size(stored.content) == (1280, 960)

    async def test_a_guard_beaten_to_it_is_told_the_alarm_moved_on(
        self, phone: Page, world: World, browser: Browser
    ) -> None:
        """Two on one alarm: the slower acknowledge is a 409, explained, and the page catches up."""
        resident = await logged_in(browser, world.a.users[Role.RESIDENT])
        raised = await resident.post("/api/v1/sos", json={"note": "楼道有陌生人"})
        assert raised.status_code == 201, raised.text
        alarm_id = raised.json()["id"]
        manager = await logged_in(browser, world.a.users[Role.PROPERTY_MANAGER])

        await (await LoginPage(phone).open()).log_in(world.a.users[Role.GUARD])
        await HomePage(phone, "guard").wait()
        await phone.goto(f"/alarms/{alarm_id}")
        detail = await AlarmDetailPage(phone).wait()
        await expect(detail.header).to_contain_text("紧急求助")
        await expect(detail.state).to_have_text("未处理")

        async def manager_first(route: Route) -> None:
            answer = await manager.post(f"/api/v1/alarms/{alarm_id}/acknowledge", json={"note": ""})
            assert answer.status_code == 200, answer.text
            await route.continue_()

        await phone.route(f"**/api/v1/alarms/{alarm_id}/acknowledge", manager_first)
        await detail.action("ack").click()
        await expect(phone.get_by_text("告警当前为“已确认”，不能再确认")).to_be_visible()
        await expect(detail.state).to_have_text("已确认")
        await expect(detail.action("ack")).to_have_count(0)
        await expect(detail.action("resolve")).to_be_visible()

        # 派警 to the guard on duty (nobody is rostered, so every guard of the community counts).
        guard = world.a.users[Role.GUARD]
        await detail.action("dispatch").click()
        await phone.locator(f"[data-test=dispatch-to-{guard.id}]").click()
        await phone.locator("[data-test=alarm-action-note] textarea").fill("请带急救包上门")
        await settled(phone)
        await phone.screenshot(path=artifact("guard-alarm-dispatch.png"))
        await phone.locator("[data-test=alarm-action-confirm]").click()
        await expect(detail.state).to_have_text("已派警")
        await expect(detail.header).to_contain_text(guard.username)
        await expect(detail.timeline).to_contain_text("请带急救包上门")
        await expect(detail.timeline).to_contain_text("指派处理人")


@pytest.mark.req("ALM-21")
class TestResidentSos:
    async def test_resident_sees_who_acknowledged_the_sos(
        self, phone: Page, world: World, browser: Browser, live_url: str
    ) -> None:
        context: BrowserContext = phone.context
        await context.grant_permissions(["geolocation"], origin=live_url)
        await context.set_geolocation({"latitude": 30.5728, "longitude": 104.0668, "accuracy": 25})

        guard = world.a.users[Role.GUARD]
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
        await HomePage(phone, "resident").wait()
        sos = SosPage(phone)
        await sos.button.click()
        await expect(sos.confirm).to_be_visible()
        await settled(phone)
        await phone.screenshot(path=artifact("resident-sos-confirm.png"))
        alarm_id = await sos.call_for_help(pressed=True)

        await expect(sos.status).to_have_attribute("data-state", "new")
        await expect(sos.heading).to_have_text("求助已发出")
        await expect(sos.entries.first).to_contain_text("发出求助")
        await expect(phone.locator("[data-test=sos-call]")).to_have_attribute("href", "tel:110")
        await expect(sos.status).to_have_attribute("data-live", "true")

        # The guard on duty sees it and acknowledges it from their own phone.
        guard_api = await logged_in(browser, guard)
        listed = await guard_api.get("/api/v1/alarms", params={"state": "new", "type": "sos"})
        assert alarm_id in [a["id"] for a in listed.json()["items"]], listed.text
        seen = (await guard_api.get(f"/api/v1/alarms/{alarm_id}")).json()
        assert seen["location"]["lat"] == pytest.approx(30.5728)
        assert seen["location"]["lon"] == pytest.approx(104.0668)
        answer = await guard_api.post(f"/api/v1/alarms/{alarm_id}/acknowledge", json={"note": ""})
        assert answer.status_code == 200, answer.text

        await expect(sos.heading).to_have_text("保安已确认", timeout=10_000)
        # Said to a screen reader at once, with who acknowledged.
        said = phone.locator("[data-test=live-assertive]")
        await expect(said).to_contain_text(f"保安已确认 {guard.username}")
        await expect(sos.status).to_contain_text("已确认")
        await expect(sos.acknowledged_by).to_have_text(guard.username)
        await expect(sos.status).to_have_attribute("data-state", "acknowledged")
        await expect(sos.entries.filter(has_text="保安已确认")).to_contain_text(guard.username)
        await expect(sos.entries.first).to_have_attribute("data-kind", "raised")
        await phone.screenshot(path=artifact("resident-sos.png"), full_page=True)

        # Home leads back to the SOS while it is open.
        await phone.locator("[data-test=sos-home]").click()
        await expect(phone.locator("[data-test=sos-ongoing]")).to_be_visible()

        # 我的 offers push notifications for this phone (off until the resident turns them on).
        await phone.locator("[data-test=tab-profile]").click()
        toggle = phone.locator("[data-test=push-toggle]")
        await expect(phone.locator("[data-test=push-cell]")).to_contain_text("接收推送通知")
        await expect(toggle).to_have_attribute("aria-checked", "false")
        await phone.screenshot(path=artifact("resident-profile.png"))
