"""What tests of door stations share (intercom calls, live view): the site's devices, a family."""

from __future__ import annotations

from dataclasses import dataclass

from device_bridge import protocol
from tests.devices.inventory import EAST_CAMERA
from tests.helpers import TestUser

DEVICES = [
    protocol.DeviceInfo(
        id="station-north",
        kind="door_station",
        name="北门 门口机",
        driver="sim",
        attrs={"role": "gate", "door": "gate-north"},
    ),
    protocol.DeviceInfo(
        id="gate-north",
        kind="door_controller",
        name="北门 门禁",
        driver="sim",
        attrs={"role": "gate"},
    ),
    protocol.DeviceInfo(
        id="station-1-1",
        kind="door_station",
        name="1栋1单元 门口机",
        driver="sim",
        attrs={"building": "1", "unit": "1", "role": "unit_door", "lock": True},
    ),
    protocol.DeviceInfo(
        id="lift-1-1",
        kind="lift",
        name="1栋1单元 电梯",
        driver="sim",
        attrs={"building": "1", "unit": "1"},
    ),
    EAST_CAMERA,
    protocol.DeviceInfo(
        id="cam-lobby",
        kind="camera",
        name="1栋 大堂 摄像机",
        driver="sim",
        attrs={"building": "1", "unit": "1", "role": "lobby"},
    ),
]


@dataclass
class Household:
    """Community A's first household with two members, and a resident of its second."""

    first: TestUser
    second: TestUser
    neighbour: TestUser
