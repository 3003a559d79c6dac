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
    platform → Credentials(version, since, …) … bridge → CredentialsApplied(version, ok)
                                                         (access credentials, as versioned deltas;
                                                         zlib-packed for a bridge of revision 2)
    bridge   → AccessQuery(...)   … platform → AccessAnswer(...) (a credential the bridge's cache
                                                         cannot decide; the platform decides)
    platform → FaceEnrol(...) / FaceRemove(...) … bridge → FaceApplied(...)
                                                         (face photos onto face readers, and off
                                                         them, each door confirming)
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Callable
from typing import Any, Literal

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

PROTOCOL = "anju-bridge/1"
REVISION = 2
"""The frames this side understands, said in Hello.protocol. 1: the first; 2: a Credentials frame
may come packed (zlib). The platform packs only for a bridge that said 2 or more, so older
bridges keep receiving plain frames."""
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
    "display",  # LED text display at a lane (VEH-03)
]
CommandStatus = Literal["ok", "failed", "timeout", "unsupported"]
# The actions every kind supports: upkeep that reads or sets the device itself (its state, its
# clock) and never opens, arms, films or calls. The platform's generic command route sends these
# and nothing else; every other action goes through the route that checks its own permission.
MAINTENANCE_ACTIONS = frozenset({"status", "time.sync"})


def challenge_message(nonce: bytes, bridge_id: str) -> bytes:
    """What the bridge signs: protocol, bridge id and the platform's one-time nonce."""
    return PROTOCOL.encode() + b"\x00" + bridge_id.encode() + b"\x00" + nonce


QR_PREFIX = "AJ1:"
QR_MAX_VALIDITY = 60.0  # seconds a dynamic QR code may live (and the bridge accepts)


class QrClaims(msgspec.Struct, array_like=True):
    """What a dynamic QR code says: the credential, its lifetime, a nonce, the signing key's id."""

    cred: str
    iat: float
    exp: float
    nonce: bytes
    kid: str


def qr_token(claims: QrClaims, sign: Callable[[bytes], bytes]) -> str:
    """`AJ1:<claims>.<Ed25519 signature>`, both base64url without padding (fits a QR code)."""
    payload = msgspec.msgpack.encode(claims)
    return f"{QR_PREFIX}{_b64(payload)}.{_b64(sign(payload))}"


def parse_qr(text: str) -> tuple[QrClaims, bytes, bytes]:
    """(claims, signed bytes, signature) of a QR text; ValueError when it is not one of ours."""
    if not text.startswith(QR_PREFIX) or text.count(".") != 1:
        raise ValueError("not an Anju QR code")
    body, signature = text[len(QR_PREFIX) :].split(".")
    try:
        payload, sig = _unb64(body), _unb64(signature)
        return msgspec.msgpack.decode(payload, type=QrClaims), payload, sig
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError) as err:
        raise ValueError(f"malformed QR code: {err}") from None


PHONE_KEY_PREFIX = "AJ2:"
PHONE_KEY_STEP = 30  # seconds of one window of a phone key's QR code
PHONE_KEY_SKEW = 1  # windows either side of the bridge's own that it accepts (clock tolerance)
PHONE_KEY_SEQ_MAX = 999  # codes a phone may show within one window (each passes once)
_PHONE_QR = re.compile(
    r"AJ2:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"\.(0|[1-9][0-9]{0,11})\.(0|[1-9][0-9]{0,2})\.([A-Za-z0-9_-]{86})"
)


class PhoneQr(msgspec.Struct, frozen=True):
    """A QR code a phone computed with its own key: the credential, the window, the code's number
    within the window, and the signature over `phone_key_message` of the three."""

    cred: str
    window: int
    seq: int
    signature: bytes


def phone_key_message(cred: str, window: int, seq: int) -> bytes:
    """The canonical message a phone key signs (docs/bridge.md): ASCII, newline-separated,
    `anju-phone-key/1`, the credential id (lower-case UUID with hyphens), the window
    (floor(unix seconds / 30)) and the code's number in the window, in decimal without padding."""
    return f"anju-phone-key/1\n{cred}\n{window}\n{seq}".encode()


def parse_phone_qr(text: str) -> PhoneQr:
    """`AJ2:<cred>.<window>.<seq>.<signature, base64url, 64 bytes>`; ValueError otherwise."""
    m = _PHONE_QR.fullmatch(text)
    if m is None:
        raise ValueError("not a phone key QR code")
    return PhoneQr(m.group(1), int(m.group(2)), int(m.group(3)), _unb64(m.group(4)))


def phone_key_window(now: float) -> int:
    """The window a moment falls in: floor(unix seconds / PHONE_KEY_STEP)."""
    return int(now // PHONE_KEY_STEP)


def phone_key_fresh(window: int, now: float) -> bool:
    """Whether a code of `window` is accepted at `now`: within PHONE_KEY_SKEW windows of now's,
    so a phone clock up to 30 s off still opens, and a code lives at most 90 s."""
    return abs(window - phone_key_window(now)) <= PHONE_KEY_SKEW


def phone_key_expiry(window: int) -> float:
    """When a code of `window` stops being accepted (its spent mark may be dropped then)."""
    return float((window + PHONE_KEY_SKEW + 1) * PHONE_KEY_STEP)


def phone_key_nonce(code: PhoneQr) -> bytes:
    """What marks a phone-key code spent: the signed triple, never the signature (an ECDSA
    signature can be re-written into another valid one of the same message)."""
    return phone_key_message(code.cred, code.window, code.seq)


PhoneKeyVerify = Callable[[bytes, bytes], bool]
"""(signature, message) → whether a phone key signed the message."""


def phone_key_verifier(public_key: bytes) -> PhoneKeyVerify:
    """A verifier for a phone key's raw public key: 65 bytes (an uncompressed P-256 point) for
    ECDSA P-256 with SHA-256 and the signature as r‖s (WebCrypto's form), 32 bytes for Ed25519.
    ValueError for anything else."""
    if len(public_key) == 32:
        ed = Ed25519PublicKey.from_public_bytes(public_key)

        def ed25519(signature: bytes, message: bytes) -> bool:
            try:
                ed.verify(signature, message)
            except InvalidSignature:
                return False
            return True

        return ed25519
    if len(public_key) != 65 or public_key[0] != 4:
        raise ValueError("a phone key is an uncompressed P-256 point or an Ed25519 key")
    ec_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
    algorithm = ec.ECDSA(hashes.SHA256())

    def es256(signature: bytes, message: bytes) -> bool:
        if len(signature) != 64:
            return False
        r, s = int.from_bytes(signature[:32]), int.from_bytes(signature[32:])
        try:
            ec_key.verify(encode_dss_signature(r, s), message, algorithm)
        except (InvalidSignature, ValueError):
            return False
        return True

    return es256


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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


class Window(msgspec.Struct, array_like=True):
    """A weekly time window: `days` a bitmask (bit 0 = Monday), minutes from local midnight."""

    days: int
    start: int
    end: int  # exclusive; end < start spans midnight


CredentialKind = Literal[
    "card",
    "pin",
    "qr",
    "app",
    "face",
    "code",
    "fingerprint",
    "phone_key",
    "plate",  # a vehicle let in at the barriers (its plate's digest: "plate:<plate>")
    "plate_block",  # a blacklisted plate: never let in (the same digest, kind tells it apart)
]
EntryKind = CredentialKind | Literal["car_park"]  # car_park: no credential, a car park's spaces


class CredentialEntry(msgspec.Struct, array_like=True, omit_defaults=True):
    """One credential as a bridge holds it: what it looks like, and where and when it passes.

    `digests`: HMAC-SHA256(Credentials.key, f"{kind}:{value}") of the card number, PIN, fingerprint
    template id (the one the fingerprint device gave at enrolment, matched there) or visitor
    keypad code (several for a keypad code: the next HOTP codes, used in order); empty for QR, app
    and face, which name the credential itself (a signed QR token's `cred`, a face template id),
    and for a phone key, whose QR codes name it and which carries its `public_key`.
    Kind "car_park" is no credential: the platform's spaces of a car park (`id`), the ones the
    bridge's lanes at `doors` (their plate cameras) decide "full" with (device_bridge/vehicles.py).
    `doors`: the bridge's device ids it may pass; `floors`: lift floors it may call.
    A visitor pass is one entry of kind "code": its keypad codes' digests, and signed QR tokens
    naming its id. `entry_doors`: the doors where a granted "in" uses one of `uses` (a visitor's
    gates); empty: every door. Elsewhere (unit doors, lifts, exits) it passes without counting,
    also with no uses left.
    """

    id: str
    kind: EntryKind
    doors: list[str]
    digests: list[bytes] = []
    person: str = ""
    visitor_pass: str = ""
    floors: list[int] = []
    schedule: list[Window] = []  # empty: at any time
    holidays: list[str] = []  # ISO dates (site's local calendar) on which `schedule` does not pass
    valid_from: float = 0.0
    valid_until: float = 0.0  # 0: no end
    uses: int = -1  # passes left; -1: unlimited
    counter: int = 0  # kind "code": the HOTP counter of digests[0] (digests[i] is counter + i)
    entry_doors: list[str] = []  # doors where a granted "in" uses an entry; empty: every door
    public_key: bytes = b""  # kind "phone_key": the phone's raw public key (phone_key_verifier)
    spaces: list[int] = []  # kind "car_park": [capacity, temporary_capacity] (0: no limit)


class Credentials(Frame, tag="credentials", kw_only=True):
    """Credential changes for this bridge. `since` None: the complete set, replacing the cache;
    else apply only when the cache holds version `since` (else answer ok=False for a full set).
    `key` is the bridge's digest key; `qr_keys` the platform's Ed25519 public keys by key id.
    """

    version: int
    since: int | None
    key: bytes
    qr_keys: dict[str, bytes]
    timezone: str = "Asia/Shanghai"
    upserts: list[CredentialEntry] = []
    removals: list[str] = []
    packed: bytes = b""  # revision 2: zlib of CredentialChanges(upserts, removals); then both empty


class CredentialChanges(msgspec.Struct, array_like=True):
    """What a packed Credentials frame holds, compressed."""

    upserts: list[CredentialEntry]
    removals: list[str]


_changes = msgspec.msgpack.Decoder(CredentialChanges)
PACK_LEVEL = 6  # zlib: most of the gain of 9 at a third of its time on 100,000 entries
PACK_MIN = 2048  # bytes of changes below which a frame goes plain (a delta of a few entries)


def pack(frame: Credentials) -> Credentials:
    """The frame with its upserts and removals compressed into `packed` (for revision ≥ 2);
    a small one as it is."""
    body = msgspec.msgpack.encode(CredentialChanges(frame.upserts, frame.removals))
    if len(body) < PACK_MIN:
        return frame
    return msgspec.structs.replace(
        frame, upserts=[], removals=[], packed=zlib.compress(body, PACK_LEVEL)
    )


def unpack(frame: Credentials) -> Credentials:
    """The frame with `packed` opened into upserts and removals (a plain frame as it is);
    ValueError when the packed bytes are not a valid body."""
    if not frame.packed:
        return frame
    try:
        changes = _changes.decode(zlib.decompress(frame.packed))
    except (zlib.error, msgspec.DecodeError, msgspec.ValidationError) as err:
        raise ValueError(f"malformed packed credentials: {err}") from None
    return msgspec.structs.replace(
        frame, upserts=changes.upserts, removals=changes.removals, packed=b""
    )


class FaceEnrol(Frame, tag="face_enrol", kw_only=True):
    """Enrol a face on these face readers of the bridge: the photo (JPEG or PNG, as enrolled) under
    `face`, the template id a reader reports when it matches it (`AccessQuery.value`, a face
    entry's digest). A reader that holds `face` already replaces its photo."""

    id: str
    face: str
    photo: bytes
    content_type: str
    doors: list[str]


class FaceRemove(Frame, tag="face_remove", kw_only=True):
    """Delete a face (its photo and template) from these readers: revoked, erased or moved out."""

    id: str
    face: str
    doors: list[str]


class AccessAnswer(Frame, tag="access_answer", kw_only=True):
    """The platform's decision on an AccessQuery."""

    id: str
    granted: bool
    reason: str = ""
    credential: str = ""
    person: str = ""
    visitor_pass: str = ""
    floor: int | None = None  # at a lift: the floor granted (the query's, or the only one allowed)


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
    protocol: int = 1  # the frame revision the bridge understands (REVISION); absent: 1


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


class CredentialsApplied(Frame, tag="credentials_applied", kw_only=True):
    """The bridge's credential cache is at `version`; ok=False: a delta did not fit, send all."""

    version: int
    ok: bool = True


class FaceApplied(Frame, tag="face_applied", kw_only=True):
    """What the readers did with a FaceEnrol or FaceRemove (`id`): `done` the doors whose device
    confirmed it, `failed` the others with why (offline, refused the photo, …)."""

    id: str
    face: str
    action: Literal["enrol", "remove"]
    done: list[str] = []
    failed: dict[str, str] = {}


class AccessQuery(Frame, tag="access_query", kw_only=True):
    """A credential the bridge could not decide (not in its cache): the platform decides.

    `value`: the card number, PIN or keypad code as read, the QR text, or the face or fingerprint
    template id the device matched.
    """

    id: str
    door: str
    method: Literal["card", "pin", "qr", "face", "code", "fingerprint"]
    value: str
    direction: Literal["in", "out"] = "in"
    floor: int | None = None  # at a lift reader: the floor asked for (grant only if allowed there)


class Heartbeat(Frame, tag="heartbeat", kw_only=True):
    """Liveness, the bridge's clock, and its devices' clocks where they report one."""

    sent_at: float
    outbox: int = 0  # events waiting to be acked
    device_skew: dict[str, float] = {}


ToBridge = (
    Challenge
    | Welcome
    | Refused
    | Ack
    | Command
    | HeartbeatAck
    | Reject
    | Rules
    | Credentials
    | AccessAnswer
    | FaceEnrol
    | FaceRemove
)
ToPlatform = (
    Hello
    | Inventory
    | EventBatch
    | CommandResult
    | Heartbeat
    | RulesApplied
    | CredentialsApplied
    | AccessQuery
    | FaceApplied
)

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
