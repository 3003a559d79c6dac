"""The bridge process with MQTT devices, SIGKILLed while events stream in through Mosquitto.

A device's QoS 1 event is acknowledged to the broker only after the bridge committed it, so a kill
loses nothing the broker handed over, and what the broker hands over again is stored once.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from pathlib import Path

import aiomqtt
import pytest

from device_bridge.outbox import Outbox
from device_bridge.settings import BridgeSettings
from tests.device_bridge.drivers.mqtt.fake_device import HOST, PORT
from tests.device_bridge.fake_platform import FakePlatform
from tests.device_bridge.helpers import bridge_process

EVENTS = 2000
AHEAD = 600  # events the device may be ahead of the platform: Mosquitto queues 1000 at most
KILL_AT = 400  # stored on the platform when the bridge is killed

SITE = """
[site]
name = "测试小区"

[mqtt]
host = "{host}"
port = {port}
site = "{site}"
client_id = "bridge-{site}"

[[devices]]
id = "meter-1"
kind = "temperature_sensor"
name = "1栋 温度"
driver = "mqtt"
"""


async def forget(site: str) -> None:
    """Remove the bridge's persistent session from the broker."""
    async with aiomqtt.Client(HOST, PORT, identifier=f"bridge-{site}", clean_session=True):
        pass


def stored(platform: FakePlatform) -> list[int]:
    """The `n` of every event the platform stored, duplicates included."""
    return [e.data["n"] for e in platform.events.values()]


def progress(platform: FakePlatform) -> int:
    """The `n` of the event the platform stored last (seqs run from 1 without a gap), or -1."""
    last = platform.events.get(len(platform.events))
    return -1 if last is None else int(last.data["n"])


async def stream(site: str, platform: FakePlatform) -> None:
    """The device: EVENTS readings at QoS 1, never more than AHEAD past the platform's progress."""
    topic = f"anju/{site}/meter-1/event"
    async with aiomqtt.Client(HOST, PORT, identifier=f"dev-{site}") as device:
        for n in range(EVENTS):
            await platform.wait_for(lambda n=n: n - progress(platform) <= AHEAD, timeout=30)
            reading = {"kind": "sensor.reading", "at": time.time(), "data": {"n": n, "c": 21.5}}
            if n % 2:
                reading["id"] = f"r-{n}"  # half with the device's event id, half without
            await device.publish(topic, json.dumps(reading), qos=1)


@pytest.mark.req("PLAT-19", partial=True)
async def test_2000_mqtt_events_stored_exactly_once_after_sigkill_and_restart(
    bridge_settings: BridgeSettings, platform: FakePlatform, tmp_path: Path
) -> None:
    site = f"t{uuid.uuid4().hex[:10]}"
    config = tmp_path / "site.toml"
    config.write_text(SITE.format(host=HOST, port=PORT, site=site), encoding="utf-8")
    bridges = [await bridge_process(bridge_settings, config=config)]
    try:
        await platform.wait_for(lambda: bool(platform.inventories), timeout=15)  # subscribed
        device = asyncio.create_task(stream(site, platform))
        await platform.wait_for(lambda: len(platform.events) >= KILL_AT, timeout=20)
        bridges[0].send_signal(signal.SIGKILL)
        await bridges[0].wait()
        assert not device.done(), "killed mid-stream"

        bridges.append(await bridge_process(bridge_settings, config=config))
        await device
        # The broker delivers in order: once the last event is in, every earlier one was handled.
        await platform.wait_for(lambda: progress(platform) == EVENTS - 1, timeout=30)
        await platform.wait_for(lambda: platform.heartbeats[-1].outbox == 0)  # the last ack came
        bridges[1].send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(bridges[1].communicate(), 10)
        assert bridges[1].returncode == 0, stderr.decode()
    finally:
        for bridge in bridges:
            if bridge.returncode is None:
                bridge.kill()
                await bridge.wait()
        await forget(site)

    numbers = stored(platform)
    missing, twice = set(range(EVENTS)) - set(numbers), len(numbers) - len(set(numbers))
    assert (len(missing), twice) == (0, 0), f"{len(missing)} lost, {twice} stored twice"
    assert sorted(numbers) == list(range(EVENTS))  # each event stored exactly once
    assert platform.welcomes == 2
    async with await Outbox.open(bridge_settings.outbox_file) as outbox:
        assert await outbox.count() == 0
    repeated = stderr.count(b"bridge.event.repeated")
    print(f"redelivered after the kill and stored once: {repeated}")
