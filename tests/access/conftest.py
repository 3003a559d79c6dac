"""Access tests: scripted bridges with the doors, read frame by frame by the test, and its staff."""

from __future__ import annotations

import pytest

from api.core.auth import Role
from tests.access.helpers import DOORS, Link
from tests.devices.peer import EnrolledBridge, ScriptedBridge, enrol
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World
from tests.plugins.site import LinkBridge


@pytest.fixture
async def manager(as_role: AsRole) -> ApiClient:
    """Community A's property manager."""
    return await as_role(Role.PROPERTY_MANAGER)


@pytest.fixture
async def bridge(admin: ApiClient, world: World) -> EnrolledBridge:
    """A bridge of community A."""
    return await enrol(admin, world.a.community)


@pytest.fixture
def link(scripted_bridge: LinkBridge) -> Link:
    """Link a bridge with the doors; the test reads and answers each frame. Closed after it."""

    async def open_link(bridge: EnrolledBridge) -> ScriptedBridge:
        return await scripted_bridge(bridge, DOORS, auto=False)

    return open_link
