"""Scripted bridges linked for a test (tests/devices/peer.py `ScriptedBridge`), closed after it.

`site` is a scripted bridge of community A with the devices of the folder's `site_devices`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from device_bridge import protocol
from tests.devices.peer import EnrolledBridge, ScriptedBridge, enrol
from tests.helpers import ApiClient, World

LinkBridge = Callable[..., Awaitable[ScriptedBridge]]


@pytest.fixture
async def scripted_bridge(live_url: str) -> AsyncIterator[LinkBridge]:
    """`await scripted_bridge(bridge, devices, auto=True)`: a linked site; all closed at the end
    (the last linked first, so a link the platform replaced is not waited on)."""
    async with contextlib.AsyncExitStack() as stack:

        async def link(
            bridge: EnrolledBridge, devices: list[protocol.DeviceInfo], *, auto: bool = True
        ) -> ScriptedBridge:
            site = ScriptedBridge(live_url, bridge, devices, auto=auto)
            return await stack.enter_async_context(site)

        yield link


@pytest.fixture
async def site(
    scripted_bridge: LinkBridge,
    admin: ApiClient,
    world: World,
    site_devices: list[protocol.DeviceInfo],
) -> ScriptedBridge:
    """A scripted bridge of community A with the folder's devices."""
    return await scripted_bridge(await enrol(admin, world.a.community), site_devices)
