"""The MQTT driver against the real Mosquitto at 127.0.0.1:1883, devices simulated over aiomqtt."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, MutableMapping
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from device_bridge.drivers.mqtt import MqttDriver
from device_bridge.outbox import Outbox
from device_bridge.protocol import Command, CommandResult, DeviceInfo
from tests.device_bridge.drivers.mqtt.fake_device import HOST, PORT, FakeDevice
from tests.device_bridge.drivers.sim.test_driver import Recorder
from tests.device_bridge.helpers import events_named

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = Path(__file__).parent / "fixtures"
DEVICES = [
    DeviceInfo(id="door-1", kind="door_controller", name="门 1", driver="mqtt"),
    DeviceInfo(id="door-2", kind="door_controller", name="门 2", driver="mqtt"),
    DeviceInfo(id="cam-1", kind="camera", name="摄像机 1", driver="mqtt"),
]


@pytest.fixture(scope="module", autouse=True)
def broker() -> None:
    """Mosquitto must be there: these tests are about the real broker."""
    try:
        socket.create_connection((HOST, PORT), timeout=2).close()
    except OSError:
        pytest.fail(f"no MQTT broker at {HOST}:{PORT} (Mosquitto is one of the machine's services)")


@pytest.fixture
def site() -> str:
    """A site name of this test only, so tests share no topics."""
    return f"t{uuid.uuid4().hex[:10]}"


def make_driver(site: str) -> MqttDriver:
    """A driver for the test's site, with a persistent session of its own."""
    devices = [DeviceInfo(**{f: getattr(d, f) for f in d.__struct_fields__}) for d in DEVICES]
    return MqttDriver(devices, host=HOST, port=PORT, site=site, client_id=f"bridge-{site}")


@pytest.fixture
async def driver(site: str) -> AsyncIterator[tuple[MqttDriver, Recorder]]:
    """A started MQTT driver recording what it emits; its broker session is removed afterwards."""
    mqtt, recorder = make_driver(site), Recorder()
    await mqtt.start(recorder)
    yield mqtt, recorder
    await mqtt.stop()
    await forget(site)


async def forget(site: str) -> None:
    """Remove the test's persistent session and retained statuses from the broker."""
    async with aiomqtt.Client(HOST, PORT, identifier=f"bridge-{site}", clean_session=True):
        pass
    async with aiomqtt.Client(HOST, PORT) as client:
        for device in DEVICES:
            await client.publish(f"anju/{site}/{device.id}/status", b"", qos=1, retain=True)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until `predicate()` holds."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - the driver offers no event to wait on
            await asyncio.sleep(0.02)


async def run(
    mqtt: MqttDriver, device: str, action: str, within: float = 2.0, **args: Any
) -> CommandResult:
    """Execute a command with a deadline `within` seconds from now."""
    command = Command(
        id=uuid.uuid4().hex, device=device, action=action, args=args, deadline=time.time() + within
    )
    return await mqtt.execute(command)


@pytest.mark.req("PLAT-07")
class TestCommands:
    async def test_command_result_round_trip_and_device_event(
        self, site: str, driver: tuple[MqttDriver, Recorder]
    ) -> None:
        mqtt, recorder = driver
        async with FakeDevice(site, "door-1", skew=3.0):
            await until(
                lambda: ("device.online", "door-1") in [(k, d) for k, d, _, _ in recorder.events]
            )
            assert mqtt.clock_skews()["door-1"] == pytest.approx(3.0, abs=0.3)

            result = await run(mqtt, "door-1", "open", person="p-42", method="app")
            assert (result.status, result.data) == ("ok", {"door": "open"})
            await until(lambda: "door.opened" in recorder.kinds("door-1"))
            _, _, data, at = recorder.events[-1]
            assert data == {"mode": "momentary"}
            assert at == pytest.approx(time.time(), abs=0.5)  # device clock, converted to ours

            synced = await run(mqtt, "door-1", "time.sync", server_time=time.time())
            assert synced.status == "ok"
            assert abs(mqtt.clock_skews()["door-1"]) < 0.3

    async def test_binary_results_and_device_refusals(
        self, site: str, driver: tuple[MqttDriver, Recorder]
    ) -> None:
        mqtt, _ = driver
        async with FakeDevice(site, "cam-1"):
            shot = await run(mqtt, "cam-1", "snapshot")
            assert shot.status == "ok"
            assert shot.data == {"content_type": "image/jpeg", "data": b"\xff\xd8\xff\xe0fake-jpeg"}
            preset = await run(mqtt, "cam-1", "preset", preset=2)  # this camera cannot
            assert (preset.status, preset.detail) == ("unsupported", "no preset here")
            assert (await run(mqtt, "cam-1", "open")).status == "unsupported"  # by the contract

    @pytest.mark.req("DATA-25", partial=True)
    async def test_a_face_photo_goes_as_base64_and_comes_off_again(
        self, site: str, driver: tuple[MqttDriver, Recorder]
    ) -> None:
        mqtt, _ = driver
        photo = b"\xff\xd8\xff\xe0" + bytes(range(256))
        async with FakeDevice(site, "door-1") as door:
            enrolled = await run(
                mqtt, "door-1", "face.enrol", face="tpl-3", photo=photo, content_type="image/jpeg"
            )
            assert enrolled.status == "ok" and door.faces == {"tpl-3": photo}
            [command] = [c for c in door.commands if c["action"] == "face.enrol"]
            assert (
                "photo" not in command["args"] and command["args"]["content_type"] == "image/jpeg"
            )
            removed = await run(mqtt, "door-1", "face.remove", face="tpl-3")
            assert (removed.status, removed.data) == ("ok", {"removed": True})
            assert door.faces == {}

    async def test_silent_device_times_out(
        self, site: str, driver: tuple[MqttDriver, Recorder]
    ) -> None:
        mqtt, _ = driver
        async with FakeDevice(site, "door-2", silent=True) as device:
            started = time.monotonic()
            result = await run(mqtt, "door-2", "open", within=0.4)
            assert result.status == "timeout"
            assert time.monotonic() - started < 0.8
            (sent,) = device.commands
            assert sent["action"] == "open" and sent["deadline"] > time.time() - 1


class TestStatus:
    async def test_last_will_reports_offline_and_commands_fail_fast(
        self, site: str, driver: tuple[MqttDriver, Recorder]
    ) -> None:
        mqtt, recorder = driver
        device = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.device_bridge.drivers.mqtt.fake_device",
            site,
            "door-1",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        assert device.stdout is not None
        assert (await asyncio.wait_for(device.stdout.readline(), 10)).strip() == b"ready"
        await until(lambda: recorder.kinds("door-1") == ["device.online"])
        device.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker publishes the Will
        await device.wait()
        await until(lambda: recorder.kinds("door-1") == ["device.online", "device.offline"])
        assert not next(d for d in mqtt.inventory() if d.id == "door-1").online

        started = time.monotonic()
        result = await run(mqtt, "door-1", "open")
        assert result.status == "failed" and "offline" in result.detail
        assert time.monotonic() - started < 0.1

    async def test_events_sent_while_the_bridge_was_away_arrive_when_it_returns(
        self, site: str
    ) -> None:
        first = make_driver(site)
        await first.start(Recorder())
        await first.stop()  # a clean disconnect: the broker keeps the session
        async with aiomqtt.Client(HOST, PORT) as device:
            payload = (FIXTURES / "event_access_granted.json").read_bytes()
            await device.publish(f"anju/{site}/door-1/event", payload, qos=1)
        again, recorder = make_driver(site), Recorder()
        await again.start(recorder)
        try:
            await until(lambda: recorder.kinds("door-1") == ["access.granted"])
        finally:
            await again.stop()
            await forget(site)


class TestMalformed:
    async def test_recorded_bad_payloads_are_logged_and_ignored(
        self, logs: list[MutableMapping[str, Any]], site: str, driver: tuple[MqttDriver, Recorder]
    ) -> None:
        _, recorder = driver
        bad = {
            "event": [
                "event_truncated.json",
                "event_not_object.json",
                "event_missing_kind.json",
                "event_kind_not_dotted.json",
                "event_data_not_object.json",
                "event_gbk.bin",
            ],
            "result": ["result_missing_status.json"],
            "status": ["status_online_string.json"],
        }
        async with aiomqtt.Client(HOST, PORT) as device:
            for channel, files in bad.items():
                for name in files:
                    payload = (FIXTURES / name).read_bytes()
                    await device.publish(f"anju/{site}/door-1/{channel}", payload, qos=1)
            good = (FIXTURES / "event_access_granted.json").read_bytes()
            await device.publish(f"anju/{site}/ghost-9/event", good, qos=1)  # not on the site
            await device.publish(f"anju/{site}/door-1/event", good, qos=1)
        await until(lambda: recorder.kinds("door-1") == ["access.granted"])
        malformed = events_named(logs, "bridge.mqtt.malformed")
        assert len(malformed) == 8
        assert {m["channel"] for m in malformed} == {"event", "result", "status"}
        assert not any(
            "北门" in str(m) or "p-42" in str(m) for m in malformed
        )  # no payloads in logs
        assert events_named(logs, "bridge.mqtt.unknown_device")[0]["device"] == "ghost-9"
        _, _, data, at = next(e for e in recorder.events if e[0] == "access.granted")
        assert data["person"] == "p-42" and at == 1767225601.25  # no known skew: as sent


@pytest.mark.req("PLAT-19", partial=True)
class TestAcknowledgedAfterCommit:
    async def test_an_uncommitted_event_is_redelivered_and_a_repeated_one_stored_once(
        self, site: str, tmp_path: Path, logs: list[MutableMapping[str, Any]]
    ) -> None:
        outbox = await Outbox.open(tmp_path / "outbox.sqlite3")
        failures = {1: "before the commit", 2: "after the commit"}  # once each
        last_stored = asyncio.Event()

        async def emit(
            kind: str,
            device: str,
            data: dict[str, Any],
            at: float | None = None,
            *,
            key: str | None = None,
        ) -> None:
            failure = failures.get(data["n"])
            if failure == "before the commit":
                del failures[data["n"]]
                raise OSError("disk I/O error")  # the outbox could not commit it
            assert key is not None
            await outbox.append_once(key, kind, device, at, data)
            if data["n"] == 6:
                last_stored.set()
            if failure == "after the commit":
                del failures[data["n"]]
                raise OSError("gone before the acknowledgement")  # as if the bridge died here

        driver = make_driver(site)
        await driver.start(emit)
        topic = f"anju/{site}/door-1/event"
        readings = [
            {"kind": "sensor.reading", "at": 1767225600.0 + n, "data": {"n": n}} for n in range(4)
        ]
        with_id = {"kind": "access.granted", "id": "e-4", "data": {"n": 4}}
        same = {"kind": "sensor.reading", "data": {"n": 5}}  # no id, no time: twice, both real
        try:
            async with aiomqtt.Client(HOST, PORT) as device:
                last = {"kind": "sensor.reading", "data": {"n": 6}}
                for payload in [*readings, with_id, with_id, same, same, last]:  # e-4: resent
                    await device.publish(topic, json.dumps(payload), qos=1)
            await asyncio.wait_for(last_stored.wait(), 10)  # in order: every earlier one handled
        finally:
            await driver.stop()
            await forget(site)
        stored = await outbox.pending(limit=100)
        await outbox.close()
        assert [e.data["n"] for e in stored] == [0, 1, 2, 3, 4, 5, 5, 6]
        assert not failures
        failed = events_named(logs, "bridge.mqtt.handler_failed")
        assert len(failed) == 2 and all(f["device"] == "door-1" for f in failed)
        assert len(events_named(logs, "bridge.mqtt.reconnecting_for_redelivery")) == 2
