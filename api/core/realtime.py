"""Live updates over one authenticated WebSocket, fanned out through Litestar channels on Redis.

Channels: `user:<account id>` for what concerns one person; `community:<id>` for a community's
device boards (every `board.read` holder: staff, police, system administrators), which carry device
state and name nobody; `records:<id>` for its events that name a person or a plate (access
decisions, plate reads), followed only by holders of `access.read` in that community who are not
residents (maintenance and administrators may not read access records, so they get none of
these); `alarms:<id>` for its alarm board (holders of `alarm.read` who are not residents: another
household's SOS never reaches a resident's phone). Any api instance may publish; every instance
delivers to the sockets it holds.
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


def records_channel(community_id: UUID) -> str:
    """The channel of one community's person- and plate-bearing events: only for holders of
    `access.read` in it beyond a household. Not a `community:` name: it never reaches the
    all-communities feed of global administrators."""
    return f"records:{community_id}"


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
    communities = caller.communities("board.read")
    if communities is None and caller.holds("board.read"):
        names.append(ALL_COMMUNITIES)  # a global administrator follows every community
    elif communities:
        names += [community_channel(c) for c in sorted(communities)]
    if caller.households("alarm.read") is None:  # staff and police: not a household's own view
        names += [alarm_channel(c) for c in sorted(caller.communities("alarm.read") or ())]
    if caller.households("access.read") is None:  # as `/access-records` scopes its reads
        names += [records_channel(c) for c in sorted(caller.communities("access.read") or ())]
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
