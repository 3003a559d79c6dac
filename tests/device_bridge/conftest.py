"""Bridge test set-up: an enrolled identity in a temporary dir, a fake platform, a running bridge.

None of these needs PostgreSQL or Redis: the bridge never talks to them.
"""

from __future__ import annotations

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
from tests.device_bridge.helpers import BRIDGE_ID, FAST, running


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


@pytest.fixture
def logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """structlog entries emitted during the test."""
    with structlog.testing.capture_logs() as entries:
        yield entries
