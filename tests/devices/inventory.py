"""Devices that the scripted sites of several test folders report (tests/devices/peer.py).

One definition each: a folder's site lists the ones it needs next to its own.
"""

from __future__ import annotations

from device_bridge import protocol

UNIT_DOOR = protocol.DeviceInfo(
    id="door-1-1",
    kind="door_controller",
    name="1栋1单元 单元门",
    driver="sim",
    attrs={"building": "1", "unit": "1", "role": "unit_door"},
)
NORTH_GATE = protocol.DeviceInfo(
    id="gate-north",
    kind="door_controller",
    name="北门",
    driver="sim",
    attrs={"role": "gate", "protection_zone": 1},
)
EAST_CAMERA = protocol.DeviceInfo(id="cam-east", kind="camera", name="东侧 摄像机", driver="sim")

DOORS = [UNIT_DOOR, NORTH_GATE]  # a unit door and the north gate (protection zone 1)
