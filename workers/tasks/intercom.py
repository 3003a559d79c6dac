"""Jobs of the intercom and live view: visitor media, the duration limit, sweeps, retention."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from arq import Retry

from api.core.effects import WorkerOutlet
from api.devices.bus import CommandBus
from api.intercom import reads, service, upkeep
from api.video import service as video
from workers.tasks.context import object_store


async def fetch_call_media(ctx: dict[str, Any], *, call_id: UUID) -> bool:
    """An unanswered call: fetch the visitor's snapshot and message from the station, store them."""
    async with object_store(ctx) as store:
        try:
            return await upkeep.fetch_media(CommandBus(ctx["redis"]), store, call_id)
        except upkeep.MediaUnavailable as err:
            raise Retry(defer=ctx.get("job_try", 1) * 10) from err


async def end_call_at_limit(ctx: dict[str, Any], *, call_id: UUID) -> None:
    """A call's duration limit has passed: end it if the station did not."""
    limit = ctx["settings"].call_max_duration_s
    effects = await upkeep.end_at_limit(CommandBus(ctx["redis"]), call_id, limit)
    await effects.apply(WorkerOutlet(ctx["redis"]))


async def hang_up_call(ctx: dict[str, Any], *, call_id: UUID, outcome: str) -> None:
    """Tell a station to stop ringing a call the platform ended (an unknown room)."""
    row = await reads.call_row(call_id)
    if row is not None:
        await service.tell_station(CommandBus(ctx["redis"]), row, outcome)


async def sweep_calls(ctx: dict[str, Any]) -> int:
    """Every 30 s: end calls and live views whose end was lost; re-queue lost media fetches."""
    settings = ctx["settings"]
    bus = CommandBus(ctx["redis"])
    effects = await upkeep.end_overdue(bus, settings.call_max_duration_s)
    await effects.apply(WorkerOutlet(ctx["redis"]))
    return await video.end_stale(bus, settings.live_max_duration_s)


async def purge_expired_calls(ctx: dict[str, Any]) -> int:
    """Nightly: delete call records, their media and view sessions past 6 months, never earlier."""
    async with object_store(ctx) as store:
        purged = await upkeep.purge_expired(store)
    return purged + await video.purge_expired()
