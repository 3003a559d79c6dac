"""Vehicle jobs: the nightly purge of pass records past their retention; the warnings' scan."""

from __future__ import annotations

from typing import Any

from api.core.effects import WorkerOutlet
from api.vehicles import retention, warnings


async def purge_vehicle_passes(ctx: dict[str, Any]) -> tuple[int, int]:
    """Nightly: pass records' images past 6 months, the records past 365 days."""
    return await retention.purge()


async def scan_vehicle_warnings(ctx: dict[str, Any]) -> None:
    """Every ten minutes: long-stay, visitor-overstay and night-visit warnings (VEH-04), each
    raised once; the managers' pushes after commit."""
    await (await warnings.scan()).apply(WorkerOutlet(ctx["redis"]))
