"""Patrol tests: a manager of community A sets a patrol up through the API (`patrol` fixture)."""

from __future__ import annotations

import pytest

from api.core.auth import Role
from tests.fixtures import AsRole
from tests.helpers import World
from tests.patrol.helpers import Patrol, set_up_patrol


@pytest.fixture
async def patrol(as_role: AsRole, world: World) -> Patrol:
    """Community A's patrol, walked by A's guard; a round under way now."""
    manager = await as_role(Role.PROPERTY_MANAGER)
    return await set_up_patrol(manager, world.a.community, [world.a.users[Role.GUARD].id])
