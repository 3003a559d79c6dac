"""Jobs of web push: deliver one notification; sweep the ones whose job was lost."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import aiohttp
import structlog
from arq import Retry
from arq.worker import func

from api.core import jobs
from api.push import service
from api.push.vapid import VapidKey, vapid_key

log = structlog.get_logger()


def _vapid(ctx: dict[str, Any]) -> VapidKey:
    """The worker's VAPID key: from ctx (tests) or, on first use, the settings' key file."""
    if "vapid" not in ctx:
        settings = ctx["settings"]
        ctx["vapid"] = vapid_key(settings.vapid_keys_path, settings.public_url)
    key: VapidKey = ctx["vapid"]
    return key


async def deliver_notification(ctx: dict[str, Any], *, notification_id: UUID) -> str:
    """Send one notification to its browser's push service; retry with backoff when transient."""
    http: aiohttp.ClientSession | None = ctx.get("push_http")  # shared when start-up made one
    if http is None:
        async with aiohttp.ClientSession() as own:
            outcome = await service.deliver(notification_id, vapid=_vapid(ctx), http=own)
    else:
        outcome = await service.deliver(notification_id, vapid=_vapid(ctx), http=http)
    if outcome.retry_in is not None:
        raise Retry(defer=outcome.retry_in)
    return outcome.state


async def sweep_notifications(ctx: dict[str, Any]) -> int:
    """Every 10 s: re-enqueue notifications whose job or worker was lost."""
    result = await service.sweep(ctx["redis"])
    if result.reclaimed or result.requeued:
        log.warning("push.sweep", reclaimed=result.reclaimed, requeued=result.requeued)
    return result.reclaimed + result.requeued


# No result is kept, so the sweep may enqueue `push:<id>` again once a job has ended; the row's
# attempts column, not arq's job_try, decides when to give up; a claim never outlives 25 s.
deliver_notification_job = func(
    deliver_notification, name=jobs.DELIVER_NOTIFICATION, keep_result=0, max_tries=100, timeout=25
)
