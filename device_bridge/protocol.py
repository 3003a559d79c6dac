"""The wire between a site's bridge and the platform: msgspec tagged unions in MessagePack frames.

This is the only bridge module the platform imports. One WebSocket, opened by the bridge:

    platform → Challenge(nonce)
    bridge   → Hello(bridge_id, signature over the nonce)      (Ed25519 key from enrolment)
    platform → Welcome(last_seq)  or  Refused(reason) and close
    bridge   → Inventory(devices)                               (the devices the bridge drives)
    then, either way, any time:
    bridge   → EventBatch(events) … platform → Ack(seq)         (cumulative: all seq ≤ it stored)
    platform → Command(...)       … bridge   → CommandResult(...)
    bridge   → Heartbeat(...)     … platform → HeartbeatAck(...) (clock skew; liveness both ways)
    platform → Reject(reason, seq?) for a frame it could not take (the link stays up)
    platform → Rules(version, rules) … bridge → RulesApplied(version)  (local fail-safe rules)
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

PROTOCOL = "anju-bridge/1"
DeviceKind = Literal[
    "door_controller",  # a door or gate with reader(s) and door sensor
    "door_station",  # intercom outdoor station (门口机)
    "indoor_station",
    "barrier",  # vehicle barrier gate
    "plate_camera",
    "camera",
    "intrusion_zone",
    "panic_button",
    "smoke_sensor",
    "water_sensor",
    "temperature_sensor",
    "gas_sensor",
    "lift",
    "speaker",
]
CommandStatus = Literal["ok", "failed", "timeout", "unsupported"]


def challenge_message(nonce: bytes, bridge_id: str) -> bytes:
    """What the bridge signs: protocol, bridge id and the platform's one-time nonce."""
    return PROTOCOL.encode() + b"\x00" + bridge_id.encode() + b"\x00" + nonce


class Frame(msgspec.Struct, tag_field="t", kw_only=True):
    """Base of every frame; the tag names the frame type on the wire."""


# -- platform → bridge ---------------------------------------------------------------------------


class Challenge(Frame, tag="challenge", kw_only=True):
    """A fresh random nonce to sign; never reused."""

    nonce: bytes
    server_time: float


class Welcome(Frame, tag="welcome", kw_only=True):
    """Authenticated. `last_seq`: the highest event seq the platform has stored for this bridge."""

    last_seq: int
    server_time: float


class Refused(Frame, tag="refused", kw_only=True):
    """Authentication failed; the platform closes the link after this frame."""

    reason: str


class Ack(Frame, tag="ack", kw_only=True):
    """Every event with seq ≤ `seq` is committed; the bridge may drop them from its outbox."""

    seq: int


class Command(Frame, tag="command", kw_only=True):
    """Do something on a device before `deadline` (Unix seconds, platform clock)."""

    id: str
    device: str
    action: str
    args: dict[str, Any] = {}
    deadline: float


class RuleAction(msgspec.Struct, kw_only=True):
    """One thing a local rule does: an action on one of the bridge's devices."""

    device: str
    action: str
    args: dict[str, Any] = {}


class LocalRule(msgspec.Struct, kw_only=True):
    """A fail-safe rule the bridge runs itself, also while the platform is unreachable.

    It fires on an event of kind `when_kind` from any of `when_devices` (empty: from any device).
    """

    id: str
    when_kind: str
    when_devices: list[str] = []
    then: list[RuleAction]


class Rules(Frame, tag="rules", kw_only=True):
    """Every local rule (replacing the previous set); sent after Welcome and on change."""

    version: int
    rules: list[LocalRule]


class HeartbeatAck(Frame, tag="heartbeat_ack", kw_only=True):
    """The platform's clock when it took the heartbeat (the bridge derives its skew from it)."""

    server_time: float
    sent_at: float


class Reject(Frame, tag="reject", kw_only=True):
    """A frame the platform could not take, with why. The link stays up."""

    reason: str
    seq: int | None = None


# -- bridge → platform ---------------------------------------------------------------------------


class Hello(Frame, tag="hello", kw_only=True):
    """The bridge's id and its Ed25519 signature over `challenge_message(nonce, bridge_id)`."""

    bridge_id: str
    signature: bytes
    version: str = "0"


class DeviceInfo(msgspec.Struct, kw_only=True):
    """One device the bridge drives: its id is unique within the bridge."""

    id: str
    kind: DeviceKind
    name: str
    driver: str
    online: bool = True
    attrs: dict[str, Any] = {}


class Inventory(Frame, tag="inventory", kw_only=True):
    """Every device of the bridge, sent after Welcome and whenever the configuration changes."""

    devices: list[DeviceInfo]


class Event(msgspec.Struct, kw_only=True):
    """Something a device did. `seq` is the bridge's own monotonic counter, never reused."""

    seq: int
    kind: str  # canonical: access.granted, door.opened, device.offline, alarm.intrusion, …
    device: str
    at: float  # Unix seconds, bridge clock
    data: dict[str, Any] = {}


class EventBatch(Frame, tag="events", kw_only=True):
    """Events in seq order, from the bridge's outbox."""

    events: list[Event]


class CommandResult(Frame, tag="result", kw_only=True):
    """The outcome of a Command."""

    id: str
    status: CommandStatus
    detail: str = ""
    data: dict[str, Any] = {}


class RulesApplied(Frame, tag="rules_applied", kw_only=True):
    """The bridge stored and runs this version of the local rules."""

    version: int


class Heartbeat(Frame, tag="heartbeat", kw_only=True):
    """Liveness, the bridge's clock, and its devices' clocks where they report one."""

    sent_at: float
    outbox: int = 0  # events waiting to be acked
    device_skew: dict[str, float] = {}


ToBridge = Challenge | Welcome | Refused | Ack | Command | HeartbeatAck | Reject | Rules
ToPlatform = Hello | Inventory | EventBatch | CommandResult | Heartbeat | RulesApplied

_encoder = msgspec.msgpack.Encoder()
_to_bridge = msgspec.msgpack.Decoder(ToBridge)
_to_platform = msgspec.msgpack.Decoder(ToPlatform)


def encode(frame: Frame) -> bytes:
    """A frame as MessagePack bytes."""
    return _encoder.encode(frame)


def decode_to_bridge(data: bytes) -> ToBridge:
    """Decode a frame from the platform; msgspec.DecodeError/ValidationError when malformed."""
    return _to_bridge.decode(data)


def decode_to_platform(data: bytes) -> ToPlatform:
    """Decode a frame from a bridge; raises msgspec.DecodeError/ValidationError when malformed."""
    return _to_platform.decode(data)
