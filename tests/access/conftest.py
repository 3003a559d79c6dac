"""Access tests: a scripted bridge (tests/access/helpers.py) linked to the platform, its staff."""

from __future__ import annotations

import pytest

from api.core.auth import Role
from tests.devices.peer import EnrolledBridge, enrol
from tests.helpers import ApiClient, Login, World


@pytest.fixture
async def admin(login: Login, world: World) -> ApiClient:
    """A system administrator (enrols bridges)."""
    return await login(world.admins[Role.SYSTEM_ADMIN])


@pytest.fixture
async def manager(login: Login, world: World) -> ApiClient:
    """Community A's property manager."""
    return await login(world.a.users[Role.PROPERTY_MANAGER])


@pytest.fixture
async def bridge(admin: ApiClient, world: World) -> EnrolledBridge:
    """A bridge of community A."""
    return await enrol(admin, world.a.community)
