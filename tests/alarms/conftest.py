"""Alarm tests: a scripted site of community A (tests/plugins/site.py), jobs in burst mode.

The arq pool of the app is swapped for one on a queue of the test's own (tests/plugins/jobs.py),
and jobs run in an arq worker in burst mode with the alarm jobs. Push delivery is the outside
edge: its job is a stub here, and tests look at the Notification rows instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from device_bridge import protocol
from tests.devices.inventory import EAST_CAMERA, UNIT_DOOR
from tests.jobs import ALARM_JOBS

DEVICES = [
    protocol.DeviceInfo(
        id="zone-east",
        kind="intrusion_zone",
        name="东侧周界 防区",
        driver="sim",
        attrs={"role": "perimeter"},
    ),
    protocol.DeviceInfo(id="zone-hall", kind="intrusion_zone", name="大堂 防区", driver="sim"),
    EAST_CAMERA,
    UNIT_DOOR,
    protocol.DeviceInfo(id="smoke-0101", kind="smoke_sensor", name="0101 烟感", driver="sim"),
    protocol.DeviceInfo(id="panic-0101", kind="panic_button", name="0101 紧急按钮", driver="sim"),
    protocol.DeviceInfo(
        id="panic-0101-bath", kind="panic_button", name="0101 卫生间按钮", driver="sim"
    ),
    protocol.DeviceInfo(id="speaker-1", kind="speaker", name="1栋 广播", driver="sim"),
]


@pytest.fixture
def site_devices() -> list[protocol.DeviceInfo]:
    """The scripted site's intrusion zones, camera, door, sensors (tests/plugins/site.py)."""
    return DEVICES


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The alarm jobs run by the `jobs` worker."""
    return ALARM_JOBS
