"""The media side of a driver's devices: calls of door stations and lifts, and live views.

A call starts at the device (`ring`): `intercom.call_started`, then it rings for `ring_s`. The
platform answers it with `media.offer` {kind: "call", session: the call id}; the call is live until
someone ends it. Unanswered, the station records the visitor's message (`clip_s` of its own media)
and keeps it, with the snapshot taken when the call started, for the platform to fetch with
`intercom.media`. Every call ends with exactly one `intercom.call_ended`.

Any other `media.offer` (a live view of a camera or a station, a call session of an indoor station)
is a plain peer of the registry. One the bridge ends by itself — at its duration limit, when its
network went (ICE consent lost), or as the bridge stops — is reported as `media.ended` {session,
kind, reason, duration_s}, so the platform closes its session at once instead of by its sweep; a
session the platform closed (`media.close`) needs no word back.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
import structlog

from device_bridge.drivers.base import DeviceError, InvalidArguments
from device_bridge.media.peers import EndReason, Offer, Peer, PeerRegistry, parse_offer
from device_bridge.media.recorder import CLIP_TYPE, SNAPSHOT_TYPE, record_clip, snapshot
from device_bridge.media.sources import SourceHub
from device_bridge.protocol import DeviceInfo

log = structlog.get_logger(__name__)

# How the station ends a call by itself; the platform's `intercom.hangup` may name others
# ("unknown_room", …), which the station reports back as given.
Outcome = Literal["answered", "unanswered", "declined", "limit", "network", "hangup"]
_OUTCOME = re.compile(r"^[a-z_]{1,24}$")
CALLING_KINDS = frozenset({"door_station", "lift"})
LIVE_KINDS = frozenset({"camera", "door_station", "indoor_station", "lift"})
_ROOM = re.compile(r"^[0-9A-Za-z]{1,6}-[0-9A-Za-z]{1,6}-[0-9A-Za-z]{1,8}$")
ENDED_GRACE_S = 2.0
"""How long a view's `network` end waits for the platform's `media.close` before it is reported."""
_PEER_OUTCOME: dict[EndReason, Outcome] = {
    "limit": "limit",
    "network": "network",
    "shutdown": "network",  # the bridge stopped: the media is gone as if the network had
}

Emit = Callable[[str, str, dict[str, Any]], Awaitable[None]]  # kind, device, data


@dataclass(eq=False)
class Call:
    """One call of a station or lift, while it lasts."""

    id: str
    device: DeviceInfo
    target: Literal["household", "guard_room"]
    state: Literal["ringing", "answering", "live", "recording", "ended"] = "ringing"
    started: float = field(default_factory=time.monotonic)
    answered: float | None = None
    rang_until: float | None = None  # answered, or rang out and began recording
    ringer: asyncio.Task[None] | None = None
    snapshot: bytes = b""
    clip: bytes = b""


class Intercom:
    """Calls and media sessions of one driver's devices; `emit` reports their events."""

    def __init__(
        self,
        peers: PeerRegistry,
        sources: SourceHub,
        *,
        emit: Emit,
        ring_s: float = 30.0,
        clip_s: float = 5.0,
        max_duration_s: float = 90.0,
        keep: int = 32,
    ) -> None:
        self.peers, self.sources, self._emit = peers, sources, emit
        self.ring_s, self.clip_s, self.max_duration_s = ring_s, clip_s, max_duration_s
        self.calls: dict[str, Call] = {}  # ongoing, by call id
        self._kept: OrderedDict[str, Call] = OrderedDict()  # ended, newest last, for intercom.media
        self._keep = keep
        self._tasks: set[asyncio.Task[None]] = set()
        self._unreported: dict[str, dict[str, Any]] = {}  # session → media.ended held for a grace

    # -- the device side --------------------------------------------------------------------------

    async def ring(
        self,
        device: DeviceInfo,
        *,
        target: Literal["household", "guard_room"] = "household",
        room: str | None = None,
        reason: str = "visitor",
    ) -> str:
        """A visitor (or a lift passenger) calls: call_started, then it rings. The call id."""
        if device.kind not in CALLING_KINDS:
            raise InvalidArguments(f"a {device.kind} does not make calls")
        if any(c.device.id == device.id for c in self.calls.values()):
            raise DeviceError(f"{device.id} is already in a call")
        data: dict[str, Any] = {"target": target, "reason": reason}
        if target == "household":
            data["room"] = _room_label(device, room)
        call = Call(id=str(uuid.uuid4()), device=device, target=target)
        self.calls[call.id] = call
        await self._emit("intercom.call_started", device.id, {"call": call.id, **data})
        log.info("bridge.intercom.ringing", call=call.id, device=device.id, target=target)
        self._spawn(self._take_snapshot(call), f"snapshot-{call.id}")
        call.ringer = self._spawn(self._ring(call, self.ring_s), f"ring-{call.id}")
        return call.id

    async def visitor_hangup(self, device: DeviceInfo) -> str | None:
        """The visitor (or passenger) ends the call at the device; its id, None when none."""
        call = next((c for c in self.calls.values() if c.device.id == device.id), None)
        if call is None or call.state not in {"ringing", "live"}:
            return None
        await self._end(call, "answered" if call.state == "live" else "hangup")
        return call.id

    # -- the platform's commands ------------------------------------------------------------------

    async def offer(self, device: DeviceInfo, args: dict[str, Any]) -> dict[str, Any]:
        """`media.offer`: answer a call, or open a live view. Result {sdp}."""
        offer = parse_offer(args)
        if offer.max_duration_s is None:
            offer = _with_limit(offer, self.max_duration_s)
        if device.kind not in LIVE_KINDS:
            raise InvalidArguments(f"a {device.kind} has no media")
        call = self.calls.get(offer.session)
        if offer.kind == "call" and device.kind in CALLING_KINDS:
            if call is None or call.device.id != device.id:
                raise DeviceError(f"no call {offer.session} at {device.id}")
            return {"sdp": await self._answer(call, offer)}
        if offer.kind == "call" and device.kind != "indoor_station":
            raise InvalidArguments(f"a {device.kind} takes live views only")
        return {"sdp": await self.peers.open(device, offer, on_end=self._session_ended)}

    async def close(self, device: DeviceInfo, args: dict[str, Any]) -> dict[str, Any]:
        """`media.close` {session}: end the session (a live call ends as answered). Result {}."""
        session = args.get("session")
        if not isinstance(session, str) or not session:
            raise InvalidArguments("session is required")
        call = self.calls.get(session)
        if call is not None and call.device.id == device.id:
            if call.state == "live":
                await self._end(call, "answered")
            return {}
        peer = self.peers.get(session)
        if peer is not None and peer.device == device.id:
            await self.peers.close(session)
        self._unreported.pop(session, None)  # the viewer left through the platform: no word back
        return {}

    async def hangup(self, device: DeviceInfo, args: dict[str, Any]) -> dict[str, Any]:
        """`intercom.hangup` {call, outcome?}: the platform ends the call. Result {ended}."""
        call = self._call_of(device, args)
        outcome = args.get("outcome")
        if outcome is not None and not (isinstance(outcome, str) and _OUTCOME.match(outcome)):
            raise InvalidArguments("outcome must be a word such as declined or hangup")
        if call is None or call.state not in {"ringing", "answering", "live"}:
            return {"ended": False}
        default = "answered" if call.state == "live" else "declined"
        await self._end(call, outcome or default)
        return {"ended": True}

    async def media(self, device: DeviceInfo, args: dict[str, Any]) -> dict[str, Any]:
        """`intercom.media` {call}: the call's snapshot and, unanswered, its message clip."""
        call = self._call_of(device, args) or self._kept.get(str(args["call"]))
        if call is None or call.device.id != device.id:
            raise DeviceError("no media kept for this call")
        return {
            "snapshot": call.snapshot,
            "snapshot_type": SNAPSHOT_TYPE if call.snapshot else "",
            "clip": call.clip,
            "clip_type": CLIP_TYPE if call.clip else "",
        }

    async def close_all(self) -> None:
        """The driver stops: ringing and recording stop, and every call still going ends
        (`network`: the outbox keeps the event until the platform has it)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for call in list(self.calls.values()):
            await self._end(call, "network")
        for session in list(self._unreported):
            await self._report_ended(session)

    # -- the call's life --------------------------------------------------------------------------

    async def _answer(self, call: Call, offer: Offer) -> str:
        if call.state != "ringing":
            raise DeviceError(f"call {call.id} is {call.state}, not ringing")
        call.state = "answering"
        try:
            sdp = await self.peers.open(call.device, offer, on_end=self._peer_ended)
        except BaseException:
            if call.state == "answering":
                call.state = "ringing"
                if call.ringer is not None and call.ringer.done():  # rang out meanwhile
                    call.ringer = self._spawn(self._ring(call, 0), f"ring-{call.id}")
            raise
        if call.state != "answering":  # ended while the peer was opening
            await self.peers.close(offer.session)
            raise DeviceError(f"call {call.id} ended")
        call.state = "live"
        call.answered = call.rang_until = time.monotonic()
        if call.ringer is not None:
            call.ringer.cancel()
        log.info("bridge.intercom.answered", call=call.id, device=call.device.id)
        return sdp

    async def _ring(self, call: Call, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - call.started)))
        if call.state != "ringing":
            return
        call.state, call.rang_until = "recording", time.monotonic()
        try:
            lease = await self.sources.subscribe(call.device, audio=True)
            try:
                call.clip = await record_clip(lease, self.clip_s, fps=self.sources.fps)
            finally:
                await lease.release()
        except Exception:  # no clip, but the call still ends
            log.exception("bridge.intercom.clip_failed", call=call.id, device=call.device.id)
        await self._end(call, "unanswered")

    async def _take_snapshot(self, call: Call) -> None:
        # The visitor as the call starts, for the call history of every call.
        try:
            lease = await self.sources.subscribe(call.device)
            try:
                call.snapshot = await snapshot(lease)
            finally:
                await lease.release()
        except Exception:
            log.exception("bridge.intercom.snapshot_failed", call=call.id, device=call.device.id)

    async def _peer_ended(self, peer: Peer, reason: EndReason) -> None:
        call = self.calls.get(peer.session)
        outcome = _PEER_OUTCOME.get(reason)
        if call is not None and call.state == "live" and outcome is not None:
            await self._end(call, outcome)

    async def _session_ended(self, peer: Peer, reason: EndReason) -> None:
        if reason == "closed":  # the platform asked: it has closed the session already
            return
        started = peer.connected_at or peer.opened_at
        self._unreported[peer.session] = {
            "device": peer.device,
            "session": peer.session,
            "kind": peer.kind,
            "reason": "limit" if reason == "limit" else "network",
            "duration_s": round(time.monotonic() - started, 1),
        }
        if reason == "network":
            # A viewer who leaves closes its browser's connection as it asks the platform to end
            # the view, and the bridge cannot tell that close from a dropped network: held for a
            # moment, the report gives way to the platform's media.close when the viewer left.
            await asyncio.sleep(ENDED_GRACE_S)
        await self._report_ended(peer.session)

    async def _report_ended(self, session: str) -> None:
        data = self._unreported.pop(session, None)
        if data is None:
            return
        device = data.pop("device")
        await self._emit("media.ended", device, data)
        log.info("bridge.media.ended", session=session, device=device, reason=data["reason"])

    async def _end(self, call: Call, outcome: str) -> None:
        if call.state == "ended":
            return
        was_live = call.state == "live"
        call.state = "ended"
        self.calls.pop(call.id, None)
        if call.ringer is not None and call.ringer is not asyncio.current_task():
            call.ringer.cancel()
        if was_live:
            await self.peers.close(call.id)
        now = time.monotonic()
        talk = now - call.answered if call.answered is not None else 0.0
        self._kept[call.id] = call
        while len(self._kept) > self._keep:
            self._kept.popitem(last=False)
        data = {
            "call": call.id,
            "outcome": outcome,
            "duration_s": round(talk, 1),
            "rang_s": round((call.rang_until or now) - call.started, 1),
            "clip": bool(call.clip),
            "snapshot": bool(call.snapshot),
        }
        await self._emit("intercom.call_ended", call.device.id, data)
        log.info("bridge.intercom.ended", call=call.id, device=call.device.id, outcome=outcome)

    def _call_of(self, device: DeviceInfo, args: dict[str, Any]) -> Call | None:
        call_id = args.get("call")
        if not isinstance(call_id, str) or not call_id:
            raise InvalidArguments("call (the call id) is required")
        call = self.calls.get(call_id)
        return call if call is not None and call.device.id == device.id else None

    def _spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task


def _room_label(device: DeviceInfo, room: str | None) -> str:
    """The household label dialled: "0302" at a unit station means its building and unit."""
    if not room:
        raise InvalidArguments("room is required for a household call")
    if "-" not in room:
        building, unit = device.attrs.get("building"), device.attrs.get("unit")
        if building is None or unit is None:
            raise InvalidArguments(f"{device.id} is not a unit station: dial building-unit-room")
        room = f"{building}-{unit}-{room}"
    if not _ROOM.match(room):
        raise InvalidArguments(f"not a room label: {room!r} (e.g. 1-1-0302)")
    return room


def _with_limit(offer: Offer, seconds: float) -> Offer:
    return msgspec.structs.replace(offer, max_duration_s=seconds)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (err := task.exception()) is not None:
        log.error("bridge.intercom.task_failed", task=task.get_name(), error=repr(err))
