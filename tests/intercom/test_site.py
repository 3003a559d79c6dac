"""The whole call path with a real site bridge: its sim door station, its aiortc peer, the door.

The "browser" is an aiortc peer in the test making the offer a browser makes (recvonly video,
sendrecv audio, ICE gathered before sending). Chromium itself is driven by the e2e tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack

from api.access.tables import AccessRecord
from api.core.auth import Role
from api.devices.tables import Device, DeviceEvent
from api.intercom.tables import Call
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.fixtures import AsRole
from tests.helpers import World, eventually, live_socket, next_event, running
from tests.jobs import Jobs

# A unit door whose outdoor station drives the lock itself: one device, intercom and access control.
LOCKING_STATION = """
[[devices]]
id = "station-lock-1-1"
kind = "door_station"
name = "1栋1单元 可视门禁"
attrs = { building = "1", unit = "1", role = "unit_door", lock = true }
"""


@contextlib.asynccontextmanager
async def real_site(settings: BridgeSettings, **options: Any) -> AsyncIterator[Bridge]:
    """The demo site's bridge with short ring and clip times."""
    settings = msgspec.structs.replace(settings, ring_s=options.pop("ring_s", 30.0), clip_s=0.5)
    async with running(settings) as bridge:
        yield bridge


class Browser:
    """What the PWA does for a call: offer recvonly video + sendrecv audio, ICE gathered."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.tracks: dict[str, MediaStreamTrack] = {}
        self.pc.on("track", lambda track: self.tracks.__setitem__(track.kind, track))

    async def offer(self, *, audio: bool = True) -> str:
        """The complete offer (aiortc gathers while setting the local description)."""
        self.pc.addTransceiver("video", direction="recvonly")
        if audio:
            self.pc.addTransceiver(AudioStreamTrack(), direction="sendrecv")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, sdp: str) -> None:
        """Apply the station's answer."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def first_frame(self) -> Any:
        """The first decoded video frame."""
        await eventually(lambda: "video" in self.tracks)
        return await asyncio.wait_for(self.tracks["video"].recv(), 20)

    async def close(self) -> None:
        """Hang up this end."""
        await self.pc.close()


async def incoming(ws: Any) -> str:
    """The next call.incoming on a socket: its call id."""
    event = await next_event(ws, lambda e: e["type"] == "call.incoming", timeout=10)
    return str(event["call_id"])


class TestRealStation:
    @pytest.mark.req("ICM-01")
    @pytest.mark.req("ICM-09")
    @pytest.mark.req("ICM-10")
    @pytest.mark.req("ICM-14", partial=True)
    async def test_answer_see_hear_unlock_hang_up(
        self, live_url: str, login: Callable, world: World, site_settings: BridgeSettings
    ) -> None:
        resident = world.a.users[Role.RESIDENT]
        browser = Browser()
        async with real_site(site_settings) as bridge, live_socket(live_url, resident) as ws:
            assert bridge.sim is not None
            rung = await bridge.sim.ring("station-north", room="1-1-0101")
            call = await incoming(ws)
            assert call == rung
            api = await login(resident)
            try:
                answer = await api.post(
                    f"/api/v1/calls/{call}/answer", json={"sdp": await browser.offer()}
                )
                assert answer.status_code == 200, answer.text
                await browser.accept(answer.json()["sdp"])
                frame = await browser.first_frame()
                assert frame.width > 0 and frame.height > 0
                assert "audio" in browser.tracks  # the visitor's voice comes back
                opened = await api.post(f"/api/v1/calls/{call}/unlock")
                assert opened.json()["result"] == "granted", opened.text
                ended = await api.post(f"/api/v1/calls/{call}/hangup")
                assert ended.status_code == 200, ended.text
            finally:
                await browser.close()
            await eventually(lambda: len(bridge.media.peers) == 0)
        gate = (
            await Device.select(Device.id)
            .where((Device.external_id == "gate-north") & (Device.community == world.a.community))
            .first()
        )
        assert gate is not None
        records = await AccessRecord.select().where(AccessRecord.device == gate["id"])
        assert [(r["method"], r["result"]) for r in records] == [("intercom", "granted")]
        row = await Call.select().where(Call.id == call).first()
        assert row is not None and row["outcome"] == "hangup" and row["unlocked_at"] is not None

    @pytest.mark.req("ICM-07")
    @pytest.mark.req("ICM-22")
    async def test_unanswered_call_leaves_its_message(
        self,
        app: Any,
        live_url: str,
        world: World,
        site_settings: BridgeSettings,
        jobs: Jobs,
    ) -> None:
        resident = world.a.users[Role.RESIDENT]
        async with (
            real_site(site_settings, ring_s=0.5) as bridge,
            live_socket(live_url, resident) as ws,
        ):
            assert bridge.sim is not None
            await bridge.sim.ring("station-north", room="1-1-0101")
            call = await incoming(ws)
            ended = await next_event(
                ws, lambda e: e["type"] == "call.ended" and e["call_id"] == call, timeout=15
            )
            assert ended["outcome"] == "unanswered"
            await jobs.run()
        row = await Call.select().where(Call.id == call).first()
        assert row is not None and row["media"] == "stored"
        assert row["clip_key"] and row["snapshot_key"]
        assert (await app.state.objects.info(row["snapshot_key"])).size > 0


class TestStationWithItsOwnLock:
    @pytest.mark.req("ICM-03", partial=True)
    async def test_the_station_that_rang_opens_its_own_lock(
        self,
        live_url: str,
        login: Callable,
        world: World,
        site_settings: BridgeSettings,
        tmp_path: Any,
    ) -> None:
        config = tmp_path / "locking.toml"
        config.write_text(LOCKING_STATION)
        settings = msgspec.structs.replace(site_settings, config=config)
        resident = world.a.users[Role.RESIDENT]
        browser = Browser()
        async with real_site(settings) as bridge, live_socket(live_url, resident) as ws:
            assert bridge.sim is not None
            await bridge.sim.ring("station-lock-1-1", room="0101")
            call = await incoming(ws)
            api = await login(resident)
            try:
                answer = await api.post(
                    f"/api/v1/calls/{call}/answer", json={"sdp": await browser.offer()}
                )
                assert answer.status_code == 200, answer.text
                await browser.accept(answer.json()["sdp"])
                opened = await api.post(f"/api/v1/calls/{call}/unlock")
                assert opened.json()["result"] == "granted", opened.text
                assert opened.json()["door_name"] == "1栋1单元 可视门禁"
                await api.post(f"/api/v1/calls/{call}/hangup")
            finally:
                await browser.close()
            station = (await Call.select(Call.station).where(Call.id == call).first())["station"]
            assert opened.json()["door_id"] == str(station)
            # The station's own lock opened, as the door it is.
            await eventually(
                lambda: DeviceEvent.exists().where(
                    (DeviceEvent.device == station) & (DeviceEvent.kind == "door.opened")
                )
            )
        records = await AccessRecord.select().where(AccessRecord.device == station)
        assert [(r["method"], r["result"]) for r in records] == [("intercom", "granted")]


class TestRealCamera:
    @pytest.mark.req("VID-05")
    @pytest.mark.req("NET-09", partial=True)
    async def test_two_viewers_watch_and_leave(
        self, as_role: AsRole, world: World, site_settings: BridgeSettings
    ) -> None:
        viewers = [
            (await as_role(Role.GUARD), Browser()),
            (await as_role(Role.POLICE), Browser()),
        ]
        async with real_site(site_settings) as bridge:
            camera = await eventually(  # the inventory arrives just after the link is up
                lambda: (
                    Device.select(Device.id)
                    .where(
                        (Device.external_id == "cam-north-gate")
                        & (Device.community == world.a.community)
                    )
                    .first()
                )
            )
            sessions = []
            try:
                for api, browser in viewers:
                    live = await api.post(
                        f"/api/v1/cameras/{camera['id']}/live",
                        json={"sdp": await browser.offer(audio=False)},
                    )
                    assert live.status_code == 200, live.text
                    await browser.accept(live.json()["sdp"])
                    sessions.append(live.json()["session"])
                for _, browser in viewers:
                    assert (await browser.first_frame()).width > 0
                for (api, _), session in zip(viewers, sessions, strict=True):
                    ended = await api.delete(f"/api/v1/cameras/{camera['id']}/live/{session}")
                    assert ended.json()["end_reason"] == "closed", ended.text
            finally:
                for _, browser in viewers:
                    await browser.close()
            await eventually(lambda: len(bridge.media.peers) == 0)
