"""What the visitor tests share: the gate site's devices, valid bodies of bookings and walk-ins.

The site is a scripted bridge (tests/devices/peer.py): it keeps the credential frames the
platform sends it (the full set after its inventory, then the deltas, acknowledged), so a test
sees what reached the gate.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from api.access.tables import AccessPoint
from device_bridge import protocol
from tests.devices.inventory import UNIT_DOOR
from tests.devices.peer import ScriptedBridge
from tests.helpers import ApiClient

ID_NUMBER = "510104199001011230"  # checksummed (tests/helpers.py uses it for a resident too)

DEVICES = [
    protocol.DeviceInfo(
        id="gate-east", kind="door_controller", name="东门", driver="sim", attrs={"role": "gate"}
    ),
    UNIT_DOOR,
    protocol.DeviceInfo(
        id="lift-1", kind="lift", name="1栋 电梯", driver="sim", attrs={"building": "1"}
    ),
]


OpenSite = Callable[[], Awaitable[ScriptedBridge]]


async def point_ids(community: uuid.UUID) -> dict[str, uuid.UUID]:
    """The community's access points by name."""
    rows = await AccessPoint.select(AccessPoint.id, AccessPoint.name).where(
        AccessPoint.community == community
    )
    return {r["name"]: r["id"] for r in rows}


def booking(**overrides: Any) -> dict[str, Any]:
    """A valid booking body: from now for four hours, one entry."""
    start = datetime.now(UTC)
    body: dict[str, Any] = {
        "visitor_name": "王小明",
        "visitor_phone": "13700001111",
        "purpose": "探亲",
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(hours=4)).isoformat(),
        "entries": 1,
    }
    body.update(overrides)
    return body


def walk_in(household: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    """A valid walk-in registration body."""
    body: dict[str, Any] = {
        "household_id": str(household),
        "visitor_name": "赵师傅",
        "visitor_phone": "13911112222",
        "id_type": "resident_id",
        "id_number": ID_NUMBER,
        "purpose": "送货",
    }
    body.update(overrides)
    return body


async def book(api: ApiClient, **overrides: Any) -> dict[str, Any]:
    """Book a visitor through the API; the created pass."""
    answer = await api.post("/api/v1/visitor-passes", json=booking(**overrides))
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result
