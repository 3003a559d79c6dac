"""The platform's resources, each owned by one small async context manager."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from arq import create_pool
from litestar import Litestar
from redis.asyncio import Redis

from api.core import db
from api.core.crypto import FieldCipher, Keyring, derive_key, load_server_secret
from api.core.redisconn import bounded, queue_settings
from api.core.sessions import SessionStore
from api.core.storage import open_object_store
from api.settings import Settings


def make_cipher(settings: Settings) -> FieldCipher:
    """The personal-data cipher from the keyring and the server secret."""
    secret = load_server_secret(settings.secret_key_path)
    return FieldCipher(
        Keyring.load_or_create(settings.keyring_path),
        settings.crypto,
        derive_key(secret, "blind-index"),
    )


@contextlib.asynccontextmanager
async def database(app: Litestar) -> AsyncIterator[None]:
    """PostgreSQL connection pool."""
    async with db.database(app.state.settings.database_url):
        yield


@contextlib.asynccontextmanager
async def redis(app: Litestar) -> AsyncIterator[None]:
    """The Redis client (made with the app: plugins need it) for sessions, rate limits, channels.
    Closing is bounded, like every Redis close: shutdown ends whatever state Redis is in."""
    client: Redis = app.state.redis
    app.state.sessions = SessionStore(client)
    try:
        yield
    finally:
        await bounded(client.aclose(), "redis")


@contextlib.asynccontextmanager
async def crypto(app: Litestar) -> AsyncIterator[None]:
    """Keys for personal data."""
    app.state.cipher = make_cipher(app.state.settings)
    yield


@contextlib.asynccontextmanager
async def objects(app: Litestar) -> AsyncIterator[None]:
    """The object store (S3, or a local directory)."""
    async with open_object_store(app.state.settings) as store:
        app.state.objects = store
        yield


@contextlib.asynccontextmanager
async def queue(app: Litestar) -> AsyncIterator[None]:
    """The arq pool jobs are enqueued on (push deliveries, linkage, escalations)."""
    settings = app.state.settings
    pool = await create_pool(
        queue_settings(settings.redis_url), default_queue_name=settings.queue_name
    )
    app.state.queue = pool
    try:
        yield
    finally:
        await bounded(pool.aclose(), "job queue")


LIFESPAN = [database, redis, crypto, objects, queue]
