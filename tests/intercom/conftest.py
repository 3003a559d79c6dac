"""Intercom tests: a scripted site whose stations answer `media.offer` with a canned SDP.

The real aiortc peer at the bridge is tested with the bridge; here the platform's side matters:
who is told, who may answer and unlock, what the station is told, what is stored. Jobs run in an
arq worker in burst mode; push delivery is an outside edge (its job only counts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from api.core.auth import Role
from device_bridge import protocol
from tests.helpers import World, make_account
from tests.intercom.helpers import DEVICES, Household
from tests.jobs import INTERCOM_JOBS


@pytest.fixture
def site_devices() -> list[protocol.DeviceInfo]:
    """Two door stations, a gate, a lift, cameras (the scripted site, tests/plugins/site.py)."""
    return DEVICES


@pytest.fixture
async def family(world: World) -> Household:
    """A second member of household 0101, and a resident of 0102 (another household)."""
    second = await make_account(
        Role.RESIDENT, community=world.a.community, household=world.a.households[0]
    )
    neighbour = await make_account(
        Role.RESIDENT, community=world.a.community, household=world.a.households[1]
    )
    return Household(first=world.a.users[Role.RESIDENT], second=second, neighbour=neighbour)


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The intercom jobs run by the `jobs` worker."""
    return INTERCOM_JOBS
