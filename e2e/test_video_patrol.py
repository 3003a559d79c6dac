"""Video patrol in Chromium with the sim bridge's cameras: a manager sets a tour of two cameras up
on 巡更管理 (desktop), a guard runs it on the live view (phone) — confirms the first camera, reports
the second as unclear, a snapshot of its live view kept with the alarm — and the report is on the
alarm board."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import pytest
from playwright.async_api import Browser, expect

from api.alarms.catalogue import SITE_TIMEZONE
from api.alarms.tables import AlarmEntry
from api.core.auth import Role
from api.patrol.tables import CameraTour, TourCheck, TourRun
from device_bridge.settings import BridgeSettings
from e2e.conftest import artifact, open_phone
from e2e.media import media_chromium, media_phone
from e2e.pages import AlarmBoardPage, HomePage, LoginPage, VideoPatrolPage
from tests.helpers import World, eventually, running

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
async def fake_media() -> AsyncIterator[Browser]:
    """Chromium with a fake camera (module-wide: launching it is the slow part)."""
    async with media_chromium() as browser:
        yield browser


@pytest.mark.req("PAT-05")
@pytest.mark.req("PAT-07", partial=True)
async def test_a_guard_runs_a_tour_of_two_cameras_confirms_one_reports_the_other_on_the_board(
    fake_media: Browser,
    chromium: Browser,
    live_url: str,
    world: World,
    site_settings: BridgeSettings,
) -> None:
    async with running(site_settings):
        # the manager, at a desk: a tour of the two gate cameras whose day window opens now
        desk = await open_phone(chromium, live_url)
        await desk.set_viewport_size(DESKTOP)
        await (await LoginPage(desk).open()).log_in(world.a.users[Role.PROPERTY_MANAGER])
        await (await HomePage(desk, "property_manager").wait()).open_capability("patrol_admin")
        tours = desk.locator("[data-test=video-tours]")
        await expect(tours.get_by_label("南门 摄像机")).to_be_visible(timeout=15_000)
        await desk.locator("[data-test=video-tour-name] input").fill("大门巡查")
        await tours.get_by_label("北门 摄像机").check()
        await tours.get_by_label("南门 摄像机").check()
        now = datetime.now(SITE_TIMEZONE)
        await tours.get_by_label("白天开始").fill(now.strftime("%H:%M"))
        await tours.get_by_label("夜间开始").fill(
            now.replace(hour=(now.hour + 12) % 24).strftime("%H:%M")
        )
        await desk.locator("[data-test=video-tour-add]").click()
        await expect(desk.locator("[data-test=video-tour]")).to_contain_text(
            "北门 摄像机 → 南门 摄像机"
        )
        await desk.locator("[data-test=video-tours]").scroll_into_view_if_needed()
        await desk.screenshot(path=artifact("video-patrol-admin-desktop.png"))
        tour = await CameraTour.select().where(CameraTour.name == "大门巡查").first()
        assert tour is not None

        # the guard, on the phone: the due tour shows each camera live in turn
        context, phone = await media_phone(fake_media, live_url)
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.GUARD])
        await (await HomePage(phone, "guard").wait()).open_capability("video_patrol")
        screen = await VideoPatrolPage(phone).wait()
        await expect(screen.run).to_have_attribute("data-status", "due")
        await expect(screen.player).to_contain_text("北门 摄像机")
        await expect(screen.player).to_have_attribute("data-status", "playing", timeout=15_000)
        await phone.screenshot(path=artifact("video-patrol-first-camera.png"))
        await screen.confirm()
        await expect(screen.camera("北门 摄像机")).to_have_attribute("data-state", "normal")

        await expect(screen.player).to_contain_text("南门 摄像机")
        await expect(screen.player).to_have_attribute("data-status", "playing", timeout=15_000)
        await screen.report("unclear", "画面模糊，疑似镜头被遮挡")
        await expect(screen.camera("南门 摄像机")).to_have_attribute("data-state", "problem")
        await expect(screen.run).to_have_attribute("data-status", "done")
        await phone.screenshot(path=artifact("video-patrol-done.png"))

        run = UUID(await screen.run.get_attribute("data-run-id") or "")
        row = await TourRun.select().where(TourRun.id == run).first()
        assert row is not None
        assert row["outcome"] == "done"
        reported = await eventually(
            lambda: (
                TourCheck.select()
                .where((TourCheck.run == run) & (TourCheck.result == "problem"))
                .first()
            )
        )
        assert reported["camera_name"] == "南门 摄像机"
        assert reported["alarm"] is not None
        # the frame the guard judged normal went along too, and the platform measured it
        confirmed = (
            await TourCheck.select()
            .where((TourCheck.run == run) & (TourCheck.result == "normal"))
            .output(load_json=True)
            .first()
        )
        assert confirmed is not None
        assert confirmed["quality"] is not None
        assert confirmed["quality"]["flags"] == [], confirmed["quality"]  # the sim's clear picture
        assert confirmed["alarm"] is None
        # the frame the live view showed, grabbed in the browser, is kept on the alarm
        [snapshot] = (
            await AlarmEntry.select()
            .where((AlarmEntry.alarm == reported["alarm"]) & (AlarmEntry.kind == "media"))
            .output(load_json=True)
        )
        assert snapshot["data"]["content_type"] == "image/jpeg"
        assert snapshot["data"]["size"] > 1000  # a picture, not an empty canvas
        assert snapshot["text"] == "视频巡查截图：南门 摄像机"

        await phone.goto("/alarms")
        board = await AlarmBoardPage(phone).wait()
        alarm = board.alarm(reported["alarm"])
        await expect(alarm).to_contain_text("视频巡查异常")
        await expect(alarm).to_contain_text("南门 摄像机")
        await phone.screenshot(path=artifact("video-patrol-alarm.png"))
        await phone.set_viewport_size(DESKTOP)
        await phone.goto("/video-patrol")
        await VideoPatrolPage(phone).wait()
        await phone.screenshot(path=artifact("video-patrol-desktop.png"))
        await context.close()
        await desk.context.close()
