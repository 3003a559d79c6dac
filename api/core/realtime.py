"""Live updates over one authenticated WebSocket, fanned out through Litestar channels on Redis.

Channels: `user:<account id>` for what concerns one person; `community:<id>` for a community's
device boards (staff and police); `alarms:<id>` for its alarm board (holders of `alarm.read` who
are not residents: another household's SOS never reaches a resident's phone). Any api instance
may publish; every instance delivers to the sockets it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.exceptions import WebSocketDisconnect
from redis.asyncio import Redis

from api.accounts.service import load_caller
from api.core.auth import Scope
from api.core.sessions import COOKIE, SessionStore


def channels_plugin(redis: Redis) -> ChannelsPlugin:
    """Channels on Redis pub/sub; names are created on demand."""
    return ChannelsPlugin(
        backend=RedisChannelsPubSubBackend(redis=redis, key_prefix="anju:channels"),
        arbitrary_channels_allowed=True,
    )


def user_channel(account_id: UUID) -> str:
    """The channel of one account."""
    return f"user:{account_id}"


def alarm_channel(community_id: UUID) -> str:
    """The channel of one community's alarm board: only for holders of `alarm.read` in it."""
    return f"alarms:{community_id}"


def community_channel(community_id: UUID) -> str:
    """The channel of one community's live boards."""
    return f"community:{community_id}"


ALL_COMMUNITIES = "community:all"  # what global administrators' sockets follow


def fanout(names: Iterable[str]) -> list[str]:
    """The channels an event goes to: the named ones, and the all-communities feed for any
    community channel among them."""
    out = list(dict.fromkeys(names))
    if any(n.startswith("community:") for n in out) and ALL_COMMUNITIES not in out:
        out.append(ALL_COMMUNITIES)
    return out


def publish(channels: ChannelsPlugin, event: dict[str, Any], *names: str) -> None:
    """Send an event to every socket subscribed to any of the channels."""
    channels.publish(event, fanout(names))


@websocket("/api/v1/ws", name="realtime")
async def realtime(socket: WebSocket[Any, Any, Any], channels: ChannelsPlugin) -> None:
    """The live channel of the logged-in account: its own events and its communities' boards."""
    store: SessionStore = socket.app.state.sessions
    session = await store.get(socket.cookies.get(COOKIE))
    caller = None
    if session is not None and session.state == "active":
        caller = await load_caller(
            session.account_id, ip=socket.client.host if socket.client else None
        )
    if caller is None:
        await socket.close(code=4401, reason="not authenticated")
        return
    await socket.accept()
    names = [user_channel(caller.account_id)]
    board = Scope.held(caller, "board.read")
    if board is not None and board.everywhere:
        names.append(ALL_COMMUNITIES)  # a global administrator follows every community
    elif board is not None:
        names += [community_channel(c) for c in sorted(board.communities)]
    alarms = Scope.held(caller, "alarm.read")
    if alarms is not None:  # staff and police of whole communities: not a household's own view
        names += [alarm_channel(c) for c in sorted(alarms.communities)]
    async with (
        channels.start_subscription(names) as subscriber,
        subscriber.run_in_background(socket.send_data),
    ):
        await socket.send_json({"type": "hello", "channels": len(names)})
        try:
            while True:
                await socket.receive_data(mode="text")  # the client only keeps the line open
        except WebSocketDisconnect:
            pass
