"""The worker runs the audit jobs against the real Redis and database (arq in burst mode)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker

from api.audit.anchors import PREFIX, AnchorKey, verify_anchors
from api.audit.service import record
from api.audit.tables import AuditEntry
from api.core.storage import LocalObjectStore
from api.settings import Settings
from workers.settings import WorkerSettings
from workers.tasks.audit import anchor_audit_head, verify_audit_chain


@pytest.fixture
def ctx(tmp_path: Path) -> dict[str, Any]:
    """The jobs' object store and anchor key, the test's own."""
    return {
        "objects": LocalObjectStore(
            tmp_path / "objects", public_url="http://127.0.0.1", signing_key=b"k" * 32
        ),
        "anchor_key": AnchorKey.load_or_create(tmp_path / "audit-anchor.pem"),
    }


async def run_job(settings: Settings, ctx: dict[str, Any], name: str) -> Any:
    """Enqueue one audit job on a queue of its own and run it in a burst worker."""
    redis_settings = RedisSettings.from_dsn(settings.redis_url or "")
    queue = f"anju:test-audit:{uuid.uuid4().hex[:8]}"
    pool = await create_pool(redis_settings)
    job = await pool.enqueue_job(name, _queue_name=queue)
    assert job is not None
    worker = Worker(
        functions=[verify_audit_chain, anchor_audit_head],
        redis_settings=redis_settings,
        queue_name=queue,
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
        ctx=ctx,
    )
    try:
        await worker.main()
        return await job.result(timeout=5)
    finally:
        await worker.close()
        await pool.aclose()


async def test_nightly_chain_check_runs_in_the_worker(
    settings: Settings, app: object, ctx: dict[str, Any]
) -> None:
    await record("test.worker", actor_name="worker-test")

    assert await run_job(settings, ctx, "verify_audit_chain") is True
    assert "cron:verify_audit_chain" in {c.name for c in WorkerSettings.cron_jobs}


async def test_the_anchor_job_signs_the_head_into_the_store(
    settings: Settings, app: object, ctx: dict[str, Any]
) -> None:
    await record("test.worker.anchor", actor_name="worker-test")
    head = await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first()

    seq = await run_job(settings, ctx, "anchor_audit_head")

    assert seq == head["id"]
    [key] = await ctx["objects"].keys(PREFIX)
    assert key.startswith(f"{PREFIX}{seq:020d}-")
    check = await verify_anchors(ctx["objects"], ctx["anchor_key"])
    assert (check.ok, check.checked) == (True, 1)
    assert await run_job(settings, ctx, "verify_audit_chain") is True


def test_anchoring_is_a_worker_job_on_a_schedule() -> None:
    assert anchor_audit_head in WorkerSettings.functions
    assert "cron:anchor_audit_head" in {c.name for c in WorkerSettings.cron_jobs}
