"""The live WebRTC peers at the bridge, one per media session, and how each one ends.

The browser makes the offer (gathered: aiortc does not trickle ICE); `PeerRegistry.open` answers it
with the device's media through its source's relay, after gathering its own candidates. A peer ends
on request (`close`), at its duration limit, when its connection fails or closes (ICE consent lost,
DTLS closed), when it does not connect in time, or with the bridge. Ending always does the same:
out of the registry, the resident's incoming media drained no more, the peer closed, the relay
proxies stopped, the source released (it stops with its last consumer), then `on_end(peer, reason)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec
import structlog
from aioice import ice as aioice_ice
from aioice import stun as aioice_stun
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaBlackhole

from device_bridge.drivers.base import DeviceError, InvalidArguments
from device_bridge.media.sources import Lease, SourceHub
from device_bridge.protocol import DeviceInfo

log = structlog.get_logger(__name__)

SessionKind = Literal["call", "live"]
EndReason = Literal["closed", "limit", "network", "shutdown"]
OnEnd = Callable[["Peer", EndReason], Awaitable[None]]


class IceServer(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A STUN or TURN server as browsers write it (`RTCIceServer`)."""

    urls: str | list[str]
    username: str | None = None
    credential: str | None = None


class Offer(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The `media.offer` command's arguments."""

    session: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    sdp: Annotated[str, msgspec.Meta(min_length=10, max_length=65_536)]
    kind: SessionKind
    max_duration_s: Annotated[float, msgspec.Meta(gt=0, le=86_400)] | None = None
    ice_servers: list[IceServer] = []


def parse_offer(args: dict[str, Any]) -> Offer:
    """The offer in a command's arguments; InvalidArguments naming what is wrong."""
    try:
        return msgspec.convert(args, Offer)
    except msgspec.ValidationError as err:
        raise InvalidArguments(str(err)) from None


def set_consent_timing(interval: float, failures: int) -> None:
    """How soon a silent remote ends a connection: ICE consent checks (RFC 7675) every `interval`
    seconds, ended after `failures` missed ones in a row (aioice's own default: 5 s × 6, ~30 s).

    aioice reads these from module globals at each check and has no per-connection setting, so
    this applies to every peer of the process: the bridge sets it once, from its settings.
    """
    aioice_ice.CONSENT_INTERVAL = interval  # type: ignore[assignment]  # typed int, takes float
    aioice_ice.CONSENT_FAILURES = failures


def consent_expiry(interval: float, failures: int) -> float:
    """The longest a silent remote can keep a peer up under this timing, in seconds.

    aioice sleeps 0.8–1.2 × `interval` between checks and sends each once (no retransmission),
    failing it after the STUN timeout (`stun.RETRY_RTO`); `failures` in a row end the peer. The
    worst case is a network that drops just after a check succeeded.
    """
    return failures * (1.2 * interval + aioice_stun.RETRY_RTO)


@dataclass(eq=False)
class Peer:
    """One live media session: its peer connection, its lease on the device's media, its end."""

    session: str
    device: str
    kind: SessionKind
    pc: RTCPeerConnection
    max_duration_s: float
    on_end: OnEnd | None = None
    lease: Lease | None = None
    sink: MediaBlackhole = field(default_factory=MediaBlackhole)
    opened_at: float = field(default_factory=time.monotonic)
    connected_at: float | None = None
    reason: EndReason | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _ending: asyncio.Future[EndReason] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def end(self, reason: EndReason) -> None:
        """Ask the peer to end (the first reason given wins)."""
        if not self._ending.done():
            self._ending.set_result(reason)

    @property
    def ending(self) -> bool:
        """Whether the peer has been asked to end."""
        return self._ending.done()


class PeerRegistry:
    """The bridge's live peers by session id. `len()` is how many are open."""

    def __init__(
        self, sources: SourceHub, *, max_peers: int = 16, connect_timeout: float = 20.0
    ) -> None:
        self.sources = sources
        self.max_peers = max_peers
        self.connect_timeout = connect_timeout
        self._peers: dict[str, Peer] = {}
        self._watchers: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._peers)

    def __contains__(self, session: object) -> bool:
        return session in self._peers

    def get(self, session: str) -> Peer | None:
        """The open peer of a session."""
        return self._peers.get(session)

    def sessions(self) -> list[str]:
        """The open sessions."""
        return list(self._peers)

    async def open(self, device: DeviceInfo, offer: Offer, *, on_end: OnEnd | None = None) -> str:
        """Answer the browser's offer with the device's media; return the answer SDP (gathered).

        A call sends the device's video and audio and drains the resident's audio; a live view
        sends video only. `offer.max_duration_s` must be set.
        """
        if offer.session in self._peers:
            raise DeviceError(f"media session {offer.session} is already open")
        if len(self._peers) >= self.max_peers:
            raise DeviceError("too many media sessions at this bridge; try again later")
        assert offer.max_duration_s is not None
        pc = RTCPeerConnection(configuration=_configuration(offer.ice_servers))
        peer = Peer(
            session=offer.session,
            device=device.id,
            kind=offer.kind,
            pc=pc,
            max_duration_s=offer.max_duration_s,
            on_end=on_end,
        )
        self._peers[offer.session] = peer  # taken at once: a second offer for it fails
        negotiation = asyncio.ensure_future(self._negotiate(peer, device, offer))
        try:
            answer = await asyncio.shield(negotiation)
        except asyncio.CancelledError:
            # The command's deadline. Cancelled while gathering, aioice would leave its STUN/TURN
            # queries running on closed sockets: let the negotiation end (≤ 5 s), then close.
            peer.end("closed")
            self._track(self._abandon(peer, negotiation), f"media-abandon-{offer.session}")
            raise
        except BaseException:
            # Bad SDP, no media: nothing of the peer may remain.
            peer.end("closed")
            await self._finish(peer, notify=False)
            raise
        self._track(self._watch(peer), f"media-peer-{offer.session}")
        log.info(
            "bridge.media.peer_opened",
            session=peer.session,
            device=peer.device,
            kind=peer.kind,
            max_duration_s=peer.max_duration_s,
        )
        return answer

    async def close(self, session: str, reason: EndReason = "closed") -> bool:
        """End a session and wait until it is closed; False when no such session is open."""
        peer = self._peers.get(session)
        if peer is None:
            return False
        peer.end(reason)
        await peer.closed.wait()
        return True

    async def close_all(self, reason: EndReason = "shutdown") -> None:
        """End every session (the bridge stops) and wait for all of them."""
        peers = list(self._peers.values())
        for peer in peers:
            peer.end(reason)
        await asyncio.gather(*(p.closed.wait() for p in peers))
        await asyncio.gather(*self._watchers, return_exceptions=True)

    # -- one peer ---------------------------------------------------------------------------------

    async def _negotiate(self, peer: Peer, device: DeviceInfo, offer: Offer) -> str:
        pc = peer.pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            # The resident's microphone: decoded frames must be taken, or they pile up.
            peer.sink.addTrack(track)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            state = pc.connectionState
            if state == "connected" and peer.connected_at is None:
                peer.connected_at = time.monotonic()
                log.info(
                    "bridge.media.peer_connected",
                    session=peer.session,
                    after_s=round(peer.connected_at - peer.opened_at, 3),
                )
            elif state in {"failed", "closed"}:
                peer.end("network")

        # aiortc takes an offer without these and only fails later, inside its connect task.
        for needed, missing in (("a=fingerprint:", "DTLS fingerprint"), ("a=ice-ufrag:", "ICE")):
            if needed not in offer.sdp:
                raise InvalidArguments(f"the offer has no {missing}")
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        except Exception as err:  # aiortc's parser raises whatever a bad line trips (KeyError …)
            raise InvalidArguments(f"the offer is not valid SDP ({type(err).__name__})") from None
        kinds = {t.kind for t in pc.getTransceivers()}
        if "video" not in kinds:
            raise InvalidArguments("the offer has no video")
        peer.lease = await self.sources.subscribe(device, audio=offer.kind == "call")
        if peer.lease.video is not None:
            pc.addTrack(peer.lease.video)
        if peer.lease.audio is not None and "audio" in kinds:
            pc.addTrack(peer.lease.audio)
        await pc.setLocalDescription(await pc.createAnswer())  # gathers the candidates
        await peer.sink.start()
        return pc.localDescription.sdp

    def _track(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _abandon(self, peer: Peer, negotiation: asyncio.Future[str]) -> None:
        with contextlib.suppress(BaseException):
            await negotiation
        await self._finish(peer, notify=False)

    async def _watch(self, peer: Peer) -> None:
        loop = asyncio.get_running_loop()
        not_connected = loop.call_later(
            self.connect_timeout,
            lambda: peer.end("network") if peer.connected_at is None else None,
        )
        try:
            async with asyncio.timeout(peer.max_duration_s):
                await asyncio.shield(peer._ending)
        except TimeoutError:
            peer.end("limit")
        finally:
            not_connected.cancel()
            await self._finish(peer)

    async def _finish(self, peer: Peer, *, notify: bool = True) -> None:
        peer.reason = peer._ending.result() if peer._ending.done() else "closed"
        self._peers.pop(peer.session, None)
        try:
            await peer.sink.stop()
            await peer.pc.close()
        except Exception:
            log.exception("bridge.media.close_failed", session=peer.session)
        finally:
            if peer.lease is not None:
                await peer.lease.release()
            peer.closed.set()
        connected = peer.connected_at is not None
        log.info(
            "bridge.media.peer_closed",
            session=peer.session,
            device=peer.device,
            reason=peer.reason,
            connected=connected,
            lasted_s=round(time.monotonic() - peer.opened_at, 1),
        )
        if notify and peer.on_end is not None:
            try:
                await peer.on_end(peer, peer.reason)
            except Exception:
                log.exception("bridge.media.on_end_failed", session=peer.session)


def _configuration(servers: list[IceServer]) -> RTCConfiguration:
    # An empty list means host candidates only (a LAN, loopback); aiortc's own default would add
    # a public STUN server, which a site bridge must not reach out to unasked.
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=s.urls, username=s.username, credential=s.credential) for s in servers
        ]
    )
