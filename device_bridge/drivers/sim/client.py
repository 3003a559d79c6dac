"""Simulated devices: their state, clocks, latencies and faults — the sim driver's "wire".

Each device answers actions after a realistic latency, keeps a clock with its own skew, and reports
what happens to it through `on_event` stamped with its own clock (as real devices do).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from device_bridge.drivers.base import (
    DeviceError,
    DeviceUnavailable,
    InvalidArguments,
    has_own_lock,
)
from device_bridge.media.calls import Intercom
from device_bridge.protocol import DeviceInfo

OnEvent = Callable[[str, str, dict[str, Any], float], Awaitable[None]]  # kind, device, data, at

# Seconds, (low, high), by (kind, action); "*" is any action of the kind.
_LATENCY: dict[tuple[str, str], tuple[float, float]] = {
    ("door_controller", "*"): (0.04, 0.12),
    ("barrier", "*"): (0.2, 0.4),
    ("camera", "snapshot"): (0.08, 0.2),
    ("plate_camera", "snapshot"): (0.08, 0.2),
    ("lift", "*"): (0.05, 0.15),
}
_DEFAULT_LATENCY = (0.02, 0.06)
DISPLAY_COLOURS = ("green", "red", "yellow", "white")  # an LED display's text colours


@dataclass
class SimDevice:
    """One simulated device: identity, clock skew, faults and kind-specific state."""

    info: DeviceInfo
    skew: float
    online: bool = True
    drop: bool = False
    delay_ms: int = 0
    state: dict[str, Any] = field(default_factory=dict)
    closer: asyncio.Task[None] | None = None

    def clock(self) -> float:
        """The device's own clock."""
        return time.time() + self.skew


def _initial_state(info: DeviceInfo) -> dict[str, Any]:
    if has_own_lock(info.kind, info.attrs):
        return {"door": "closed", "locked": True, "held_open": False}
    kind = info.kind
    states: dict[str, dict[str, Any]] = {
        "door_controller": {"door": "closed", "locked": True, "held_open": False},
        "barrier": {"barrier": "closed", "held": False},
        "camera": {"preset": 1},
        "intrusion_zone": {"armed": True},
        "lift": {"floor": 1, "called": None},
        "smoke_sensor": {"value": 0.0, "unit": "%/m"},
        "water_sensor": {"value": 0.0, "unit": "leak"},
        "temperature_sensor": {"value": 22.0, "unit": "°C"},
        "gas_sensor": {"value": 0.0, "unit": "%LEL"},
    }
    return states.get(kind, {})


class SimFleet:
    """The simulated devices of one bridge."""

    def __init__(
        self,
        devices: Iterable[DeviceInfo],
        *,
        on_event: OnEvent,
        rng: random.Random,
        door_open_s: float = 3.0,
        barrier_open_s: float = 6.0,
        intercom: Intercom | None = None,
    ) -> None:
        self.rng = rng
        self.intercom = intercom  # the devices' calls and live views (device_bridge/media)
        self.on_event = on_event
        self.door_open_s = door_open_s
        self.barrier_open_s = barrier_open_s
        self.devices = {
            d.id: SimDevice(info=d, skew=round(rng.uniform(-4.0, 4.0), 3), state=_initial_state(d))
            for d in devices
        }
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: dict[str, Callable[[SimDevice, dict[str, Any]], Awaitable[dict[str, Any]]]]
        self._handlers = {
            "status": self._status,
            "time.sync": self._time_sync,
            "open": self._open,
            "lock": self._lock,
            "unlock": self._unlock,
            "close": self._close,
            "snapshot": self._snapshot,
            "preset": self._preset,
            "broadcast": self._broadcast,
            "show": self._show,
            "call": self._call,
            "release": self._release,
            "indicate": self._indicate,
            "face.enrol": self._face_enrol,
            "face.remove": self._face_remove,
            "arm": self._arm,
            "disarm": self._disarm,
            "media.offer": self._media_offer,
            "media.close": self._media_close,
            "intercom.hangup": self._intercom_hangup,
            "intercom.media": self._intercom_media,
        }

    def get(self, device_id: str) -> SimDevice:
        """The device, or DeviceUnavailable when the id is not simulated here."""
        try:
            return self.devices[device_id]
        except KeyError:
            raise DeviceUnavailable(f"no simulated device {device_id!r}") from None

    async def close(self) -> None:
        """Cancel pending timers (doors closing, barriers lowering)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- faults -----------------------------------------------------------------------------------

    async def set_online(self, device_id: str, online: bool, *, reason: str = "simulated") -> None:
        """Take a device off the network or bring it back, reporting it as a real one would."""
        dev = self.get(device_id)
        if dev.online == online:
            return
        dev.online = online
        dev.info.online = online
        kind = "device.online" if online else "device.offline"
        await self.on_event(kind, device_id, {"reason": reason}, dev.clock())

    # -- commands ---------------------------------------------------------------------------------

    async def call(self, device_id: str, action: str, args: dict[str, Any]) -> dict[str, Any]:
        """Send an action to a device and wait for its answer (latency, faults and all)."""
        dev = self.get(device_id)
        if not dev.online:
            raise DeviceUnavailable(f"device {device_id} is offline")
        low, high = _LATENCY.get((dev.info.kind, action)) or _LATENCY.get(
            (dev.info.kind, "*"), _DEFAULT_LATENCY
        )
        await asyncio.sleep(self.rng.uniform(low, high) + dev.delay_ms / 1000)
        if dev.drop:
            await asyncio.Event().wait()  # the request was lost: no answer, ever
        if not dev.online:
            raise DeviceUnavailable(f"device {device_id} went offline")
        handler = self._handlers.get(action)
        if handler is None:
            raise DeviceUnavailable(f"simulated {dev.info.kind} has no {action!r}")
        result: dict[str, Any] = await handler(dev, args)
        return result

    async def _status(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        return {"online": dev.online, "clock": dev.clock(), **dev.state}

    async def _time_sync(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        server_time = args.get("server_time")
        if not isinstance(server_time, int | float) or isinstance(server_time, bool):
            raise InvalidArguments("server_time (Unix seconds) is required")
        previous, dev.skew = dev.skew, float(server_time) - time.time()
        return {"clock": dev.clock(), "previous_skew": round(previous, 3)}

    async def _open(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        if dev.info.kind == "barrier":
            await self._raise_barrier(dev, {"plate": args["plate"]} if "plate" in args else {})
            return {"barrier": "open"}
        if args.get("person") is not None or args.get("method") is not None:
            access = {
                "method": args.get("method", "remote"),
                "person": args.get("person"),
                "direction": args.get("direction", "in"),
            }
            await self.on_event("access.granted", dev.info.id, access, dev.clock())
        await self._open_door(dev)
        return {"door": "open", "closes_in_s": 0 if dev.state["held_open"] else self.door_open_s}

    async def _lock(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        if dev.info.kind == "barrier":  # the arm held up comes down
            dev.state["held"] = False
            return await self._close(dev, args)
        self._cancel_closer(dev)
        dev.state.update(locked=True, held_open=False)
        if dev.state["door"] == "open":
            dev.state["door"] = "closed"
            await self.on_event("door.closed", dev.info.id, {}, dev.clock())
        return {"door": "closed", "locked": True}

    async def _unlock(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        self._cancel_closer(dev)
        if dev.info.kind == "barrier":  # the arm goes up and stays up (fire: VEH-18)
            dev.state["held"] = True
            if dev.state["barrier"] != "open":
                dev.state["barrier"] = "open"
                data = {"mode": "held", "reason": str(args.get("reason", "unlock"))}
                await self.on_event("barrier.opened", dev.info.id, data, dev.clock())
            return {"barrier": "open", "held": True}
        dev.state.update(locked=False, held_open=True)
        if dev.state["door"] != "open":
            dev.state["door"] = "open"
            data = {"mode": "held", "reason": str(args.get("reason", "unlock"))}
            await self.on_event("door.opened", dev.info.id, data, dev.clock())
        return {"door": "open", "locked": False, "held_open": True}

    async def _close(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        self._cancel_closer(dev)
        if dev.state["barrier"] != "closed":
            dev.state["barrier"] = "closed"
            await self.on_event("barrier.closed", dev.info.id, {}, dev.clock())
        return {"barrier": "closed"}

    async def _snapshot(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(dev.clock()))
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360">'
            '<rect width="640" height="360" fill="#263238"/>'
            f'<text x="20" y="40" fill="#eceff1" font-size="24">{_xml(dev.info.name)}</text>'
            f'<text x="20" y="340" fill="#b0bec5" font-size="18">{stamp} · '
            f"preset {dev.state.get('preset', 1)}</text></svg>"
        )
        return {"content_type": "image/svg+xml", "data": svg.encode()}

    async def _preset(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        preset = args.get("preset")
        if not isinstance(preset, int) or isinstance(preset, bool) or not 1 <= preset <= 255:
            raise InvalidArguments("preset must be an integer 1–255")
        dev.state["preset"] = preset
        return {"preset": preset}

    async def _broadcast(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        text = args.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 500:
            raise InvalidArguments("text must be 1–500 characters")
        duration = round(min(60.0, 1.0 + 0.25 * len(text)), 1)
        await self.on_event("broadcast.played", dev.info.id, {"text": text}, dev.clock())
        return {"duration_s": duration}

    async def _show(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        lines, colour = args.get("lines"), args.get("colour", "green")
        if (
            not isinstance(lines, list)
            or not 1 <= len(lines) <= 4
            or not all(isinstance(x, str) and len(x) <= 32 for x in lines)
        ):
            raise InvalidArguments("lines must be 1–4 texts of up to 32 characters")
        if colour not in DISPLAY_COLOURS:
            raise InvalidArguments(f"colour must be one of {', '.join(DISPLAY_COLOURS)}")
        seconds = args.get("seconds")
        if seconds is not None and (
            not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not 0 < seconds <= 600
        ):
            raise InvalidArguments("seconds must be a number 0–600")
        shown = {"lines": list(lines), "colour": colour, "seconds": seconds}
        if seconds is None:  # the standing text: shown between messages, not over one
            dev.state["standing"] = shown
            if time.time() >= dev.state.get("message_until", 0.0):
                dev.state["shown"] = shown
        else:
            dev.state["shown"] = shown
            dev.state["message_until"] = time.time() + seconds
        dev.state.setdefault("history", []).append(shown)
        del dev.state["history"][:-50]  # what the display showed last, for the tests
        return {"lines": len(lines)}

    async def _call(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        floor = args.get("floor")
        top = int(dev.info.attrs.get("floors", 18))
        if not isinstance(floor, int) or isinstance(floor, bool) or not -3 <= floor <= top:
            raise InvalidArguments(f"floor must be an integer -3–{top}")
        dev.state["called"] = floor
        await self.on_event("elevator.called", dev.info.id, {"floor": floor}, dev.clock())
        return {"floor": floor}

    async def _release(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        dev.state["called"] = None
        await self.on_event("elevator.released", dev.info.id, {}, dev.clock())
        return {"released": True}

    async def _indicate(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("result") not in ("granted", "denied"):
            raise InvalidArguments("result must be granted or denied")
        dev.state.setdefault("indications", []).append(dict(args))  # what the reader showed
        return {"indicated": args["result"]}

    async def _face_enrol(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        face, photo = args.get("face"), args.get("photo")
        if not isinstance(face, str) or not face or not isinstance(photo, bytes):
            raise InvalidArguments("face (the template id) and photo (bytes) are required")
        if not photo.startswith((b"\xff\xd8\xff", b"\x89PNG")):
            raise DeviceError("the photo is not a JPEG or PNG image")
        dev.state.setdefault("faces", {})[face] = len(photo)  # the template it derived
        return {"face": face, "faces": len(dev.state["faces"])}

    async def _face_remove(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        face = args.get("face")
        if not isinstance(face, str) or not face:
            raise InvalidArguments("face (the template id) is required")
        held = dev.state.setdefault("faces", {}).pop(face, None) is not None
        return {"face": face, "removed": held}  # idempotent: gone is gone

    async def _arm(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        return await self._set_armed(dev, True)

    async def _disarm(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        return await self._set_armed(dev, False)

    async def _media_offer(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        return await self._media().offer(dev.info, args)

    async def _media_close(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        return await self._media().close(dev.info, args)

    async def _intercom_hangup(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        return await self._media().hangup(dev.info, args)

    async def _intercom_media(self, dev: SimDevice, args: dict[str, Any]) -> dict[str, Any]:
        return await self._media().media(dev.info, args)

    def _media(self) -> Intercom:
        if self.intercom is None:
            raise DeviceUnavailable("this simulation has no media")
        return self.intercom

    async def _set_armed(self, dev: SimDevice, armed: bool) -> dict[str, Any]:
        if dev.state["armed"] != armed:
            dev.state["armed"] = armed
            kind = "alarm.armed" if armed else "alarm.disarmed"
            await self.on_event(kind, dev.info.id, {}, dev.clock())
        return {"armed": armed}

    # -- the physical world (scenario, tests) -----------------------------------------------------

    async def present_credential(
        self, door_id: str, *, method: str, person: str | None, granted: bool, direction: str = "in"
    ) -> None:
        """Someone shows a card, QR code or face at a door: granted opens it, denied does not."""
        dev = self._reachable(door_id)
        if granted:
            data = {"method": method, "person": person, "direction": direction}
            await self.on_event("access.granted", door_id, data, dev.clock())
            await self._open_door(dev)
        else:
            data = {"method": method, "person": person, "reason": "not authorised"}
            await self.on_event("access.denied", door_id, data, dev.clock())

    async def read_plate(
        self,
        camera_id: str,
        *,
        plate: str,
        colour: str,
        barrier_id: str | None = None,
        confidence: float = 0.98,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """A vehicle arrives: the plate camera reads it. Given a barrier, the camera's own system
        lets it in (the read says so); without one the bridge decides (device_bridge/vehicles.py)
        and lifts the lane's barrier itself. `extra`: more of the read (vehicle_type, the
        snapshot as image_b64 and image_type)."""
        cam = self._reachable(camera_id)
        data: dict[str, Any] = {
            **(extra or {}),
            "plate": plate,
            "colour": colour,
            "confidence": confidence,
        }
        if barrier_id is not None:
            data.update(direction="in", decision="granted", reason="camera")
        await self.on_event("plate.read", camera_id, data, cam.clock())
        if barrier_id is not None:
            await self._raise_barrier(self._reachable(barrier_id), {"plate": plate})

    async def reading(self, sensor_id: str, *, value: float, unit: str) -> None:
        """A sensor reports a measurement."""
        dev = self._reachable(sensor_id)
        dev.state.update(value=value, unit=unit)
        await self.on_event(
            "sensor.reading", sensor_id, {"value": value, "unit": unit}, dev.clock()
        )

    async def trigger(self, device_id: str, kind: str, data: dict[str, Any] | None = None) -> None:
        """Anything else a device may report (alarm.intrusion, door.forced, …)."""
        dev = self._reachable(device_id)
        await self.on_event(kind, device_id, data or {}, dev.clock())

    # -- helpers ----------------------------------------------------------------------------------

    def _reachable(self, device_id: str) -> SimDevice:
        dev = self.get(device_id)
        if not dev.online:
            raise DeviceUnavailable(f"device {device_id} is offline")
        return dev

    async def _open_door(self, dev: SimDevice) -> None:
        if dev.state["held_open"]:
            return
        if dev.state["door"] != "open":
            dev.state["door"] = "open"
            await self.on_event("door.opened", dev.info.id, {"mode": "momentary"}, dev.clock())
        self._later(dev, self.door_open_s, "door", "door.closed")

    async def _raise_barrier(self, dev: SimDevice, data: dict[str, Any]) -> None:
        if dev.state["barrier"] != "open":
            dev.state["barrier"] = "open"
            await self.on_event("barrier.opened", dev.info.id, data, dev.clock())
        if not dev.state.get("held"):  # an arm held up (unlock) stays up
            self._later(dev, self.barrier_open_s, "barrier", "barrier.closed")

    def _later(self, dev: SimDevice, delay: float, key: str, kind: str) -> None:
        """Close (door or barrier) after `delay`, unless something else closes it first."""
        self._cancel_closer(dev)

        async def close() -> None:
            await asyncio.sleep(delay)
            if dev.state[key] == "open":
                dev.state[key] = "closed"
                await self.on_event(kind, dev.info.id, {}, dev.clock())

        task = asyncio.create_task(close(), name=f"sim-close-{dev.info.id}")
        dev.closer = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _cancel_closer(self, dev: SimDevice) -> None:
        if dev.closer is not None and not dev.closer.done():
            dev.closer.cancel()
        dev.closer = None


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
