"""The simulated payment provider, for the demo and the tests: its "cashier" is a page of the PWA
(`/park/sim/<reference>`, the URL the exit lane's QR encodes) with one button that pays.

Paying there is `POST /api/v1/public/parking/sim/<reference>/pay`: the simulator, standing in for
the provider's server, signs a notification (HMAC-SHA256 over the raw JSON body, hex, header
`X-Sim-Signature`, with a key derived from the server secret) and delivers it to the platform's
notify endpoint's handler — the same verification a real provider's callback goes through. A
real provider replaces `charge` with a call to its API and `verify` with its own signature check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import msgspec

from api.vehicles.payments.provider import BadSignature, Charge, Notification

NAME = "sim"
HEADER = "x-sim-signature"


class SimulatedProvider:
    """Charges paid on a demo page; notifications signed with `key`."""

    name = NAME
    signature_header = HEADER

    def __init__(self, key: bytes, public_url: str) -> None:
        self._key = key
        self.public_url = public_url.rstrip("/")

    def charge(self, *, order_token: str, amount_fen: int, description: str) -> Charge:
        """A reference of the simulator's own and its cashier page."""
        reference = f"sim_{secrets.token_hex(12)}"
        return Charge(reference=reference, url=f"{self.public_url}/park/sim/{reference}")

    def sign(self, body: bytes) -> str:
        """The signature the simulator puts on a notification."""
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def notification(self, reference: str, amount_fen: int) -> tuple[bytes, str]:
        """A signed "paid" notification for a charge: (body, signature)."""
        body = msgspec.json.encode(
            Notification(
                reference=reference,
                status="paid",
                amount_fen=amount_fen,
                transaction=f"simtx_{secrets.token_hex(8)}",
            )
        )
        return body, self.sign(body)

    def verify(self, body: bytes, signature: str) -> Notification:
        """The notification, if the signature is this key's over exactly this body."""
        if not hmac.compare_digest(self.sign(body), signature.strip().lower()):
            raise BadSignature()
        try:
            return msgspec.json.decode(body, type=Notification)
        except msgspec.ValidationError:
            raise BadSignature() from None
