"""Live updates over one authenticated WebSocket, fanned out through Litestar channels on Redis.

Channels: `user:<account id>` for what concerns one person; `community:<id>` for a community's
device boards (every `board.read` holder: staff, police, system administrators), which carry device
state and name nobody; `records:<id>` for its events that name a person or a plate (access
decisions, plate reads), followed only by holders of `access.read` in that community who are not
residents (maintenance and administrators may not read access records, so they get none of
these); `alarms:<id>` for its alarm board (holders of `alarm.read` who are not residents: another
household's SOS never reaches a resident's phone). Any api instance may publish; every instance
delivers to the sockets it holds. The Redis backend outlives a Redis restart
(`ResilientPubSubBackend`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterable
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import structlog
from litestar import Litestar, WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.exceptions import WebSocketDisconnect
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from api.core.auth import CallerLoader, Scope
from api.core.redisconn import CLOSE_LIMIT, ERRORS, backoff, bounded
from api.core.sessions import COOKIE, SessionStore

log = structlog.get_logger()


class ResilientPubSubBackend(RedisChannelsPubSubBackend):
    """Litestar's Redis pub/sub backend, made to outlive a Redis restart.

    Upstream, one failed PUBLISH ends the plugin's publishing task, and its shutdown then waits
    for ever on that task's queue (litestar#5008); one lost connection ends the task that
    delivers events, and a subscription asked for while Redis is away is never made. Here a
    publish that fails is logged and dropped (live events announce what PostgreSQL already
    holds); the channels the sockets follow are kept here, and after any Redis error the stream
    opens a new connection, after a backoff, subscribed to all of them.
    """

    def __init__(self, *, redis: Redis, key_prefix: str) -> None:
        super().__init__(redis=redis, key_prefix=key_prefix)
        self._wanted: set[str] = set()
        self._current: PubSub | None = None
        self._stale = True  # the current connection (if any) may lack a followed channel
        self._lock = asyncio.Lock()  # one (re)opening or subscription at a time

    async def _reopen(self) -> PubSub:
        """A new connection subscribed to every followed channel (the lock held)."""
        old, self._current = self._current, None
        if old is not None:
            await bounded(old.aclose(), "realtime stream")
        pubsub = self._redis.pubsub()
        try:
            if self._wanted:
                await pubsub.subscribe(*self._wanted)
        except BaseException:
            await bounded(pubsub.aclose(), "realtime stream")
            raise
        self._current, self._stale = pubsub, False
        log.info("realtime.stream.subscribed", channels=len(self._wanted))
        return pubsub

    async def subscribe(self, channels: Iterable[str]) -> None:
        """Follow the channels: subscribed on return, or, if Redis is away, once it is back."""
        async with self._lock:
            self._wanted |= set(channels)
            self._has_subscribed.set()
            try:
                if self._current is None or self._stale:
                    await self._reopen()
                else:
                    await self._current.subscribe(*channels)
            except ERRORS as err:
                self._stale = True
                log.warning("realtime.subscribe.deferred", error=str(err)[:200])

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        """Stop following the channels (a reopened connection leaves them out anyway)."""
        async with self._lock:
            channels = set(channels)
            self._wanted -= channels
            if not self._wanted:
                self._has_subscribed.clear()
            if self._current is not None and not self._stale:
                await bounded(self._current.unsubscribe(*channels), "realtime unsubscribe")

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        """PUBLISH on each channel; when Redis is away the event is dropped, never raised."""
        try:
            async with asyncio.timeout(CLOSE_LIMIT):
                await super().publish(data, channels)
        except (*ERRORS, TimeoutError) as err:
            log.warning("realtime.publish.dropped", error=str(err)[:200] or type(err).__name__)

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        """(channel, data) of every followed channel; after any error, a new connection."""
        delays = backoff()
        while True:
            await self._has_subscribed.wait()
            pubsub = None
            try:
                async with self._lock:
                    pubsub = (
                        await self._reopen()
                        if self._current is None or self._stale
                        else self._current
                    )
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self._stream_sleep_no_subscriptions
                )
            except Exception as err:  # this task delivers every event: it lives on
                if pubsub is self._current:  # not one that a subscribe() has replaced meanwhile
                    self._stale = True
                log.warning("realtime.stream.lost", error=str(err)[:200] or type(err).__name__)
                await asyncio.sleep(next(delays))
                continue
            delays = backoff()
            if message is None:
                continue
            channel = message["channel"].decode()
            if channel in self._wanted:  # a message may trail its channel's unsubscribe
                yield channel, message["data"]

    async def on_shutdown(self) -> None:
        """Close the connection, whatever state Redis is in."""
        current, self._current = self._current, None
        if current is not None:
            await bounded(current.aclose(), "realtime stream")


def channels_plugin(redis: Redis) -> ChannelsPlugin:
    """Channels on Redis pub/sub; names are created on demand."""
    return ChannelsPlugin(
        backend=ResilientPubSubBackend(redis=redis, key_prefix="anju:channels"),
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


def allowed_origin(origin: str | None, host: str | None, app: Litestar) -> bool:
    """Whether a socket may open from this page: the browser sends the cookie to any page that
    opens a socket to us, so a page of another site must be refused (cross-site WebSocket
    hijacking). Browsers always send `Origin`; a client without one is no browser. The public
    URL's origin is allowed, and a page served by this very host (a test or a second address)."""
    if origin is None:
        return True
    public = urlsplit(app.state.settings.public_url)
    given = urlsplit(origin)
    same_public = (given.scheme, given.netloc) == (public.scheme, public.netloc)
    return same_public or (host is not None and given.netloc == host)


@websocket("/api/v1/ws", name="realtime")
async def realtime(socket: WebSocket[Any, Any, Any], channels: ChannelsPlugin) -> None:
    """The live channel of the logged-in account: its own events and its communities' boards."""
    if not allowed_origin(socket.headers.get("origin"), socket.headers.get("host"), socket.app):
        await socket.close(code=4403, reason="origin not allowed")
        return
    store: SessionStore = socket.app.state.sessions
    load_caller: CallerLoader = socket.app.state.load_caller
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
    records = Scope.held(caller, "access.read")
    if records is not None:  # as `/access-records` scopes its reads: not a household's own view
        names += [records_channel(c) for c in sorted(records.communities)]

    async def deliver(data: bytes) -> None:
        # A send to a peer already gone must not end the sending task: Litestar would then wait
        # for ever for what it left queued, and its unsubscribe would stop half-way and leave
        # the Redis subscription behind. The receive loop below notices the peer is gone.
        with contextlib.suppress(WebSocketDisconnect, OSError):
            await socket.send_data(data)

    async with (
        channels.start_subscription(names) as subscriber,
        subscriber.run_in_background(deliver, join=False),  # nobody is left to take the rest
    ):
        await socket.send_json({"type": "hello", "channels": len(names)})
        try:
            while True:
                await socket.receive_data(mode="text")  # the client only keeps the line open
        except WebSocketDisconnect:
            pass
