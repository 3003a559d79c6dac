"""The worker runs jobs against the real Redis and database (arq in burst mode)."""

from __future__ import annotations

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker

from api.audit.service import record
from api.settings import Settings
from workers.settings import WorkerSettings
from workers.tasks.audit import verify_audit_chain


async def test_nightly_chain_check_runs_in_the_worker(settings: Settings, app: object) -> None:
    await record("test.worker", actor_name="worker-test")
    redis_settings = RedisSettings.from_dsn(settings.redis_url or "")
    pool = await create_pool(redis_settings)
    job = await pool.enqueue_job("verify_audit_chain", _queue_name="anju:test-queue")
    assert job is not None
    worker = Worker(
        functions=[verify_audit_chain],
        redis_settings=redis_settings,
        queue_name="anju:test-queue",
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
    )
    await worker.main()
    assert await job.result(timeout=5) is True
    assert WorkerSettings.cron_jobs, "the nightly check is scheduled"
    await worker.close()
    await pool.aclose()
