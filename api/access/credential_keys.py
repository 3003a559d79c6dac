"""The keys of access control: credential values, look-up indexes, bridge digests, QR signing.

- Card numbers and PINs are encrypted with the personal-data cipher (context "credentials.value")
  and looked up through an HMAC index under a key derived from the server secret.
- Each bridge gets its own digest key (derived from the server secret and the bridge id), so a
  bridge's cache of card and PIN digests is useless at any other bridge.
- Dynamic QR codes are signed with an Ed25519 key of the platform. Keys live as `q<n>.pem` in one
  directory (mode 0600); the highest number signs, every key's public half goes to the bridges, so
  a new key can be added (rotation) while codes signed a minute ago still pass.

The keys are loaded once per process, from the settings its start hands to `configure` (the app's
lifespan, the worker's start-up, the CLI's demo seed).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.core.crypto import FieldCipher, derive_key, load_server_secret
from api.lifespan import make_cipher  # the one place the personal-data cipher is made
from api.push.vapid import _write_new_key
from api.settings import Settings

_QR_FILE = re.compile(r"q(\d+)\.pem")


class QrKeys:
    """The platform's QR signing keys by id; the newest signs."""

    def __init__(self, keys: dict[str, Ed25519PrivateKey]) -> None:
        self._keys = keys
        self.current = max(keys, key=lambda kid: int(kid[1:]))

    @classmethod
    def load_or_create(cls, directory: Path) -> QrKeys:
        """Every q<n>.pem in the directory, creating q1.pem (mode 0600) when there is none."""
        found = {
            m.group(0)[:-4]: path
            for path in (directory.glob("q*.pem") if directory.is_dir() else [])
            if (m := _QR_FILE.fullmatch(path.name))
        }
        if not found:
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            _write_new_key(directory / "q1.pem", pem)  # the first of two racing processes wins
            found = {"q1": directory / "q1.pem"}
        keys = {}
        for kid, path in found.items():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} does not hold an Ed25519 private key")
            keys[kid] = key
        return cls(keys)

    def sign(self, data: bytes) -> bytes:
        """Sign with the current key."""
        return self._keys[self.current].sign(data)

    def public(self) -> dict[str, bytes]:
        """Every key's raw 32-byte public key, by id (what the bridges verify with)."""
        return {
            kid: key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            for kid, key in self._keys.items()
        }


class AccessKeys:
    """Everything access control needs from the platform's secrets."""

    def __init__(self, settings: Settings) -> None:
        secret = load_server_secret(settings.secret_key_path)
        self.cipher: FieldCipher = make_cipher(settings)
        self._index_key = derive_key(secret, "credential-index")
        self._bridge_key = derive_key(secret, "bridge-credential-digest")
        self.qr = QrKeys.load_or_create(settings.qr_keys_path)

    def index(self, kind: str, value: str) -> str:
        """The blind index of a card number or PIN (equal values of one kind collide on purpose)."""
        return hmac.new(self._index_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def bridge_key(self, bridge_id: object) -> bytes:
        """The digest key of one bridge."""
        return hmac.new(self._bridge_key, str(bridge_id).encode(), hashlib.sha256).digest()


def bridge_digest(key: bytes, kind: str, value: str) -> bytes:
    """HMAC-SHA256(key, "kind:value"): how a bridge recognises a card, PIN or keypad code."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).digest()


_keys: AccessKeys | None = None


def configure(settings: Settings) -> AccessKeys:
    """Load the keys for these settings (once, where the process starts)."""
    global _keys
    _keys = AccessKeys(settings)
    return _keys


def keys() -> AccessKeys:
    """The process's access keys (`configure` loaded them)."""
    if _keys is None:
        raise RuntimeError("access keys not loaded: call credential_keys.configure(settings)")
    return _keys
