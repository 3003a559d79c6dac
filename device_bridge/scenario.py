"""Simulated daily life at the site: residents at doors, vehicles at the barrier, sensor readings.

Deterministic for a seed: the same seed plays the same actions in the same order (and waits).
"""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import Awaitable, Callable

import structlog

from device_bridge.drivers.base import DeviceUnavailable
from device_bridge.drivers.sim import SimDriver

log = structlog.get_logger(__name__)

_PLATE_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IO")
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
    ) -> None:
        self.sim, self.rate = sim, rate
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
        self.barriers = by_kind.get("barrier", [])
        self.sensors = [d for k in _SENSOR_RANGES for d in by_kind.get(k, [])]
        self.people = [f"sim-resident-{n:03d}" for n in range(1, residents + 1)]
        self.known_plates = [self._plate() for _ in range(residents // 2)]
        self.steps = 0

    async def run(self) -> None:
        """Play until cancelled."""
        log.info("bridge.scenario.started", rate=self.rate, doors=len(self.doors))
        bell = (
            asyncio.create_task(self._ring_now_and_then())
            if self.doorbell and self.doorbell_every > 0
            else None
        )
        try:
            while True:
                await self.step()
                await asyncio.sleep(self.rng.expovariate(self.rate) if self.rate > 0 else 1.0)
        finally:
            if bell is not None:
                bell.cancel()

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
        if self.plate_cameras:
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
        camera = self.rng.choice(self.plate_cameras)
        known = self.rng.random() < 0.85
        plate = self.rng.choice(self.known_plates) if known else self._plate()
        colour = "green" if len(plate) == 8 else "blue"
        barrier = self.barriers[0] if known and self.barriers else None
        await self.sim.read_plate(camera, plate=plate, colour=colour, barrier=barrier)
        return f"plate {plate} at {camera}{' let in' if barrier else ''}"

    async def _sensor(self) -> str:
        sensor = self.rng.choice(self.sensors)
        low, high, unit, decimals = _SENSOR_RANGES[self.sim.devices[sensor].kind]
        value = round(self.rng.uniform(low, high), decimals)
        await self.sim.reading(sensor, value=value, unit=unit)
        return f"{sensor} {value} {unit}"

    def _plate(self) -> str:
        """A Sichuan (川A) plate: 5 characters, or 6 with D/F first for a new-energy (green) one."""
        if self.rng.random() < 0.25:
            tail = self.rng.choice("DF") + "".join(self.rng.choices(string.digits, k=5))
        else:
            tail = "".join(self.rng.choices(_PLATE_LETTERS + string.digits, k=5))
        return "川A" + tail
