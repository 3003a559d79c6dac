"""A reader on MQTT (the real Mosquitto): its `credential` message goes to the bridge's decision,
a grant opens the door with an ordinary `open` command to the device, and a refusal is shown
there with an `indicate` command.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from device_bridge import protocol as p
from device_bridge.access import AccessControl
from device_bridge.access_cache import CredentialCache
from tests.device_bridge.drivers.mqtt.fake_device import HOST, PORT, FakeDevice
from tests.device_bridge.drivers.mqtt.test_driver import forget, make_driver, until
from tests.device_bridge.drivers.sim.test_driver import Recorder
from tests.device_bridge.fake_platform import Issuer
from tests.device_bridge.helpers import events_named


@pytest.mark.req("ACC-06", "ACC-14")
@pytest.mark.req("ACC-16", partial=True)
async def test_mqtt_reader_credential_is_decided_by_the_bridge(
    tmp_path: Path, logs: list[MutableMapping[str, Any]]
) -> None:
    site = f"t{uuid.uuid4().hex[:10]}"
    issuer = Issuer()
    cache = await CredentialCache.open(tmp_path / "credentials.sqlite3")
    entry = p.CredentialEntry(
        id="c-42", kind="card", doors=["door-1"], digests=[issuer.digest("card", "42")]
    )
    assert await cache.apply(issuer.frame([entry], full=True))
    driver, recorder = make_driver(site), Recorder()
    decided: list[tuple[str, str, dict[str, Any]]] = []

    async def record(kind: str, device: str, data: dict[str, Any]) -> int:
        decided.append((kind, device, data))
        return len(decided)

    async def execute(device: str, action: str, args: dict[str, Any]) -> p.CommandResult:
        command = p.Command(
            id=uuid.uuid4().hex, device=device, action=action, args=args, deadline=time.time() + 5
        )
        return await driver.execute(command)

    control = AccessControl(
        cache,
        record=record,
        execute=execute,
        kinds={d.id: d.kind for d in driver.inventory()}.get,
    )
    await driver.start(recorder, control.present)
    try:
        async with (
            FakeDevice(site, "door-1") as door,
            aiomqtt.Client(HOST, PORT) as reader,
        ):
            topic = f"anju/{site}/door-1/credential"
            await reader.publish(topic, json.dumps({"method": "card", "value": "42"}), qos=1)
            await until(lambda: any(c["action"] == "open" for c in door.commands))
            await reader.publish(
                topic, json.dumps({"method": "card", "value": "43", "direction": "out"}), qos=1
            )
            await reader.publish(topic, json.dumps({"method": "iris", "value": "x"}), qos=1)
            stale = {"method": "card", "value": "42", "at": time.time() - 60}  # queued a minute
            await reader.publish(topic, json.dumps(stale), qos=1)
            await until(lambda: len(decided) == 2)
            await until(lambda: any(c["action"] == "indicate" for c in door.commands))
            await until(lambda: "door.opened" in recorder.kinds("door-1"))
            await until(lambda: bool(events_named(logs, "bridge.mqtt.malformed")))
            await until(lambda: bool(events_named(logs, "bridge.mqtt.stale_credential")))
        assert len(decided) == 2  # the stale read decided nothing
        assert decided[0] == (
            "access.granted",
            "door-1",
            {
                "method": "card",
                "direction": "in",
                "credential": "c-42",
                "person": None,
                "visitor_pass": None,
                "decided_by": "bridge",
            },
        )
        assert decided[1] == (
            "access.denied",
            "door-1",
            {"method": "card", "direction": "out", "reason": "unknown"},
        )
        assert [c["args"] for c in door.commands if c["action"] == "open"] == [{}]
        assert [c["args"] for c in door.commands if c["action"] == "indicate"] == [
            {"result": "denied", "reason": "unknown", "light": "red", "beeps": 3}
        ]
        malformed = events_named(logs, "bridge.mqtt.malformed")
        assert [e["channel"] for e in malformed] == ["credential"]
    finally:
        await driver.stop()
        await cache.close()
        await forget(site)
