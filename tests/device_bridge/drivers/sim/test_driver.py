"""The sim driver behind the driver interface: each kind's actions, invariants, faults, clocks."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

import pytest

from device_bridge.drivers.base import supported_actions
from device_bridge.drivers.sim import SimDriver
from device_bridge.protocol import Command, CommandResult, DeviceKind
from device_bridge.settings import PACKAGE_DIR, FaultConfig, load_config

ROOT = Path(__file__).resolve().parents[4]


class Recorder:
    """The runtime's emit callback, recording (kind, device, data, at) and each event's key."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any], float | None]] = []
        self.keys: list[str | None] = []

    async def __call__(
        self,
        kind: str,
        device: str,
        data: dict[str, Any],
        at: float | None = None,
        *,
        key: str | None = None,
    ) -> None:
        self.events.append((kind, device, data, at))
        self.keys.append(key)

    def kinds(self, device: str | None = None) -> list[str]:
        """Event kinds, optionally of one device."""
        return [k for k, d, _, _ in self.events if device is None or d == device]


@pytest.fixture
async def sim() -> AsyncIterator[tuple[SimDriver, Recorder]]:
    """The demo site's devices, simulated, with quick doors."""
    config = load_config(PACKAGE_DIR / "demo.toml")
    driver = SimDriver(
        [d.info() for d in config.devices], seed=11, door_open_s=0.05, barrier_open_s=0.05
    )
    recorder = Recorder()
    await driver.start(recorder)
    yield driver, recorder
    await driver.stop()


async def run(
    driver: SimDriver, device: str, action: str, within: float = 2.0, **args: Any
) -> CommandResult:
    """Execute a command with a deadline `within` seconds from now."""
    command = Command(
        id=f"c-{time.monotonic_ns()}",
        device=device,
        action=action,
        args=args,
        deadline=time.time() + within,
    )
    return await driver.execute(command)


class TestInvariants:
    async def test_unknown_device_fails(self, sim: tuple[SimDriver, Recorder]) -> None:
        result = await run(sim[0], "door-9-9", "open")
        assert (result.status, result.detail) == ("failed", "unknown device")

    async def test_action_outside_the_kind_is_unsupported(
        self, sim: tuple[SimDriver, Recorder]
    ) -> None:
        result = await run(sim[0], "cam-north-gate", "open")
        assert result.status == "unsupported"
        assert "camera" in result.detail

    async def test_deadline_already_passed_is_timeout(
        self, sim: tuple[SimDriver, Recorder]
    ) -> None:
        result = await run(sim[0], "door-1-1", "open", within=-1)
        assert result.status == "timeout"
        assert sim[1].kinds("door-1-1") == []  # nothing was done

    async def test_bad_arguments_fail_with_the_reason(
        self, sim: tuple[SimDriver, Recorder]
    ) -> None:
        result = await run(sim[0], "lift-1-1", "call", floor="top")
        assert result.status == "failed" and "floor" in result.detail

    async def test_result_keeps_the_command_id(self, sim: tuple[SimDriver, Recorder]) -> None:
        command = Command(id="abc", device="door-1-1", action="status", deadline=time.time() + 2)
        assert (await sim[0].execute(command)).id == "abc"


@pytest.mark.req("PLAT-07")
class TestAdapterContracts:
    def test_docs_list_exactly_the_actions_each_kind_supports(self) -> None:
        """docs/bridge.md's action table is the contract the drivers enforce."""
        table = (ROOT / "docs" / "bridge.md").read_text()
        documented: dict[str, set[str]] = {}
        for kind, actions in re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", table, re.M):
            documented[kind] = set(re.findall(r"`([a-z.]+)`", actions))
        for kind in get_args(DeviceKind):
            assert documented.get(kind) == set(supported_actions(kind)), kind


class TestDoors:
    async def test_open_is_momentary_with_access_event(
        self, sim: tuple[SimDriver, Recorder]
    ) -> None:
        driver, recorder = sim
        started = time.monotonic()
        result = await run(driver, "door-1-1", "open", person="p-1", method="app")
        elapsed = time.monotonic() - started
        assert result.status == "ok" and result.data["door"] == "open"
        assert 0.035 <= elapsed < 0.5  # 40–120 ms
        await asyncio.sleep(0.15)
        assert recorder.kinds("door-1-1") == ["access.granted", "door.opened", "door.closed"]
        granted = recorder.events[0][2]
        assert granted == {"method": "app", "person": "p-1", "direction": "in"}

    async def test_unlock_holds_open_until_lock(self, sim: tuple[SimDriver, Recorder]) -> None:
        driver, recorder = sim
        assert (await run(driver, "gate-north", "unlock", reason="emergency")).status == "ok"
        await asyncio.sleep(0.15)
        assert recorder.kinds("gate-north") == ["door.opened"]  # no auto close
        assert recorder.events[0][2] == {"mode": "held", "reason": "emergency"}
        status = await run(driver, "gate-north", "status")
        assert status.data["held_open"] is True and status.data["door"] == "open"
        await run(driver, "gate-north", "lock")
        assert recorder.kinds("gate-north") == ["door.opened", "door.closed"]

    async def test_credentials_granted_open_and_denied_do_not(
        self, sim: tuple[SimDriver, Recorder]
    ) -> None:
        driver, recorder = sim
        await driver.present_credential("door-2-1", method="card", person="p-7", granted=True)
        await driver.present_credential("door-2-1", method="qr", person=None, granted=False)
        await asyncio.sleep(0.15)
        assert recorder.kinds("door-2-1") == [
            "access.granted",
            "door.opened",
            "access.denied",
            "door.closed",
        ]


class TestOtherKinds:
    async def test_barrier_opens_and_closes(self, sim: tuple[SimDriver, Recorder]) -> None:
        driver, recorder = sim
        started = time.monotonic()
        assert (await run(driver, "barrier-carpark", "open")).status == "ok"
        assert time.monotonic() - started >= 0.19  # 200–400 ms
        assert (await run(driver, "barrier-carpark", "close")).status == "ok"
        assert recorder.kinds("barrier-carpark") == ["barrier.opened", "barrier.closed"]

    async def test_plate_read_lets_the_car_in(self, sim: tuple[SimDriver, Recorder]) -> None:
        driver, recorder = sim
        await driver.read_plate(
            "lpr-carpark", plate="川A12345", colour="blue", barrier="barrier-carpark"
        )
        await asyncio.sleep(0.15)
        assert recorder.kinds() == ["plate.read", "barrier.opened", "barrier.closed"]
        assert recorder.events[0][2]["plate"] == "川A12345"

    async def test_camera_snapshot_and_preset(self, sim: tuple[SimDriver, Recorder]) -> None:
        driver, _ = sim
        shot = await run(driver, "cam-1-lobby", "snapshot")
        assert shot.data["content_type"] == "image/svg+xml"
        assert shot.data["data"].startswith(b"<svg")
        assert (await run(driver, "cam-1-lobby", "preset", preset=3)).data == {"preset": 3}
        assert (await run(driver, "cam-1-lobby", "preset", preset=0)).status == "failed"

    async def test_speaker_lift_zone(self, sim: tuple[SimDriver, Recorder]) -> None:
        driver, recorder = sim
        assert (await run(driver, "speaker-north", "broadcast", text="请勿高空抛物")).status == "ok"
        assert (await run(driver, "speaker-north", "broadcast", text="")).status == "failed"
        assert (await run(driver, "lift-1-1", "call", floor=12)).data == {"floor": 12}
        assert (await run(driver, "lift-1-1", "release")).status == "ok"
        assert (await run(driver, "zone-east", "disarm")).data == {"armed": False}
        assert (await run(driver, "zone-east", "arm")).data == {"armed": True}
        assert recorder.kinds() == [
            "broadcast.played",
            "elevator.called",
            "elevator.released",
            "alarm.disarmed",
            "alarm.armed",
        ]

    async def test_stations_and_sensors_report_status(
        self, sim: tuple[SimDriver, Recorder]
    ) -> None:
        driver, _ = sim
        assert (await run(driver, "station-north", "status")).data["online"] is True
        await driver.reading("temp-pump-room", value=24.5, unit="°C")
        status = await run(driver, "temp-pump-room", "status")
        assert (status.data["value"], status.data["unit"]) == (24.5, "°C")
        assert (await run(driver, "station-north", "open")).status == "unsupported"


class TestFaults:
    async def test_drop_makes_the_caller_time_out(self, sim: tuple[SimDriver, Recorder]) -> None:
        driver, _ = sim
        await driver.set_fault("door-1-2", drop=True)
        started = time.monotonic()
        result = await run(driver, "door-1-2", "open", within=0.3)
        assert result.status == "timeout"
        assert 0.25 < time.monotonic() - started < 0.6
        await driver.set_fault("door-1-2", drop=False)
        assert (await run(driver, "door-1-2", "open")).status == "ok"

    async def test_delay_slows_the_answer(self, sim: tuple[SimDriver, Recorder]) -> None:
        driver, _ = sim
        await driver.set_fault("speaker-square", delay_ms=250)
        started = time.monotonic()
        assert (await run(driver, "speaker-square", "status")).status == "ok"
        assert time.monotonic() - started >= 0.25

    async def test_offline_reports_and_fails_then_recovers(
        self, sim: tuple[SimDriver, Recorder]
    ) -> None:
        driver, recorder = sim
        await driver.set_fault("cam-carpark", offline=True)
        result = await run(driver, "cam-carpark", "snapshot")
        assert result.status == "failed" and "offline" in result.detail
        assert not next(d for d in driver.inventory() if d.id == "cam-carpark").online
        await driver.set_fault("cam-carpark", offline=False)
        assert (await run(driver, "cam-carpark", "snapshot")).status == "ok"
        assert recorder.kinds("cam-carpark") == ["device.offline", "device.online"]

    async def test_faults_from_config_apply_at_start(self) -> None:
        config = load_config(PACKAGE_DIR / "demo.toml")
        faults = {"lift-1-1": FaultConfig(offline=True)}
        driver = SimDriver([d.info() for d in config.devices], faults=faults)
        recorder = Recorder()
        await driver.start(recorder)
        assert recorder.kinds() == ["device.offline"]
        assert (await run(driver, "lift-1-1", "status")).status == "failed"
        await driver.stop()


@pytest.mark.req("PLAT-15")
class TestClocks:
    async def test_time_sync_corrects_the_skew_and_events_use_the_bridge_clock(
        self, sim: tuple[SimDriver, Recorder]
    ) -> None:
        driver, recorder = sim
        skews = driver.clock_skews()
        assert len(skews) == len(driver.devices)
        assert any(abs(s) > 0.5 for s in skews.values())  # "a few seconds" each way
        before = skews["door-3-2"]
        status = await run(driver, "door-3-2", "status")
        assert status.data["clock"] - time.time() == pytest.approx(before, abs=0.2)

        result = await run(driver, "door-3-2", "time.sync", server_time=time.time())
        assert result.status == "ok" and result.data["previous_skew"] == pytest.approx(before)
        assert abs(driver.clock_skews()["door-3-2"]) < 0.2

        await driver.present_credential("door-1-1", method="card", person="p", granted=True)
        assert recorder.events[-1][3] == pytest.approx(time.time(), abs=0.5)

    async def test_time_sync_needs_a_server_time(self, sim: tuple[SimDriver, Recorder]) -> None:
        assert (await run(sim[0], "door-1-1", "time.sync")).status == "failed"
