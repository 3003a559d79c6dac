"""A whole bridge (outbox, sim driver, link) against the fake platform: commands, clocks, outage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import msgspec
import pytest

from device_bridge.runtime import Bridge
from device_bridge.scenario import Scenario
from device_bridge.settings import PACKAGE_DIR, BridgeSettings
from tests.device_bridge.fake_platform import FakePlatform
from tests.device_bridge.helpers import events_named, running
from tests.helpers import eventually


class TestCommands:
    async def test_door_opens_from_the_platform(
        self, bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(platform.connected.wait(), 5)
        result = await platform.command("door-1-1", "open", {"person": "p-42", "method": "app"})
        assert result.status == "ok" and result.data["door"] == "open"
        await platform.wait_for(
            lambda: (
                [e.kind for e in platform.events.values() if e.device == "door-1-1"]
                == ["access.granted", "door.opened", "door.closed"]
            )
        )
        granted = next(e for e in platform.events.values() if e.kind == "access.granted")
        assert granted.data == {"method": "app", "person": "p-42", "direction": "in"}

    async def test_all_four_statuses(self, bridge: Bridge, platform: FakePlatform) -> None:
        await asyncio.wait_for(platform.connected.wait(), 5)
        assert bridge.sim is not None
        unknown = await platform.command("door-9-9", "open")
        assert (unknown.status, unknown.detail) == ("failed", "unknown device")
        unsupported = await platform.command("speaker-north", "open")
        assert unsupported.status == "unsupported"
        await bridge.sim.set_fault("door-1-2", drop=True)
        started = time.monotonic()
        lost = await platform.command("door-1-2", "open", within=0.4)
        assert lost.status == "timeout"
        assert time.monotonic() - started < 1.0  # answered at the deadline, not later
        await bridge.sim.set_fault("door-1-2", drop=False)
        assert (await platform.command("door-1-2", "open")).status == "ok"

    async def test_offline_device_fails_and_is_reported(
        self, bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(platform.connected.wait(), 5)
        assert bridge.sim is not None
        await bridge.sim.set_fault("cam-carpark", offline=True)
        result = await platform.command("cam-carpark", "snapshot")
        assert result.status == "failed" and "offline" in result.detail
        await platform.wait_for(
            lambda: any(e.kind == "device.offline" for e in platform.events.values())
        )

    async def test_commands_run_concurrently(self, bridge: Bridge, platform: FakePlatform) -> None:
        await asyncio.wait_for(platform.connected.wait(), 5)
        started = time.monotonic()
        results = await asyncio.gather(
            *(platform.command(f"door-{b}-{u}", "status") for b in (1, 2, 3) for u in (1, 2)),
            platform.command("barrier-carpark", "open"),
        )
        assert {r.status for r in results} == {"ok"}
        assert time.monotonic() - started < 0.6  # not 6 × door + barrier one after another

    async def test_snapshot_bytes_reach_the_platform(
        self, bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(platform.connected.wait(), 5)
        shot = await platform.command("cam-north-gate", "snapshot")
        assert shot.data["content_type"] == "image/svg+xml"
        assert isinstance(shot.data["data"], bytes) and b"<svg" in shot.data["data"]


@pytest.mark.req("PLAT-15")
class TestClocks:
    async def test_heartbeats_carry_device_skews_and_outbox_size(
        self, bridge: Bridge, platform: FakePlatform
    ) -> None:
        await platform.wait_for(lambda: len(platform.heartbeats) >= 2)
        beat = platform.heartbeats[-1]
        assert set(beat.device_skew) == {d.id for d in bridge.inventory()}
        assert any(abs(s) > 0.5 for s in beat.device_skew.values())
        assert beat.outbox >= 0 and abs(beat.sent_at - time.time()) < 2

    async def test_bridge_measures_its_skew_and_reads_deadlines_on_the_platform_clock(
        self,
        logs: list[MutableMapping[str, Any]],
        bridge_settings: BridgeSettings,
        platform: FakePlatform,
    ) -> None:
        platform.clock_offset = 30.0  # the platform is 30 s ahead of this machine
        async with running(bridge_settings) as bridge:
            await platform.wait_for(lambda: len(platform.heartbeats) >= 2)
            await asyncio.sleep(0.05)
            assert bridge.link.skew == pytest.approx(30.0, abs=0.5)
            assert events_named(logs, "bridge.clock.skew")
            # A deadline 1 s ahead on the platform's clock is 29 s past on ours: still runs.
            assert (await platform.command("door-2-2", "status", within=1.0)).status == "ok"

    async def test_bridge_sets_device_clocks_to_platform_time(
        self, bridge_settings: BridgeSettings, platform: FakePlatform
    ) -> None:
        platform.clock_offset = 5.0
        async with running(bridge_settings, clock_sync=True):
            await platform.wait_for(lambda: platform.heartbeats)
            first = platform.heartbeats[0].device_skew  # as found: a few seconds each way
            assert any(abs(s - 5.0) > 1.0 for s in first.values())
            await platform.wait_for(
                lambda: all(
                    abs(s - 5.0) < 1.0 for s in platform.heartbeats[-1].device_skew.values()
                ),
                timeout=3,
            )

    async def test_platform_time_sync_command_sets_one_device(
        self, bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(platform.connected.wait(), 5)
        result = await platform.command("lift-1-1", "time.sync", {"server_time": platform.now()})
        assert result.status == "ok"
        assert abs(bridge.clock_skews()["lift-1-1"]) < 0.3


@pytest.mark.req("PLAT-18")
class TestPlatformDown:
    async def test_devices_keep_working_and_everything_is_delivered_on_return(
        self, bridge_settings: BridgeSettings, platform: FakePlatform
    ) -> None:
        await platform.stop()  # the platform is unreachable from the start
        async with running(bridge_settings) as bridge:
            assert bridge.sim is not None
            labels = await Scenario(bridge.sim, seed=4).play(40)  # residents, cars, sensors
            assert "skipped" not in labels
            await asyncio.sleep(0.1)  # the last doors close, locally
            stored = await bridge.outbox.count()
            assert stored > 40
            await platform.start()
            await platform.wait_for(lambda: platform.last_seq == stored)
            await platform.wait_for(lambda: bridge.link._acked == stored)
            assert await bridge.outbox.count() == 0
        kinds = [e.kind for e in platform.events.values()]
        assert kinds.count("door.opened") == kinds.count("door.closed") > 0
        assert list(platform.events) == list(range(1, stored + 1))


class TestStop:
    async def test_stop_closes_the_link_cleanly(
        self, bridge_settings: BridgeSettings, platform: FakePlatform
    ) -> None:
        async with running(bridge_settings):
            await asyncio.wait_for(platform.connected.wait(), 5)
        await platform.wait_for(lambda: not platform.connected.is_set(), timeout=3)


DEMO_SITE = (PACKAGE_DIR / "demo.toml").read_text()
DOOR_4_1 = """
[[devices]]
id = "door-4-1"
kind = "door_controller"
name = "4栋1单元 单元门"
driver = "sim"
attrs = { building = "4", unit = "1", role = "unit_door" }
"""


def edit(path: Path, text: str) -> None:
    """Write the site file as an installer editing it would (the bridge only reads it)."""
    path.write_text(text)


class TestConfigurationChanges:
    @pytest.fixture
    def site_file(self, tmp_path: Path) -> Path:
        """A copy of the demo site's file, for the test to edit."""
        path = tmp_path / "site.toml"
        edit(path, DEMO_SITE)
        return path

    async def test_a_changed_site_file_is_applied_and_the_inventory_sent_again(
        self, bridge_settings: BridgeSettings, platform: FakePlatform, site_file: Path
    ) -> None:
        settings = msgspec.structs.replace(bridge_settings, config=site_file, config_poll=0.05)
        async with running(settings) as bridge:
            await platform.wait_for(lambda: len(platform.inventories) == 1)

            def names() -> dict[str, str]:
                return {d.id: d.name for d in platform.inventories[-1]}

            edit(site_file, DEMO_SITE.replace('"北门 人行通道"', '"北门 人行通道（新）"'))
            await platform.wait_for(lambda: len(platform.inventories) == 2)
            assert names()["gate-north"] == "北门 人行通道（新）"
            assert names().keys() == {d.id for d in platform.inventories[0]}

            edit(site_file, DEMO_SITE + DOOR_4_1)
            await platform.wait_for(lambda: len(platform.inventories) == 3)
            assert names()["door-4-1"] == "4栋1单元 单元门"
            assert names()["gate-north"] == "北门 人行通道"
            result = await platform.command("door-4-1", "open")
            assert result.status == "ok"  # the new door is driven, not only listed
            assert bridge.sim is not None and bridge.sim.handles("door-4-1")

    async def test_a_broken_site_file_keeps_the_running_configuration(
        self,
        bridge_settings: BridgeSettings,
        platform: FakePlatform,
        site_file: Path,
        logs: list[MutableMapping[str, Any]],
    ) -> None:
        settings = msgspec.structs.replace(bridge_settings, config=site_file, config_poll=0.05)
        async with running(settings):
            await platform.wait_for(lambda: len(platform.inventories) == 1)
            edit(site_file, "this is not toml [")
            await eventually(lambda: events_named(logs, "bridge.config.invalid"))
            assert len(platform.inventories) == 1
            assert (await platform.command("gate-north", "open")).status == "ok"
