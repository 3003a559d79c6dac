"""Visitor tests: a scripted bridge of community A with a gate, a unit door and a lift
(tests/visitors/helpers.py), and the alarm jobs in burst mode.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from api.core.auth import Role
from api.devices.tables import Device
from device_bridge import protocol
from tests.devices.peer import Peer, enrol
from tests.helpers import World
from tests.jobs import ALARM_JOBS
from tests.visitors.helpers import DEVICES, GateSite, OpenSite


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The alarm jobs run by the `jobs` worker."""
    return ALARM_JOBS


@pytest.fixture
async def open_site(live_url: str, login: Callable, world: World) -> AsyncIterator[OpenSite]:
    """Connect a scripted bridge of community A: gate 东门, 1栋1单元 unit door, 1栋 lift."""
    opened: list[GateSite] = []

    async def open_one() -> GateSite:
        admin = await login(world.admins[Role.SYSTEM_ADMIN])
        bridge = await enrol(admin, world.a.community)
        peer, _ = await Peer.authenticated(live_url, bridge, DEVICES)
        [full] = peer.credentials  # the full set follows the inventory, even an empty one
        await peer.send(protocol.CredentialsApplied(version=full.version))
        rows = await Device.select(Device.id, Device.external_id).where(Device.bridge == bridge.id)
        scripted = GateSite(
            peer=peer,
            bridge=bridge,
            devices={r["external_id"]: r["id"] for r in rows},
            credentials=[full],
        )
        scripted.reader = asyncio.create_task(scripted._read())
        opened.append(scripted)
        return scripted

    yield open_one
    for scripted in opened:
        await scripted.close()
