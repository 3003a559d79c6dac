"""Benchmarks of the alarm path.

1. Device event → alarm on a guard's board (WebSocket), against the same event's arrival on the
   board as a plain device event (ingest and fan-out, no alarm): both measured per trigger.
2. SOS → push request received by a local push service for 50 subscribed guards, against the same
   50 pushes sent by a bare notify + dispatch (no alarm), in the same run.
"""

from __future__ import annotations

import asyncio
import json
import signal
import statistics
import time
from typing import Any

import aiohttp
import pytest
from arq.connections import RedisSettings
from arq.worker import Worker
from litestar import Litestar

from api.core.auth import Role
from api.push.schemas import PushMessage
from api.push.service import dispatch, notify
from api.push.vapid import vapid_key
from api.settings import Settings
from device_bridge.identity import load_bridge_id
from device_bridge.settings import BridgeSettings
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, live_socket, make_account, running
from tests.integration.test_site import device_id
from tests.jobs import private_queue
from tests.perf.sizes import size
from tests.push.push_service import LocalPushService
from workers.settings import WorkerSettings

TRIGGERS = size(100, smoke=10)
GUARDS = size(50, smoke=5)
ROUNDS = size(5, smoke=2)


def _ms(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000


async def close(api: ApiClient, alarm_id: str) -> None:
    """Acknowledge and close an alarm, so the next trigger raises a new one."""
    for step in ("acknowledge", "false-alarm"):
        answer = await api.post(f"/api/v1/alarms/{alarm_id}/{step}", json={})
        assert answer.status_code == 200, answer.text


async def test_device_event_to_guard_board(
    as_role: AsRole, live_url: str, site_settings: BridgeSettings, world: World
) -> None:
    """p50/p99 from a detector's trip at the bridge to the alarm on the guard's socket."""
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    async with running(site_settings) as bridge:
        detector = await device_id("zone-east", load_bridge_id(site_settings))
        zone = await manager.post(
            "/api/v1/zones",
            json={
                "community_id": str(world.a.community),
                "name": "东区",
                "kind": "area",
                "devices": [str(detector)],
                "armed": True,
            },
        )
        assert zone.status_code == 201, zone.text
        async with live_socket(live_url, world.a.users[Role.GUARD]) as ws:
            to_alarm, to_event = [], []
            for _ in range(TRIGGERS):
                start = time.perf_counter()
                await bridge.sim.trigger("zone-east", "alarm.intrusion", {})
                alarm = None
                while alarm is None:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message["type"] == "device.event" and message["kind"] == "alarm.intrusion":
                        to_event.append(time.perf_counter() - start)
                    elif message["type"] == "alarm" and message["alarm"]["state"] == "new":
                        alarm = message["alarm"]
                        to_alarm.append(time.perf_counter() - start)
                await close(guard, alarm["id"])
    print(
        f"\ndevice event → alarm on the guard board, {TRIGGERS} trips: "
        f"p50 {_ms(to_alarm, 50):.1f} ms, p99 {_ms(to_alarm, 99):.1f} ms; "
        f"same event as a plain device event p50 {_ms(to_event, 50):.1f} ms, "
        f"p99 {_ms(to_event, 99):.1f} ms; ratio {_ms(to_alarm, 50) / _ms(to_event, 50):.2f}"
    )


async def stop(worker: Worker, running: asyncio.Task[None]) -> None:
    """Stop the worker as arq does on SIGTERM with `job_completion_wait`: it picks no new job, the
    jobs under way finish (their results stored), then its poll loop is cancelled and it closes.

    Cancelling the poll loop alone would leave `close()` to cancel the jobs under way, one of them
    inside `finish_job`, and re-raise that CancelledError.
    """
    worker.handle_sig_wait_for_completion(signal.SIGTERM)
    await asyncio.wait([running])
    if not running.cancelled():  # it ends only by that cancellation, or by an error
        running.result()
    await worker.close()


async def _arrivals(push: LocalPushService, base: int, expected: int, start: float) -> list[float]:
    """When each push request after the first `base` reached the push service, seconds after start
    (those that arrived before polling began count at its first look: an overestimate, not less)."""
    seen, times = base, []
    target = base + expected
    while seen < target:
        await asyncio.sleep(0.001)
        now = len(push.accepted)
        times += [time.perf_counter() - start] * (now - seen)
        seen = now
    return times


async def test_sos_to_push_for_50_guards(
    as_role: AsRole,
    app: Litestar,
    settings: Settings,
    login: Any,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """p50/p99 from the resident's SOS to each of 50 guards' push requests at the push service.

    The worker runs the jobs of a queue of this benchmark's own: none left by another test (an
    earlier benchmark's alarms) runs in it or is still under way when it stops.
    """
    push = LocalPushService()
    await push.start()
    key = (await (await as_role(Role.GUARD)).get("/api/v1/push/vapid-public-key")).json()
    guards = []
    for _ in range(GUARDS):
        user = await make_account(Role.GUARD, community=world.a.community)
        api = await login(user)
        browser = push.browser(key["public_key"])
        assert (
            await api.post("/api/v1/push/subscriptions", json=browser.subscription())
        ).status_code == 200
        guards.append(user)
    resident = await as_role(Role.RESIDENT)
    manager = await as_role(Role.PROPERTY_MANAGER)
    sos_times: list[float] = []
    bare_times: list[float] = []
    http = aiohttp.ClientSession()
    async with private_queue(app, settings, monkeypatch, WorkerSettings.functions) as jobs:
        worker = Worker(
            functions=WorkerSettings.functions,
            redis_settings=RedisSettings.from_dsn(settings.redis_url or ""),
            queue_name=jobs.queue,
            poll_delay=0.005,
            handle_signals=False,
            max_jobs=64,
            job_completion_wait=30,
            ctx={
                "settings": settings,
                "vapid": vapid_key(settings.vapid_keys_path, settings.public_url),
                "push_http": http,
                "objects": app.state.objects,
            },
        )
        running_worker = asyncio.create_task(worker.async_run())
        try:
            for _ in range(ROUNDS):
                base, start = len(push.accepted), time.perf_counter()
                sos = await resident.post("/api/v1/sos", json={"note": "bench"})
                assert sos.status_code == 201, sos.text
                sos_times += await asyncio.wait_for(_arrivals(push, base, GUARDS, start), 30)
                # the next SOS must not join this one
                await close(manager, sos.json()["id"])
                await asyncio.sleep(0.2)  # the property managers' own pushes (none subscribed)

                base, start = len(push.accepted), time.perf_counter()
                ids = await notify([g.id for g in guards], PushMessage(title="bench", body="bare"))
                await dispatch(app.state.queue, ids)
                bare_times += await asyncio.wait_for(_arrivals(push, base, GUARDS, start), 30)
        finally:
            await stop(worker, running_worker)
            await http.close()
            await push.stop()
    print(
        f"\nSOS → push request at the push service, {GUARDS} guards × {ROUNDS} SOS: "
        f"p50 {_ms(sos_times, 50):.1f} ms, p99 {_ms(sos_times, 99):.1f} ms; "
        f"bare notify+dispatch of the same {GUARDS} pushes p50 {_ms(bare_times, 50):.1f} ms, "
        f"p99 {_ms(bare_times, 99):.1f} ms; ratio {_ms(sos_times, 50) / _ms(bare_times, 50):.2f}"
    )
