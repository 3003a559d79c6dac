"""The payment provider protocol: what an order needs from WeChat Pay, Alipay, a bank's
aggregator — or the simulated provider of the demo and the tests (`simulated.py`).

A provider makes a charge for an order (its reference and the URL the driver's phone opens: the
QR shown at the exit lane encodes it) and verifies the notification it later sends to
`POST /api/v1/public/parking/notify/<provider>`: the raw body and its signature header in, a
`Notification` out, or `BadSignature`. Verification is the provider's; what a verified
notification changes (once) is `orders.py`'s.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from api.core.errors import InvalidInput


class BadSignature(InvalidInput):
    """The notification's signature does not verify (forged, altered, or another key's)."""

    code = "bad_signature"
    message = "The payment notification's signature does not verify."


class Charge(msgspec.Struct, frozen=True, kw_only=True):
    """A charge the provider made: its reference and where the payer pays."""

    reference: str
    url: str


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """A verified notification: the charge paid, how much (fen), and the provider's transaction."""

    reference: str
    status: str  # "paid" is the one that settles an order
    amount_fen: int
    transaction: str


class PaymentProvider(Protocol):
    """One way to pay."""

    name: str
    signature_header: str

    def charge(self, *, order_token: str, amount_fen: int, description: str) -> Charge:
        """Make a charge for an order (a call to the provider's API, for a real one)."""
        ...

    def verify(self, body: bytes, signature: str) -> Notification:
        """The notification a signed body carries; BadSignature when the signature is wrong."""
        ...
