"""Media sources: each device's video (and audio), started on first use, shared, stopped after.

A device's media comes from its `rtsp` attribute (any URL or file FFmpeg opens, read by aiortc's
`MediaPlayer`) or, for a simulated device without one, from a synthetic source: a 640×480 test
pattern with a moving block and a clock, and a two-note tone. Each running source has one
`MediaRelay`; every consumer (a live view, a call, the clip recorder) gets its own relay proxy
through a `Lease`. When the last lease is released the upstream stops: the player's thread ends,
the relay's reader finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import struct
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer, MediaRelay
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame
from av.frame import Frame
from av.packet import Packet

from device_bridge.drivers.base import DeviceUnavailable
from device_bridge.protocol import DeviceInfo

log = structlog.get_logger(__name__)

VIDEO_TIME_BASE = fractions.Fraction(1, 90_000)
AUDIO_RATE = 48_000
AUDIO_PTIME = 0.020

# -- the synthetic test pattern --------------------------------------------------------------------

# BT.601 limited-range (Y, U, V) of the classic colour bars.
_BARS = [
    (235, 128, 128),  # white
    (210, 16, 146),  # yellow
    (170, 166, 16),  # cyan
    (145, 54, 34),  # green
    (106, 202, 222),  # magenta
    (81, 90, 240),  # red
    (41, 240, 110),  # blue
    (16, 128, 128),  # black
]
_GLYPHS = {  # 5×7 bitmap digits and the clock's punctuation
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11110", "00001", "00001", "01110", "00001", "00001", "11110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
    "-": ("00000", "00000", "00000", "11111", "00000", "00000", "00000"),
    ":": ("00000", "01100", "01100", "00000", "01100", "01100", "00000"),
    ".": ("00000", "00000", "00000", "00000", "00000", "01100", "01100"),
    " ": ("00000",) * 7,
}
_SCALE = 3  # each glyph pixel is 3×3 frame pixels
_BOX = 64  # the moving block's side, in pixels


class TestPattern(MediaStreamTrack):
    """Colour bars, a block bouncing across them and a clock with a frame counter, at `fps`.

    Frames are built from pre-rendered planes with a few hundred slice copies (no per-pixel work):
    a few hundredths of a millisecond each, so the encoder is what costs.
    """

    kind = "video"
    __test__ = False  # not a pytest class, despite the name

    def __init__(self, *, width: int = 640, height: int = 480, fps: float = 15.0) -> None:
        super().__init__()
        if width % 16 or height % 16 or width < 4 * _BOX or height < 4 * _BOX:
            raise ValueError("width and height: multiples of 16, at least 256")
        self.width, self.height, self.fps = width, height, fps
        self._index = -1
        self._start: float | None = None
        band = height - 8 * _SCALE * 2  # the clock band at the bottom
        w2 = width // 2
        bar_y = b"".join(bytes([y]) * (width // 8) for y, _, _ in _BARS)
        bar_u = b"".join(bytes([u]) * (w2 // 8) for _, u, _ in _BARS)
        bar_v = b"".join(bytes([v]) * (w2 // 8) for _, _, v in _BARS)
        self._band = band
        self._y = bar_y * band + bytes([16]) * width * (height - band)
        self._u = bar_u * (band // 2) + bytes([128]) * w2 * ((height - band) // 2)
        self._v = bar_v * (band // 2) + bytes([128]) * w2 * ((height - band) // 2)
        self._glyph_rows = {
            (char, r): b"".join(
                (b"\xeb" if bit == "1" else b"\x10") * _SCALE for bit in rows[r] + "0"
            )
            for char, rows in _GLYPHS.items()
            for r in range(7)
        }

    async def recv(self) -> Frame:
        """The next frame, on time; frames a slow consumer missed are skipped, not queued."""
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start, self._index = now, 0
        else:
            self._index = max(self._index + 1, int((now - self._start) * self.fps))
            wait = self._start + self._index / self.fps - now
            if wait > 0:
                await asyncio.sleep(wait)
            if self.readyState != "live":
                raise MediaStreamError
        frame = self.render(self._index)
        frame.pts = round(self._index * 90_000 / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        return frame

    def render(self, index: int, *, at: float | None = None) -> VideoFrame:
        """Frame number `index`: the block's place follows the index, the clock the wall time."""
        w, h, w2 = self.width, self.height, self.width // 2
        y, u, v = bytearray(self._y), bytearray(self._u), bytearray(self._v)
        # The block bounces left and right, and drifts down and up more slowly.
        span_x, span_y = w - _BOX, self._band - _BOX
        bx = _bounce(96 + index * 6, span_x) & ~1
        by = _bounce(48 + index * 2, span_y) & ~1
        row = b"\x7e" * _BOX  # grey: it shows on every bar
        for r in range(by, by + _BOX):
            y[r * w + bx : r * w + bx + _BOX] = row
        chroma = b"\x80" * (_BOX // 2)
        for r in range(by // 2, (by + _BOX) // 2):
            u[r * w2 + bx // 2 : r * w2 + bx // 2 + _BOX // 2] = chroma
            v[r * w2 + bx // 2 : r * w2 + bx // 2 + _BOX // 2] = chroma
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
        self._text(y, f"{stamp}  {index % 100000:05d}", x=16, top=self._band + 8 * _SCALE // 2)
        frame = VideoFrame(w, h, "yuv420p")
        for plane, data in zip(frame.planes, (y, u, v), strict=True):
            plane.update(bytes(data))
        return frame

    def _text(self, y: bytearray, text: str, *, x: int, top: int) -> None:
        width = self.width
        text = text[: (width - x) // (6 * _SCALE)]
        for r in range(7):
            line = b"".join(self._glyph_rows[(c, r)] for c in text)
            for dy in range(_SCALE):
                start = (top + r * _SCALE + dy) * width + x
                y[start : start + len(line)] = line


def _bounce(position: int, span: int) -> int:
    """0 … span … 0 … for an ever-growing position."""
    position %= 2 * span
    return position if position <= span else 2 * span - position


class Tone(MediaStreamTrack):
    """A two-note chime (600 Hz, then 400 Hz, half a second each), mono 48 kHz, 20 ms frames."""

    kind = "audio"

    def __init__(self, *, volume: float = 0.2) -> None:
        super().__init__()
        samples = int(AUDIO_RATE * AUDIO_PTIME)
        # Whole periods fit a 20 ms frame for these notes, so one frame of each repeats seamlessly.
        self._notes = [_sine(freq, samples, volume) for freq in (600, 400)]
        self._samples = samples
        self._index = -1
        self._start: float | None = None

    async def recv(self) -> Frame:
        """The next 20 ms of the chime, on time."""
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start, self._index = now, 0
        else:
            self._index += 1
            wait = self._start + self._index * AUDIO_PTIME - now
            if wait > 0:
                await asyncio.sleep(wait)
            if self.readyState != "live":
                raise MediaStreamError
        frame = AudioFrame(format="s16", layout="mono", samples=self._samples)
        frame.planes[0].update(self._notes[(self._index // 25) % 2])
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._index * self._samples
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame


def _sine(freq: int, samples: int, volume: float) -> bytes:
    amplitude = int(32767 * volume)
    return struct.pack(
        f"<{samples}h",
        *(round(amplitude * math.sin(2 * math.pi * freq * i / AUDIO_RATE)) for i in range(samples)),
    )


class _Feed(MediaStreamTrack):
    """A player's track as a relay's upstream: `stop()` also ends a reader waiting for a frame.

    A stopped `MediaPlayer` track never wakes a `recv()` that waits for its next frame, which would
    leave the relay's reader task hanging for good: this wrapper cancels that wait instead.
    """

    def __init__(self, inner: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = inner.kind
        self._inner = inner
        self._next: asyncio.Future[Frame | Packet] | None = None

    async def recv(self) -> Frame | Packet:
        if self.readyState != "live":
            raise MediaStreamError
        self._next = asyncio.ensure_future(self._inner.recv())
        try:
            return await self._next
        except asyncio.CancelledError:
            if self.readyState != "live":
                raise MediaStreamError from None
            raise
        finally:
            self._next = None

    def stop(self) -> None:
        super().stop()
        if self._next is not None:
            self._next.cancel()


# -- sources and leases ----------------------------------------------------------------------------


@dataclass(eq=False)
class Source:
    """One device's running media: its upstream tracks, their relay, and how many leases hold it."""

    device: str
    relay: MediaRelay
    video: MediaStreamTrack | None
    audio: MediaStreamTrack | None
    player: MediaPlayer | None = None
    leases: set[Lease] = field(default_factory=set)
    started_at: float = field(default_factory=time.monotonic)


class Lease:
    """One consumer's view of a source: relay proxies of its video (and audio); release it after."""

    def __init__(self, hub: SourceHub, source: Source, *, audio: bool) -> None:
        self.device = source.device
        self._hub = hub
        self._source: Source | None = source
        # Video: only the newest frame waits for a slow consumer (live, never a growing backlog);
        # audio: buffered, so the chime or the device's sound does not stutter.
        self.video = source.relay.subscribe(source.video, buffered=False) if source.video else None
        self.audio = (
            source.relay.subscribe(source.audio, buffered=True) if audio and source.audio else None
        )

    @property
    def released(self) -> bool:
        """Whether `release()` ran."""
        return self._source is None

    async def release(self) -> None:
        """Stop this consumer's proxies; the source stops when no lease is left. Idempotent."""
        source, self._source = self._source, None
        for track in (self.video, self.audio):
            if track is not None:
                track.stop()  # unregisters the proxy from the relay
        if source is not None:
            await self._hub._release(source, self)


class SourceHub:
    """The running sources by device: `subscribe()` starts one; the last release stops it."""

    def __init__(
        self,
        *,
        width: int = 640,
        height: int = 480,
        fps: float = 15.0,
        open_timeout: float = 10.0,
        player: Callable[..., MediaPlayer] = MediaPlayer,
    ) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.open_timeout = open_timeout
        self._player = player
        self._sources: dict[str, Source] = {}
        # One lock per device: a camera slow to open its stream delays only its own viewers.
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.starts: Counter[str] = Counter()  # upstreams started per device (tests, metrics)

    def active(self) -> dict[str, int]:
        """The running sources: device → number of leases."""
        return {device: len(s.leases) for device, s in self._sources.items()}

    async def subscribe(self, device: DeviceInfo, *, audio: bool = False) -> Lease:
        """A lease on the device's media (its video; and its audio when `audio`)."""
        async with self._locks[device.id]:
            source = self._sources.get(device.id)
            if source is None:
                source = await self._start(device)
                self._sources[device.id] = source
            lease = Lease(self, source, audio=audio)
            source.leases.add(lease)
            return lease

    async def close(self) -> None:
        """Stop every source (leases still held are released)."""
        for source in list(self._sources.values()):
            for lease in list(source.leases):
                await lease.release()

    async def _release(self, source: Source, lease: Lease) -> None:
        async with self._locks[source.device]:
            source.leases.discard(lease)
            if source.leases or self._sources.get(source.device) is not source:
                return
            del self._sources[source.device]
            await self._stop(source)

    async def _start(self, device: DeviceInfo) -> Source:
        url = device.attrs.get("rtsp")
        if isinstance(url, str) and url:
            source = await self._open_player(device, url)
        else:
            video = TestPattern(width=self.width, height=self.height, fps=self.fps)
            audio = Tone() if device.kind in {"door_station", "indoor_station", "lift"} else None
            source = Source(device=device.id, relay=MediaRelay(), video=video, audio=audio)
        self.starts[device.id] += 1
        log.info(
            "bridge.media.source_started",
            device=device.id,
            origin="rtsp" if source.player else "synthetic",
        )
        return source

    async def _open_player(self, device: DeviceInfo, url: str) -> Source:
        live = "://" in url and not url.startswith("file:")
        options = {"rtsp_transport": "tcp"} if url.startswith(("rtsp:", "rtsps:")) else {}
        try:
            # Opening probes the stream: blocking network I/O, so in a thread.
            player = await asyncio.to_thread(
                self._player,
                url,
                options=options,
                timeout=int(self.open_timeout),
                loop=not live,  # a recorded file plays on a loop; a live stream never ends
            )
        except Exception as err:
            # The URL may carry credentials: log the device, never the URL.
            log.warning("bridge.media.source_failed", device=device.id, error=type(err).__name__)
            raise DeviceUnavailable(f"cannot open the media stream of {device.id}") from err
        video = _Feed(player.video) if player.video else None
        audio = _Feed(player.audio) if player.audio else None
        if video is None:
            await asyncio.to_thread(_stop_player_tracks, player)
            raise DeviceUnavailable(f"the media stream of {device.id} has no video")
        return Source(device=device.id, relay=MediaRelay(), video=video, audio=audio, player=player)

    async def _stop(self, source: Source) -> None:
        for track in (source.video, source.audio):
            if track is not None:
                track.stop()  # the relay's reader gets MediaStreamError and finishes
        if source.player is not None:
            # Joins the player's thread, which may sit in a blocking read: not on the loop.
            await asyncio.to_thread(_stop_player_tracks, source.player)
        log.info(
            "bridge.media.source_stopped",
            device=source.device,
            ran_s=round(time.monotonic() - source.started_at, 1),
        )


def _stop_player_tracks(player: Any) -> None:
    for track in (player.video, player.audio):
        if track is not None:
            with contextlib.suppress(Exception):
                track.stop()
