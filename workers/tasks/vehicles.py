"""Vehicle jobs: the nightly purge of pass records past their retention."""

from __future__ import annotations

from typing import Any

from api.vehicles import retention


async def purge_vehicle_passes(ctx: dict[str, Any]) -> tuple[int, int]:
    """Nightly: pass records' images past 6 months, the records past 365 days."""
    return await retention.purge()
