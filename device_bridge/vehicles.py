"""Vehicle decisions at the bridge: a plate read at a lane's camera decides its barrier, offline.

Next to the access decisions (`access.py`) and from the same credential cache: the platform's
credential sync carries every plate as an entry of kind `plate` (a registered car, or a visitor's
for the pass's window) or `plate_block` (blacklisted), keyed by the digest of `plate:<plate>` and
passing the site's barriers. There is no second sync: the platform's car parks' spaces come in it
too (entries of kind `car_park`, api/vehicles/spaces.py) and replace a lane's site-file
`capacity` once they have arrived (VEH-22).

A lane is a plate camera whose attributes name it (`device_bridge/demo.toml`): `barrier`,
`direction` (in | out, default in), `car_park`, `capacity` (temporary spaces, 0: no limit),
`speaker`, `fuzzy` (a read one character off a known plate matches), `province` (the site's,
for reads without it), `pay` (an exit where temporary cars pay: the bridge cannot take payment,
so it holds them and the platform prices the stay and lifts the arm once paid — offline, the
guard at the lane decides; api/vehicles/payments/orders.py).

The decision table, in order (docs/vehicles.md):

| read | outcome | reason | barrier |
|---|---|---|---|
| at a camera that is no lane's | ignored | unknown_lane | — |
| not a plate after normalising | held | malformed_plate | stays down |
| the same plate at the same lane within `DEBOUNCE` s | ignored | duplicate_read | — |
| out, at a paying exit (`pay`), a plate the cache does not hold | held | payment | stays down |
| out | granted | exit (also an unknown or blacklisted car) | up |
| blacklisted in its window (exact; one edit off on a fuzzy lane) | denied | blacklisted | down |
| a known plate out of its window or lanes | denied | expired, not_yet_valid, not_this_lane | down |
| a known plate removed from the cache | denied | revoked | stays down |
| a car already inside | granted | already_inside (not counted again) | up |
| a visitor while the car park's temporary spaces are taken | denied | car_park_full | stays down |
| a resident's or visitor's car | granted | resident / visitor | up |
| anything else | held | unknown (for the guard) | stays down |

Barriers watched (VEH-12), each an event the platform's alarms map (api/alarms/catalogue.py):
`barrier.open_failed` (an `open` the barrier did not carry out: a grant's, or the platform's
remote lift), `barrier.close_failed` (a `close` it did not), `barrier.unauthorized_open` (it rose
with no `open` sent to it in the last `LIFT_WINDOW` s, and not by its camera's own decision) and
`barrier.held_open` (still up `open_limit` s after rising: the lane's attribute, default
`HELD_LIMIT`; not an arm held up on purpose by `unlock`, as a fire's fail-safe rule does:
VEH-18). The runtime tells this module of every command and every barrier event.

Every read is recorded as one `plate.read` event with its outcome (through the outbox, so reads
decided offline arrive when the link returns, exactly once by their seq). The occupancy counted
here (entries − exits per car park, never below zero) only decides "full" at this site; the
platform's count, from the records, is the one shown.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog

from device_bridge import plates
from device_bridge import protocol as p
from device_bridge.access import Execute, Record, digest
from device_bridge.access_cache import CredentialCache, Held, Move
from device_bridge.recognise import RECOGNISE_BELOW, Recogniser, Recognition

log = structlog.get_logger(__name__)

DEBOUNCE = 10.0  # seconds a second read of one plate at one lane is the same car
LIFT_WINDOW = 10.0  # seconds after an `open` sent to a barrier during which its rising is expected
HELD_LIMIT = 60.0  # seconds a barrier may stay up (a lane's `open_limit` attribute overrides)
SEEN_MAX = 10_000  # reads remembered for the debounce before the stale ones are dropped
PLATE_KINDS = ("plate", "plate_block")
Outcome = Literal["granted", "denied", "held", "ignored"]
RecordOnce = Callable[[str, str, str, dict[str, Any], float | None], Awaitable[int | None]]
"""Commit an event under a key (key, kind, device, data, at) unless one is held: its seq or None."""


def spaces(value: object) -> int:
    """A site file's count of spaces: a whole number ≥ 0; anything else (a typo) is 0, no limit."""
    try:
        return max(int(str(value)), 0)
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class Lane:
    """A plate camera and what it decides for."""

    camera: str
    barrier: str
    direction: Literal["in", "out"] = "in"
    car_park: str = ""
    capacity: int = 0
    speaker: str = ""
    display: str = ""
    fuzzy: bool = False
    province: str = ""
    open_limit: float = HELD_LIMIT
    pay: bool = False  # an exit where temporary cars pay (VEH-05): unknown plates are held

    @classmethod
    def of(cls, device: p.DeviceInfo) -> Lane | None:
        """The lane a plate camera's attributes describe; None without a barrier."""
        attrs = device.attrs
        barrier = str(attrs.get("barrier") or "")
        if device.kind != "plate_camera" or not barrier:
            return None
        return cls(
            camera=device.id,
            barrier=barrier,
            direction="out" if attrs.get("direction") == "out" else "in",
            car_park=str(attrs.get("car_park") or barrier),
            capacity=spaces(attrs.get("capacity")),
            speaker=str(attrs.get("speaker") or ""),
            display=str(attrs.get("display") or ""),
            fuzzy=str(attrs.get("fuzzy")).lower() in ("true", "1", "yes"),
            province=str(attrs.get("province") or ""),
            open_limit=float(spaces(attrs.get("open_limit")) or HELD_LIMIT),
            pay=str(attrs.get("pay")).lower() in ("true", "1", "yes"),
        )


@dataclass(slots=True)
class PlateDecision:
    """What the bridge decided for one read."""

    outcome: Outcome
    reason: str
    plate: str
    credential: str = ""
    visitor_pass: str = ""
    fuzzy: bool = False  # matched a known plate one character off


@dataclass(slots=True)
class _Park:
    inside: set[str] = field(default_factory=set)
    temporary: set[str] = field(default_factory=set)  # of them, visitors' (temporary spaces)

    @property
    def occupied(self) -> int:
        return len(self.inside)


class VehicleControl:
    """Decides plate reads at the site's lanes; one per bridge."""

    def __init__(
        self,
        cache: CredentialCache,
        *,
        record: Record,
        execute: Execute,
        devices: Callable[[], list[p.DeviceInfo]],
        clock: Callable[[], float] = time.time,
        debounce: float = DEBOUNCE,
        record_once: RecordOnce | None = None,
        recogniser: Recogniser | None = None,
        recognise_below: float = RECOGNISE_BELOW,
    ) -> None:
        self.cache = cache
        self.debounce = debounce
        self.recogniser = recogniser
        self.recognise_below = recognise_below
        self._standing: dict[str, tuple[str, ...]] = {}  # display -> the text it shows between cars
        self._record = record
        self._record_once = record_once
        self._execute = execute
        self._devices = devices
        self._clock = clock
        self._seen: dict[tuple[str, str], float] = {}  # (camera, plate) -> last read
        self._parks: dict[str, _Park] = {}
        for car_park, plate, temporary in cache.parked:  # what it let in before a restart
            park = self._parks.setdefault(car_park, _Park())
            park.inside.add(plate)
            if temporary:
                park.temporary.add(plate)
        self._moves: list[Move] = []  # decided, not yet stored
        self._lifts: dict[str, float] = {}  # barrier -> when an `open` was last sent to it
        self._up: dict[str, asyncio.Task[None]] = {}  # barrier -> its held-open watch
        self._spaces: tuple[object, dict[str, list[int]]] = (None, {})  # (cache state, by camera)

    def _barriers(self) -> dict[str, Lane]:
        return {lane.barrier: lane for lane in self.lanes().values()}

    def commanding(self, device: str, action: str) -> None:
        """An `open` is about to be sent to a device (the bridge's or the platform's); after a
        `close`, a rise needs a new `open`."""
        if action in ("open", "unlock"):
            self._lifts[device] = self._clock()
        elif action in ("close", "lock"):  # a lock ends a fire's hold: the arm comes down
            self._lifts.pop(device, None)

    async def commanded(self, device: str, action: str, status: str, detail: str = "") -> None:
        """A barrier's `open` or `close` (or `lock`, the end of a fire's hold) that did not
        succeed is recorded for the alarms."""
        if (
            action not in ("open", "close", "lock")
            or status == "ok"
            or device not in self._barriers()
        ):
            return
        kind = "barrier.open_failed" if action == "open" else "barrier.close_failed"
        await self._record(kind, device, {"status": status, "detail": detail[:200]})

    async def barrier_event(self, kind: str, device: str, data: dict[str, Any]) -> None:
        """A barrier rose or fell: a rise nobody asked for is recorded, and a watch starts that
        records `barrier.held_open` if it is still up past its lane's limit."""
        lane = self._barriers().get(device)
        if lane is None:
            return
        if kind == "barrier.closed":
            watch = self._up.pop(device, None)
            if watch is not None:
                watch.cancel()
            return
        if kind != "barrier.opened":
            return
        lifted = self._lifts.get(device)
        by_camera = "plate" in data  # the camera's own system let a car in (it names it)
        if not by_camera and (lifted is None or self._clock() - lifted > LIFT_WINDOW):
            await self._record("barrier.unauthorized_open", device, {"lane": lane.camera})
        old = self._up.pop(device, None)
        if old is not None:
            old.cancel()
        if data.get("mode") == "held":
            return  # held up on purpose (a fire's fail-safe) until told to come down
        self._up[device] = asyncio.create_task(self._watch(lane), name=f"barrier-up-{device}")

    async def _watch(self, lane: Lane) -> None:
        await asyncio.sleep(lane.open_limit)
        self._up.pop(lane.barrier, None)
        await self._record("barrier.held_open", lane.barrier, {"limit_s": lane.open_limit})

    async def close(self) -> None:
        """Stop the held-open watches (the bridge is stopping)."""
        watches, self._up = list(self._up.values()), {}
        for watch in watches:
            watch.cancel()
        for watch in watches:
            with contextlib.suppress(asyncio.CancelledError):
                await watch

    def lanes(self) -> dict[str, Lane]:
        """The site's lanes by camera, from the devices' attributes (a reload changes them), each
        with its car park's temporary spaces as the platform sent them, once it has (VEH-22)."""
        spaces = self.spaces()
        found = {}
        for device in self._devices():
            lane = Lane.of(device)
            if lane is None:
                continue
            if lane.camera in spaces:
                lane = dataclasses.replace(lane, capacity=max(spaces[lane.camera][1], 0))
            found[lane.camera] = lane
        return found

    def spaces(self) -> dict[str, list[int]]:
        """[capacity, temporary_capacity] of each lane's car park by camera, from the platform's
        `car_park` entries in the credential cache (kept across restarts); looked up again only
        when the cache changed."""
        state = self.cache.state
        if self._spaces[0] is not state:
            found = {
                camera: held.entry.spaces
                for held in state.entries.values()
                if held.entry.kind == "car_park" and len(held.entry.spaces) == 2
                for camera in held.entry.doors
            }
            self._spaces = (state, found)
        return self._spaces[1]

    def occupied(self, car_park: str) -> int:
        """Cars this bridge let into the car park and did not see leave."""
        park = self._parks.get(car_park)
        return park.occupied if park else 0

    def temporary_free(self, lane: Lane) -> int | None:
        """The temporary spaces left at an entrance lane's car park (None: no limit)."""
        if not lane.capacity:
            return None
        park = self._parks.get(lane.car_park)
        return max(lane.capacity - (len(park.temporary) if park else 0), 0)

    async def read(
        self, camera: str, data: dict[str, Any], at: float | None = None, *, key: str | None = None
    ) -> PlateDecision:
        """Decide a read, record it, and on a grant lift the barrier; show and say the outcome.
        With a `key` (a camera's delivery it may repeat), a read recorded under it before is not
        recorded again; deciding it again found it a `duplicate_read`, so nothing was done."""
        lane = self.lanes().get(camera)
        text = str(data.get("plate") or "")
        recognised = await self._recognise(camera, data) if lane is not None else None
        if recognised is not None:
            text = recognised.plate
        decision = self.decide(lane, text)
        if self._moves:
            moves, self._moves = self._moves, []
            try:
                await self.cache.store_moves(moves)
            except Exception:  # a full disk must not keep a resident's car out
                log.exception("bridge.plate.park_not_stored", camera=camera)
        event: dict[str, Any] = {
            **{k: data[k] for k in IMAGE_FIELDS if k in data},
            "plate": decision.plate,
            "read": str(data.get("plate") or ""),
            "direction": lane.direction if lane else str(data.get("direction") or "in"),
            "decision": decision.outcome,
            "reason": decision.reason,
            "decided_by": "bridge",
        }
        if lane is not None:
            event.update(barrier=lane.barrier, car_park=lane.car_park)
        if decision.credential:
            event["credential"] = decision.credential
        if decision.visitor_pass:
            event["visitor_pass"] = decision.visitor_pass
        if decision.fuzzy:
            event["fuzzy"] = True
        if recognised is not None and self.recogniser is not None:
            event["recognised"] = {
                "by": self.recogniser.name,
                "plate": recognised.plate,
                "confidence": round(recognised.confidence, 3),
            }
        try:
            if key is not None and self._record_once is not None:
                await self._record_once(key, "plate.read", camera, event, at)
            else:
                await self._record("plate.read", camera, event)
        except Exception:  # a full disk must not keep a resident's car out
            log.exception("bridge.plate.not_recorded", camera=camera, outcome=decision.outcome)
        if lane is not None:
            await self._act(lane, decision)
        log.info(
            "bridge.plate.decided",
            camera=camera,
            outcome=decision.outcome,
            reason=decision.reason,
            credential=decision.credential or None,
        )
        return decision

    def decide(self, lane: Lane | None, text: str) -> PlateDecision:
        """The decision alone (a grant or exit moves this site's occupancy)."""
        if lane is None:
            return PlateDecision("ignored", "unknown_lane", plates.normalise(text))
        plate = plates.normalise(text, province=lane.province)
        if not plates.is_valid(plate):
            return PlateDecision("held", "malformed_plate", plate)
        now = self._clock()
        key = (lane.camera, plate)
        last = self._seen.get(key)
        if len(self._seen) >= SEEN_MAX:  # forget reads past the debounce window
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.debounce}
        self._seen[key] = now
        if last is not None and now - last < self.debounce:
            return PlateDecision("ignored", "duplicate_read", plate)
        park = self._parks.setdefault(lane.car_park, _Park())
        if lane.direction == "out":
            if lane.pay and self._match(plate, lane.fuzzy)[1] is None:
                return PlateDecision("held", "payment", plate)  # the platform prices the stay
            if plate in park.inside:
                park.inside.discard(plate)
                park.temporary.discard(plate)
                self._moves.append((lane.car_park, plate, None))
            return PlateDecision("granted", "exit", plate)
        matched, held, fuzzy = self._match(plate, lane.fuzzy)
        if held is None:
            if self.cache.revoked(digest=digest(self.cache.state.key, "plate", plate)):
                return PlateDecision("denied", "revoked", plate)
            if matched == "blacklisted":
                return PlateDecision("denied", "blacklisted", plate, fuzzy=True)
            return PlateDecision("held", "unknown", plate)
        entry = held.entry
        found = PlateDecision("denied", "", plate, credential=entry.id, fuzzy=fuzzy)
        if entry.kind == "plate_block":
            if not _in_window(entry, now):  # a block with a validity that has run out
                return PlateDecision("held", "unknown", plate)
            found.reason = "blacklisted"
            return found
        refusal = self._refusal(entry, lane, now)
        if refusal:
            found.reason = refusal
            return found
        found.visitor_pass = entry.visitor_pass
        if plate in park.inside or (matched and matched in park.inside):
            found.outcome, found.reason = "granted", "already_inside"
            return found
        if entry.visitor_pass and lane.capacity and len(park.temporary) >= lane.capacity:
            found.reason = "car_park_full"
            return found
        park.inside.add(matched or plate)
        if entry.visitor_pass:
            park.temporary.add(matched or plate)
        self._moves.append((lane.car_park, matched or plate, bool(entry.visitor_pass)))
        found.outcome, found.reason = "granted", "visitor" if entry.visitor_pass else "resident"
        return found

    def _lookup(self, plate: str) -> Held | None:
        found = self.cache.by_digest(digest(self.cache.state.key, "plate", plate))
        if found is None or found[0].entry.kind not in PLATE_KINDS:
            return None
        return found[0]

    def _match(self, plate: str, fuzzy: bool) -> tuple[str | None, Held | None, bool]:
        """(the known plate, its entry, whether one character off). With `fuzzy`, a blacklisted
        plate within one edit wins over everything but an exact match (("blacklisted", None))."""
        exact = self._lookup(plate)
        if exact is not None or not fuzzy:
            return (plate if exact else None), exact, False
        near = [(n, h) for n in sorted(plates.neighbours(plate)) if (h := self._lookup(n))]
        now = self._clock()
        if any(h.entry.kind == "plate_block" and _in_window(h.entry, now) for _, h in near):
            return "blacklisted", None, True
        if len(near) == 1:
            return near[0][0], near[0][1], True
        return None, None, False

    def _refusal(self, entry: p.CredentialEntry, lane: Lane, now: float) -> str:
        if lane.barrier not in entry.doors:
            return "not_this_lane"
        return _validity(entry, now)

    async def _recognise(self, camera: str, data: dict[str, Any]) -> Recognition | None:
        """The recogniser's plate for a read without one, or a doubtful one, when it is more
        confident than the camera; None otherwise (or when there is no recogniser or snapshot)."""
        if self.recogniser is None:
            return None
        confidence = data.get("confidence")
        sure = float(confidence) if isinstance(confidence, int | float) else 0.0
        if data.get("plate") and sure >= self.recognise_below:
            return None
        try:
            image = base64.b64decode(str(data.get("image_b64") or ""), validate=True)
        except (binascii.Error, ValueError):
            image = b""
        if not image:
            return None
        try:
            found = await asyncio.to_thread(self.recogniser.recognise, image)
        except Exception:  # a recogniser's fault must not stop the lane
            log.exception("bridge.recogniser.failed", camera=camera)
            return None
        if found is None or not found.plate or found.confidence <= sure:
            return None
        return found

    async def _act(self, lane: Lane, decision: PlateDecision) -> None:
        """Lift the barrier on a grant; show and say the outcome at the lane (VEH-03, VEH-09,
        VEH-14); then the entrance displays' standing text, as the temporary spaces changed."""
        if decision.outcome == "ignored":
            return
        if decision.outcome == "granted":
            result = await self._execute(lane.barrier, "open", {})
            if result.status != "ok":
                log.warning("bridge.plate.open_failed", barrier=lane.barrier, status=result.status)
        message, colour = message_for(decision)
        said = []
        if lane.display:
            lines = [decision.plate or "—", *message.split(" ")][:4]
            said.append(
                self._say(
                    lane.display,
                    "show",
                    {"lines": lines, "colour": colour, "seconds": SHOW_SECONDS},
                )
            )
        if lane.speaker:
            said.append(
                self._say(
                    lane.speaker, "broadcast", {"text": f"{message} {decision.plate}".strip()}
                )
            )
        await asyncio.gather(*said)
        await self.show_standing(lane.car_park)

    async def show_all_standing(self) -> None:
        """Every car park's standing text (its spaces may have come from the platform)."""
        for car_park in sorted({lane.car_park for lane in self.lanes().values()}):
            await self.show_standing(car_park)

    async def show_standing(self, car_park: str) -> None:
        """What the car park's entrance displays show between cars: "临时车位已满" (red) while its
        temporary spaces are taken (VEH-22), else the spaces left; sent only when it changes."""
        for lane in self.lanes().values():
            if lane.car_park != car_park or lane.direction != "in" or not lane.display:
                continue
            free = self.temporary_free(lane)
            if free is None:
                continue
            text, colour = (FULL, "red") if free == 0 else (f"临时车位 余{free}", "green")
            if self._standing.get(lane.display) == (text, colour):
                continue
            self._standing[lane.display] = (text, colour)
            await self._say(lane.display, "show", {"lines": [text], "colour": colour})

    async def _say(self, device: str, action: str, args: dict[str, Any]) -> None:
        """A display's or speaker's command; one that fails is logged, the lane goes on."""
        result = await self._execute(device, action, args)
        if result.status != "ok":
            if action == "show":
                self._standing.pop(device, None)  # sent again at the next change
            log.warning("bridge.lane.not_shown", device=device, action=action, status=result.status)


def _validity(entry: p.CredentialEntry, now: float) -> str:
    """Why an entry's validity does not hold now ("" when it does)."""
    if entry.valid_from and now < entry.valid_from:
        return "not_yet_valid"
    if entry.valid_until and now >= entry.valid_until:
        return "expired"
    return ""


def _in_window(entry: p.CredentialEntry, now: float) -> bool:
    """Whether an entry's validity holds now (a blacklist entry may have one: VEH-23)."""
    return not _validity(entry, now)


def message_for(decision: PlateDecision) -> tuple[str, str]:
    """The words shown and said for a decision, and the display's colour."""
    text = SAYINGS.get(decision.reason, SAYINGS["unknown"])
    colour = (
        "green"
        if decision.outcome == "granted"
        else ("red" if decision.outcome == "denied" else "yellow")
    )
    return text, colour


FULL = "临时车位已满"
SHOW_SECONDS = 10  # a read's message stays this long, then the display's standing text returns
IMAGE_FIELDS = ("colour", "confidence", "vehicle_type", "image", "image_b64", "image_type")
SAYINGS = {  # shown (split into lines at the space) and said, with the plate
    "resident": "欢迎回家",
    "visitor": "欢迎光临",
    "already_inside": "欢迎回家",
    "exit": "一路顺风",
    "payment": "请扫码缴纳停车费",
    "blacklisted": "黑名单车辆 禁止通行",
    "car_park_full": "车位已满",
    "expired": "授权已过期",
    "not_yet_valid": "授权未生效",
    "not_this_lane": "请走其他车道",
    "revoked": "授权已取消",
    "malformed_plate": "未识别车牌 请稍候",
    "unknown": "临时车 请缴费",
}
