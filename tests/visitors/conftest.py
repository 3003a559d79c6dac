"""Visitor tests: a scripted bridge of community A with a gate, a unit door and a lift
(tests/visitors/helpers.py), and the alarm jobs in burst mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.devices.peer import ScriptedBridge, enrol
from tests.helpers import ApiClient, World
from tests.jobs import ALARM_JOBS
from tests.plugins.site import LinkBridge
from tests.visitors.helpers import DEVICES, OpenSite


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The alarm jobs run by the `jobs` worker."""
    return ALARM_JOBS


@pytest.fixture
def open_site(scripted_bridge: LinkBridge, admin: ApiClient, world: World) -> OpenSite:
    """Connect a scripted bridge of community A: gate 东门, 1栋1单元 unit door, 1栋 lift."""

    async def open_one() -> ScriptedBridge:
        return await scripted_bridge(await enrol(admin, world.a.community), DEVICES)

    return open_one
