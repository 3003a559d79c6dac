"""Jobs of the alarms domain: entry delays, linkage, escalation, schedules, sweeps, retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from api.alarms import linkage, raising, schedules, service, site_links
from api.core.effects import WorkerOutlet
from api.devices.bus import CommandBus
from workers.tasks.context import object_store


async def confirm_trip(ctx: dict[str, Any], *, event_id: int) -> None:
    """An intrusion trip's entry delay ran out: raise the alarm if the zone stayed armed."""
    effects = await raising.confirm_trip(event_id)
    await effects.apply(WorkerOutlet(ctx["redis"]))


async def run_linkage(ctx: dict[str, Any], *, alarm_id: UUID) -> None:
    """Run the alarm's linkage actions (each once, however often this job runs)."""
    async with object_store(ctx) as store:
        effects = await linkage.run_linkage(alarm_id, store, CommandBus(ctx["redis"]))
    await effects.apply(WorkerOutlet(ctx["redis"]))


async def escalate_alarm(ctx: dict[str, Any], *, run_id: UUID) -> None:
    """An escalation is due: tell the next roles unless the alarm was acknowledged."""
    effects = await service.escalate(run_id)
    await effects.apply(WorkerOutlet(ctx["redis"]))


async def apply_zone_schedules(ctx: dict[str, Any]) -> None:
    """Each minute: arm and disarm zones whose scheduled time has come."""
    effects = await schedules.apply_schedules(CommandBus(ctx["redis"]))
    await effects.apply(WorkerOutlet(ctx["redis"]))


async def sweep_alarm_timers(ctx: dict[str, Any]) -> int:
    """Each minute: re-enqueue entry-delay checks, linkage and escalations whose jobs were lost."""
    effects = await linkage.lost_jobs(ctx["job_id"])
    await effects.apply(WorkerOutlet(ctx["redis"]))
    return len(effects.jobs)


async def sweep_lost_links(ctx: dict[str, Any]) -> None:
    """Every 10 s: one alarm per site whose bridge stayed away past the grace; close those back."""
    grace = timedelta(seconds=ctx["settings"].bridge_offline_grace_s)
    effects = await site_links.sweep(grace)
    await effects.apply(WorkerOutlet(ctx["redis"]))


async def purge_expired_alarms(ctx: dict[str, Any]) -> int:
    """Nightly: delete closed alarms past retention (6 months; SOS a year), never earlier."""
    async with object_store(ctx) as store:
        return await service.purge_expired(store)
