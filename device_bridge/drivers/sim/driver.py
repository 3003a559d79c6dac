"""The sim driver: every device kind, simulated, with realistic timing, clocks and faults."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import structlog

from device_bridge.drivers.base import DeviceUnavailable, Driver
from device_bridge.drivers.sim.client import SimFleet
from device_bridge.media import Intercom, Media
from device_bridge.protocol import DeviceInfo
from device_bridge.settings import FaultConfig

if TYPE_CHECKING:
    from device_bridge.access import Decision

log = structlog.get_logger(__name__)


class SimDriver(Driver):
    """Simulated devices for the demo and the tests; faults are set with `set_fault`."""

    name = "sim"

    def __init__(
        self,
        devices: Iterable[DeviceInfo],
        *,
        seed: int | None = None,
        faults: Mapping[str, FaultConfig] | None = None,
        door_open_s: float = 3.0,
        barrier_open_s: float = 6.0,
        media: Media | None = None,
        ring_s: float = 30.0,
        clip_s: float = 5.0,
        call_max_s: float = 90.0,
    ) -> None:
        super().__init__(devices)
        # The bridge's media registry; a driver made without one (tests) has its own.
        self._own_media = media is None
        self.media = media if media is not None else Media()
        self.intercom = Intercom(
            self.media.peers,
            self.media.sources,
            emit=self._call_event,
            ring_s=ring_s,
            clip_s=clip_s,
            max_duration_s=call_max_s,
        )
        self.fleet = SimFleet(
            self.devices.values(),
            on_event=self._device_event,
            rng=random.Random(seed),
            door_open_s=door_open_s,
            barrier_open_s=barrier_open_s,
            intercom=self.intercom,
        )
        self._initial_faults = dict(faults or {})

    async def _start(self) -> None:
        for device_id, fault in self._initial_faults.items():
            await self.set_fault(
                device_id, drop=fault.drop, delay_ms=fault.delay_ms, offline=fault.offline
            )

    async def _execute(
        self,
        device: DeviceInfo,
        action: str,
        args: dict[str, Any],
        *,
        command_id: str,
        deadline: float,
    ) -> dict[str, Any]:
        return await self.fleet.call(device.id, action, args)

    async def _stop(self) -> None:
        await self.intercom.close_all()
        await self.fleet.close()
        if self._own_media:
            await self.media.close()

    def clock_skews(self) -> dict[str, float]:
        """Each simulated device's clock minus the bridge clock."""
        return {d: round(dev.skew, 3) for d, dev in self.fleet.devices.items() if dev.online}

    async def _device_event(self, kind: str, device: str, data: dict[str, Any], at: float) -> None:
        # Devices stamp events with their own clock; the outbox wants the bridge clock.
        await self.emit(kind, device, data, at - self.fleet.devices[device].skew)

    async def _call_event(self, kind: str, device: str, data: dict[str, Any]) -> None:
        await self._device_event(kind, device, data, self.fleet.devices[device].clock())

    # -- fault injection --------------------------------------------------------------------------

    async def set_fault(
        self,
        device: str,
        *,
        drop: bool | None = None,
        delay_ms: int | None = None,
        offline: bool | None = None,
    ) -> None:
        """Inject faults: `drop` loses commands, `delay_ms` slows answers, `offline` cuts it off."""
        dev = self.fleet.get(device)
        if drop is not None:
            dev.drop = drop
        if delay_ms is not None:
            dev.delay_ms = max(0, delay_ms)
        log.info(
            "bridge.sim.fault",
            device=device,
            drop=dev.drop,
            delay_ms=dev.delay_ms,
            offline=not dev.online if offline is None else offline,
        )
        if offline is not None:
            await self.fleet.set_online(device, not offline)

    async def clear_faults(self, device: str | None = None) -> None:
        """Remove every fault (of one device, or all), bringing devices back online."""
        for device_id in [device] if device else list(self.devices):
            await self.set_fault(device_id, drop=False, delay_ms=0, offline=False)

    # -- the physical world, for the scenario and tests ------------------------------------------

    async def present(
        self,
        door: str,
        method: str,
        value: str,
        direction: str = "in",
        floor: int | None = None,
    ) -> Decision:
        """A credential at a reader, decided by the bridge: a card number, PIN, keypad code, QR
        text or matched face template id. A grant opens the door (or calls the lift to `floor`).
        """
        if not self.fleet.get(door).online:
            raise DeviceUnavailable(f"device {door} is offline")
        return await self.credential(door, method, value, direction, floor)

    async def show_face(self, door: str, face: str) -> Decision | None:
        """Someone looks into a face reader: it matches only a face enrolled on it (`face.enrol`),
        and reports that template id for the bridge to decide; None when it matches nothing."""
        reader = self.fleet.get(door)
        if not reader.online:
            raise DeviceUnavailable(f"device {door} is offline")
        if face not in reader.state.get("faces", {}):
            return None
        return await self.credential(door, "face", face)

    async def present_credential(
        self, door: str, *, method: str, person: str | None, granted: bool, direction: str = "in"
    ) -> None:
        """A door controller that decides by itself (its own list): granted opens the door, else
        access.denied. `present` is the bridge deciding from its credential cache."""
        await self.fleet.present_credential(
            door, method=method, person=person, granted=granted, direction=direction
        )

    async def read_plate(
        self,
        camera: str,
        *,
        plate: str,
        colour: str = "blue",
        barrier: str | None = None,
        confidence: float = 0.98,
        vehicle_type: str | None = None,
        image: bytes | None = None,
    ) -> None:
        """A vehicle at a lane: plate.read. With a barrier the camera decides itself and lifts it
        (barrier.opened); without, the bridge decides from its cache and lifts the lane's.
        `image`: the camera's snapshot (JPEG), sent inline with the read."""
        extra: dict[str, Any] = {}
        if vehicle_type:
            extra["vehicle_type"] = vehicle_type
        if image:
            extra.update(image_b64=base64.b64encode(image).decode(), image_type="image/jpeg")
        await self.fleet.read_plate(
            camera,
            plate=plate,
            colour=colour,
            barrier_id=barrier,
            confidence=confidence,
            extra=extra,
        )

    async def reading(self, sensor: str, *, value: float, unit: str) -> None:
        """A sensor.reading {value, unit}."""
        await self.fleet.reading(sensor, value=value, unit=unit)

    async def patrol_tap(self, reader: str, *, card: str) -> None:
        """A guard taps a patrol card at a fixed patrol reader (or a door's reader that is one):
        patrol.checkpoint {card}; the platform counts it as a scan of the reader's checkpoint."""
        await self.fleet.trigger(reader, "patrol.checkpoint", {"card": card})

    async def trigger(self, device: str, kind: str, data: dict[str, Any] | None = None) -> None:
        """Any other event a device may report (alarm.intrusion, door.forced, …)."""
        await self.fleet.trigger(device, kind, data)

    # -- calls (device_bridge/media) --------------------------------------------------------------

    async def ring(
        self,
        station: str,
        *,
        room: str | None = None,
        target: Literal["household", "guard_room"] = "household",
    ) -> str:
        """A visitor calls from a door station (`room`: "0302" at a unit station, else "1-1-0302");
        intercom.call_started, then it rings `ring_s`, unanswered records a message. The call id."""
        return await self.intercom.ring(self._online(station), target=target, room=room)

    async def lift_emergency(self, lift: str) -> str:
        """A passenger presses the lift's emergency call: a call to the guard room. The call id."""
        return await self.intercom.ring(
            self._online(lift), target="guard_room", reason="lift_emergency"
        )

    async def visitor_hangup(self, station: str) -> str | None:
        """The visitor ends the station's call (call_ended: hangup, or answered once live)."""
        return await self.intercom.visitor_hangup(self._online(station))

    def _online(self, device: str) -> DeviceInfo:
        dev = self.fleet.get(device)
        if not dev.online:
            raise DeviceUnavailable(f"device {device} is offline")
        return dev.info
