"""Push tests: the push service's fixtures are in tests/plugins/push.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.helpers import ApiClient, World


@pytest.fixture
async def resident(world: World, browser: Callable[[], Awaitable[ApiClient]]) -> ApiClient:
    """A resident of community A, logged in."""
    from api.core.auth import Role

    api = await browser()
    await api.login(world.a.users[Role.RESIDENT])
    return api
