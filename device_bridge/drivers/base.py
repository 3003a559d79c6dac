"""The one interface every device driver implements, and the invariants it enforces.

The public methods are final: they check that the device is known, the deadline ahead and the action
in the device kind's contract, then call the driver's hooks under a timeout at the deadline.
A driver's `client.py` translates its wire errors into `DeviceUnavailable` at the boundary.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, final

import structlog

from device_bridge.protocol import (
    MAINTENANCE_ACTIONS,
    Command,
    CommandResult,
    CommandStatus,
    DeviceInfo,
    DeviceKind,
)

if TYPE_CHECKING:
    from device_bridge.access import Decision

log = structlog.get_logger(__name__)


class DeviceUnavailable(Exception):
    """The device cannot be reached or is offline; the command fails with this detail."""


class DeviceError(Exception):
    """The device answered that it did not do it; `status`: "failed", "unsupported" or "timeout"."""

    def __init__(self, detail: str, *, status: CommandStatus = "failed") -> None:
        super().__init__(detail)
        self.status: CommandStatus = status


class InvalidArguments(ValueError):
    """The command's arguments do not fit the action (missing, wrong type, out of range)."""


class Emit(Protocol):
    """The runtime's callback: commit an event to the outbox (`at`: bridge clock, default now).

    It returns once the event is committed, so a driver may then acknowledge it to the device.
    With a `key` (what identifies a delivery the device may repeat), an event already committed
    under that key is not stored again.
    """

    async def __call__(
        self,
        kind: str,
        device: str,
        data: dict[str, Any],
        at: float | None = None,
        *,
        key: str | None = None,
    ) -> None: ...


class Present(Protocol):
    """The runtime's callback: a credential read at a reader, for the bridge to decide."""

    async def __call__(
        self,
        door: str,
        method: str,
        value: str,
        direction: str = "in",
        floor: int | None = None,
    ) -> Decision: ...


COMMON_ACTIONS = MAINTENANCE_ACTIONS  # every kind
MEDIA_ACTIONS = frozenset({"media.offer", "media.close"})  # WebRTC sessions (device_bridge/media)
FACE_ACTIONS = frozenset({"face.enrol", "face.remove"})  # readers that match faces themselves
CALL_ACTIONS = MEDIA_ACTIONS | {"intercom.media", "intercom.hangup"}  # devices that make calls
_KIND_ACTIONS: dict[str, frozenset[str]] = {
    "door_controller": frozenset({"open", "lock", "unlock", "indicate"}) | FACE_ACTIONS,
    "barrier": frozenset({"open", "close", "unlock", "lock"}),  # unlock: held up until lock
    "camera": frozenset({"snapshot", "preset"}) | MEDIA_ACTIONS,
    "plate_camera": frozenset({"snapshot"}),
    "speaker": frozenset({"broadcast"}),
    "display": frozenset({"show"}),  # LED lines at a lane (docs/vehicles.md)
    "lift": frozenset({"call", "release", "indicate"}) | CALL_ACTIONS | FACE_ACTIONS,
    "door_station": CALL_ACTIONS,
    "indoor_station": MEDIA_ACTIONS,
    "intrusion_zone": frozenset({"arm", "disarm"}),
}


def supported_actions(kind: DeviceKind) -> frozenset[str]:
    """The actions the adapter contract defines for a device kind (docs/bridge.md)."""
    return COMMON_ACTIONS | _KIND_ACTIONS.get(kind, frozenset())


def has_own_lock(kind: str, attrs: dict[str, Any]) -> bool:
    """A door station that drives its own lock (`lock = true`): one device, station and door.

    Standard 6.7.3: the intercom and the access control share the outdoor station.
    """
    return kind == "door_station" and attrs.get("lock") is True


def device_actions(kind: DeviceKind, attrs: dict[str, Any]) -> frozenset[str]:
    """The actions of one device: its kind's, and a door's when it is a station with a lock."""
    actions = supported_actions(kind)
    return actions | _KIND_ACTIONS["door_controller"] if has_own_lock(kind, attrs) else actions


class Driver(ABC):
    """A set of devices spoken to through one protocol (`sim`, `mqtt`, …)."""

    name = "base"

    def __init__(self, devices: Iterable[DeviceInfo]) -> None:
        self.devices: dict[str, DeviceInfo] = {d.id: d for d in devices}
        self._emit: Emit | None = None
        self._present: Present | None = None

    # -- public, final: the invariants ------------------------------------------------------------

    @final
    async def start(self, emit: Emit, present: Present | None = None) -> None:
        """Begin driving the devices; events go to `emit`, credentials read to `present`."""
        self._emit = emit
        self._present = present
        await self._start()
        log.info("bridge.driver.started", driver=self.name, devices=len(self.devices))

    @final
    async def execute(self, command: Command, *, now: float | None = None) -> CommandResult:
        """Run a platform command; `now` is the current time on the platform's clock, if known."""
        result = await self._guarded(command, time.time() if now is None else now)
        log.info(
            "bridge.command.done",
            command_id=command.id,
            device=command.device,
            action=command.action,
            status=result.status,
            detail=result.detail or None,
        )
        return result

    @final
    async def stop(self) -> None:
        """Stop driving the devices and release the connections."""
        await self._stop()
        self._emit = None
        self._present = None
        log.info("bridge.driver.stopped", driver=self.name)

    def inventory(self) -> list[DeviceInfo]:
        """The devices with their current online state."""
        return list(self.devices.values())

    def clock_skews(self) -> dict[str, float]:
        """Device clock minus bridge clock, in seconds, for devices whose clock is known."""
        return {}

    def handles(self, device: str) -> bool:
        """Whether this driver drives `device`."""
        return device in self.devices

    async def emit(
        self,
        kind: str,
        device: str,
        data: dict[str, Any] | None = None,
        at: float | None = None,
        *,
        key: str | None = None,
    ) -> None:
        """Commit an event through the runtime; returns once it is committed (see `Emit`).

        Before start or after stop it is dropped with a warning.
        """
        if self._emit is None:
            log.warning("bridge.driver.event_dropped", driver=self.name, device=device, kind=kind)
            return
        await self._emit(kind, device, data or {}, at, key=key)

    async def credential(
        self,
        door: str,
        method: str,
        value: str,
        direction: str = "in",
        floor: int | None = None,
    ) -> Decision:
        """Hand a credential read at `door` to the bridge's access decision; what it decided."""
        if self._present is None:
            raise DeviceUnavailable("the bridge takes no credentials before start or after stop")
        return await self._present(door, method, value, direction, floor)

    async def _guarded(self, command: Command, now: float) -> CommandResult:
        def result(
            status: CommandStatus, detail: str = "", data: dict[str, Any] | None = None
        ) -> CommandResult:
            return CommandResult(id=command.id, status=status, detail=detail, data=data or {})

        device = self.devices.get(command.device)
        if device is None:
            return result("failed", "unknown device")
        remaining = command.deadline - now
        if remaining <= 0:
            return result("timeout", "deadline passed before the command started")
        if command.action not in device_actions(device.kind, device.attrs):
            return result("unsupported", f"{device.kind} does not support {command.action!r}")
        try:
            # asyncio.timeout rather than wait_for: on 3.11 wait_for may swallow a cancellation.
            async with asyncio.timeout(remaining):
                data = await self._execute(
                    device,
                    command.action,
                    dict(command.args),
                    command_id=command.id,
                    deadline=time.time() + remaining,
                )
        except TimeoutError:
            return result("timeout", "device did not answer before the deadline")
        except DeviceUnavailable as err:
            return result("failed", str(err) or "device unavailable")
        except DeviceError as err:
            return result(err.status, str(err))
        except InvalidArguments as err:
            return result("failed", f"invalid arguments: {err}")
        except Exception:
            log.exception("bridge.command.crashed", command_id=command.id, device=device.id)
            return result("failed", "internal error in the driver")
        return result("ok", data=data)

    # -- hooks ------------------------------------------------------------------------------------

    @abstractmethod
    async def _start(self) -> None:
        """Connect to the devices (the emit callback is set)."""

    @abstractmethod
    async def _execute(
        self,
        device: DeviceInfo,
        action: str,
        args: dict[str, Any],
        *,
        command_id: str,
        deadline: float,
    ) -> dict[str, Any]:
        """Do `action` on `device`; return the result data. `deadline` is on the bridge clock."""

    @abstractmethod
    async def _stop(self) -> None:
        """Disconnect from the devices."""
