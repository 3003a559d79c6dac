"""A lane of MQTT devices (the real Mosquitto): the camera's `plate` message is decided at the
bridge, which lifts the barrier and sends `show` to the LED display and `broadcast` to the speaker
(docs/mqtt-protocol.md); a repeated delivery is recorded once; a read queued too long lifts nothing.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from pathlib import Path

import msgspec
import pytest

from device_bridge import plate_image
from device_bridge.settings import BridgeSettings
from tests.device_bridge.drivers.mqtt.fake_device import FakeDevice
from tests.device_bridge.drivers.mqtt.test_driver import until
from tests.device_bridge.fake_platform import FakePlatform, Issuer
from tests.device_bridge.helpers import running
from tests.device_bridge.test_vehicles import plate, synced

SITE_FILE = """
[site]
name = "mqtt lane"

[mqtt]
site = "{site}"
client_id = "bridge-{site}"

[[devices]]
id = "lpr-in"
kind = "plate_camera"
name = "入口 车牌识别"
driver = "mqtt"
attrs = {{ barrier = "barrier-in", display = "led-in", speaker = "voice-in", province = "川" }}

[[devices]]
id = "barrier-in"
kind = "barrier"
name = "入口 道闸"
driver = "mqtt"

[[devices]]
id = "led-in"
kind = "display"
name = "入口 LED 屏"
driver = "mqtt"

[[devices]]
id = "voice-in"
kind = "speaker"
name = "入口 语音"
driver = "mqtt"
"""


@pytest.mark.req("VEH-03", "VEH-14", "PLAT-07", partial=True)
async def test_an_mqtt_cameras_read_lifts_the_barrier_and_is_shown_and_said(
    bridge_settings: BridgeSettings, platform: FakePlatform, tmp_path: Path
) -> None:
    site = f"t{uuid.uuid4().hex[:10]}"
    site_file = tmp_path / "site.toml"
    site_file.write_text(SITE_FILE.format(site=site), encoding="utf-8")
    settings = msgspec.structs.replace(bridge_settings, config=site_file)
    issuer = Issuer()
    image = plate_image.render("川A12345")
    async with (
        FakeDevice(site, "lpr-in") as camera,
        FakeDevice(site, "barrier-in") as arm,
        FakeDevice(site, "led-in") as led,
        FakeDevice(site, "voice-in") as voice,
        running(settings) as bridge,
    ):
        entry = plate(issuer, "川A12345", "car-1", doors=["barrier-in"])
        await synced(bridge, platform, issuer, [entry])
        await until(lambda: all(d.online for d in bridge.inventory()), timeout=10)
        read = {
            "id": "lpr-in-000001",
            "plate": "川A12345",
            "colour": "blue",
            "confidence": 0.97,
            "at": time.time(),
            "image_b64": base64.b64encode(image).decode(),
            "image_type": "image/jpeg",
        }
        await camera.plate(read)
        await until(lambda: bool(voice.commands), timeout=10)
        assert [c["action"] for c in arm.commands] == ["open"]
        show = led.commands[0]
        assert show["action"] == "show" and show["args"] == {
            "lines": ["川A12345", "欢迎回家"],
            "colour": "green",
            "seconds": 10,
        }
        assert voice.commands[0]["args"] == {"text": "欢迎回家 川A12345"}
        await camera.plate(read)  # the camera sends it again (it lost the broker's ack)
        stale = {**read, "id": "lpr-in-000002", "plate": "川A12345", "at": time.time() - 60}
        await camera.plate(stale)  # queued by the broker a minute ago

        async def reads() -> list[dict]:
            found = {e.seq: e for e in await bridge.outbox.pending(limit=1000)}
            found.update(platform.events)
            return [e.data for e in found.values() if e.kind == "plate.read"]

        got: list[dict] = []
        async with asyncio.timeout(10):
            while not any(d.get("reason") == "stale_read" for d in got):
                await asyncio.sleep(0.05)
                got = await reads()
        first, late = sorted(got, key=lambda d: d.get("reason") == "stale_read")
        assert (first["decision"], first["reason"], first["credential"]) == (
            "granted",
            "resident",
            "car-1",
        )
        assert base64.b64decode(first["image_b64"]) == image
        assert (late["decision"], late["reason"]) == ("ignored", "stale_read")
        assert [c["action"] for c in arm.commands] == ["open"]  # lifted once
        assert len(await reads()) == 2  # the repeat was not recorded again
