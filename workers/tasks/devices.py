"""Jobs of the devices domain: the link watchdog and clock calibration."""

from __future__ import annotations

import time
from typing import Any

import structlog

from api.devices import service
from api.devices.bus import CommandBus
from api.devices.tables import Device

log = structlog.get_logger()

SKEW_LIMIT = 2.0  # seconds; records must be time-accurate (standard 6.1.7)


async def sweep_stale_bridges(ctx: dict[str, Any]) -> int:
    """Mark bridges offline whose heartbeats stopped while their TCP link looked alive."""
    stale = await service.stale_bridges()
    for bridge_id in stale:
        if await service.link_down(bridge_id, reason="heartbeats missed"):
            log.warning("bridge.offline.missed_heartbeats", bridge_id=str(bridge_id))
    return len(stale)


async def sync_device_clocks(ctx: dict[str, Any]) -> int:
    """Send `time.sync` to every reachable device whose clock is off by more than the limit."""
    bus = CommandBus(ctx["redis"])
    skewed = await Device.select(Device.id).where(
        Device.bridge._.online.eq(True)
        & ((Device.clock_skew > SKEW_LIMIT) | (Device.clock_skew < -SKEW_LIMIT))
    )
    synced = 0
    for row in skewed:
        try:
            result = await service.command(
                bus, row["id"], "time.sync", {"server_time": time.time()}, requested_by=None
            )
        except service.BridgeUnavailable:
            continue
        synced += result.status == "ok"
    return synced
