"""Video intercom and live view in Chromium with a real site bridge and fake media devices.

A simulated door station calls a household; the resident's open app rings, the resident answers,
sees the station's moving picture and hears it, opens the gate with 开门 and hangs up. A guard
answers a lift's emergency call from the intercom centre, and watches two cameras live at once;
leaving the page closes both views.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import msgspec
import pytest
from playwright.async_api import Browser, Locator, Page, Route, expect

from api.core.auth import Role
from api.devices.tables import Device, DeviceEvent
from api.intercom.tables import Call
from api.video.tables import ViewSession
from device_bridge.identity import load_bridge_id
from device_bridge.settings import BridgeSettings
from e2e.conftest import artifact
from e2e.media import VIDEO_STATE, media_chromium, media_phone, peer_stats
from e2e.pages import (
    CallHistoryPage,
    CallScreen,
    CamerasPage,
    HomePage,
    IncomingCall,
    LoginPage,
)
from tests.helpers import ApiClient, TestUser, World, eventually, running
from tests.jobs import INTERCOM_JOBS, Jobs

STATION = "station-north"  # 北门 门口机, opens gate-north (device_bridge/demo.toml)
GATE = "gate-north"
ROOM = "1-1-0101"  # the world's first household: 1栋1单元0101

pytestmark = pytest.mark.e2e


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The intercom jobs run by the `jobs` worker."""
    return INTERCOM_JOBS


@pytest.fixture(scope="module")
async def fake_media() -> AsyncIterator[Browser]:
    """Chromium with a fake microphone and camera (module-wide: launching it is the slow part)."""
    async with media_chromium() as browser:
        yield browser


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


async def video_state(video: Locator) -> dict[str, Any]:
    """Frames counted on the <video>, its clock and the tracks of its stream."""
    state: dict[str, Any] = await video.evaluate(VIDEO_STATE)
    return state


async def frames_flowing(video: Locator, *, more_than: int = 10) -> dict[str, Any]:
    """Wait until the element has shown more than `more_than` frames and its clock advanced."""
    first = await eventually(lambda: _above(video, 0), timeout=15.0, every=0.1)
    later = await eventually(lambda: _above(video, first["frames"] + more_than), timeout=15.0)
    assert later["currentTime"] > first["currentTime"], (first, later)
    return later


async def _above(video: Locator, frames: int) -> dict[str, Any] | None:
    state = await video_state(video)
    return state if state["frames"] > frames else None


async def settled(page: Page) -> None:
    """Wait for the page's CSS transitions (the call screen sliding in), for a clean screenshot."""
    await page.evaluate(
        "Promise.all(document.getAnimations()"
        ".filter(a => a instanceof CSSTransition).map(a => a.finished.catch(() => null)))"
    )


async def logged_in(page: Page, user: TestUser, role: str) -> HomePage:
    """Sign in on the phone and wait for the role's home screen."""
    await (await LoginPage(page).open()).log_in(user)
    return await HomePage(page, role).wait()


class TestResidentAnswersTheDoorStation:
    @pytest.mark.req("ICM-01", "ICM-09", "ICM-12", "VIS-01")
    async def test_answer_see_hear_open_the_gate_and_hang_up(
        self,
        fake_media: Browser,
        live_url: str,
        world: World,
        site_settings: BridgeSettings,
        browser: Callable[[], Awaitable[ApiClient]],
    ) -> None:
        resident = world.a.users[Role.RESIDENT]
        context, phone = await media_phone(fake_media, live_url)
        async with running(site_settings) as bridge:
            assert bridge.sim is not None
            station = await device_id(site_settings, STATION)
            gate = await device_id(site_settings, GATE)
            await logged_in(phone, resident, "resident")

            call_id = await bridge.sim.ring(STATION, room=ROOM)

            incoming = await IncomingCall(phone).wait(call_id)
            await expect(incoming.station).to_have_text("北门 门口机")
            await expect(incoming.root).to_contain_text("访客呼叫")
            await expect(incoming.root).to_contain_text("1栋1单元0101")
            await settled(phone)
            await phone.screenshot(path=artifact("resident-incoming-call.png"))

            screen = await incoming.answer()
            await screen.live()
            await expect(phone).to_have_url(f"{live_url}/calls/{call_id}")
            await expect(incoming.root).to_be_hidden()

            # The station's moving picture arrives and is decoded; its voice is a live track.
            shown = await frames_flowing(screen.video)
            assert (shown["width"], shown["height"]) == (640, 480), shown
            assert not shown["paused"], shown
            kinds = {t["kind"]: t["state"] for t in shown["tracks"]}
            assert kinds == {"video": "live", "audio": "live"}, shown
            stats = await eventually(lambda: _stats_with_audio(phone), timeout=10.0)
            assert stats["connection"] == "connected", stats
            assert stats["framesDecoded"] > 0, stats
            assert stats["audioIn"] > 0, stats  # the station's tone
            assert stats["audioOut"] > 0, stats  # the resident's (fake) microphone
            await expect(screen.elapsed).to_contain_text(" / 1:30")
            await expect(phone.locator("[data-test=call-no-mic]")).to_have_count(0)

            await screen.mute.click()
            await expect(screen.mute).to_have_attribute("aria-pressed", "true")
            await screen.mute.click()
            await phone.screenshot(path=artifact("resident-in-call.png"))

            opened_before = await _door_opened(gate)
            await screen.unlock.click()
            await expect(screen.unlock_result).to_have_attribute("data-result", "granted")
            await expect(screen.unlock_result).to_contain_text("北门 人行通道已打开")
            await eventually(lambda: _more_openings(gate, opened_before))
            await phone.screenshot(path=artifact("resident-in-call-unlocked.png"))

            await screen.hangup.click()
            await expect(screen.ended).to_have_attribute("data-end", "hangup")
            await expect(screen.ended).to_contain_text("您已挂断")
            await eventually(lambda: len(bridge.media.peers) == 0)

            # What the phone did is what the platform holds.
            api = await browser()
            await api.login(resident)
            call = (await api.get(f"/api/v1/calls/{call_id}")).json()
            assert call["station_id"] == str(station)
            assert (call["state"], call["outcome"]) == ("ended", "hangup"), call
            assert call["answered_by_me"] is True
            assert call["unlocked_at"] is not None

            await screen.done.click()
            record = phone.locator("[data-test=call-record]")
            await expect(record).to_have_attribute("data-outcome", "hangup")
            await expect(phone.locator("[data-test=call-record-outcome]")).to_have_text("已接听")
            await expect(phone.locator("[data-test=call-record-unlocked]")).to_contain_text(
                resident.username
            )
        await context.close()

    @pytest.mark.req("ICM-07")
    @pytest.mark.req("ICM-22")
    async def test_a_missed_call_keeps_the_visitors_snapshot_and_message(
        self,
        fake_media: Browser,
        live_url: str,
        world: World,
        site_settings: BridgeSettings,
        jobs: Jobs,
    ) -> None:
        """Nobody answers: the ringing screen says the visitor left; 呼叫记录 shows the snapshot
        and plays the message."""
        context, phone = await media_phone(fake_media, live_url)

        # Signed media URLs name the configured public address; the test server has its own port.
        async def to_live_server(route: Route) -> None:
            url = urlsplit(route.request.url)
            served = await route.fetch(url=f"{live_url}{url.path}?{url.query}")
            await route.fulfill(response=served)

        await phone.route("http://127.0.0.1:8000/api/v1/objects/**", to_live_server)
        short = msgspec.structs.replace(site_settings, ring_s=2.0, clip_s=1.0)
        async with running(short) as bridge:
            assert bridge.sim is not None
            await device_id(site_settings, STATION)
            home = await logged_in(phone, world.a.users[Role.RESIDENT], "resident")
            call_id = await bridge.sim.ring(STATION, room=ROOM)
            incoming = await IncomingCall(phone).wait(call_id)
            await expect(incoming.ended).to_have_attribute("data-end", "missed", timeout=10_000)
            await expect(incoming.ended).to_have_text("访客已离开")
            await expect(incoming.root).to_be_hidden(timeout=5_000)
            await eventually(lambda: _media(call_id, "pending"))
            await jobs.run()
            await eventually(lambda: _media(call_id, "stored"))

        await home.open_capability("calls")
        history = await CallHistoryPage(phone).wait()
        row = history.call(call_id)
        await expect(row).to_have_attribute("data-outcome", "unanswered")
        await expect(row.locator("[data-test=call-outcome]")).to_have_text("未接听")
        thumb = row.locator("[data-test=call-thumb]")
        await expect(thumb).to_be_visible()
        await eventually(lambda: thumb.evaluate("img => img.complete && img.naturalWidth"))
        await phone.screenshot(path=artifact("resident-call-history.png"))

        await phone.locator(f"[data-test=call-play-{call_id}]").click()
        clip = phone.locator("[data-test=clip-video]")
        await expect(clip).to_be_visible()
        await eventually(lambda: clip.evaluate("v => v.readyState >= 2 && v.duration > 0"))
        await eventually(lambda: clip.evaluate("v => v.currentTime > 0"))
        await settled(phone)
        await phone.screenshot(path=artifact("resident-call-message.png"))
        await context.close()


@pytest.mark.req("ICM-17", partial=True)
class TestGuardAnswersTheLiftEmergency:
    async def test_the_intercom_centre_answers_a_lift_emergency_call(
        self,
        fake_media: Browser,
        live_url: str,
        world: World,
        site_settings: BridgeSettings,
    ) -> None:
        """五方对讲: the lift's emergency button rings the guards; one answers from 对讲中心."""
        context, phone = await media_phone(fake_media, live_url)
        async with running(site_settings) as bridge:
            assert bridge.sim is not None
            await device_id(site_settings, "lift-1-1")
            home = await logged_in(phone, world.a.users[Role.GUARD], "guard")
            await home.open_capability("intercom")
            centre = phone.locator("[data-test=intercom-page]")
            await expect(centre).to_be_visible()
            await expect(phone.locator("[data-test=intercom-live]")).to_have_attribute(
                "data-connected", "true", timeout=10_000
            )
            await expect(phone.locator("[data-test=intercom-no-waiting]")).to_be_visible()

            call_id = await bridge.sim.lift_emergency("lift-1-1")

            waiting = phone.locator(f"[data-test=waiting-call][data-call-id='{call_id}']")
            await expect(waiting).to_contain_text("电梯紧急呼叫")
            await expect(waiting).to_contain_text("1栋1单元 电梯")
            # The centre lists it itself: no ringing screen over the list.
            await expect(IncomingCall(phone).root).to_be_hidden()
            await phone.screenshot(path=artifact("guard-intercom-centre.png"))

            await phone.locator(f"[data-test=waiting-answer-{call_id}]").click()
            screen = CallScreen(phone)
            await screen.wait()
            await screen.live()
            await frames_flowing(screen.video)
            await expect(screen.unlock).to_have_count(0)  # a lift has no door to open
            await screen.hangup.click()
            await expect(screen.ended).to_have_attribute("data-end", "hangup")
            await eventually(lambda: len(bridge.media.peers) == 0)
            await screen.done.click()
            await expect(phone.locator("[data-test=call-record]")).to_have_attribute(
                "data-outcome", "hangup"
            )
            await phone.locator("[data-test=call-back]").click()
            await expect(centre).to_be_visible()
            await expect(phone.locator("[data-test=intercom-no-waiting]")).to_be_visible()
            row = phone.locator(f"[data-test=call-item][data-call-id='{call_id}']")
            await expect(row).to_contain_text("电梯紧急呼叫")
        await context.close()


async def _connected_phones(fake_media: Browser, live_url: str, world: World) -> tuple:
    """A guard at the intercom centre and a resident at home, both signed in, both listening."""
    guard_context, guard = await media_phone(fake_media, live_url)
    home_context, home = await media_phone(fake_media, live_url)
    await logged_in(home, world.a.users[Role.RESIDENT], "resident")
    desk = await logged_in(guard, world.a.users[Role.GUARD], "guard")
    await desk.open_capability("intercom")
    await expect(guard.locator("[data-test=intercom-live]")).to_have_attribute(
        "data-connected", "true", timeout=10_000
    )
    return guard_context, guard, home_context, home


@pytest.mark.req("ICM-08", partial=True)
class TestCallsPlacedInTheApp:
    async def test_the_guard_room_calls_a_household_and_hears_ringback_until_it_answers(
        self, fake_media: Browser, live_url: str, world: World
    ) -> None:
        guard_context, guard, home_context, home = await _connected_phones(
            fake_media, live_url, world
        )
        await guard.locator("[data-test=dial-room]").fill("0101")
        household = guard.locator("[data-test=dial-household]", has_text="1栋1单元0101")
        await household.get_by_role("button").click()
        calling = await CallScreen(guard).wait()
        await expect(calling.root).to_have_attribute("data-phase", "calling")
        await expect(calling.root).to_have_attribute("data-ringback", "on")
        await expect(guard.locator("[data-test=call-calling]")).to_have_text(
            "正在呼叫，等待对方接听…"
        )
        await expect(calling.hangup).to_contain_text("取消")
        call_id = await calling.root.get_attribute("data-call-id")
        assert call_id
        await guard.screenshot(path=artifact("guard-calling-household.png"))

        # The resident's phone rings with the same screen a door station's call brings.
        incoming = await IncomingCall(home).wait(call_id)
        await expect(incoming.root).to_contain_text("管理处来电")
        await expect(incoming.station).to_contain_text("管理处")
        screen = await incoming.answer()
        await screen.live()
        await calling.live()
        await expect(calling.root).to_have_attribute("data-ringback", "off")
        # The guard's camera on the resident's phone, and sound both ways on both.
        await frames_flowing(screen.video)
        for phone in (home, guard):
            stats = await eventually(lambda p=phone: _stats_with_audio(p), timeout=10.0)
            assert stats["connection"] == "connected", stats
        await expect(screen.unlock).to_have_count(0)  # no door in a call from the guard room
        await home.screenshot(path=artifact("resident-guard-room-call.png"))

        await calling.hangup.click()
        await expect(calling.ended).to_have_attribute("data-end", "hangup")
        await expect(screen.ended).to_have_attribute("data-end", "remote_hangup")
        row = await Call.select().where(Call.id == UUID(call_id)).first()
        assert row is not None
        assert (row["station"], row["caller"], row["outcome"]) == (
            None,
            world.a.users[Role.GUARD].id,
            "hangup",
        )
        await guard_context.close()
        await home_context.close()

    async def test_a_resident_calls_the_guard_room_from_the_app(
        self, fake_media: Browser, live_url: str, world: World
    ) -> None:
        guard_context, guard, home_context, home = await _connected_phones(
            fake_media, live_url, world
        )
        await home.goto("/calls")
        await CallHistoryPage(home).wait()
        await home.locator("[data-test=call-guard-room]").click()
        calling = await CallScreen(home).wait()
        await expect(calling.root).to_have_attribute("data-ringback", "on")
        call_id = await calling.root.get_attribute("data-call-id")

        waiting = guard.locator(f"[data-test=waiting-call][data-call-id='{call_id}']")
        await expect(waiting).to_contain_text("住户呼叫管理处")
        await expect(waiting).to_contain_text("1栋1单元0101")
        await guard.locator(f"[data-test=waiting-answer-{call_id}]").click()
        screen = await CallScreen(guard).wait()
        await screen.live()
        await calling.live()
        await frames_flowing(screen.video)  # the resident's camera at the guard room
        await screen.hangup.click()
        await expect(screen.ended).to_have_attribute("data-end", "hangup")
        await expect(calling.ended).to_have_attribute("data-end", "remote_hangup")
        await guard_context.close()
        await home_context.close()


async def _stats_with_audio(page: Page) -> dict[str, Any] | None:
    stats = await peer_stats(page)
    return stats if stats and stats["audioIn"] and stats["audioOut"] else None


async def _media(call_id: str, state: str) -> bool:
    return await Call.exists().where((Call.id == UUID(call_id)) & (Call.media == state))


async def _door_opened(gate: UUID) -> int:
    return await DeviceEvent.count().where(
        (DeviceEvent.device == gate) & (DeviceEvent.kind == "door.opened")
    )


async def _more_openings(gate: UUID, before: int) -> bool:
    return await _door_opened(gate) > before


@pytest.mark.req("VID-07")
@pytest.mark.req("VID-02", "VID-08", partial=True)
class TestGuardWatchesCamerasLive:
    async def test_two_cameras_at_once_and_leaving_closes_both(
        self,
        fake_media: Browser,
        live_url: str,
        world: World,
        site_settings: BridgeSettings,
    ) -> None:
        guard = world.a.users[Role.GUARD]
        context, phone = await media_phone(fake_media, live_url)
        async with running(site_settings) as bridge:
            north = await device_id(site_settings, "cam-north-gate")
            south = await device_id(site_settings, "cam-south-gate")
            home = await logged_in(phone, guard, "guard")
            await home.open_capability("video")
            cameras = await CamerasPage(phone).wait()
            await expect(cameras.camera("北门 摄像机")).to_have_attribute("data-online", "true")
            await cameras.watch("北门 摄像机", "南门 摄像机")

            for camera in (north, south):
                player = cameras.player(camera)
                await expect(player).to_have_attribute("data-status", "playing", timeout=15_000)
                await frames_flowing(player.locator("[data-test=camera-video]"), more_than=5)
            assert len(bridge.media.peers) == 2
            sessions = await _open_views(guard)
            assert {s["camera"] for s in sessions} == {north, south}
            await phone.screenshot(path=artifact("guard-live-view.png"))

            await phone.locator("[data-test=camera-live-back]").click()
            await cameras.wait()
            await eventually(lambda: len(bridge.media.peers) == 0)
            await eventually(lambda: _no_open_views(guard))
            ended = await ViewSession.select().where(
                ViewSession.id.is_in([s["id"] for s in sessions])
            )
            assert {row["end_reason"] for row in ended} == {"closed"}
            assert all(row["duration_s"] and row["duration_s"] > 0 for row in ended), ended
        await context.close()


async def _open_views(user: TestUser) -> list[dict[str, Any]]:
    return await eventually(
        lambda: ViewSession.select().where(
            (ViewSession.account == user.id) & ViewSession.ended_at.is_null()
        )
    )


async def _no_open_views(user: TestUser) -> bool:
    return not await ViewSession.exists().where(
        (ViewSession.account == user.id) & ViewSession.ended_at.is_null()
    )
