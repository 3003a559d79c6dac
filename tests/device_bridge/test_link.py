"""The link against a fake platform speaking the real protocol over a real WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device_bridge import protocol as p
from device_bridge.link import Backoff, Link
from device_bridge.outbox import Outbox
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.device_bridge.fake_platform import FakePlatform
from tests.device_bridge.helpers import BRIDGE_ID, events_named, running


async def no_command(command: p.Command) -> p.CommandResult:
    """A bridge without devices."""
    return p.CommandResult(id=command.id, status="failed", detail="unknown device")


@contextlib.asynccontextmanager
async def link_running(
    settings: BridgeSettings, key: Ed25519PrivateKey, outbox: Outbox
) -> AsyncIterator[Link]:
    """A bare Link (no drivers) on an outbox, running as a task."""
    link = Link(
        url=settings.link_url,
        bridge_id=BRIDGE_ID,
        key=key,
        outbox=outbox,
        inventory=list,
        on_command=no_command,
        heartbeat_interval=settings.heartbeat_interval,
        backoff=Backoff(settings.backoff_initial, settings.backoff_max),
    )
    task = asyncio.create_task(link.run())
    try:
        yield link
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def delays(logs: list[MutableMapping[str, Any]]) -> list[float]:
    """The reconnect delays the link logged, in order."""
    return [e["delay"] for e in events_named(logs, "bridge.link.reconnecting")]


class TestBackoff:
    def test_doubles_with_jitter_up_to_the_cap_and_resets(self) -> None:
        backoff = Backoff(0.5, 30.0)
        steps = [backoff.next() for _ in range(10)]
        for n, delay in enumerate(steps):
            step = min(30.0, 0.5 * 2**n)
            assert step / 2 <= delay <= step
        assert steps[:6] == sorted(steps[:6])  # before the cap, each step is at least the last
        backoff.reset()
        assert backoff.next() <= 0.5


class TestHandshake:
    async def test_authenticates_and_sends_inventory(
        self, logs: list[MutableMapping[str, Any]], bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(bridge.link.authenticated.wait(), 5)
        await platform.wait_for(lambda: platform.inventories)
        devices = {d.id: d for d in platform.inventories[0]}
        assert len(devices) == len(bridge.config.devices)  # every device of the site file
        assert devices["door-2-1"].kind == "door_controller"
        assert devices["door-2-1"].attrs == {"building": "2", "unit": "1", "role": "unit_door"}
        assert devices["gate-north"].attrs["role"] == "gate"
        states = [e["event"] for e in logs if e["event"].startswith("bridge.link.")]
        assert states[:3] == [
            "bridge.link.connecting",
            "bridge.link.connected",
            "bridge.link.authenticated",
        ]
        assert not any("signature" in e or "key" in e for e in logs)

    async def test_wrong_key_is_refused_and_retried_with_backoff(
        self,
        bridge_settings: BridgeSettings,
        platform: FakePlatform,
        logs: list[MutableMapping[str, Any]],
    ) -> None:
        right = platform.keys[BRIDGE_ID]
        platform.keys[BRIDGE_ID] = Ed25519PrivateKey.generate().public_key()
        async with running(bridge_settings) as bridge:
            await platform.wait_for(lambda: len(platform.refusals) >= 4)
            assert set(platform.refusals) == {"bad signature"}
            assert not bridge.link.authenticated.is_set()
            refused = events_named(logs, "bridge.link.refused")
            assert refused and refused[0]["reason"] == "bad signature"
            waits = delays(logs)
            assert len(waits) >= 3 and waits[:3] == sorted(waits[:3])  # backing off

            platform.keys[BRIDGE_ID] = right  # e.g. the operator re-enrolled it
            await asyncio.wait_for(bridge.link.authenticated.wait(), 5)
            assert bridge.link.backoff.attempt == 0  # reset by the Welcome


class TestDelivery:
    async def test_500_events_exactly_once_in_order_across_a_forced_disconnect(
        self, bridge_settings: BridgeSettings, bridge_key: Ed25519PrivateKey, platform: FakePlatform
    ) -> None:
        outbox = await Outbox.open(bridge_settings.outbox_file)
        await outbox.append_many([("sensor.reading", "temp-1", None, {"n": i}) for i in range(250)])
        platform.hang_up_after = 230  # stores a batch, then cuts the line before acking it
        async with link_running(bridge_settings, bridge_key, outbox) as link:
            for i in range(250, 500):  # more events while the link runs
                await outbox.append("sensor.reading", "temp-1", None, {"n": i})
                link.notify()
            await platform.wait_for(lambda: platform.last_seq == 500 and platform.welcomes >= 2)
            await platform.wait_for(lambda: link._acked == 500)
        assert sorted(platform.events) == list(range(1, 501)), "gaps or extras"
        assert list(platform.events) == sorted(platform.events), "stored out of order"
        assert [platform.events[s].data["n"] for s in range(1, 501)] == list(range(500))
        assert await outbox.count() == 0
        await outbox.close()

    async def test_lost_acks_make_the_bridge_resend_and_the_platform_dedupes(
        self,
        logs: list[MutableMapping[str, Any]],
        bridge_settings: BridgeSettings,
        bridge_key: Ed25519PrivateKey,
        platform: FakePlatform,
    ) -> None:
        outbox = await Outbox.open(bridge_settings.outbox_file)
        await outbox.append_many([("sensor.reading", "t", None, {"n": i}) for i in range(300)])
        platform.skip_acks = 2  # the first two batches are stored, their acks lost
        async with link_running(bridge_settings, bridge_key, outbox) as link:
            await platform.wait_for(lambda: link._acked == 300)
        assert events_named(logs, "bridge.link.ack_timeout")
        assert len(platform.received) > 300  # sent again…
        assert sorted(platform.events) == list(range(1, 301))  # …stored once
        assert platform.welcomes == 1  # on the same connection
        await outbox.close()

    async def test_batches_hold_at_most_200_events(
        self, bridge_settings: BridgeSettings, bridge_key: Ed25519PrivateKey, platform: FakePlatform
    ) -> None:
        outbox = await Outbox.open(bridge_settings.outbox_file)
        await outbox.append_many([("sensor.reading", "t", None, {}) for _ in range(450)])
        sizes: list[int] = []
        original = platform._on_frame

        async def spy(ws: Any, frame: p.ToPlatform) -> None:
            if isinstance(frame, p.EventBatch):
                sizes.append(len(frame.events))
            await original(ws, frame)

        platform._on_frame = spy  # type: ignore[method-assign]
        async with link_running(bridge_settings, bridge_key, outbox):
            await platform.wait_for(lambda: platform.last_seq == 450)
        assert sizes == [200, 200, 50]
        await outbox.close()

    async def test_reconnects_after_the_platform_restarts_and_delivers_the_backlog(
        self, logs: list[MutableMapping[str, Any]], bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(bridge.link.authenticated.wait(), 5)
        assert bridge.sim is not None
        await platform.stop()
        for n in range(20):  # the site goes on while the platform is away
            await bridge.sim.reading("temp-pump-room", value=20 + n / 10, unit="°C")
        await asyncio.sleep(1.0)
        assert len(delays(logs)) >= 3
        await platform.start()  # same port
        await platform.wait_for(lambda: platform.welcomes == 2 and platform.last_seq >= 20)
        readings = [e.data["value"] for e in platform.events.values() if e.kind == "sensor.reading"]
        assert readings == [20 + n / 10 for n in range(20)]
        assert bridge.link.backoff.attempt == 0

    async def test_silent_platform_is_detected_and_the_link_reconnects(
        self, logs: list[MutableMapping[str, Any]], bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(bridge.link.authenticated.wait(), 5)
        platform.silent = True  # connected, but nothing comes back: no acks, no heartbeat acks
        await platform.wait_for(lambda: platform.welcomes >= 2, timeout=5)
        reasons = [e["reason"] for e in events_named(logs, "bridge.link.disconnected")]
        assert any("no frame from the platform" in r for r in reasons)


class TestBadFrames:
    async def test_malformed_and_rejected_frames_are_logged_and_the_link_stays_up(
        self, logs: list[MutableMapping[str, Any]], bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(platform.connected.wait(), 5)
        await platform.send_raw(b"\xc1 not msgpack")
        await platform.send_raw("a text frame")
        await platform.send_raw(p.encode(p.Reject(reason="unknown device ghost-1", seq=3)))
        await asyncio.sleep(0.1)
        assert len(events_named(logs, "bridge.link.malformed_frame")) == 2
        (rejected,) = events_named(logs, "bridge.link.rejected")
        assert rejected["reason"] == "unknown device ghost-1" and rejected["seq"] == 3
        assert (await platform.command("door-1-1", "status")).status == "ok"
        assert platform.welcomes == 1
