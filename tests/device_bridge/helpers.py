"""What the bridge tests share: the test bridge's id, fast timers, a running bridge, log lookups."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings

BRIDGE_ID = "bridge-test-0001"
FAST: dict[str, Any] = {"heartbeat_interval": 0.3, "backoff_initial": 0.05, "backoff_max": 0.4}
ROOT = Path(__file__).resolve().parents[2]


class running:  # noqa: N801 - reads as a context manager function
    """`async with running(settings, **options) as bridge`: a Bridge task, stopped on exit."""

    def __init__(self, settings: BridgeSettings, **options: Any) -> None:
        defaults = {"door_open_s": 0.05, "barrier_open_s": 0.05, "seed": 3, "clock_sync": False}
        self.bridge = Bridge(settings, **{**defaults, **options})
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Bridge:
        self.task = asyncio.create_task(self.bridge.run())
        ready = asyncio.ensure_future(self.bridge.ready.wait())
        await asyncio.wait([self.task, ready], return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():
            ready.cancel()
            self.task.result()
        return self.bridge

    async def __aexit__(self, *exc: object) -> None:
        await self.bridge.stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)


async def bridge_process(
    settings: BridgeSettings,
    *options: str,
    stderr: int = asyncio.subprocess.PIPE,
    config: Path | None = None,
) -> asyncio.subprocess.Process:
    """`python -m device_bridge run [options]` as an operator starts it, configured through
    ANJU_BRIDGE_* variables (and a site file, when one is given)."""
    env = {
        **os.environ,
        "ANJU_BRIDGE_PLATFORM_URL": settings.platform_url,
        "ANJU_BRIDGE_DATA_DIR": str(settings.data_dir),
        "ANJU_BRIDGE_HEARTBEAT_INTERVAL": "0.5",
        "ANJU_BRIDGE_BACKOFF_INITIAL": "0.05",
        "ANJU_BRIDGE_LOG_JSON": "false",
    }
    if config is not None:
        env["ANJU_BRIDGE_CONFIG"] = str(config)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "device_bridge",
        "run",
        *options,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=stderr,
    )


def events_named(
    entries: list[MutableMapping[str, Any]], name: str
) -> list[MutableMapping[str, Any]]:
    """The captured log entries with this event name."""
    return [e for e in entries if e.get("event") == name]
