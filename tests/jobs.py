"""The app's job queue, private to one test, and a burst arq worker that runs the queued jobs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.jobs import JobDef
from arq.worker import Worker, func
from litestar import Litestar

from api.core.jobs import DELIVER_NOTIFICATION
from api.settings import Settings
from workers.tasks import alarms, intercom

ALARM_JOBS = [
    alarms.confirm_trip,
    alarms.run_linkage,
    alarms.escalate_alarm,
    alarms.apply_zone_schedules,
    alarms.sweep_alarm_timers,
]
INTERCOM_JOBS = [
    intercom.fetch_call_media,
    intercom.end_call_at_limit,
    intercom.hang_up_call,
    intercom.sweep_calls,
]


class Jobs:
    """Run the queued jobs of `functions` in an arq worker in burst mode (until none is due)."""

    def __init__(
        self,
        pool: ArqRedis,
        queue: str,
        settings: Settings,
        app: Litestar,
        functions: Sequence[Callable[..., Any]],
    ) -> None:
        self.pool = pool
        self.queue = queue
        self.settings = settings
        self.app = app
        self.functions = functions
        self.delivered: list[uuid.UUID] = []

    async def _deliver(self, ctx: dict[str, Any], *, notification_id: uuid.UUID) -> None:
        self.delivered.append(notification_id)  # push delivery is an outside edge: not here

    async def run(self) -> None:
        """Run every queued job, and those they queue, including deferred ones when due."""
        worker = Worker(
            functions=[*self.functions, func(self._deliver, name=DELIVER_NOTIFICATION)],
            redis_settings=RedisSettings.from_dsn(self.settings.redis_url or ""),
            queue_name=self.queue,
            burst=True,
            poll_delay=0.05,
            handle_signals=False,
            ctx={"objects": self.app.state.objects, "settings": self.settings},
        )
        try:
            await worker.main()
        finally:
            await worker.close()

    async def queued(self, name: str | None = None) -> list[JobDef]:
        """Queued jobs (deferred ones included), of one function or all."""
        jobs = await self.pool.queued_jobs(queue_name=self.queue)
        return [j for j in jobs if name is None or j.function == name]

    async def drop(self, name: str) -> None:
        """Forget queued jobs of one function (a burst worker would wait for deferred ones)."""
        for job in await self.queued(name):
            await self.pool.zrem(self.queue, job.job_id)


@asynccontextmanager
async def private_queue(
    app: Litestar,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    functions: Sequence[Callable[..., Any]],
) -> AsyncIterator[Jobs]:
    """Point the app's queue at a fresh one for the test; a worker for `functions` runs it."""
    queue = f"anju:test-jobs:{uuid.uuid4().hex[:8]}"
    pool = await create_pool(
        RedisSettings.from_dsn(settings.redis_url or ""), default_queue_name=queue
    )
    monkeypatch.setattr(app.state, "queue", pool)
    try:
        yield Jobs(pool, queue, settings, app, functions)
    finally:
        await pool.delete(queue)
        await pool.aclose()
