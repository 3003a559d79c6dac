"""SIGKILL the worker while notifications are in flight: all arrive, none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from arq.connections import ArqRedis

from api.core.auth import Role
from api.push import service
from api.push.schemas import PushMessage
from api.push.tables import Notification
from api.settings import Settings
from tests.helpers import ApiClient, World, eventually, subscribed
from tests.push.push_service import LocalPushService

ROOT = Path(__file__).resolve().parents[2]
COUNT = 50


@pytest.fixture
def start_worker(
    settings: Settings, queue: ArqRedis, tmp_path: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start `anju worker` processes on the test's queue; any still alive are stopped after."""
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "ANJU_DATABASE_URL": settings.database_url or "",
        "ANJU_REDIS_URL": settings.redis_url or "",
        "ANJU_DATA_DIR": str(settings.data_dir),
        "ANJU_PUBLIC_URL": settings.public_url,
        "ANJU_LOG_JSON": "false",
        "ANJU_TEST_QUEUE": queue.default_queue_name,
    }

    class Starter(list[subprocess.Popen[bytes]]):
        def __call__(self) -> subprocess.Popen[bytes]:
            log = (tmp_path / f"worker-{len(started)}.log").open("wb")
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.push.worker_main"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started.append(proc)
            return proc

    yield Starter()  # type: ignore[misc]
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _count(state: str, ids: list[UUID]) -> int:
    return await Notification.count().where(
        (Notification.state == state) & Notification.id.is_in(ids)
    )


class TestWorkerCrash:
    async def test_every_notification_arrives_exactly_once(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        start_worker: Callable[[], subprocess.Popen[bytes]],
    ) -> None:
        await subscribed(resident, push)
        account = world.a.users[Role.RESIDENT].id
        ids: list[UUID] = []
        for n in range(COUNT):
            ids += await service.notify([account], PushMessage(title=f"#{n}", body="b"))
        await service.dispatch(queue, ids)
        push.delay = 0.2

        first = start_worker()
        await eventually(lambda: _true(len(push.accepted) >= 15), timeout=30)
        # Freeze the push service: what it accepted stays accepted, what is in flight waits.
        push.hold()
        accepted = len(push.accepted)
        await eventually(lambda: _equal(_count("sent", ids), accepted), timeout=10)
        await eventually(lambda: _true(push.held), timeout=10)
        in_flight = await _count("sending", ids)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        await eventually(lambda: _true(push.senders_gone()), timeout=10)
        push.release()
        await eventually(lambda: _true(push.dropped >= 1), timeout=10)
        print(f"killed with {accepted} accepted, {in_flight} in flight, {push.dropped} dropped")
        assert 0 < accepted < COUNT and in_flight >= 1

        # Only the sweep knows those claims are dead (after 30 s; here at once).
        swept = await service.sweep(queue, sending_limit=timedelta(0))
        assert swept.reclaimed >= in_flight  # (the sweep is global: other tests' rows too)
        assert await _count("sending", ids) == 0
        start_worker()
        await eventually(lambda: _equal(_count("sent", ids), COUNT), timeout=30)

        topics = push.topics()
        assert set(topics) == {service.topic(i) for i in ids}
        assert set(topics.values()) == {1}, "a notification was accepted twice"
        assert len(push.accepted) == COUNT
        attempts = await Notification.select(Notification.attempts).where(
            Notification.id.is_in(ids)
        )
        assert sum(r["attempts"] for r in attempts) == COUNT + in_flight


async def _true(value: object) -> bool:
    return bool(value)


async def _equal(count: object, expected: int) -> bool:
    return await count == expected  # type: ignore[misc]
