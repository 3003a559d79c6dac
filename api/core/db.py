"""The PostgreSQL engine's lifecycle and migrations."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from piccolo.apps.migrations.commands.forwards import run_forwards

from api.piccolo_conf import DB


def configure(database_url: str) -> None:
    """Point the engine at a database; call before the first query."""
    DB.config = {"dsn": database_url}


@contextlib.asynccontextmanager
async def database(database_url: str) -> AsyncIterator[None]:
    """A connection pool for the life of the process."""
    configure(database_url)
    await DB.start_connection_pool(max_size=10)
    try:
        yield
    finally:
        await DB.close_connection_pool()


async def migrate(database_url: str) -> None:
    """Apply every migration not yet applied; raise when one fails."""
    configure(database_url)
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")
