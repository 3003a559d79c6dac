"""A device speaking docs/mqtt-protocol.md over aiomqtt: it answers commands and has a Last Will.

In-process (`async with FakeDevice(...)`), or as a process to kill (the broker then publishes its
Last Will): `python -m tests.device_bridge.drivers.mqtt.fake_device SITE DEVICE`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from typing import Any

import aiomqtt

HOST, PORT = "127.0.0.1", 1883


class FakeDevice:
    """A door controller on MQTT. `silent` ignores commands; `skew` offsets its clock."""

    def __init__(self, site: str, device: str, *, silent: bool = False, skew: float = 0.0) -> None:
        self.site, self.device, self.silent, self.skew = site, device, silent, skew
        self.commands: list[dict[str, Any]] = []
        self.faces: dict[str, bytes] = {}  # face template id -> the enrolment photo
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    def topic(self, channel: str) -> str:
        """This device's topic for a channel."""
        return f"anju/{self.site}/{self.device}/{channel}"

    def clock(self) -> float:
        """The device's clock."""
        return time.time() + self.skew

    async def __aenter__(self) -> FakeDevice:
        will = aiomqtt.Will(self.topic("status"), json.dumps({"online": False}), qos=1, retain=True)
        self._client = aiomqtt.Client(
            HOST, PORT, identifier=f"dev-{self.site}-{self.device}", will=will, clean_session=True
        )
        await self._client.__aenter__()
        await self._client.subscribe(self.topic("cmd"), qos=1)
        status = {"online": True, "clock": self.clock()}
        await self._client.publish(self.topic("status"), json.dumps(status), qos=1, retain=True)
        self._task = asyncio.create_task(self._serve())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._client is not None and self._task is not None
        await self._client.publish(
            self.topic("status"), json.dumps({"online": False}), qos=1, retain=True
        )
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._client.__aexit__(None, None, None)

    async def event(self, kind: str, data: dict[str, Any]) -> None:
        """Report an event stamped with the device's clock."""
        assert self._client is not None
        payload = {"kind": kind, "at": self.clock(), "data": data}
        await self._client.publish(self.topic("event"), json.dumps(payload), qos=1)

    async def plate(self, read: dict[str, Any]) -> None:
        """A plate camera's read (docs/mqtt-protocol.md, `plate`)."""
        assert self._client is not None
        await self._client.publish(self.topic("plate"), json.dumps(read), qos=1)

    async def _serve(self) -> None:
        assert self._client is not None
        async for message in self._client.messages:
            command = json.loads(message.payload)  # type: ignore[arg-type]
            self.commands.append(command)
            if self.silent:
                continue
            result = await self._answer(command)
            await self._client.publish(self.topic("result"), json.dumps(result), qos=1)

    async def _answer(self, command: dict[str, Any]) -> dict[str, Any]:
        action, args = command["action"], command["args"]
        reply: dict[str, Any] = {"id": command["id"], "status": "ok", "detail": "", "data": {}}
        if action == "open":
            await self.event("door.opened", {"mode": "momentary"})
            reply["data"] = {"door": "open"}
        elif action == "face.enrol":
            self.faces[args["face"]] = base64.b64decode(args["photo_b64"])
            reply["data"] = {"face": args["face"]}
        elif action == "face.remove":
            reply["data"] = {"removed": self.faces.pop(args["face"], None) is not None}
        elif action == "show":  # an LED display
            reply["data"] = {"lines": len(args["lines"])}
        elif action == "broadcast":  # a speaker
            reply["data"] = {"duration_s": 1.0}
        elif action == "indicate":
            reply["data"] = {"indicated": args["result"]}
        elif action == "status":
            reply["data"] = {"online": True, "clock": self.clock()}
        elif action == "time.sync":
            self.skew = args["server_time"] - time.time()
            reply["data"] = {"clock": self.clock()}
        elif action == "snapshot":
            jpeg = b"\xff\xd8\xff\xe0fake-jpeg"
            reply["data"] = {
                "content_type": "image/jpeg",
                "data_b64": base64.b64encode(jpeg).decode(),
            }
        else:
            reply.update(status="unsupported", detail=f"no {action} here")
        return reply


async def _main(site: str, device: str) -> None:
    async with FakeDevice(site, device):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2]))
