"""Jobs of the devices domain: the link watchdog and clock calibration."""

from __future__ import annotations

from typing import Any

from api.devices import service
from api.devices.bus import CommandBus


async def sweep_stale_bridges(ctx: dict[str, Any]) -> int:
    """Mark bridges offline whose heartbeats stopped while their TCP link looked alive."""
    return await service.mark_stale_offline()


async def sync_device_clocks(ctx: dict[str, Any]) -> int:
    """Send `time.sync` to every reachable device whose clock is off by more than the limit."""
    return await service.sync_clocks(CommandBus(ctx["redis"]))
