"""The platform's Redis connections, made to outlive a Redis restart.

A pub/sub subscription lives on one connection: when Redis goes away (a restart, a failover) the
connection and its subscriptions are gone, and a listener that only reads raises once and ends —
silently, inside a background task. Every long-lived listener therefore reopens after a capped
backoff and subscribes again (`subscription` here; the realtime backend in `realtime.py`), and
every close is bounded, so shutdown never waits on a Redis that does not answer. Plain commands
need nothing: the pool replaces a dead connection when it is next taken.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterator

import structlog
from arq.connections import RedisSettings
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = structlog.get_logger()

ERRORS = (RedisError, OSError)  # what a lost or refused connection raises
RETRY_FIRST = 0.1  # s, the first wait before reopening; doubled up to RETRY_MAX
RETRY_MAX = 2.0
CLOSE_LIMIT = 2.0  # s a close may take before it is abandoned
CONNECT_LIMIT = 2.0  # s to open a connection: a host that does not answer is an error, not a hang
WORKER_RETRIES = 40  # the worker's commands wait out ~1 min of Redis absence before failing


def connect(url: str) -> Redis:
    """The api's client: connecting is bounded; dead connections are replaced by the pool. TCP
    keepalive notices a host that vanished; a unix socket (the embedded Redis) has none to set."""
    tcp = {} if url.startswith("unix:") else {"socket_keepalive": True}
    return Redis.from_url(url, socket_connect_timeout=CONNECT_LIMIT, **tcp)


def queue_settings(url: str, *, retries: int = 0) -> RedisSettings:
    """arq's connection. With retries, each command is retried with a capped backoff, which is
    how a worker outlives a Redis restart: arq's poll loop itself lets one error end the worker."""
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = int(CONNECT_LIMIT)
    if retries:
        settings.retry_on_error = [RedisConnectionError, RedisTimeoutError, OSError]
        settings.retry = Retry(ExponentialBackoff(cap=RETRY_MAX, base=RETRY_FIRST), retries)
    return settings


def backoff() -> Iterator[float]:
    """Waits before each reopening: RETRY_FIRST, doubling, then RETRY_MAX for ever."""
    delay = RETRY_FIRST
    while True:
        yield delay
        delay = min(delay * 2, RETRY_MAX)


async def bounded(awaitable: Awaitable[object], what: str) -> None:
    """Await a close or unsubscribe for at most CLOSE_LIMIT; its failure is logged, not raised."""
    try:
        async with asyncio.timeout(CLOSE_LIMIT):
            await awaitable
    except (*ERRORS, TimeoutError) as err:
        log.warning("redis.close.abandoned", what=what, error=type(err).__name__)


def _decoded(channel: str | bytes) -> str:
    return channel.decode() if isinstance(channel, bytes) else channel


@contextlib.asynccontextmanager
async def subscription(
    redis: Redis, *channels: str, name: str
) -> AsyncIterator[AsyncIterator[tuple[str, bytes] | None]]:
    """Subscribe now (raising if Redis is away now), then yield (channel, data) per message for
    ever. A lost connection is reopened and the channels subscribed again; a `None` then tells
    the reader that messages sent meanwhile are lost, so it can catch up."""
    current = redis.pubsub()
    try:
        await current.subscribe(*channels)
    except BaseException:
        await bounded(current.aclose(), name)
        raise

    async def reopen() -> PubSub:
        for delay in backoff():
            await asyncio.sleep(delay)
            pubsub = redis.pubsub()
            try:
                await pubsub.subscribe(*channels)
            except ERRORS:
                await bounded(pubsub.aclose(), name)
                continue
            log.info("redis.subscription.restored", name=name)
            return pubsub
        raise AssertionError("backoff() never ends")

    async def messages() -> AsyncIterator[tuple[str, bytes] | None]:
        nonlocal current
        while True:
            try:
                async for message in current.listen():
                    if message["type"] == "message":
                        yield _decoded(message["channel"]), message["data"]
            except ERRORS as err:
                log.warning("redis.subscription.lost", name=name, error=str(err)[:200])
            await bounded(current.aclose(), name)
            current = await reopen()
            yield None

    try:
        yield messages()
    finally:
        await bounded(current.aclose(), name)  # closing drops the subscriptions with it
