"""The MQTT driver: devices that speak the JSON-over-MQTT protocol of docs/mqtt-protocol.md."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Coroutine, Iterable
from typing import Any

import msgspec
import structlog

from device_bridge.drivers.base import DeviceError, DeviceUnavailable, Driver
from device_bridge.drivers.mqtt.client import Delivery, MqttClient
from device_bridge.protocol import CommandStatus, DeviceInfo

log = structlog.get_logger(__name__)


class ResultPayload(msgspec.Struct, kw_only=True):
    """`anju/{site}/{device}/result`."""

    id: str
    status: CommandStatus
    detail: str = ""
    data: dict[str, Any] = {}


class EventPayload(msgspec.Struct, kw_only=True):
    """`anju/{site}/{device}/event`; `at` is the device's clock, `id` the device's event id."""

    kind: str
    at: float | None = None
    data: dict[str, Any] = {}
    id: str | None = None


class StatusPayload(msgspec.Struct, kw_only=True):
    """`anju/{site}/{device}/status` (retained; the device's Last Will says offline)."""

    online: bool
    clock: float | None = None


class CredentialPayload(msgspec.Struct, kw_only=True):
    """`anju/{site}/{device}/credential`: a card, PIN, keypad code, QR text or face match read."""

    method: str
    value: str
    direction: str = "in"
    floor: int | None = None
    at: float | None = None  # when it was read, device clock


class PlatePayload(msgspec.Struct, kw_only=True):
    """`anju/{site}/{camera}/plate`: a plate camera's read, for the bridge to decide at its lane.

    `plate` is "" when the camera read none (the recogniser's, device_bridge/recognise.py); the
    snapshot comes inline as `image_b64` (JPEG, at most `IMAGE_MAX` bytes decoded)."""

    plate: str = ""
    colour: str = ""
    confidence: float = 0.0
    vehicle_type: str = ""
    image_b64: str = ""
    image_type: str = "image/jpeg"
    at: float | None = None  # when it was read, device clock
    id: str | None = None  # the camera's id of this read (a repeat is the same read)


STALE_READ = 10.0  # seconds after which a queued credential or plate read opens nothing
IMAGE_MAX = 256 * 1024  # bytes of a plate read's snapshot (base64: a third more)


_PAYLOADS: dict[str, type[msgspec.Struct]] = {
    "result": ResultPayload,
    "event": EventPayload,
    "status": StatusPayload,
    "credential": CredentialPayload,
    "plate": PlatePayload,
}


class MqttDriver(Driver):
    """Commands out on `…/cmd`, results, events and status back; one broker connection."""

    name = "mqtt"

    def __init__(
        self,
        devices: Iterable[DeviceInfo],
        *,
        host: str,
        port: int,
        site: str,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__(devices)
        for device in self.devices.values():
            device.online = False  # until the device's retained status says otherwise
        self._status_seen: set[str] = set()
        self._skews: dict[str, float] = {}
        self._waiting: dict[str, asyncio.Future[ResultPayload]] = {}
        self._decisions: set[asyncio.Task[None]] = set()
        self.client = MqttClient(
            host=host,
            port=port,
            site=site,
            client_id=client_id,
            on_message=self._on_message,
            username=username,
            password=password,
        )

    async def _start(self) -> None:
        await self.client.start()

    async def _stop(self) -> None:
        await self.client.close()
        for future in self._waiting.values():
            future.cancel()
        for task in list(self._decisions):
            task.cancel()
        await asyncio.gather(*self._decisions, return_exceptions=True)

    def clock_skews(self) -> dict[str, float]:
        """Skews of devices that reported their clock in a status message."""
        return {d: round(s, 3) for d, s in self._skews.items()}

    async def _execute(
        self,
        device: DeviceInfo,
        action: str,
        args: dict[str, Any],
        *,
        command_id: str,
        deadline: float,
    ) -> dict[str, Any]:
        if device.id in self._status_seen and not device.online:
            raise DeviceUnavailable(f"device {device.id} is offline")
        if command_id in self._waiting:
            raise DeviceError(f"command {command_id} is already in progress")
        future: asyncio.Future[ResultPayload] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = future
        try:
            payload = {
                "id": command_id,
                "action": action,
                "args": _encode_binary(args),
                "deadline": deadline,
            }
            await self.client.send_command(device.id, payload)
            result = await future
        finally:
            self._waiting.pop(command_id, None)
        if result.status != "ok":
            raise DeviceError(
                result.detail or f"device answered {result.status}", status=result.status
            )
        clock = result.data.get("clock")
        if isinstance(clock, int | float) and not isinstance(clock, bool):
            self._skews[device.id] = clock - time.time()  # status and time.sync report the clock
        return _decode_binary(result.data)

    async def _on_message(
        self, device: str, channel: str, raw: dict[str, Any], delivery: Delivery
    ) -> None:
        if device not in self.devices:
            log.warning("bridge.mqtt.unknown_device", device=device, channel=channel)
            return
        try:
            payload = msgspec.convert(raw, _PAYLOADS[channel])
        except msgspec.ValidationError as err:
            log.warning("bridge.mqtt.malformed", device=device, channel=channel, error=str(err))
            return
        if isinstance(payload, ResultPayload):
            future = self._waiting.get(payload.id)
            if future is None or future.done():
                log.info("bridge.mqtt.late_result", device=device, command_id=payload.id)
            else:
                future.set_result(payload)
        elif isinstance(payload, EventPayload):
            await self._on_event(device, payload, delivery)
        elif isinstance(payload, StatusPayload):
            await self._on_status(device, payload)
        elif isinstance(payload, PlatePayload):
            # A task, as a credential's: the decision lifts the barrier with a command whose
            # result this same connection delivers.
            self._decide(self._on_plate(device, payload, delivery))
        elif isinstance(payload, CredentialPayload):
            # A task: the decision opens the door with a command whose result this reader delivers.
            self._decide(self._on_credential(device, payload))

    def _decide(self, decision: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(decision)
        self._decisions.add(task)
        task.add_done_callback(self._decisions.discard)

    async def _on_credential(self, device: str, read: CredentialPayload) -> None:
        if read.at is not None:
            age = time.time() - (read.at - self._skews.get(device, 0.0))
            if age > STALE_READ:
                log.warning("bridge.mqtt.stale_credential", device=device, age=round(age, 1))
                return
        try:
            await self.credential(device, read.method, read.value, read.direction, read.floor)
        except ValueError as err:
            log.warning(
                "bridge.mqtt.malformed", device=device, channel="credential", error=str(err)
            )
        except Exception:
            log.exception("bridge.mqtt.credential_failed", device=device)

    async def _on_plate(self, device: str, read: PlatePayload, delivery: Delivery) -> None:
        """A camera's read: the bridge decides it at the camera's lane (device_bridge/vehicles.py).
        A read the broker queued past `STALE_READ` is recorded, undecided: the car has gone, and
        lifting the barrier now would let in whoever is there."""
        if self.devices[device].kind != "plate_camera":
            log.warning("bridge.mqtt.malformed", device=device, channel="plate", error="no camera")
            return
        if len(read.image_b64) > IMAGE_MAX * 4 // 3 + 4:
            log.warning("bridge.mqtt.image_too_large", device=device, size=len(read.image_b64))
            read.image_b64 = ""
        data: dict[str, Any] = {
            "plate": read.plate,
            "confidence": read.confidence,
            **{k: v for k in ("colour", "vehicle_type") if (v := getattr(read, k))},
        }
        if read.image_b64:
            data.update(image_b64=read.image_b64, image_type=read.image_type[:40])
        at = None if read.at is None else read.at - self._skews.get(device, 0.0)
        if at is not None and time.time() - at > STALE_READ:
            log.warning("bridge.mqtt.stale_plate", device=device, age=round(time.time() - at, 1))
            data.update(decision="ignored", reason="stale_read")
        key = event_key(device, EventPayload(kind="plate.read", id=read.id), delivery)
        try:
            await self.emit("plate.read", device, data, at, key=key)
        except Exception:
            log.exception("bridge.mqtt.plate_failed", device=device)

    async def _on_event(self, device: str, event: EventPayload, delivery: Delivery) -> None:
        if not event.kind or "." not in event.kind:
            log.warning("bridge.mqtt.malformed", device=device, channel="event", error="bad kind")
            return
        at = None if event.at is None else event.at - self._skews.get(device, 0.0)
        await self.emit(event.kind, device, event.data, at, key=event_key(device, event, delivery))

    async def _on_status(self, device: str, status: StatusPayload) -> None:
        info = self.devices[device]
        if status.clock is not None:
            self._skews[device] = status.clock - time.time()
        first = device not in self._status_seen
        self._status_seen.add(device)
        if info.online == status.online and not first:
            return
        info.online = status.online
        log.info("bridge.mqtt.device_status", device=device, online=status.online)
        await self.emit("device.online" if status.online else "device.offline", device, {})


def event_key(device: str, event: EventPayload, delivery: Delivery) -> str:
    """What makes a delivery of this event the same as an earlier one (docs/mqtt-protocol.md).

    With the device's event `id`: the id and the payload, which a device's own resend repeats too.
    Without: the packet id and the payload, which the broker's redelivery repeats.
    """
    if event.id:
        return f"mqtt:{device}:id:{event.id}:{delivery.digest}"
    return f"mqtt:{device}:mid:{delivery.mid}:{delivery.digest}"


def _encode_binary(args: dict[str, Any]) -> dict[str, Any]:
    """JSON has no bytes: an argument `x` of bytes (a face photo) goes as `x_b64`, base64."""
    return {
        f"{k}_b64" if isinstance(v, bytes) else k: base64.b64encode(v).decode()
        if isinstance(v, bytes)
        else v
        for k, v in args.items()
    }


def _decode_binary(data: dict[str, Any]) -> dict[str, Any]:
    """JSON has no bytes: a device sends `data_b64`, the platform gets `data` as bytes."""
    if "data_b64" not in data:
        return data
    out = {k: v for k, v in data.items() if k != "data_b64"}
    try:
        out["data"] = base64.b64decode(data["data_b64"], validate=True)
    except (binascii.Error, TypeError, ValueError) as err:
        raise DeviceError(f"device sent bad base64 data: {err}") from err
    return out
