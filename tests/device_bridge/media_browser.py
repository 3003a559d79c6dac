"""A browser's side of a media session, played by a second aiortc peer in the test process.

It offers what the PWA offers (recvonly video, plus sendrecv audio for a call), gathers first (no
trickle), takes the bridge's answer, and keeps what it receives: decoded video frames and a count of
audio frames. `cut()` drops the network under it without a word (no DTLS close), as a phone that
leaves Wi-Fi does.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame


class Browser:
    """One browser peer: `await offer()`, hand the SDP to the bridge, `await accept(answer)`."""

    def __init__(self, *, call: bool) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTransceiver("video", direction="recvonly")
        if call:
            self.pc.addTrack(AudioStreamTrack())  # the resident's microphone: sendrecv audio
        self.video: list[VideoFrame] = []  # the latest decoded frames
        self.video_frames = 0
        self.audio_frames = 0
        self.remote: dict[str, MediaStreamTrack] = {}
        self.states: list[str] = []
        self._readers: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()  # a frame came, or the connection state changed
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    async def offer(self) -> str:
        """The complete offer, candidates gathered."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, sdp: str) -> None:
        """Apply the bridge's answer."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def frames(self, count: int, *, timeout: float = 10.0) -> list[VideoFrame]:
        """Wait until `count` video frames have been decoded."""
        async with asyncio.timeout(timeout):
            while self.video_frames < count:
                await self._wait()
        return self.video

    async def ended(self, *, timeout: float = 10.0) -> str:
        """Wait until the connection is closed or failed; its state."""
        async with asyncio.timeout(timeout):
            while self.pc.connectionState not in {"closed", "failed"}:
                await self._wait()
        return self.pc.connectionState

    def cut(self) -> None:
        """Silently drop every packet in and out, as if the network were gone."""
        for transceiver in self.pc.getTransceivers():
            connection: Any = transceiver.receiver.transport.transport._connection
            for protocol in connection._protocols:
                protocol.datagram_received = lambda *_: None
                protocol.transport.sendto = lambda *_: None

    async def close(self) -> None:
        """Close the peer and stop reading."""
        await self.pc.close()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)

    async def _wait(self) -> None:
        self._changed.clear()
        # The state may change inside aiortc without an event once the peer is closed: re-check.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.1):
                await self._changed.wait()

    def _on_state(self) -> None:
        self.states.append(self.pc.connectionState)
        self._changed.set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.remote[track.kind] = track
        task = asyncio.create_task(self._read(track))
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, VideoFrame):
                    self.video_frames += 1
                    self._changed.set()
                    self.video.append(frame)
                    del self.video[:-50]  # the latest few are enough
                else:
                    self.audio_frames += 1
