"""Wire shapes of web push: the message a domain sends, and the browser's subscription."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

Urgency = Literal["very-low", "low", "normal", "high"]
Endpoint = Annotated[str, Meta(min_length=10, max_length=2000)]
B64Key = Annotated[str, Meta(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_\-]+=*$")]


class PushMessage(msgspec.Struct, kw_only=True):
    """What a domain wants shown on its users' devices; the service worker renders it."""

    title: str
    body: str
    url: str = "/"
    tag: str | None = None
    urgency: Urgency = "normal"
    ttl: int = 300
    data: dict[str, Any] = {}


class SubscriptionKeys(msgspec.Struct, kw_only=True):
    """The browser's ECDH public key and auth secret, base64url as `PushSubscription.toJSON()`."""

    p256dh: B64Key
    auth: B64Key


class SubscriptionCreate(msgspec.Struct, kw_only=True):
    """`PushSubscription.toJSON()` plus what the app adds.

    `old_endpoint` is sent by the service worker's `pushsubscriptionchange` handler: the row of the
    old endpoint is replaced. Unknown fields (`expirationTime`) are ignored, as browsers add them.
    """

    endpoint: Endpoint
    keys: SubscriptionKeys
    user_agent: Annotated[str, Meta(max_length=200)] = ""
    old_endpoint: Endpoint | None = None


class SubscriptionDelete(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The endpoint of the subscription to forget."""

    endpoint: Endpoint


class SubscriptionRead(msgspec.Struct, kw_only=True):
    """One of the caller's push subscriptions."""

    id: UUID
    endpoint: str
    user_agent: str
    created_at: datetime
    last_success_at: datetime | None


class VapidPublicKey(msgspec.Struct, kw_only=True):
    """The applicationServerKey for `pushManager.subscribe` (base64url, uncompressed P-256)."""

    public_key: str
