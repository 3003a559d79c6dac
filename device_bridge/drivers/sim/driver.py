"""The sim driver: every device kind, simulated, with realistic timing, clocks and faults."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

import structlog

from device_bridge.drivers.base import Driver
from device_bridge.drivers.sim.client import SimFleet
from device_bridge.protocol import DeviceInfo
from device_bridge.settings import FaultConfig

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
    ) -> None:
        super().__init__(devices)
        self.fleet = SimFleet(
            self.devices.values(),
            on_event=self._device_event,
            rng=random.Random(seed),
            door_open_s=door_open_s,
            barrier_open_s=barrier_open_s,
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
        await self.fleet.close()

    def clock_skews(self) -> dict[str, float]:
        """Each simulated device's clock minus the bridge clock."""
        return {d: round(dev.skew, 3) for d, dev in self.fleet.devices.items() if dev.online}

    async def _device_event(self, kind: str, device: str, data: dict[str, Any], at: float) -> None:
        # Devices stamp events with their own clock; the outbox wants the bridge clock.
        await self.emit(kind, device, data, at - self.fleet.devices[device].skew)

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

    async def present_credential(
        self, door: str, *, method: str, person: str | None, granted: bool, direction: str = "in"
    ) -> None:
        """A card, QR code or face at a door: granted opens the door, else access.denied."""
        await self.fleet.present_credential(
            door, method=method, person=person, granted=granted, direction=direction
        )

    async def read_plate(
        self, camera: str, *, plate: str, colour: str, barrier: str | None = None
    ) -> None:
        """A vehicle at the car park: plate.read, and barrier.opened when a barrier is given."""
        await self.fleet.read_plate(camera, plate=plate, colour=colour, barrier_id=barrier)

    async def reading(self, sensor: str, *, value: float, unit: str) -> None:
        """A sensor.reading {value, unit}."""
        await self.fleet.reading(sensor, value=value, unit=unit)

    async def trigger(self, device: str, kind: str, data: dict[str, Any] | None = None) -> None:
        """Any other event a device may report (alarm.intrusion, door.forced, …)."""
        await self.fleet.trigger(device, kind, data)
