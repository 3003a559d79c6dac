"""notify → dispatch → worker → the push service: what arrives, and what each answer does."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from arq.connections import ArqRedis

from api.core.auth import Role
from api.piccolo_conf import DB
from api.push import service
from api.push.schemas import PushMessage
from api.push.tables import Notification, PushSubscription
from tests.helpers import ApiClient, World, subscribed
from tests.plugins.push import RunWorker
from tests.push.push_service import LocalPushService
from workers.settings import WorkerSettings


async def _row(notification_id: UUID) -> dict[str, object]:
    row = await Notification.select().where(Notification.id == notification_id).first()
    assert row is not None
    return row


async def _send(world: World, queue: ArqRedis, message: PushMessage | None = None) -> list[UUID]:
    ids = await service.notify(
        [world.a.users[Role.RESIDENT].id], message or PushMessage(title="门禁", body="有人按门铃")
    )
    await service.dispatch(queue, ids)
    return ids


class TestNotify:
    async def test_one_row_per_subscription_and_none_without(
        self, resident: ApiClient, push: LocalPushService, world: World
    ) -> None:
        await subscribed(resident, push)
        await subscribed(resident, push)
        resident_id = world.a.users[Role.RESIDENT].id
        nobody = world.b.users[Role.RESIDENT].id
        ids = await service.notify(
            [resident_id, nobody, resident_id], PushMessage(title="t", body="b")
        )
        assert len(ids) == 2
        assert await service.notify([nobody], PushMessage(title="t", body="b")) == []
        assert await service.notify([], PushMessage(title="t", body="b")) == []

    async def test_rows_belong_to_the_callers_transaction(
        self, resident: ApiClient, push: LocalPushService, world: World
    ) -> None:
        await subscribed(resident, push)

        ids: list[UUID] = []

        async def notify_then_fail() -> None:
            async with DB.transaction():
                ids.extend(
                    await service.notify(
                        [world.a.users[Role.RESIDENT].id], PushMessage(title="t", body="b")
                    )
                )
                raise RuntimeError("the caller's transaction fails after notify")

        with pytest.raises(RuntimeError):
            await notify_then_fail()
        assert ids and await Notification.count().where(Notification.id.is_in(ids)) == 0

    async def test_a_payload_too_large_for_push_is_shortened_not_refused(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        browser, _ = await subscribed(resident, push)
        long = PushMessage(title="标题", body="长" * 2000, data={"k": "v"})
        await _send(world, queue, long)
        await run_worker()
        [got] = browser.messages()
        assert got.payload["title"] == "标题" and got.payload["data"] == {"k": "v"}
        assert got.payload["body"].startswith("长长") and got.payload["body"].endswith("…")
        assert len(json.dumps(got.payload, ensure_ascii=False).encode()) <= service.MAX_PAYLOAD


class TestDelivery:
    async def test_the_browser_decrypts_the_exact_message(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        browser, sub = await subscribed(resident, push)
        message = PushMessage(
            title="入侵报警",
            body="1栋周界 3 号防区",
            url="/alarms/42",
            tag="alarm:42",
            urgency="high",
            ttl=120,
            data={"alarm_id": 42, "zone": "周界"},
        )
        [notification_id] = await _send(world, queue, message)
        before = time.time()
        await run_worker()
        [got] = browser.messages()
        assert got.payload == {
            "id": str(notification_id),
            "title": "入侵报警",
            "body": "1栋周界 3 号防区",
            "url": "/alarms/42",
            "tag": "alarm:42",
            "data": {"alarm_id": 42, "zone": "周界"},
        }
        assert 118 <= got.ttl <= 120
        assert got.urgency == "high"
        assert got.topic == service.topic(notification_id) and len(got.topic) <= 32
        assert got.claims["aud"] == push.url
        assert got.claims["sub"].startswith("mailto:")
        assert before < got.claims["exp"] <= before + 86400
        row = await _row(notification_id)
        assert (row["state"], row["attempts"]) == ("sent", 1)
        assert row["sent_at"] is not None
        listed = (await resident.get("/api/v1/push/subscriptions")).json()
        assert listed[0]["id"] == sub["id"] and listed[0]["last_success_at"]

    async def test_without_a_tag_the_notification_id_is_the_tag(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        browser, _ = await subscribed(resident, push)
        [notification_id] = await _send(world, queue)
        await run_worker()
        [got] = browser.messages()
        assert got.payload["tag"] == str(notification_id)
        assert got.urgency == "normal" and got.payload["url"] == "/"

    async def test_dispatching_twice_delivers_once(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        browser, _ = await subscribed(resident, push)
        ids = await _send(world, queue)
        await service.dispatch(queue, ids)
        await run_worker()
        await service.dispatch(queue, ids)  # late duplicate: the row is no longer pending
        await run_worker()
        assert len(browser.messages()) == 1 and push.requests == 1

    async def test_gone_deletes_the_subscription_and_keeps_the_row(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        browser, sub = await subscribed(resident, push)
        push.answer(410)
        [notification_id] = await _send(world, queue)
        await run_worker()
        row = await _row(notification_id)
        assert row["state"] == "gone" and row["subscription"] is None
        assert "410" in str(row["last_error"])
        assert await PushSubscription.count().where(PushSubscription.id == sub["id"]) == 0
        assert browser.messages() == []

    async def test_not_found_deletes_the_subscription(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        _, sub = await subscribed(resident, push)
        push.answer(404)
        [notification_id] = await _send(world, queue)
        await run_worker()
        assert (await _row(notification_id))["state"] == "gone"
        assert await PushSubscription.count().where(PushSubscription.id == sub["id"]) == 0

    async def test_a_server_error_is_retried_then_delivered_once(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        browser, _ = await subscribed(resident, push)
        push.answer(500)
        [notification_id] = await _send(world, queue)
        started = time.monotonic()
        await run_worker()
        assert time.monotonic() - started >= service.BACKOFF[0]
        assert push.requests == 2 and len(browser.messages()) == 1
        row = await _row(notification_id)
        assert (row["state"], row["attempts"]) == ("sent", 2)

    async def test_a_transient_failure_on_the_last_attempt_gives_up(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        await subscribed(resident, push)
        ids = await service.notify(
            [world.a.users[Role.RESIDENT].id], PushMessage(title="t", body="b")
        )
        await Notification.update({Notification.attempts: service.MAX_ATTEMPTS - 1}).where(
            Notification.id == ids[0]
        )
        push.answer(429, headers={"Retry-After": "5"})
        await service.dispatch(queue, ids)
        await run_worker()
        row = await _row(ids[0])
        assert (row["state"], row["attempts"]) == ("failed", service.MAX_ATTEMPTS)
        assert "429" in str(row["last_error"])

    async def test_a_refused_vapid_key_fails_without_retrying(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        # The browser subscribed with another server's key: the push service answers 403.
        stranger = push.browser(application_server_key="B" + "A" * 86)
        response = await resident.post("/api/v1/push/subscriptions", json=stranger.subscription())
        assert response.status_code == 200
        [notification_id] = await _send(world, queue)
        await run_worker()
        row = await _row(notification_id)
        assert (row["state"], row["attempts"]) == ("failed", 1)
        assert push.refused and push.refused[0][0] == 403

    async def test_an_expired_notification_is_not_sent(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        await subscribed(resident, push)
        ids = await service.notify(
            [world.a.users[Role.RESIDENT].id], PushMessage(title="t", body="b", ttl=60)
        )
        await Notification.update(
            {Notification.created_at: datetime.now(UTC) - timedelta(minutes=2)}
        ).where(Notification.id == ids[0])
        await service.dispatch(queue, ids)
        await run_worker()
        assert (await _row(ids[0]))["state"] == "failed"
        assert push.requests == 0

    async def test_an_unsubscribed_browser_gets_nothing(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        browser, _ = await subscribed(resident, push)
        ids = await service.notify(
            [world.a.users[Role.RESIDENT].id], PushMessage(title="t", body="b")
        )
        await resident.request(
            "DELETE", "/api/v1/push/subscriptions", json={"endpoint": browser.endpoint}
        )
        await service.dispatch(queue, ids)
        await run_worker()
        assert (await _row(ids[0]))["state"] == "gone" and push.requests == 0


class TestSweep:
    async def test_a_row_stuck_in_sending_is_taken_back_and_delivered_once(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        browser, _ = await subscribed(resident, push)
        ids = await service.notify(
            [world.a.users[Role.RESIDENT].id], PushMessage(title="t", body="b")
        )
        # A worker claimed it a minute ago and died; its job is stuck in arq under push:<id>.
        await Notification.update(
            {
                Notification.state: "sending",
                Notification.attempts: 1,
                Notification.claimed_at: datetime.now(UTC) - timedelta(minutes=1),
            }
        ).where(Notification.id == ids[0])
        await queue.enqueue_job(
            "deliver_notification", notification_id=ids[0], _job_id=f"push:{ids[0]}", _defer_by=3600
        )
        result = await service.sweep(queue)
        assert result.reclaimed >= 1
        assert (await _row(ids[0]))["state"] == "pending"
        assert await queue.exists(f"arq:job:push:{ids[0]}:1")  # a job of its own
        await queue.delete(f"arq:job:push:{ids[0]}")  # let the burst worker finish
        await queue.zrem(queue.default_queue_name, f"push:{ids[0]}")
        await run_worker()
        [got] = browser.messages()
        assert got.topic == service.topic(ids[0])
        row = await _row(ids[0])
        assert (row["state"], row["attempts"]) == ("sent", 2)

    async def test_a_recent_claim_is_left_to_its_worker(
        self, resident: ApiClient, push: LocalPushService, world: World, queue: ArqRedis
    ) -> None:
        await subscribed(resident, push)
        ids = await service.notify(
            [world.a.users[Role.RESIDENT].id], PushMessage(title="t", body="b")
        )
        await Notification.update(
            {Notification.state: "sending", Notification.claimed_at: datetime.now(UTC)}
        ).where(Notification.id == ids[0])
        await service.sweep(queue)
        assert (await _row(ids[0]))["state"] == "sending"

    async def test_a_pending_row_that_lost_its_job_is_enqueued_once(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        browser, _ = await subscribed(resident, push)
        ids = await service.notify(
            [world.a.users[Role.RESIDENT].id], PushMessage(title="t", body="b")
        )
        # Committed, but the process died before dispatch: no job anywhere.
        await Notification.update(
            {Notification.created_at: datetime.now(UTC) - timedelta(seconds=10)}
        ).where(Notification.id == ids[0])
        first = await service.sweep(queue)
        second = await service.sweep(queue)  # the job is queued: arq refuses the same id
        assert first.requeued >= 1 and second.requeued == 0
        await run_worker()
        assert len(browser.messages()) == 1
        assert (await _row(ids[0]))["state"] == "sent"

    async def test_a_retry_that_is_not_yet_due_is_left_alone(
        self, resident: ApiClient, push: LocalPushService, world: World, queue: ArqRedis
    ) -> None:
        await subscribed(resident, push)
        ids = await service.notify(
            [world.a.users[Role.RESIDENT].id], PushMessage(title="t", body="b")
        )
        await Notification.update(
            {
                Notification.created_at: datetime.now(UTC) - timedelta(minutes=5),
                Notification.next_attempt_at: datetime.now(UTC) + timedelta(minutes=1),
            }
        ).where(Notification.id == ids[0])
        await service.sweep(queue)
        assert not await queue.exists(f"arq:job:push:{ids[0]}")

    async def test_the_cron_job_sweeps_on_the_workers_own_queue(
        self,
        resident: ApiClient,
        push: LocalPushService,
        world: World,
        queue: ArqRedis,
        run_worker: RunWorker,
    ) -> None:
        assert "cron:sweep_notifications" in {c.name for c in WorkerSettings.cron_jobs}
        browser, _ = await subscribed(resident, push)
        ids = await service.notify(
            [world.a.users[Role.RESIDENT].id], PushMessage(title="t", body="b")
        )
        await Notification.update(
            {Notification.created_at: datetime.now(UTC) - timedelta(seconds=10)}
        ).where(Notification.id == ids[0])
        await queue.enqueue_job("sweep_notifications")
        await run_worker()  # runs the sweep, then the delivery it enqueued
        assert len(browser.messages()) == 1
