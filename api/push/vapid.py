"""The platform's VAPID identity (RFC 8292): one P-256 key, made at first start, kept 0600.

Browsers bind each push subscription to the public key they were given (applicationServerKey);
push services then accept messages only when signed by its private half. Replacing the key file
therefore orphans every subscription: the browsers must subscribe again.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
import time
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

TOKEN_LIFETIME = 12 * 3600  # seconds; RFC 8292 allows at most 24 h


def b64url(data: bytes) -> str:
    """Base64url without padding, as Web Push spells keys and secrets."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; raises ValueError on bad input."""
    raw = text.rstrip("=")
    return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))


def _write_new_key(path: Path, pem: bytes) -> None:
    """Write the key 0600, atomically; when two processes race, the first file wins."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:  # mkstemp creates the file with mode 0600
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp_name, path)  # refuses to overwrite, unlike rename
    finally:
        Path(tmp_name).unlink(missing_ok=True)


class VapidKey:
    """The signing key and the `sub` contact that push services see in every request."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, *, subject: str) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError("a VAPID key must be on P-256")
        self._vapid = Vapid02(private_key)
        self._private_key = private_key
        self.subject = subject

    @classmethod
    def load_or_create(cls, path: Path, *, subject: str) -> VapidKey:
        """Load the PEM key at `path`, creating it (mode 0600) when absent."""
        if not path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            _write_new_key(path, pem)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} does not hold an EC private key")
        return cls(loaded, subject=subject)

    def public_key_bytes(self) -> bytes:
        """The uncompressed P-256 point (65 bytes)."""
        return self._private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def public_key_b64url(self) -> str:
        """The browser's `applicationServerKey`."""
        return b64url(self.public_key_bytes())

    def authorization(self, endpoint: str) -> str:
        """The `Authorization: vapid t=<jwt>, k=<key>` header for a request to this endpoint."""
        url = urlsplit(endpoint)
        claims = {
            "aud": f"{url.scheme}://{url.netloc}",
            "exp": int(time.time()) + TOKEN_LIFETIME,
            "sub": self.subject,
        }
        header: str = self._vapid.sign(claims)["Authorization"]
        return header


def subject_for(public_url: str) -> str:
    """The VAPID `sub`: the platform's https origin, else a mailto at its host (development)."""
    url = urlsplit(public_url)
    host = url.hostname or "localhost"
    return f"https://{host}" if url.scheme == "https" else f"mailto:push@{host}"


@cache
def vapid_key(path: Path, public_url: str) -> VapidKey:
    """The process's VAPID key for these settings (loaded once)."""
    return VapidKey.load_or_create(path, subject=subject_for(public_url))


def public_key_b64url(path: Path, public_url: str = "http://localhost") -> str:
    """The applicationServerKey for the key at `path` (created on first use)."""
    return vapid_key(path, public_url).public_key_b64url()
