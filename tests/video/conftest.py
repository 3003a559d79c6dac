"""Live view tests use the intercom's scripted site: its cameras answer `media.offer` too."""

import pytest

from device_bridge import protocol
from tests.intercom.helpers import DEVICES


@pytest.fixture
def site_devices() -> list[protocol.DeviceInfo]:
    """The intercom's door stations and cameras (the scripted site, tests/plugins/site.py)."""
    return DEVICES
