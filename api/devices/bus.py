"""Routing commands to whichever api instance holds a bridge's link, over Redis pub/sub.

The instance holding a link subscribes to the bridge's command channel; any instance publishes a
command there and waits on the command's own result channel. PUBLISH answers how many subscribers
got the message: zero means no instance holds the link, so a command to an offline bridge fails
at once. The holder's subscription outlives a Redis restart (api/core/redisconn.py); while Redis
is away, a command fails as if the bridge were offline.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import msgspec
from redis.asyncio import Redis

from api.core.redisconn import ERRORS, bounded, subscription
from device_bridge import protocol


def commands_channel(bridge_id: object) -> str:
    """Where commands for a bridge are published."""
    return f"anju:bridge:{bridge_id}:commands"


def kick_channel(bridge_id: object) -> str:
    """Where a newer link of the same bridge tells older ones to close."""
    return f"anju:bridge:{bridge_id}:kick"


def credentials_channel(bridge_id: object) -> str:
    """Where a bridge's link is told that credentials changed (it sends the bridge a delta)."""
    return f"anju:bridge:{bridge_id}:credentials"


def result_channel(command_id: str) -> str:
    """Where the result of one command is published."""
    return f"anju:command:{command_id}:result"


class BridgeOffline(Exception):
    """No api instance holds a link to the bridge."""


UNDELIVERED = "bridge offline"
"""The detail of the result a link publishes when its socket could not take a command."""


class CommandBus:
    """Send commands to bridges from any instance; deliver results back to the asker."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def send(
        self, bridge_id: object, command: protocol.Command, *, wait: float
    ) -> protocol.CommandResult | None:
        """Publish a command and wait for its result; None on timeout; BridgeOffline when unheld
        (or when Redis, the only way to the holder, is away)."""
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(result_channel(command.id))
            if not await self.redis.publish(commands_channel(bridge_id), protocol.encode(command)):
                raise BridgeOffline()
            async with asyncio.timeout(wait):
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        frame = protocol.decode_to_platform(message["data"])
                        if isinstance(frame, protocol.CommandResult):
                            if frame.status == "failed" and frame.detail == UNDELIVERED:
                                raise BridgeOffline()
                            return frame
        except TimeoutError:
            return None
        except ERRORS:
            raise BridgeOffline() from None
        finally:
            await bounded(pubsub.aclose(), "command result")
        return None

    async def publish_result(self, result: protocol.CommandResult) -> None:
        """Hand a bridge's answer to whoever waits for it."""
        await self.redis.publish(result_channel(result.id), protocol.encode(result))

    async def undelivered(self, command: bytes) -> None:
        """Tell the asker at once that the link holding the bridge could not pass its command on
        (the bridge went while the link was closing), rather than let it wait out the timeout."""
        command_id = msgspec.msgpack.decode(command, type=protocol.Command).id
        result = protocol.CommandResult(id=command_id, status="failed", detail=UNDELIVERED)
        await self.publish_result(result)

    async def kick(self, bridge_id: object, session: str) -> None:
        """Tell older links of this bridge (on any instance) to close."""
        await self.redis.publish(kick_channel(bridge_id), session.encode())

    @contextlib.asynccontextmanager
    async def listen(self, bridge_id: object) -> AsyncIterator[AsyncIterator[tuple[str, bytes]]]:
        """Subscribe to a bridge's commands, kicks and credential notices; (channel, data) pairs.

        After Redis comes back, a credential notice sent meanwhile may be lost: an empty one is
        delivered in its place, so the link sends whatever delta is due."""
        async with subscription(
            self.redis,
            commands_channel(bridge_id),
            kick_channel(bridge_id),
            credentials_channel(bridge_id),
            name="bridge commands",
        ) as received:

            async def messages() -> AsyncIterator[tuple[str, bytes]]:
                async for message in received:
                    yield message or (credentials_channel(bridge_id), b"")

            yield messages()
