"""What access tests share: the scripted site's doors, cards enrolled through the API."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from device_bridge import protocol
from tests.devices import inventory
from tests.devices.peer import EnrolledBridge, ScriptedBridge
from tests.helpers import ApiClient

DOORS = [
    *inventory.DOORS,
    protocol.DeviceInfo(
        id="parcel-room",
        kind="door_controller",
        name="快递间",
        driver="sim",
        attrs={"role": "key_room"},
    ),
]


Link = Callable[[EnrolledBridge], Awaitable[ScriptedBridge]]  # the `link` fixture


async def enrol_card(
    manager: ApiClient, person: object, number: str, **extra: Any
) -> dict[str, Any]:
    """Enrol a card for a person; the credential read."""
    r = await manager.post(
        "/api/v1/credentials",
        json={"person_id": str(person), "kind": "card", "value": number, **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()


def unique_card() -> str:
    """A card number no other test uses."""
    return str(uuid.uuid4().int)[:10]
