"""`python -m device_bridge run` as a real process: SIGKILL while sending, restart, nothing lost."""

from __future__ import annotations

import asyncio
import signal

from device_bridge.outbox import Outbox
from device_bridge.settings import BridgeSettings
from tests.device_bridge.fake_platform import FakePlatform
from tests.device_bridge.helpers import bridge_process


class TestKilledWhileSending:
    async def test_2000_events_stored_exactly_once_after_sigkill_and_restart(
        self, bridge_settings: BridgeSettings, platform: FakePlatform
    ) -> None:
        async with await Outbox.open(bridge_settings.outbox_file) as outbox:
            await outbox.append_many(
                [("access.granted", "door-1-1", None, {"n": n}) for n in range(2000)]
            )
        platform.ack_delay = 0.1  # a slow platform, so the kill lands mid-stream

        first = await bridge_process(bridge_settings)
        await platform.wait_for(lambda: platform.last_seq >= 400, timeout=15)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        delivered_before_kill = platform.last_seq
        assert delivered_before_kill < 2000

        platform.ack_delay = 0.0
        second = await bridge_process(bridge_settings)
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
