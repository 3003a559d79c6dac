"""The arq worker: its Redis, its start-up (the database pool) and its jobs and cron jobs."""

from __future__ import annotations

from typing import Any, ClassVar

from arq import cron
from arq.connections import RedisSettings

from api.core import db
from api.core.logging import configure_logging
from api.settings import get_settings
from workers.tasks.audit import verify_audit_chain
from workers.tasks.devices import sweep_stale_bridges, sync_device_clocks


async def startup(ctx: dict[str, Any]) -> None:
    """Open the database pool the jobs' services use."""
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    assert settings.database_url, "the worker needs ANJU_DATABASE_URL (anju demo sets it)"
    ctx["database"] = db.database(settings.database_url)
    await ctx["database"].__aenter__()


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close the database pool."""
    await ctx["database"].__aexit__(None, None, None)


def redis_settings() -> RedisSettings:
    """arq's connection, from ANJU_REDIS_URL."""
    url = get_settings().redis_url
    assert url, "the worker needs ANJU_REDIS_URL (anju demo sets it)"
    return RedisSettings.from_dsn(url)


class WorkerSettings:
    """`arq workers.settings.WorkerSettings`, or `anju worker`."""

    functions: ClassVar[list[Any]] = [verify_audit_chain, sweep_stale_bridges, sync_device_clocks]
    cron_jobs: ClassVar[list[Any]] = [
        cron(verify_audit_chain, hour={3}, minute={17}, unique=True),
        cron(sweep_stale_bridges, second={0, 10, 20, 30, 40, 50}, unique=True),
        cron(sync_device_clocks, minute={5}, unique=True),
    ]
    on_startup = startup
    on_shutdown = shutdown
    poll_delay = 0.1  # latency targets for alarms and calls are sub-second
    max_tries = 5
