"""Calls and live views at the bridge: real aiortc peers on both ends, through the real link.

The browser is a second aiortc peer in the test (tests/device_bridge/media_browser.py) offering
what the PWA offers; the platform is the fake one, sending the same commands the real one sends.
ICE consent is checked every 0.2 s here (3 misses end a peer) so a dropped network shows in about
2 s; one test runs the production timing (2 s × 3, within 10 s).
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import av
import msgspec
import pytest

from device_bridge import protocol as p
from device_bridge.media import set_consent_timing
from device_bridge.media.peers import consent_expiry
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.device_bridge.fake_platform import FakePlatform
from tests.device_bridge.helpers import running
from tests.device_bridge.media_browser import Browser
from tests.helpers import eventually

# Calls ring long enough for any loaded machine to answer them; the ring-out test shortens its own.
RING_S, SHORT_RING_S, CLIP_S = 30.0, 0.6, 2.0
DEFAULTS = BridgeSettings()


@pytest.fixture
def media_settings(bridge_settings: BridgeSettings) -> Iterator[BridgeSettings]:
    """Short rings and clips, quick consent checks; aioice's defaults are restored after."""
    yield msgspec.structs.replace(
        bridge_settings,
        ring_s=RING_S,
        clip_s=CLIP_S,
        media_consent_interval=0.2,
        media_consent_failures=3,
        media_connect_timeout=5.0,
    )
    set_consent_timing(DEFAULTS.media_consent_interval, DEFAULTS.media_consent_failures)


@pytest.fixture
async def site(media_settings: BridgeSettings, platform: FakePlatform) -> AsyncIterator[Bridge]:
    """The demo site's bridge, linked to the fake platform."""
    async with running(media_settings) as bridge:
        await asyncio.wait_for(platform.connected.wait(), 5)
        yield bridge


def events(platform: FakePlatform, kind: str, device: str | None = None) -> list[p.Event]:
    """The events of a kind (from a device) the platform has, in seq order."""
    return [
        e
        for _, e in sorted(platform.events.items())
        if e.kind == kind and (device is None or e.device == device)
    ]


async def ended(platform: FakePlatform, call: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """Wait for the call's intercom.call_ended; its data."""
    await platform.wait_for(
        lambda: any(e.data["call"] == call for e in events(platform, "intercom.call_ended")),
        timeout,
    )
    found = [e for e in events(platform, "intercom.call_ended") if e.data["call"] == call]
    assert len(found) == 1, found  # exactly one end per call
    return found[0].data


async def started(platform: FakePlatform, device: str) -> dict[str, Any]:
    """Wait for the device's latest intercom.call_started; its data."""
    await platform.wait_for(lambda: events(platform, "intercom.call_started", device))
    return events(platform, "intercom.call_started", device)[-1].data


async def connect(
    platform: FakePlatform,
    device: str,
    session: str,
    *,
    kind: str = "call",
    limit: float = 60,
) -> tuple[Browser, p.CommandResult]:
    """A browser offering to the device through the platform's media.offer; answered, connected."""
    browser = Browser(call=kind == "call")
    args = {"session": session, "sdp": await browser.offer(), "kind": kind, "max_duration_s": limit}
    result = await platform.command(device, "media.offer", args, within=5)
    if result.status == "ok":
        await browser.accept(result.data["sdp"])
    return browser, result


def media_tasks() -> list[str]:
    """Tasks running aiortc, aioice or device_bridge.media code (whatever the bridge and the
    link do meanwhile is left out)."""
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        path = code.co_filename if code is not None else ""
        if any(part in path for part in ("aiortc", "aioice", "device_bridge/media")):
            found.append(f"{task.get_name()}: {getattr(code, 'co_qualname', '?')}")
    return found


def luma(frame: av.VideoFrame) -> bytes:
    """The Y plane, row padding removed."""
    plane = frame.planes[0]
    data = bytes(plane)
    return b"".join(
        data[r * plane.line_size : r * plane.line_size + frame.width] for r in range(frame.height)
    )


def column_mean(y: bytes, width: int, x: int, rows: range) -> float:
    """Mean luma of one pixel column over some rows."""
    return sum(y[r * width + x] for r in rows) / len(rows)


class TestAnsweredCall:
    @pytest.mark.req("ICM-01", "ICM-09", "ICM-12", "ICM-05")
    async def test_video_and_both_ways_audio_until_hangup(
        self, site: Bridge, platform: FakePlatform
    ) -> None:
        assert site.sim is not None
        call = await site.sim.ring("station-1-1", room="0302")
        assert await started(platform, "station-1-1") == {
            "call": call,
            "target": "household",
            "reason": "visitor",
            "room": "1-1-0302",
        }
        browser, result = await connect(platform, "station-1-1", call)
        try:
            assert result.status == "ok", result.detail
            answer = result.data["sdp"]
            assert "a=fingerprint:sha-256" in answer and "UDP/TLS/RTP/SAVPF" in answer  # DTLS-SRTP
            assert "a=candidate:" in answer  # gathered before answering: no trickle

            await browser.frames(20)
            first, last = browser.video[-20], browser.video[-1]
            assert (last.width, last.height) == (640, 480)
            assert luma(first) != luma(last)  # the block moves, the counter counts
            y = luma(last)
            bars = range(0, 400)
            assert column_mean(y, 640, 20, bars) > 180  # the white bar on the left …
            assert column_mean(y, 640, 620, bars) < 80  # … the black one on the right

            assert browser.remote["audio"].readyState == "live"
            assert browser.audio_frames > 10  # the station's chime
            peer = site.media.peers.get(call)
            assert peer is not None and peer.kind == "call"
            stats = await peer.pc.getStats()
            inbound = [s for s in stats.values() if s.type == "inbound-rtp" and s.kind == "audio"]
            assert inbound and inbound[0].packetsReceived > 0  # the resident's microphone

            hangup = await platform.command("station-1-1", "intercom.hangup", {"call": call})
            assert (hangup.status, hangup.data) == ("ok", {"ended": True})
            end = await ended(platform, call)
            assert end["outcome"] == "answered" and end["clip"] is False
            assert end["duration_s"] > 0
            assert await browser.ended() == "closed"  # the bridge's close reaches the browser
            assert len(site.media.peers) == 0 and site.media.sources.active() == {}
        finally:
            await browser.close()

    async def test_the_browser_hanging_up_ends_the_call(
        self, site: Bridge, platform: FakePlatform
    ) -> None:
        assert site.sim is not None
        call = await site.sim.ring("station-north", room="2-1-0101")
        assert (await started(platform, "station-north"))["room"] == "2-1-0101"
        browser, _ = await connect(platform, "station-north", call)
        try:
            await browser.frames(3)
            closed = await platform.command("station-north", "media.close", {"session": call})
            assert (closed.status, closed.data) == ("ok", {})
            assert (await ended(platform, call))["outcome"] == "answered"
            again = await platform.command("station-north", "intercom.hangup", {"call": call})
            assert (again.status, again.data) == ("ok", {"ended": False})  # idempotent
            assert len(site.media.peers) == 0
        finally:
            await browser.close()


class TestCallEnds:
    @pytest.mark.req("ICM-04")
    async def test_duration_limit_closes_and_reports(
        self, site: Bridge, platform: FakePlatform
    ) -> None:
        assert site.sim is not None
        call = await site.sim.ring("station-1-2", room="0501")
        browser, result = await connect(platform, "station-1-2", call, limit=1)
        try:
            assert result.status == "ok"
            await browser.frames(2)
            began = time.monotonic()
            end = await ended(platform, call, timeout=5)
            assert end["outcome"] == "limit"
            assert 0.8 <= end["duration_s"] <= 3.0
            assert time.monotonic() - began < 3.0
            assert await browser.ended() == "closed"
            assert len(site.media.peers) == 0 and site.media.sources.active() == {}
        finally:
            await browser.close()

    @pytest.mark.req("ICM-01")
    async def test_dropped_network_ends_the_call(
        self, site: Bridge, platform: FakePlatform
    ) -> None:
        assert site.sim is not None
        call = await site.sim.ring("station-2-1", room="0202")
        browser, _ = await connect(platform, "station-2-1", call)
        try:
            await browser.frames(2)
            browser.cut()  # no DTLS close, no packet either way: only consent checks notice
            began = time.monotonic()
            end = await ended(platform, call, timeout=8)
            took = time.monotonic() - began
            assert end["outcome"] == "network"
            assert took < 8.0, took  # 3 missed checks, 0.2 s apart, 0.5 s each (default: 30 s)
            assert len(site.media.peers) == 0 and site.media.sources.active() == {}
        finally:
            await browser.close()

    @pytest.mark.req("ICM-04", partial=True)
    async def test_at_production_timing_a_dropped_network_ends_the_call_within_10_s(
        self, media_settings: BridgeSettings, platform: FakePlatform
    ) -> None:
        interval, failures = DEFAULTS.media_consent_interval, DEFAULTS.media_consent_failures
        assert consent_expiry(interval, failures) <= 10.0
        settings = msgspec.structs.replace(
            media_settings, media_consent_interval=interval, media_consent_failures=failures
        )
        async with running(settings) as site:
            await asyncio.wait_for(platform.connected.wait(), 5)
            assert site.sim is not None
            call = await site.sim.ring("station-2-2", room="0602")
            browser, _ = await connect(platform, "station-2-2", call)
            try:
                await browser.frames(2)
                browser.cut()
                began = time.monotonic()
                end = await ended(platform, call, timeout=12)
                took = time.monotonic() - began
                assert end["outcome"] == "network"
                assert took <= consent_expiry(interval, failures) + 0.5, took
            finally:
                await browser.close()

    async def test_declined_and_visitor_hangup(self, site: Bridge, platform: FakePlatform) -> None:
        assert site.sim is not None
        call = await site.sim.ring("station-south", room="3-2-1801")
        declined = await platform.command(
            "station-south", "intercom.hangup", {"call": call, "outcome": "declined"}
        )
        assert declined.data == {"ended": True}
        end = await ended(platform, call)
        assert (end["outcome"], end["duration_s"], end["clip"]) == ("declined", 0.0, False)
        late, result = await connect(platform, "station-south", call)
        await late.close()
        assert result.status == "failed" and "no call" in result.detail

        call = await site.sim.ring("station-south", room="3-2-1801")
        assert await site.sim.visitor_hangup("station-south") == call
        assert (await ended(platform, call))["outcome"] == "hangup"

    @pytest.mark.req("ICM-07", "ICM-22")
    async def test_unanswered_call_keeps_a_clip_and_a_snapshot(
        self, site: Bridge, platform: FakePlatform
    ) -> None:
        assert site.sim is not None
        site.sim.intercom.ring_s = SHORT_RING_S
        call = await site.sim.ring("station-3-1", room="0601")
        end = await ended(platform, call, timeout=SHORT_RING_S + CLIP_S + 8)
        assert end["outcome"] == "unanswered" and end["clip"] is True and end["snapshot"]
        assert end["duration_s"] == 0.0 and end["rang_s"] >= SHORT_RING_S
        late, result = await connect(platform, "station-3-1", call)  # too late to answer
        await late.close()
        assert result.status == "failed"

        media = await platform.command("station-3-1", "intercom.media", {"call": call})
        assert media.status == "ok", media.detail
        assert media.data["snapshot_type"] == "image/jpeg"
        assert media.data["clip_type"] == "video/mp4"
        assert media.data["snapshot"][:3] == b"\xff\xd8\xff"
        with av.open(io.BytesIO(media.data["snapshot"])) as jpeg:
            picture = next(jpeg.decode(video=0))
            assert (picture.width, picture.height) == (640, 480)
        with av.open(io.BytesIO(media.data["clip"])) as clip:
            kinds = {s.type: s.codec_context.name for s in clip.streams}
            assert kinds == {"video": "h264", "audio": "aac"}
            frames = sum(1 for _ in clip.decode(video=0))
        fps = site.settings.media_fps
        # A loaded machine skips frames rather than queueing them: "a few seconds" of video.
        assert CLIP_S * fps * 0.3 <= frames <= CLIP_S * fps * 1.2, frames
        assert len(site.media.peers) == 0 and site.media.sources.active() == {}

    @pytest.mark.req("ICM-17", partial=True)
    async def test_lift_emergency_calls_the_guard_room(
        self, site: Bridge, platform: FakePlatform
    ) -> None:
        assert site.sim is not None
        call = await site.sim.lift_emergency("lift-1-1")
        assert await started(platform, "lift-1-1") == {
            "call": call,
            "target": "guard_room",
            "reason": "lift_emergency",
        }
        guard, result = await connect(platform, "lift-1-1", call)
        try:
            assert result.status == "ok", result.detail
            await guard.frames(3)
            assert guard.audio_frames > 0
            await platform.command("lift-1-1", "intercom.hangup", {"call": call})
            end = await ended(platform, call)
            assert end["outcome"] == "answered"
        finally:
            await guard.close()


class TestBadRequests:
    @pytest.mark.req("ICM-05")
    async def test_refused_offers_leave_nothing_behind(
        self, site: Bridge, platform: FakePlatform
    ) -> None:
        assert site.sim is not None
        browser = Browser(call=True)
        sdp = await browser.offer()
        await browser.close()
        call = await site.sim.ring("station-2-2", room="0101")
        cases: list[tuple[str, dict[str, Any], str]] = [
            ("station-2-2", {"session": call, "sdp": "v=0 nonsense", "kind": "call"}, "invalid"),
            (
                "station-2-2",
                {"session": call, "sdp": sdp.replace("a=fingerprint", "a=x"), "kind": "call"},
                "the offer has no DTLS fingerprint",  # no unencrypted media, ever
            ),
            (
                "station-2-2",
                {"session": call, "sdp": sdp.replace("setup:actpass", "setup:x"), "kind": "call"},
                "the offer is not valid SDP",
            ),
            ("station-2-2", {"session": "no-such-call", "sdp": sdp, "kind": "call"}, "no call"),
            ("station-2-2", {"sdp": sdp, "kind": "call"}, "session"),
            ("cam-carpark", {"session": "s1", "sdp": sdp, "kind": "call"}, "live views only"),
            (
                "cam-carpark",
                {"session": "s2", "sdp": sdp, "kind": "live", "max_duration_s": -1},
                "Expected `float` >",
            ),
        ]
        for device, args, detail in cases:
            result = await platform.command(device, "media.offer", args, within=5)
            assert result.status == "failed", (args, result)
            assert detail in result.detail, result.detail
        unsupported = await platform.command("door-1-1", "media.offer", {"session": "x"})
        assert unsupported.status == "unsupported"
        assert len(site.media.peers) == 0 and site.media.sources.active() == {}
        # The call still rings: a bad offer did not answer it.
        assert site.sim.intercom.calls[call].state == "ringing"

    async def test_deadline_while_gathering_leaves_nothing(
        self, site: Bridge, platform: FakePlatform
    ) -> None:
        """A STUN server that never answers (a closed port here) keeps aioice gathering for 5 s:
        the command times out, and the peer closes once the gathering is over."""
        browser = Browser(call=False)
        args = {
            "session": "slow",
            "sdp": await browser.offer(),
            "kind": "live",
            "ice_servers": [{"urls": "stun:127.0.0.1:9"}],
        }
        await browser.close()
        result = await platform.command("cam-south-gate", "media.offer", args, within=0.5)
        assert result.status == "timeout"
        busy = await platform.command("cam-south-gate", "media.offer", args, within=0.5)
        assert "already open" in busy.detail  # the session stays taken until it is closed
        await eventually(lambda: not site.media.peers.sessions() and not media_tasks(), timeout=30)
        assert len(site.media.peers) == 0 and site.media.sources.active() == {}
        assert media_tasks() == []  # aioice's queries included

    async def test_room_labels(self, site: Bridge) -> None:
        assert site.sim is not None
        with pytest.raises(ValueError, match="not a unit station"):
            await site.sim.ring("station-north", room="0302")
        with pytest.raises(ValueError, match="not a room label"):
            await site.sim.ring("station-1-1", room="1-1-03/02")
        call = await site.sim.ring("station-north", target="guard_room")
        assert call in site.sim.intercom.calls
        with pytest.raises(Exception, match="already in a call"):
            await site.sim.ring("station-north", target="guard_room")


class TestLiveView:
    @pytest.mark.req("VID-05", "VID-07")
    @pytest.mark.req("VID-02", partial=True)
    async def test_three_viewers_share_one_upstream(
        self, site: Bridge, platform: FakePlatform
    ) -> None:
        viewers = []
        try:
            for n in range(3):
                viewer, result = await connect(platform, "cam-north-gate", f"view-{n}", kind="live")
                assert result.status == "ok", result.detail
                assert "m=audio" not in result.data["sdp"]
                viewers.append(viewer)
            for viewer in viewers:
                await viewer.frames(5)
                assert "audio" not in viewer.remote
            hub = site.media.sources
            assert hub.starts["cam-north-gate"] == 1  # one upstream for the three of them
            assert hub.active() == {"cam-north-gate": 3}
            for n, viewer in enumerate(viewers):
                closed = await platform.command(
                    "cam-north-gate", "media.close", {"session": f"view-{n}"}
                )
                assert closed.status == "ok"
                assert await viewer.ended() == "closed"
                assert hub.active() == ({"cam-north-gate": 2 - n} if n < 2 else {})
            assert len(site.media.peers) == 0 and hub.starts["cam-north-gate"] == 1
        finally:
            for viewer in viewers:
                await viewer.close()

    @pytest.mark.req("ICM-04", partial=True)
    async def test_a_view_the_bridge_ends_is_reported_at_once(
        self, site: Bridge, platform: FakePlatform
    ) -> None:
        limited, result = await connect(
            platform, "cam-north-gate", "view-limit", kind="live", limit=1
        )
        cut, _ = await connect(platform, "cam-carpark", "view-cut", kind="live")
        closed, _ = await connect(platform, "cam-south-gate", "view-closed", kind="live")
        try:
            assert result.status == "ok"
            await cut.frames(2)
            cut.cut()
            await platform.command("cam-south-gate", "media.close", {"session": "view-closed"})
            await platform.wait_for(lambda: len(events(platform, "media.ended")) == 2, 8)
            ended = {e.data["session"]: (e.device, e.data) for e in events(platform, "media.ended")}
            assert ended.keys() == {"view-limit", "view-cut"}  # a close it was asked for: no word
            device, data = ended["view-limit"]
            assert (device, data["kind"], data["reason"]) == ("cam-north-gate", "live", "limit")
            assert 0.5 <= data["duration_s"] <= 3.0
            assert ended["view-cut"][1]["reason"] == "network"
        finally:
            for browser in (limited, cut, closed):
                await browser.close()

    async def test_bridge_stop_closes_every_peer(
        self, media_settings: BridgeSettings, platform: FakePlatform
    ) -> None:
        async with running(media_settings) as bridge:
            await asyncio.wait_for(platform.connected.wait(), 5)
            assert bridge.sim is not None
            viewer, _ = await connect(platform, "cam-carpark", "view-stop", kind="live")
            call = await bridge.sim.ring("station-1-1", room="0101")
            caller, _ = await connect(platform, "station-1-1", call)
            await viewer.frames(2)
            await caller.frames(2)
            assert len(bridge.media.peers) == 2
            ringing = await bridge.sim.ring("station-2-2", room="0101")
        try:
            assert len(bridge.media.peers) == 0 and bridge.media.sources.active() == {}
            assert await viewer.ended() == "closed" and await caller.ended() == "closed"
            # The calls' ends went to the outbox before it closed: delivered after a restart.
            async with running(media_settings):
                live, rang = await ended(platform, call), await ended(platform, ringing)
            assert live["outcome"] == "network" and rang["outcome"] == "network"
        finally:
            await viewer.close()
            await caller.close()


class TestNoLeaks:
    @pytest.mark.req("ICM-01")
    async def test_a_hundred_calls_leave_nothing(self, site: Bridge) -> None:
        sim = site.sim
        assert sim is not None
        station = sim.devices["station-1-1"]

        async def one_call() -> None:
            browser = Browser(call=True)
            try:
                sdp = await browser.offer()
                call = await sim.ring("station-1-1", room="0302")
                offer = {"session": call, "sdp": sdp, "kind": "call"}
                answer = await sim.intercom.offer(station, offer)
                await browser.accept(answer["sdp"])
                await browser.frames(1)
                assert media_tasks()  # what the check below looks for, while a call runs
                assert await sim.intercom.hangup(station, {"call": call}) == {"ended": True}
                await browser.ended()
            finally:
                await browser.close()

        await one_call()  # warm up: the default executor's threads, codec tables
        await asyncio.sleep(0.2)
        assert media_tasks() == []
        threads = {t.name for t in threading.enumerate() if not t.name.startswith("asyncio_")}
        for _ in range(100):
            await one_call()
        await asyncio.sleep(0.3)  # relay readers finish within a frame of their source stopping
        assert len(site.media.peers) == 0
        assert site.media.sources.active() == {}
        assert sim.intercom.calls == {}
        assert media_tasks() == []
        after = {t.name for t in threading.enumerate() if not t.name.startswith("asyncio_")}
        assert after == threads  # no player or encoder thread left behind
