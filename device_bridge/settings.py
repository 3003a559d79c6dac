"""The bridge's settings (ANJU_BRIDGE_*; nothing else reads os.environ) and site config."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import msgspec

from device_bridge.drivers.base import device_actions
from device_bridge.protocol import DeviceInfo, DeviceKind, LocalRule, RuleAction

VERSION = "0.1.0"
PACKAGE_DIR = Path(__file__).resolve().parent
LINK_PATH = "/api/v1/bridge/link"
ENROL_PATH = "/api/v1/bridges/enroll"


class BridgeSettings(msgspec.Struct, kw_only=True, frozen=True):
    """Runtime configuration of one bridge process."""

    platform_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("var/bridge")
    key_path: Path | None = None
    config: Path = PACKAGE_DIR / "demo.toml"
    config_poll: float = 5.0  # seconds between looks at the site file for changes; 0: never
    heartbeat_interval: float = 10.0
    name: str = ""
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    log_level: str = "INFO"
    log_json: bool = True
    # Media (device_bridge/media): calls and live views.
    ring_s: float = 30.0
    clip_s: float = 5.0
    call_max_s: float = 90.0
    media_fps: float = 15.0
    media_max_peers: int = 16
    media_connect_timeout: float = 20.0
    # A silent browser ends its peer within 3 × (1.2 × 2 + 0.5) ≈ 8.7 s (peers.consent_expiry).
    media_consent_interval: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    media_consent_failures: Annotated[int, msgspec.Meta(ge=1)] = 3

    @property
    def key_file(self) -> Path:
        """The bridge's Ed25519 private key (PEM, mode 0600)."""
        return self.key_path or self.data_dir / "bridge.key"

    @property
    def identity_file(self) -> Path:
        """Where enrolment stores the bridge id."""
        return self.data_dir / "identity.json"

    @property
    def outbox_file(self) -> Path:
        """The SQLite outbox of events not yet acknowledged by the platform."""
        return self.data_dir / "outbox.sqlite3"

    @property
    def credentials_file(self) -> Path:
        """The SQLite cache of the platform's access credentials, for offline decisions."""
        return self.data_dir / "credentials.sqlite3"

    @property
    def rules_file(self) -> Path:
        """The platform's latest set of local fail-safe rules (JSON, written atomically)."""
        return self.data_dir / "rules.json"

    @property
    def display_name(self) -> str:
        """The name the bridge enrols with: the setting, else the host name."""
        return self.name or socket.gethostname()

    @property
    def link_url(self) -> str:
        """The platform's WebSocket endpoint: ws(s)://host/api/v1/bridge/link."""
        parts = urlsplit(self.platform_url)
        scheme = {"https": "wss", "wss": "wss"}.get(parts.scheme, "ws")
        return urlunsplit((scheme, parts.netloc, LINK_PATH, "", ""))

    @property
    def enrol_url(self) -> str:
        """The platform's enrolment endpoint."""
        return self.platform_url.rstrip("/") + ENROL_PATH


VARIABLES: dict[str, str] = {
    "ANJU_BRIDGE_PLATFORM_URL": "the platform's base URL (http/https; the link uses ws/wss)",
    "ANJU_BRIDGE_DATA_DIR": "identity, key, outbox, local rules and credential cache directory",
    "ANJU_BRIDGE_KEY_PATH": "Ed25519 private key (PEM); default <data dir>/bridge.key",
    "ANJU_BRIDGE_CONFIG": "site and device configuration (TOML); default device_bridge/demo.toml",
    "ANJU_BRIDGE_CONFIG_POLL": (
        "seconds between looks at the site file; a change is applied and the inventory re-sent"
        " (0: never)"
    ),
    "ANJU_BRIDGE_HEARTBEAT_INTERVAL": "seconds between heartbeats; 3 silent ones drop the link",
    "ANJU_BRIDGE_NAME": "name shown on the platform; default the host name",
    "ANJU_BRIDGE_BACKOFF_INITIAL": "first reconnect delay in seconds (doubles, with jitter)",
    "ANJU_BRIDGE_BACKOFF_MAX": "longest reconnect delay in seconds",
    "ANJU_BRIDGE_LOG_LEVEL": "log level",
    "ANJU_BRIDGE_LOG_JSON": "`true` for JSON log lines, `false` for console lines",
    "ANJU_BRIDGE_RING_S": "seconds a door station or lift call rings before it is unanswered",
    "ANJU_BRIDGE_CLIP_S": "seconds of the visitor's message recorded when a call is unanswered",
    "ANJU_BRIDGE_CALL_MAX_S": "a media session's duration limit when the platform gives none",
    "ANJU_BRIDGE_MEDIA_FPS": "frames per second of the synthetic video of simulated devices",
    "ANJU_BRIDGE_MEDIA_MAX_PEERS": "live WebRTC peers the bridge serves at most (CPU bound)",
    "ANJU_BRIDGE_MEDIA_CONNECT_TIMEOUT": "seconds an answered peer has to connect",
    "ANJU_BRIDGE_MEDIA_CONSENT_INTERVAL": "seconds between ICE consent checks of live peers",
    "ANJU_BRIDGE_MEDIA_CONSENT_FAILURES": "missed consent checks that end a peer (network)",
}


def from_environ(environ: dict[str, str] | None = None) -> BridgeSettings:
    """Build settings from ANJU_BRIDGE_* variables; a bad value raises msgspec.ValidationError."""
    env = os.environ if environ is None else environ
    raw = {
        name.removeprefix("ANJU_BRIDGE_").lower(): env[name]
        for name in VARIABLES
        if env.get(name) not in (None, "")
    }
    return msgspec.convert(raw, BridgeSettings, strict=False, dec_hook=_decode)


def _decode(type_: type, value: object) -> object:
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(type_)


# -- site configuration (TOML) --------------------------------------------------------------------


class SiteSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`[site]`: what this bridge's site is called."""

    name: str = "site"
    recogniser: str = (
        ""  # a plate recogniser for reads without a plate (device_bridge/recognise.py)
    )
    recognise_below: float = 0.8  # … or with a camera's confidence below this


class DeviceConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One `[[devices]]` entry."""

    id: str
    kind: DeviceKind
    name: str
    driver: Literal["sim", "mqtt"] = "sim"
    attrs: dict[str, Any] = {}

    def info(self) -> DeviceInfo:
        """The device as the protocol's inventory entry."""
        return DeviceInfo(
            id=self.id, kind=self.kind, name=self.name, driver=self.driver, attrs=dict(self.attrs)
        )


class MqttSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`[mqtt]`: the broker the MQTT devices talk through."""

    host: str = "127.0.0.1"
    port: int = 1883
    site: str = "site"
    client_id: str = "anju-bridge"
    username: str | None = None
    password: str | None = None


class FaultConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`[faults.<device id>]`: faults the sim driver starts with."""

    drop: bool = False
    delay_ms: int = 0
    offline: bool = False


class ScenarioSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`[scenario]`: simulated traffic for `run --scenario`."""

    rate: float = 0.5  # actions per second
    seed: int = 1
    doorbell: list[str] = []  # "station:room" a visitor rings now and then, e.g. "station-1-1:0101"
    doorbell_every: float = 0.0  # seconds between those rings; 0: never
    vehicle_rate: float = 0.0  # cars per second at the lanes, on their own; 0: among the actions
    plates: list[str] = []  # residents' plates the cars are drawn from (device_bridge/traffic.py)
    visitor_plates: list[str] = []  # visitors' plates (else visitors bring unknown plates)
    blacklisted: list[str] = []  # the blacklisted car's plate


class RuleActionConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One `then` entry of a `[[rules]]` rule: an action on one of the site's devices."""

    device: str
    action: str
    args: dict[str, Any] = {}


class RuleConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`[[rules]]`: a local baseline rule, run until the platform has sent its own set."""

    id: str
    when_kind: str
    when_devices: list[str] = []  # empty: an event of `when_kind` from any device
    then: list[RuleActionConfig]

    def rule(self) -> LocalRule:
        """The rule as the protocol's LocalRule."""
        return LocalRule(
            id=self.id,
            when_kind=self.when_kind,
            when_devices=list(self.when_devices),
            then=[
                RuleAction(device=a.device, action=a.action, args=dict(a.args)) for a in self.then
            ],
        )


class SiteConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The whole TOML file."""

    site: SiteSection = msgspec.field(default_factory=SiteSection)
    devices: list[DeviceConfig] = []
    mqtt: MqttSection | None = None
    faults: dict[str, FaultConfig] = {}
    scenario: ScenarioSection = msgspec.field(default_factory=ScenarioSection)
    rules: list[RuleConfig] = []

    def __post_init__(self) -> None:
        ids = [d.id for d in self.devices]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate device ids: {', '.join(duplicates)}")
        unknown = sorted(set(self.faults) - set(ids))
        if unknown:
            raise ValueError(f"faults name unknown devices: {', '.join(unknown)}")
        if any(d.driver == "mqtt" for d in self.devices) and self.mqtt is None:
            raise ValueError("devices use the mqtt driver but there is no [mqtt] section")
        self._check_rules()

    def _check_rules(self) -> None:
        # A typo in a fail-safe rule would only show during a fire: refuse the file instead.
        kinds = {d.id: d.kind for d in self.devices}
        attrs = {d.id: d.attrs for d in self.devices}
        ids = [r.id for r in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule ids: {', '.join(duplicates)}")
        for rule in self.rules:
            if not rule.then:
                raise ValueError(f"rule {rule.id} has no actions")
            named = [*rule.when_devices, *(a.device for a in rule.then)]
            unknown = sorted({d for d in named if d not in kinds})
            if unknown:
                raise ValueError(f"rule {rule.id} names unknown devices: {', '.join(unknown)}")
            for action in rule.then:
                if action.action not in device_actions(kinds[action.device], attrs[action.device]):
                    raise ValueError(
                        f"rule {rule.id}: {kinds[action.device]} {action.device} "
                        f"does not support {action.action!r}"
                    )


def load_config(path: Path) -> SiteConfig:
    """Read and validate a site's TOML configuration; raises ValueError naming what is wrong."""
    try:
        return msgspec.toml.decode(path.read_bytes(), type=SiteConfig)
    except msgspec.ValidationError as err:
        raise ValueError(f"{path}: {err}") from err
