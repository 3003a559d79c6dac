"""Simulated daily life at the site: residents at doors, vehicles at the barrier, sensor readings.

Deterministic for a seed: the same seed plays the same actions in the same order (and waits).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import structlog

from device_bridge.drivers.base import DeviceUnavailable
from device_bridge.drivers.sim import SimDriver
from device_bridge.traffic import Traffic

log = structlog.get_logger(__name__)

_SENSOR_RANGES = {  # kind: (low, high, unit, decimals)
    "temperature_sensor": (18.0, 29.0, "°C", 1),
    "smoke_sensor": (0.0, 0.05, "%/m", 3),
    "water_sensor": (0.0, 0.0, "leak", 0),
    "gas_sensor": (0.0, 2.0, "%LEL", 1),
}


class Scenario:
    """Plays traffic on a sim driver at `rate` actions per second."""

    def __init__(
        self,
        sim: SimDriver,
        *,
        seed: int = 1,
        rate: float = 0.5,
        residents: int = 60,
        doorbell: list[str] | None = None,
        doorbell_every: float = 0.0,
        vehicle_rate: float = 0.0,
        plates: list[str] | None = None,
        visitor_plates: list[str] | None = None,
        blacklisted: list[str] | None = None,
    ) -> None:
        self.sim, self.rate, self.vehicle_rate = sim, rate, vehicle_rate
        self.doorbell = [
            (station, room) for station, _, room in (d.partition(":") for d in doorbell or [])
        ]
        self.doorbell_every = doorbell_every
        self.rng = random.Random(seed)
        by_kind: dict[str, list[str]] = {}
        for device in sim.devices.values():
            by_kind.setdefault(device.kind, []).append(device.id)
        self.doors = by_kind.get("door_controller", [])
        self.plate_cameras = by_kind.get("plate_camera", [])
        self.sensors = [d for k in _SENSOR_RANGES for d in by_kind.get(k, [])]
        self.people = [f"sim-resident-{n:03d}" for n in range(1, residents + 1)]
        cameras = [sim.devices[c] for c in self.plate_cameras]
        province = next(
            (str(c.attrs["province"]) for c in cameras if c.attrs.get("province")), "川"
        )
        self.traffic = Traffic(
            entrances=[c.id for c in cameras if c.attrs.get("direction") != "out"],
            exits=[c.id for c in cameras if c.attrs.get("direction") == "out"],
            plates=plates,
            visitor_plates=visitor_plates,
            blacklisted=blacklisted,
            seed=seed,
            province=province,
        )
        self.steps = 0

    async def run(self) -> None:
        """Play until cancelled."""
        log.info("bridge.scenario.started", rate=self.rate, doors=len(self.doors))
        side: list[asyncio.Task[None]] = []
        if self.doorbell and self.doorbell_every > 0:
            side.append(asyncio.create_task(self._ring_now_and_then()))
        if self.vehicle_rate > 0 and self.traffic.entrances:
            side.append(asyncio.create_task(self._cars()))
        try:
            while True:
                await self.step()
                await asyncio.sleep(self.rng.expovariate(self.rate) if self.rate > 0 else 1.0)
        finally:
            for task in side:
                task.cancel()

    async def _cars(self) -> None:
        """Cars at the lanes at `vehicle_rate` a second, apart from the other actions."""
        rng = random.Random(self.rng.random())
        while True:
            await asyncio.sleep(rng.expovariate(self.vehicle_rate))
            try:
                label = await self._vehicle()
            except DeviceUnavailable as err:
                log.debug("bridge.scenario.skipped", reason=str(err))
            else:
                log.debug("bridge.scenario.car", car=label)

    async def _ring_now_and_then(self) -> None:
        """A visitor at a door station rings a household every `doorbell_every` seconds."""
        while True:
            await asyncio.sleep(self.doorbell_every)
            station, room = self.rng.choice(self.doorbell)
            try:
                call = await self.sim.ring(station, room=room)
            except DeviceUnavailable as err:
                log.debug("bridge.scenario.skipped", reason=str(err))
            else:
                log.info("bridge.scenario.doorbell", station=station, room=room, call=call)

    async def play(self, steps: int) -> list[str]:
        """Play `steps` actions back to back; what each was."""
        return [await self.step() for _ in range(steps)]

    async def step(self) -> str:
        """One action, chosen by weight among what the site has; a device offline skips it."""
        choices: list[tuple[float, Callable[[], Awaitable[str]]]] = []
        if self.doors:
            choices.append((0.55, self._door))
        if self.traffic.entrances and self.vehicle_rate <= 0:
            choices.append((0.2, self._vehicle))
        if self.sensors:
            choices.append((0.25, self._sensor))
        if not choices:
            return "idle"
        action = self.rng.choices([c for _, c in choices], weights=[w for w, _ in choices])[0]
        self.steps += 1
        try:
            return await action()
        except DeviceUnavailable as err:
            log.debug("bridge.scenario.skipped", reason=str(err))
            return "skipped"

    async def _door(self) -> str:
        door = self.rng.choice(self.doors)
        method = self.rng.choices(["card", "qr", "face"], weights=[5, 2, 3])[0]
        granted = self.rng.random() < 0.92
        person = self.rng.choice(self.people) if granted else None
        direction = "out" if self.rng.random() < 0.4 else "in"
        await self.sim.present_credential(
            door, method=method, person=person, granted=granted, direction=direction
        )
        return f"{'granted' if granted else 'denied'} {method} at {door}"

    async def _vehicle(self) -> str:
        car = self.traffic.next()
        await self.sim.read_plate(
            car.camera,
            plate=car.plate,
            colour=car.colour,
            confidence=car.confidence,
            vehicle_type=car.vehicle_type,
            image=car.image,
        )
        return f"{car.kind} {car.plate or '(unread)'} at {car.camera}"

    async def _sensor(self) -> str:
        sensor = self.rng.choice(self.sensors)
        low, high, unit, decimals = _SENSOR_RANGES[self.sim.devices[sensor].kind]
        value = round(self.rng.uniform(low, high), decimals)
        await self.sim.reading(sensor, value=value, unit=unit)
        return f"{sensor} {value} {unit}"
