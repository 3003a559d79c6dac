"""Work-order test helpers: a device row of a community (no bridge linked), a small JPEG."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

from api.devices.tables import Bridge, Device

# The first bytes of a JPEG are all `is_image` checks; a real phone sends the rest.
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + bytes(200)
PHOTO = {"content_type": "image/jpeg", "data": base64.b64encode(JPEG).decode()}


async def make_device(
    community: uuid.UUID, name: str = "东门 门禁", kind: str = "door_controller"
) -> uuid.UUID:
    """A device of the community (a bridge row, never linked)."""
    bridge = Bridge(
        community=community, name="b", public_key=uuid.uuid4().hex, created_at=datetime.now(UTC)
    )
    await bridge.save()
    device = Device(
        community=community,
        bridge=bridge.id,
        external_id=uuid.uuid4().hex[:12],
        kind=kind,
        name=name,
        created_at=datetime.now(UTC),
    )
    await device.save()
    return device.id


async def make_assets(
    community: uuid.UUID, kind: str, count: int, *, status: str = "in_service"
) -> list[uuid.UUID]:
    """Assets added by hand to the ledger (no bridge): `count` of the kind, 500 an INSERT."""
    rows = [
        Device(
            community=community,
            bridge=None,
            external_id="",
            kind=kind,
            name=f"{kind} {i + 1}",
            status=status,
            created_at=datetime.now(UTC),
        )
        for i in range(count)
    ]
    for start in range(0, count, 500):
        await Device.insert(*rows[start : start + 500])
    return [r.id for r in rows]


# A PNG's first bytes (all `is_image` checks) and a little more; a real signature pad sends a
# whole image.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)
SIGNATURE = {"content_type": "image/png", "data": base64.b64encode(PNG).decode()}
