"""The push service's fixtures: a local push service, the VAPID key, a queue of the test's own and
a burst worker that delivers to the push service (tests of push and of visitor arrivals use them).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker

from api.push.tables import Notification
from api.push.vapid import VapidKey, vapid_key
from api.settings import Settings
from tests.push.push_service import LocalPushService
from workers.tasks.push import deliver_notification_job, sweep_notifications

RunWorker = Callable[[], Awaitable[Worker]]


@pytest.fixture
async def push(app: object) -> AsyncIterator[LocalPushService]:
    """A fresh push service on loopback; its unsent notifications are closed afterwards.

    (Otherwise a later test's sweep — the sweep is global — would retry them into the void.)
    """
    service = LocalPushService()
    await service.start()
    yield service
    await service.stop()
    await Notification.raw(
        "UPDATE notifications SET state = 'failed', last_error = 'test over'"
        " WHERE state IN ('pending', 'sending') AND subscription IN"
        " (SELECT id FROM push_subscriptions WHERE starts_with(endpoint, {}))",
        service.url + "/",
    )


@pytest.fixture
def vapid(settings: Settings) -> VapidKey:
    """The platform's VAPID key, as the API and the worker load it."""
    return vapid_key(settings.vapid_keys_path, settings.public_url)


@pytest.fixture
async def queue(settings: Settings, app: object) -> AsyncIterator[ArqRedis]:
    """An arq pool whose default queue is this test's alone (tests of other runs share Redis)."""
    pool = await create_pool(
        RedisSettings.from_dsn(settings.redis_url or ""),
        default_queue_name=f"anju:test-push:{uuid.uuid4().hex}",
    )
    yield pool
    await pool.delete(pool.default_queue_name)
    await pool.aclose()


@pytest.fixture
async def run_worker(
    settings: Settings, queue: ArqRedis, vapid: VapidKey
) -> AsyncIterator[RunWorker]:
    """Run the push jobs on the test's queue in burst mode, until the queue is empty."""
    http = aiohttp.ClientSession()

    async def run() -> Worker:
        worker = Worker(
            functions=[deliver_notification_job, sweep_notifications],
            redis_settings=RedisSettings.from_dsn(settings.redis_url or ""),
            queue_name=queue.default_queue_name,
            burst=True,
            poll_delay=0.05,
            handle_signals=False,
            ctx={"vapid": vapid, "push_http": http},
        )
        await worker.main()
        await worker.close()
        return worker

    yield run
    await http.close()
