"""`python -m device_bridge run` as a real process: SIGKILL while sending, restart, nothing lost."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from device_bridge.outbox import Outbox
from device_bridge.settings import BridgeSettings
from tests.device_bridge.fake_platform import FakePlatform

ROOT = Path(__file__).resolve().parents[2]


async def start_bridge(
    settings: BridgeSettings, config: Path | None = None
) -> asyncio.subprocess.Process:
    """The bridge as an operator starts it, configured through ANJU_BRIDGE_* variables."""
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
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


class TestKilledWhileSending:
    async def test_2000_events_stored_exactly_once_after_sigkill_and_restart(
        self, bridge_settings: BridgeSettings, platform: FakePlatform
    ) -> None:
        async with await Outbox.open(bridge_settings.outbox_file) as outbox:
            await outbox.append_many(
                [("access.granted", "door-1-1", None, {"n": n}) for n in range(2000)]
            )
        platform.ack_delay = 0.1  # a slow platform, so the kill lands mid-stream

        first = await start_bridge(bridge_settings)
        await platform.wait_for(lambda: platform.last_seq >= 400, timeout=15)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        delivered_before_kill = platform.last_seq
        assert delivered_before_kill < 2000

        platform.ack_delay = 0.0
        second = await start_bridge(bridge_settings)
        await platform.wait_for(lambda: platform.last_seq == 2000, timeout=15)
        # The bridge says (in a heartbeat) that its outbox is empty: the final ack arrived.
        await platform.wait_for(lambda: platform.heartbeats and platform.heartbeats[-1].outbox == 0)
        second.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(second.communicate(), 10)
        assert second.returncode == 0, stderr.decode()
        assert b"bridge.stopped" in stderr

        assert sorted(platform.events) == list(range(1, 2001))  # each seq stored exactly once
        assert [platform.events[s].data["n"] for s in range(1, 2001)] == list(range(2000))
        assert platform.welcomes == 2
        async with await Outbox.open(bridge_settings.outbox_file) as outbox:
            assert await outbox.count() == 0
