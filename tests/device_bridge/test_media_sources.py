"""Device media sources: the synthetic pattern and tone, a URL source read by MediaPlayer, sharing
through one relay, and that nothing keeps running after the last consumer leaves."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from device_bridge.drivers.base import DeviceUnavailable
from device_bridge.media.peers import Offer, PeerRegistry
from device_bridge.media.recorder import record_clip
from device_bridge.media.sources import SourceHub, TestPattern, Tone
from device_bridge.protocol import DeviceInfo
from tests.device_bridge.media_browser import Browser

CAMERA = DeviceInfo(id="cam-1", kind="camera", name="camera", driver="sim")
STATION = DeviceInfo(id="station-1", kind="door_station", name="station", driver="sim")


def players() -> list[str]:
    """Threads of aiortc media players still running."""
    return [t.name for t in threading.enumerate() if t.name == "media-player"]


async def settled(baseline: int) -> bool:
    """Whether the task count is back to `baseline` within a second (relay readers end on the
    frame after their source stops)."""
    for _ in range(50):
        if len(asyncio.all_tasks()) <= baseline:
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.fixture(scope="module")
async def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-second MP4 of the test pattern and tone: a stand-in for a camera's stream."""
    hub = SourceHub(fps=15)
    lease = await hub.subscribe(STATION, audio=True)
    path = tmp_path_factory.mktemp("media") / "camera.mp4"
    path.write_bytes(await record_clip(lease, 2.0))
    await lease.release()
    return path


class TestSynthetic:
    async def test_pattern_moves_and_keeps_time(self) -> None:
        pattern = TestPattern(fps=30)
        a, b = pattern.render(0, at=0.0), pattern.render(10, at=0.0)
        assert (a.width, a.height, a.format.name) == (640, 480, "yuv420p")
        assert bytes(a.planes[0]) != bytes(b.planes[0])  # the block moved
        assert bytes(a.planes[0]) == bytes(pattern.render(0, at=0.0).planes[0])  # deterministic
        assert bytes(a.planes[0]) != bytes(pattern.render(0, at=3600.0).planes[0])  # the clock
        frames = [await pattern.recv() for _ in range(3)]
        assert [f.pts for f in frames] == [0, 3000, 6000]  # 90 kHz clock at 30 fps
        pattern.stop()

    async def test_tone_chimes_in_20_ms_frames(self) -> None:
        tone = Tone()
        frame = await tone.recv()
        assert (frame.samples, frame.sample_rate, frame.layout.name) == (960, 48_000, "mono")
        assert any(bytes(frame.planes[0]))  # not silence
        tone.stop()


class TestSharing:
    async def test_one_upstream_for_all_consumers_stopped_after_the_last(self) -> None:
        baseline = len(asyncio.all_tasks())
        hub = SourceHub(fps=30)
        leases = [await hub.subscribe(STATION, audio=True) for _ in range(3)]
        frames = await asyncio.gather(*(lease.video.recv() for lease in leases if lease.video))
        assert len({id(f) for f in frames}) == 1  # one frame, relayed to the three
        assert leases[0].audio is not None and (await leases[0].audio.recv()).samples == 960
        assert hub.starts == {"station-1": 1} and hub.active() == {"station-1": 3}
        for lease in leases:
            await lease.release()
            await lease.release()  # idempotent
        assert hub.active() == {}
        assert await settled(baseline), [t.get_name() for t in asyncio.all_tasks()]
        again = await hub.subscribe(STATION)
        assert hub.starts == {"station-1": 2}  # a new upstream after the old one stopped
        await hub.close()
        assert again.released and hub.active() == {}

    async def test_a_camera_has_no_audio(self) -> None:
        hub = SourceHub()
        lease = await hub.subscribe(CAMERA, audio=True)
        assert lease.video is not None and lease.audio is None
        await hub.close()


class TestUrlSource:
    async def test_recording_plays_through_media_player_and_stops(self, recording: Path) -> None:
        baseline = len(asyncio.all_tasks())
        camera = DeviceInfo(
            id="cam-rtsp", kind="camera", name="c", driver="sim", attrs={"rtsp": str(recording)}
        )
        hub = SourceHub()
        first, second = await hub.subscribe(camera), await hub.subscribe(camera)
        assert first.video is not None and second.video is not None
        frame = await first.video.recv()
        assert (frame.width, frame.height) == (640, 480)
        await second.video.recv()
        assert hub.starts == {"cam-rtsp": 1} and players() == ["media-player"]
        await first.release()
        await second.release()
        assert players() == []  # the player's thread ended with the last consumer
        assert await settled(baseline)

    async def test_an_unreachable_stream_is_device_unavailable(self, tmp_path: Path) -> None:
        camera = DeviceInfo(
            id="cam-gone",
            kind="camera",
            name="c",
            driver="sim",
            attrs={"rtsp": str(tmp_path / "missing.mp4")},
        )
        hub = SourceHub()
        with pytest.raises(DeviceUnavailable, match="cannot open the media stream of cam-gone"):
            await hub.subscribe(camera)
        assert hub.active() == {} and hub.starts == {}

    @pytest.mark.req("VID-14", partial=True)
    async def test_a_live_view_of_the_stream(self, recording: Path) -> None:
        camera = DeviceInfo(
            id="cam-rtsp", kind="camera", name="c", driver="sim", attrs={"rtsp": str(recording)}
        )
        peers = PeerRegistry(SourceHub())
        browser = Browser(call=False)
        try:
            offer = Offer(session="v", sdp=await browser.offer(), kind="live", max_duration_s=30)
            await browser.accept(await peers.open(camera, offer))
            frames = await browser.frames(5)
            assert (frames[-1].width, frames[-1].height) == (640, 480)
            assert await peers.close("v") and len(peers) == 0
            assert players() == []
        finally:
            await browser.close()
            await peers.close_all()
