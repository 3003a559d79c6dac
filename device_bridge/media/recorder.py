"""A visitor's message: a few seconds of a station's own media as MP4, and a JPEG snapshot.

MP4 (H.264 + AAC, `+faststart`) plays in every browser, Safari included. The encoder runs in one
worker thread per recording, so the event loop only hands it frames; the clip is bounded in
bitrate so that it fits one command result on the link.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fractions
import tempfile
from pathlib import Path
from typing import Any

import av
import structlog
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from device_bridge.media.sources import Lease

log = structlog.get_logger(__name__)

CLIP_TYPE = "video/mp4"
SNAPSHOT_TYPE = "image/jpeg"
_VIDEO_TB = fractions.Fraction(1, 90_000)
_AUDIO_RATE = 48_000


async def snapshot(lease: Lease) -> bytes:
    """The next video frame of the lease, as JPEG."""
    if lease.video is None:
        raise MediaStreamError("no video")
    frame = await lease.video.recv()
    assert isinstance(frame, VideoFrame)
    return await asyncio.to_thread(jpeg, frame)


def jpeg(frame: VideoFrame, quality: int = 5) -> bytes:
    """A frame as JPEG bytes (`quality`: FFmpeg's qscale, 2 best … 31 worst)."""
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = frame.width, frame.height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = fractions.Fraction(1, 25)
    codec.options = {"qmin": str(quality), "qmax": str(quality)}
    packets = [*codec.encode(frame.reformat(format="yuvj420p")), *codec.encode(None)]
    return bytes(packets[0])


async def record_clip(lease: Lease, seconds: float, *, fps: float = 15.0) -> bytes:
    """Record `seconds` of the lease's video (and audio) as MP4 bytes."""
    with tempfile.TemporaryDirectory(prefix="anju-clip-") as tmp:
        path = Path(tmp) / "clip.mp4"
        worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="clip-encoder")
        loop = asyncio.get_running_loop()
        try:
            writer = await loop.run_in_executor(worker, _Writer, path, fps, lease.audio is not None)
            tracks = [t for t in (lease.video, lease.audio) if t is not None]
            pumps = [asyncio.create_task(_pump(t, writer, worker)) for t in tracks]
            await asyncio.wait(pumps, timeout=seconds)
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            await loop.run_in_executor(worker, writer.close)
            data = await asyncio.to_thread(path.read_bytes)
        finally:
            worker.shutdown(wait=True)
    log.info(
        "bridge.media.clip_recorded", device=lease.device, size=len(data), frames=writer.frames
    )
    return data


async def _pump(
    track: MediaStreamTrack, writer: _Writer, worker: concurrent.futures.Executor
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        await loop.run_in_executor(worker, writer.write, frame)


class _Writer:
    """The MP4 muxer and its encoders; used from one thread only."""

    def __init__(self, path: Path, fps: float, audio: bool) -> None:
        options = {"movflags": "+faststart"}  # the index first: plays while it downloads
        self.container: Any = av.open(str(path), "w", format="mp4", options=options)
        self.video: Any = self.container.add_stream("libx264", rate=round(fps))
        self.video.pix_fmt = "yuv420p"
        # Fast and bounded: a few seconds must fit one command result (well under 1 MiB).
        self.video.options = {
            "preset": "ultrafast",
            "crf": "28",
            "maxrate": "900k",
            "bufsize": "900k",
        }
        self.audio: Any = None
        if audio:
            self.audio = self.container.add_stream("aac", rate=_AUDIO_RATE)
            self.audio.layout = "mono"
            self.resampler = av.AudioResampler(format="fltp", layout="mono", rate=_AUDIO_RATE)
        self.frames = 0
        self._video_start: float | None = None
        self._last_pts = -1
        self._samples = 0
        self._sized = False

    def write(self, frame: Any) -> None:
        if isinstance(frame, VideoFrame):
            self._write_video(frame)
        elif isinstance(frame, AudioFrame) and self.audio is not None:
            for out in self.resampler.resample(frame):
                out.pts, out.time_base = self._samples, fractions.Fraction(1, _AUDIO_RATE)
                self._samples += out.samples
                self._mux(self.audio.encode(out))

    def _write_video(self, frame: VideoFrame) -> None:
        if not self._sized:
            self.video.width, self.video.height = frame.width, frame.height
            self._sized = True
        at = float(frame.pts * frame.time_base) if frame.pts and frame.time_base else 0.0
        if self._video_start is None:
            self._video_start = at
        pts = round((at - self._video_start) * 90_000)
        if pts <= self._last_pts:
            return  # a repeated frame (a relay hands the newest one twice): skip it
        self._last_pts = pts
        out = frame.reformat(format="yuv420p") if frame.format.name != "yuv420p" else frame
        copy = VideoFrame(out.width, out.height, "yuv420p")  # shared frames are not ours to stamp
        for target, plane in zip(copy.planes, out.planes, strict=True):
            target.update(bytes(plane))
        copy.pts, copy.time_base = pts, _VIDEO_TB
        self._mux(self.video.encode(copy))
        self.frames += 1

    def close(self) -> None:
        if self._sized:
            self._mux(self.video.encode(None))
        if self.audio is not None and self._samples:
            self._mux(self.audio.encode(None))
        self.container.close()

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            self.container.mux(packet)
