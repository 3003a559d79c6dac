"""Signalling between two browsers, for calls placed in the app (placing.py).

The member who answers posts their offer to `/answer` exactly as for a station's call; the relay
hands it to the caller's browser as `call.offer` on its user channel and waits for the caller's
answer, which that browser posts to `/calls/{id}/connect`. Redis carries the answer between api
instances in a list per call, so an answer that arrives before the wait begins is not lost.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast
from uuid import UUID

from litestar.channels import ChannelsPlugin
from redis.asyncio import Redis

from api.core.realtime import publish, user_channel
from api.intercom.errors import MediaFailed

KEY_TTL_S = 60


def _key(call_id: UUID) -> str:
    return f"intercom:answer:{call_id}"


class Relay:
    """The caller's browser as the other end of a call: offer out, answer back."""

    def __init__(self, channels: ChannelsPlugin, redis: Redis) -> None:
        self.channels = channels
        self.redis = redis

    async def offer(
        self, call_id: UUID, caller: UUID, event: dict[str, Any], *, timeout: float
    ) -> str:
        """Send the answering browser's offer to the caller's; their answer, or MediaFailed."""
        await self.redis.delete(_key(call_id))
        publish(
            self.channels,
            {"type": "call.offer", "call_id": str(call_id), **event},
            user_channel(caller),
        )
        waiting = cast(
            Awaitable[Any], self.redis.blpop([_key(call_id)], timeout=max(1, round(timeout)))
        )
        got = await waiting
        if not got:
            raise MediaFailed(detail="the caller's browser did not answer")
        value = got[1]
        return value.decode() if isinstance(value, bytes) else str(value)

    async def answered(self, call_id: UUID, sdp: str) -> None:
        """The caller's browser's answer, for the waiting `offer`."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(_key(call_id), sdp)
            pipe.expire(_key(call_id), KEY_TTL_S)
            await pipe.execute()
