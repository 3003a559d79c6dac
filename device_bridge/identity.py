"""The bridge's identity: its Ed25519 key (PEM, 0600), its enrolment, and challenge signatures."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import msgspec
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device_bridge.protocol import challenge_message
from device_bridge.settings import VERSION, BridgeSettings

log = structlog.get_logger(__name__)


class NotEnrolled(Exception):
    """The data dir holds no identity: run `python -m device_bridge enroll --token …` first."""


class EnrolmentError(Exception):
    """The platform refused the enrolment (used, expired or unknown token) or was unreachable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Enrolment(msgspec.Struct, kw_only=True):
    """What the platform answers to an enrolment."""

    bridge_id: str
    community_id: str = ""


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The private key at `path`; a new one is written there (mode 0600) when the file is absent."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: never overwrite a key another process wrote meanwhile; the mode is set at creation.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
    log.info("bridge.identity.key_created", path=str(path))
    return key


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, base64 (what enrolment registers)."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign_challenge(key: Ed25519PrivateKey, nonce: bytes, bridge_id: str) -> bytes:
    """The Hello signature over the platform's nonce."""
    return key.sign(challenge_message(nonce, bridge_id))


def load_bridge_id(settings: BridgeSettings) -> str:
    """The enrolled bridge id; raises NotEnrolled when there is none."""
    try:
        data = json.loads(settings.identity_file.read_text())
        return str(data["bridge_id"])
    except (FileNotFoundError, KeyError, json.JSONDecodeError) as err:
        raise NotEnrolled(f"no identity in {settings.identity_file}") from err


def save_bridge_id(settings: BridgeSettings, bridge_id: str) -> None:
    """Store the bridge id atomically (write a temporary file, then rename)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.identity_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"bridge_id": bridge_id}) + "\n")
    os.replace(tmp, settings.identity_file)


async def enroll(
    settings: BridgeSettings, *, token: str, name: str | None = None, http_timeout: float = 15.0
) -> Enrolment:
    """Create the key if absent, register it with a one-time token, store the bridge id."""
    key = load_or_create_key(settings.key_file)
    body = {
        "token": token,
        "public_key": public_key_b64(key),
        "name": name or settings.display_name,
        "version": VERSION,
    }
    result = await asyncio.to_thread(_post_json, settings.enrol_url, body, http_timeout)
    save_bridge_id(settings, result.bridge_id)
    log.info(
        "bridge.identity.enrolled", bridge_id=result.bridge_id, community_id=result.community_id
    )
    return result


def _post_json(url: str, body: dict[str, str], timeout: float) -> Enrolment:
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's platform address
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return msgspec.json.decode(response.read(), type=Enrolment)
    except urllib.error.HTTPError as err:
        try:
            payload = json.loads(err.read() or b"{}")
        except json.JSONDecodeError:
            payload = {}
        raise EnrolmentError(
            str(payload.get("code", f"http_{err.code}")), str(payload.get("message", err.reason))
        ) from err
    except (urllib.error.URLError, OSError) as err:
        raise EnrolmentError("unreachable", f"cannot reach {url}: {err}") from err
    except msgspec.DecodeError as err:
        raise EnrolmentError("bad_response", f"unexpected answer from {url}: {err}") from err
