"""Vehicle test helpers: devices for a lane, pass records as the ingest writes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Litestar

from api.devices.tables import Bridge, Device
from api.vehicles import identifiers
from api.vehicles.tables import PassRecord
from tests.helpers import ApiClient


async def lane_devices(community: uuid.UUID) -> dict[str, uuid.UUID]:
    """A bridge's barrier, plate camera, display and speaker in the community (rows only)."""
    bridge = Bridge(community=community, name="vehicles", public_key="x" * 43)
    await bridge.save()
    made = {}
    for kind in ("barrier", "plate_camera", "display", "speaker"):
        device = Device(
            community=community,
            bridge=bridge.id,
            external_id=f"{kind}-{uuid.uuid4().hex[:6]}",
            kind=kind,
            name=kind,
        )
        await device.save()
        made[kind] = device.id
    return made


async def store_pass(
    app: Litestar,
    community: uuid.UUID,
    plate: str,
    *,
    household: uuid.UUID | None = None,
    vehicle: uuid.UUID | None = None,
    direction: str = "in",
    decision: str = "granted",
    reason: str = "resident",
) -> uuid.UUID:
    """A pass record as the ingest stores it."""
    row = PassRecord(
        community=community,
        household=household,
        vehicle=vehicle,
        at=datetime.now(UTC),
        direction=direction,
        colour="blue",
        vehicle_type="car",
        confidence=0.97,
        decision=decision,
        reason=reason,
        **msgspec.structs.asdict(identifiers.stored(app.state.cipher, plate)),
    )
    await row.save()
    return row.id


async def register(api: ApiClient, **body: Any) -> dict[str, Any]:
    """Enter a vehicle; its JSON."""
    r = await api.post("/api/v1/vehicles", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())
