"""Bridge test set-up: an enrolled identity in a temporary dir, a fake platform, a running bridge.

None of these needs PostgreSQL or Redis: the bridge never talks to them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device_bridge.identity import load_or_create_key, save_bridge_id
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.device_bridge.fake_platform import FakePlatform

BRIDGE_ID = "bridge-test-0001"
FAST: dict[str, Any] = {"heartbeat_interval": 0.3, "backoff_initial": 0.05, "backoff_max": 0.4}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The bridge's data dir."""
    return tmp_path / "bridge"


@pytest.fixture
def bridge_key(data_dir: Path) -> Ed25519PrivateKey:
    """The bridge's key, as enrolment would have made it."""
    return load_or_create_key(data_dir / "bridge.key")


@pytest.fixture
async def platform(bridge_key: Ed25519PrivateKey) -> AsyncIterator[FakePlatform]:
    """A fake platform that knows the bridge's public key."""
    fake = FakePlatform({BRIDGE_ID: bridge_key.public_key()})
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def bridge_settings(data_dir: Path, platform: FakePlatform) -> BridgeSettings:
    """Settings of an enrolled bridge pointed at the fake platform, with fast timers."""
    settings = BridgeSettings(platform_url=platform.url, data_dir=data_dir, **FAST)
    save_bridge_id(settings, BRIDGE_ID)
    return settings


@pytest.fixture
async def bridge(bridge_settings: BridgeSettings) -> AsyncIterator[Bridge]:
    """The demo site's bridge, running in-process with quick doors and no automatic clock sync."""
    async with running(bridge_settings) as b:
        yield b


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


@pytest.fixture
def logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """structlog entries emitted during the test."""
    with structlog.testing.capture_logs() as entries:
        yield entries


def events_named(
    entries: list[MutableMapping[str, Any]], name: str
) -> list[MutableMapping[str, Any]]:
    """The captured log entries with this event name."""
    return [e for e in entries if e.get("event") == name]
