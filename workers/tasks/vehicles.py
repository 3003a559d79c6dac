"""Vehicle jobs: plate-read snapshots into the object store; the nightly purge of pass records,
tickets and orders past their retention; a held car's stay priced at a paying exit; the
warnings' scan."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.core.effects import WorkerOutlet
from api.devices.bus import CommandBus
from api.vehicles import images, retention, warnings
from api.vehicles.payments import orders
from api.vehicles.payments.registry import DEFAULT, providers
from workers.tasks.context import object_store


async def store_plate_images(ctx: dict[str, Any], *, event_ids: list[int]) -> int:
    """A batch's plate-read snapshots into the object store (api/vehicles/images.py)."""
    async with object_store(ctx) as store:
        return await images.store(store, event_ids)


async def purge_vehicle_passes(ctx: dict[str, Any]) -> tuple[int, int, int, int]:
    """Nightly: pass records' images past 6 months, the records past 365 days; then the settled
    orders and ended tickets past 365 days whose records are gone (never a pending order)."""
    return (*await retention.purge(), *await retention.purge_payments())


async def settle_parking_exit(ctx: dict[str, Any], *, read_id: UUID) -> None:
    """A car held at a paying exit: lift when nothing is due, else one order (idempotent)."""
    provider = providers(ctx["settings"])[DEFAULT]
    effects = await orders.settle_exit(read_id, CommandBus(ctx["redis"]), provider)
    await effects.apply(WorkerOutlet(ctx["redis"]))


async def scan_vehicle_warnings(ctx: dict[str, Any]) -> None:
    """Every ten minutes: long-stay, visitor-overstay and night-visit warnings (VEH-04), each
    raised once; the managers' pushes after commit."""
    await (await warnings.scan()).apply(WorkerOutlet(ctx["redis"]))
