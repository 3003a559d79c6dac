"""The arq worker: its Redis, its start-up (the database pool) and its jobs and cron jobs."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import aiohttp
import structlog
from arq import cron
from arq.connections import RedisSettings
from arq.worker import func

from api.access import credential_keys
from api.app import register_hooks
from api.audit import service as audit
from api.core import db, jobs
from api.core.logging import configure_logging
from api.core.redisconn import WORKER_RETRIES, queue_settings
from api.lifespan import make_cipher
from api.settings import get_settings
from workers.tasks.access import purge_access_records
from workers.tasks.alarms import (
    apply_zone_schedules,
    confirm_trip,
    escalate_alarm,
    purge_expired_alarms,
    run_linkage,
    sweep_alarm_timers,
    sweep_lost_links,
)
from workers.tasks.audit import anchor_audit_head, verify_audit_chain
from workers.tasks.devices import sweep_stale_bridges, sync_device_clocks
from workers.tasks.intercom import (
    end_call_at_limit,
    fetch_call_media,
    hang_up_call,
    purge_expired_calls,
    sweep_calls,
)
from workers.tasks.patrol import (
    end_patrol_rounds,
    make_patrol_rounds,
    schedule_patrol_rounds,
)
from workers.tasks.people import (
    expire_tenant_leases,
    purge_expired_imports,
    run_person_import,
)
from workers.tasks.push import deliver_notification_job, sweep_notifications
from workers.tasks.vehicles import (
    purge_vehicle_passes,
    scan_vehicle_warnings,
    settle_parking_exit,
    store_plate_images,
)
from workers.tasks.visitors import expire_visitor_passes
from workers.tasks.workorders import (
    escalate_work_orders,
    generate_preventive_orders,
    prompt_preventive_orders,
)

log = structlog.get_logger()


async def startup(ctx: dict[str, Any]) -> None:
    """Read the settings once (jobs take them from ctx); open the database pool and the HTTP
    session the jobs use."""
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    register_hooks()  # the jobs' effects reach the same after-commit hooks as the app's
    assert settings.database_url, "the worker needs ANJU_DATABASE_URL (anju demo sets it)"
    ctx["settings"] = settings
    ctx["cipher"] = make_cipher(settings)  # the registry's jobs (a lease's end)
    audit.configure(settings.crypto)
    credential_keys.configure(settings)
    ctx["database"] = db.database(settings.database_url)
    await ctx["database"].__aenter__()
    ctx["push_http"] = aiohttp.ClientSession()  # one connection pool for every push delivery


async def shutdown(ctx: dict[str, Any]) -> None:
    """Anchor the audit chain's head one last time; close the database pool and the HTTP session."""
    try:
        async with asyncio.timeout(10):
            await anchor_audit_head(ctx)
    except Exception:  # a stop must not hang on it: the next start's cron anchors again
        log.exception("audit.anchor.failed")
    await ctx["push_http"].close()
    await ctx["database"].__aexit__(None, None, None)


ANCHOR_EVERY_MINUTES = 5  # entries newer than the last anchor are the chain's unanchored tail


def redis_settings() -> RedisSettings:
    """arq's connection, from ANJU_REDIS_URL."""
    url = get_settings().redis_url
    assert url, "the worker needs ANJU_REDIS_URL (anju demo sets it)"
    return queue_settings(url, retries=WORKER_RETRIES)  # arq's loop dies on one Redis error


class WorkerSettings:
    """`arq workers.settings.WorkerSettings`, or `anju worker`.

    A job the API enqueues is registered under its name in `api.core.jobs`.
    """

    functions: ClassVar[list[Any]] = [
        verify_audit_chain,
        anchor_audit_head,
        sweep_stale_bridges,
        sync_device_clocks,
        func(confirm_trip, name=jobs.CONFIRM_TRIP),
        func(run_linkage, name=jobs.RUN_LINKAGE),
        func(escalate_alarm, name=jobs.ESCALATE_ALARM),
        apply_zone_schedules,
        sweep_alarm_timers,
        sweep_lost_links,
        purge_expired_alarms,
        purge_access_records,
        deliver_notification_job,  # registered as jobs.DELIVER_NOTIFICATION
        sweep_notifications,
        func(fetch_call_media, name=jobs.FETCH_CALL_MEDIA),
        func(store_plate_images, name=jobs.STORE_PLATE_IMAGES),
        func(end_call_at_limit, name=jobs.END_CALL_AT_LIMIT),
        func(hang_up_call, name=jobs.HANG_UP_CALL),
        sweep_calls,
        purge_expired_calls,
        expire_visitor_passes,
        expire_tenant_leases,
        func(make_patrol_rounds, name=jobs.MAKE_PATROL_ROUNDS),
        schedule_patrol_rounds,
        end_patrol_rounds,
        purge_vehicle_passes,
        func(settle_parking_exit, name=jobs.SETTLE_PARKING_EXIT),
        scan_vehicle_warnings,
        escalate_work_orders,
        generate_preventive_orders,
        prompt_preventive_orders,
        func(run_person_import, name=jobs.RUN_PERSON_IMPORT),
        purge_expired_imports,
    ]
    cron_jobs: ClassVar[list[Any]] = [
        cron(verify_audit_chain, hour={3}, minute={17}, unique=True),
        cron(anchor_audit_head, minute=set(range(0, 60, ANCHOR_EVERY_MINUTES)), unique=True),
        cron(sweep_stale_bridges, second={0, 10, 20, 30, 40, 50}, unique=True),
        cron(sync_device_clocks, minute={5}, unique=True),
        cron(apply_zone_schedules, second={0}, unique=True),
        cron(sweep_alarm_timers, second={30}, unique=True),
        cron(sweep_lost_links, second={5, 15, 25, 35, 45, 55}, unique=True),
        cron(purge_expired_alarms, hour={3}, minute={41}, unique=True),
        cron(purge_access_records, hour={3}, minute={53}, unique=True),
        cron(sweep_notifications, second={0, 10, 20, 30, 40, 50}, unique=True),
        cron(sweep_calls, second={15, 45}, unique=True),
        cron(purge_expired_calls, hour={3}, minute={47}, unique=True),
        cron(expire_visitor_passes, second={5}, unique=True),
        cron(expire_tenant_leases, minute={7}, second={35}, unique=True),
        cron(schedule_patrol_rounds, minute=set(range(0, 60, 10)), second={20}, unique=True),
        cron(end_patrol_rounds, second={10, 40}, unique=True),
        cron(purge_vehicle_passes, hour={3}, minute={59}, unique=True),
        cron(scan_vehicle_warnings, minute=set(range(3, 60, 10)), second={50}, unique=True),
        cron(escalate_work_orders, second={25}, unique=True),
        cron(generate_preventive_orders, minute={13}, second={50}, unique=True),
        cron(prompt_preventive_orders, second={55}, unique=True),
        cron(purge_expired_imports, hour={3}, minute={29}, unique=True),
    ]
    on_startup = startup
    on_shutdown = shutdown
    poll_delay = 0.1  # latency targets for alarms and calls are sub-second
    max_tries = 5
