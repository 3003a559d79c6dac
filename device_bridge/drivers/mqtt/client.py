"""The only code that speaks MQTT (aiomqtt): topics, JSON payloads, reconnects.

The protocol is docs/mqtt-protocol.md.

A persistent session (fixed client id, clean_session=False, QoS 1) keeps the broker queueing device
events while the bridge is away. A message is acknowledged (PUBACK) only after its handler returned,
i.e. after the event it carries is committed to the outbox: a bridge that dies before that gets the
message again from the broker. A handler that fails leaves its message unacknowledged and the
connection is made again, so the broker redelivers it. Broker errors become `DeviceUnavailable`
here, at the boundary.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import aiomqtt
import structlog

from device_bridge.drivers.base import DeviceUnavailable, InvalidArguments

log = structlog.get_logger(__name__)

CHANNELS = ("result", "event", "status", "credential", "plate")


class Delivery(NamedTuple):
    """How a message arrived: its MQTT packet id and a digest of its payload bytes.

    The broker redelivers an unacknowledged message with the same packet id and the same bytes.
    """

    mid: int
    digest: str


OnMessage = Callable[[str, str, dict[str, Any], Delivery], Awaitable[None]]


class HandlerFailed(Exception):
    """A message's handler raised: the message stays unacknowledged for the broker to redeliver."""


class MqttClient:
    """One persistent connection to the broker for every MQTT device of a site."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        site: str,
        client_id: str,
        on_message: OnMessage,
        username: str | None = None,
        password: str | None = None,
        reconnect_max: float = 10.0,
    ) -> None:
        self.host, self.port, self.site, self.client_id = host, port, site, client_id
        self._credentials = (username, password)
        self._on_message = on_message
        self._reconnect_max = reconnect_max
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def topic(self, device: str, channel: str) -> str:
        """`anju/{site}/{device}/{channel}`."""
        return f"anju/{self.site}/{device}/{channel}"

    async def start(self, *, wait: float = 5.0) -> None:
        """Connect in the background; wait up to `wait` seconds for the first connection."""
        self._task = asyncio.create_task(self._run(), name=f"mqtt-{self.site}")
        try:
            async with asyncio.timeout(wait):
                await self.connected.wait()
        except TimeoutError:
            log.warning("bridge.mqtt.not_connected_yet", host=self.host, port=self.port)

    async def close(self) -> None:
        """Disconnect (cleanly: the persistent session stays on the broker)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.connected.clear()

    async def send_command(self, device: str, payload: dict[str, Any]) -> None:
        """Publish a command (QoS 1); DeviceUnavailable when the broker cannot take it."""
        client = self._client
        if client is None or not self.connected.is_set():
            raise DeviceUnavailable("MQTT broker not connected")
        try:
            body = json.dumps(payload)
        except (TypeError, ValueError) as err:
            raise InvalidArguments(f"arguments cannot be sent as JSON: {err}") from err
        try:
            await client.publish(self.topic(device, "cmd"), body, qos=1, timeout=5)
        except aiomqtt.MqttError as err:
            raise DeviceUnavailable(f"MQTT publish failed: {err}") from err

    async def _run(self) -> None:
        delay, failing = 0.5, False
        username, password = self._credentials
        while True:
            try:
                client = aiomqtt.Client(
                    self.host,
                    self.port,
                    identifier=self.client_id,
                    clean_session=False,
                    username=username,
                    password=password,
                    timeout=10,
                )
                # Before connecting: the broker redelivers the session's messages at once. aiomqtt
                # has no option for paho's manual acknowledgement, so it is set on paho's client.
                client._client.manual_ack_set(True)
                async with client:
                    await client.subscribe([(self.topic("+", c), 1) for c in CHANNELS])
                    self._client = client
                    self.connected.set()
                    if not failing:  # a handler that keeps failing keeps backing off
                        delay = 0.5
                    log.info(
                        "bridge.mqtt.connected", host=self.host, port=self.port, site=self.site
                    )
                    async for message in client.messages:
                        await self._dispatch(message)
                        # After the handler: an event is in the outbox before the broker forgets it.
                        client._client.ack(message.mid, message.qos)
                        failing, delay = False, 0.5
            except aiomqtt.MqttError as err:
                log.warning("bridge.mqtt.disconnected", error=str(err), retry_in=round(delay, 2))
            except HandlerFailed:
                failing = True
                log.warning("bridge.mqtt.reconnecting_for_redelivery", retry_in=round(delay, 2))
            finally:
                self._client = None
                self.connected.clear()
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(self._reconnect_max, delay * 2)

    async def _dispatch(self, message: aiomqtt.Message) -> None:
        """Hand a message to the handler; returns when it may be acknowledged (or is ignored)."""
        parts = message.topic.value.split("/")
        if (
            len(parts) != 4
            or parts[0] != "anju"
            or parts[1] != self.site
            or parts[3] not in CHANNELS
        ):
            log.warning("bridge.mqtt.unexpected_topic", topic=message.topic.value)
            return
        device, channel = parts[2], parts[3]
        raw = message.payload
        size = len(raw) if isinstance(raw, bytes | bytearray | str) else 0
        if channel == "status" and raw in (b"", None):
            return  # a cleared retained status
        try:
            if not isinstance(raw, bytes | bytearray | str):
                raise TypeError("payload is not text")
            payload = json.loads(raw)
            if not isinstance(payload, dict):
                raise TypeError("payload is not a JSON object")
        except (ValueError, TypeError) as err:  # JSON and Unicode decode errors are ValueErrors
            log.warning(
                "bridge.mqtt.malformed", device=device, channel=channel, size=size, error=str(err)
            )
            return
        body = raw.encode() if isinstance(raw, str) else bytes(raw)
        delivery = Delivery(message.mid, hashlib.sha256(body).hexdigest()[:32])
        try:
            await self._on_message(device, channel, payload, delivery)
        except Exception as err:
            log.exception("bridge.mqtt.handler_failed", device=device, channel=channel)
            raise HandlerFailed from err
