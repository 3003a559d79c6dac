"""Vehicle jobs: plate-read snapshots into the object store; the nightly purge of pass records."""

from __future__ import annotations

from typing import Any

from api.vehicles import images, retention
from workers.tasks.context import object_store


async def store_plate_images(ctx: dict[str, Any], *, event_ids: list[int]) -> int:
    """A batch's plate-read snapshots into the object store (api/vehicles/images.py)."""
    async with object_store(ctx) as store:
        return await images.store(store, event_ids)


async def purge_vehicle_passes(ctx: dict[str, Any]) -> tuple[int, int]:
    """Nightly: pass records' images past 6 months, the records past 365 days."""
    return await retention.purge()
