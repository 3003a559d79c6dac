"""Web push for the PWA: the VAPID public key and the browser's own subscriptions."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from api.core.auth import Caller
from api.push import service
from api.push.schemas import (
    SubscriptionCreate,
    SubscriptionDelete,
    SubscriptionRead,
    VapidPublicKey,
)
from api.push.vapid import vapid_key


class PushController(Controller):
    """Any logged-in account may receive notifications on the browsers it subscribes."""

    path = "/api/v1/push"
    tags = ("push",)

    @get("/vapid-public-key")
    async def public_key(self, caller: Caller, state: State) -> VapidPublicKey:
        """The applicationServerKey to pass to `pushManager.subscribe`."""
        settings = state.settings
        key = vapid_key(settings.vapid_keys_path, settings.public_url)
        return VapidPublicKey(public_key=key.public_key_b64url())

    @get("/subscriptions")
    async def list_subscriptions(self, caller: Caller) -> list[SubscriptionRead]:
        """The caller's subscribed browsers, newest first."""
        return await service.subscriptions(caller)

    @post("/subscriptions", status_code=HTTP_200_OK)
    async def subscribe(self, caller: Caller, data: SubscriptionCreate) -> SubscriptionRead:
        """Save this browser's PushSubscription (again, or replacing `old_endpoint`)."""
        return await service.subscribe(caller, data)

    @delete("/subscriptions", status_code=HTTP_204_NO_CONTENT)
    async def unsubscribe(self, caller: Caller, data: SubscriptionDelete) -> None:
        """Forget one of the caller's subscriptions (before logout, or when turned off)."""
        await service.unsubscribe(caller, data.endpoint)
