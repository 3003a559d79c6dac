"""A phone's own key as the PWA makes it (pwa/src/phoneKey.ts): a P-256 or Ed25519 key pair, its
public half as SubjectPublicKeyInfo for registration, and the QR codes the phone computes."""

from __future__ import annotations

import base64
import time
from typing import Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from device_bridge import protocol

Algorithm = Literal["ES256", "Ed25519"]


class Phone:
    """One phone's key pair and the codes it shows."""

    def __init__(self, algorithm: Algorithm = "ES256") -> None:
        self.algorithm = algorithm
        self._key: ec.EllipticCurvePrivateKey | Ed25519PrivateKey = (
            ec.generate_private_key(ec.SECP256R1())
            if algorithm == "ES256"
            else Ed25519PrivateKey.generate()
        )

    def spki(self) -> str:
        """The public key as registration takes it: SubjectPublicKeyInfo, base64."""
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def raw(self) -> bytes:
        """The raw public key a bridge's entry carries."""
        public = self._key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            return public.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        """As WebCrypto signs: r‖s (64 bytes) for ECDSA, 64 bytes for Ed25519."""
        if isinstance(self._key, Ed25519PrivateKey):
            return self._key.sign(message)
        r, s = decode_dss_signature(self._key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32) + s.to_bytes(32)

    def code(self, cred: str, *, at: float | None = None, seq: int = 0) -> str:
        """The QR text the phone shows at `at` (now): `AJ2:<cred>.<window>.<seq>.<signature>`."""
        window = protocol.phone_key_window(time.time() if at is None else at)
        signature = self.sign(protocol.phone_key_message(cred, window, seq))
        sig = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
        return f"{protocol.PHONE_KEY_PREFIX}{cred}.{window}.{seq}.{sig}"
