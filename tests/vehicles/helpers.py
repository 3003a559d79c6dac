"""Vehicle test helpers: devices for a lane, pass records as the ingest writes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Litestar

from api.alarms.catalogue import SITE_TIMEZONE
from api.devices.tables import Bridge, Device
from api.vehicles import identifiers
from api.vehicles.payments.fees import Tariff, fee
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
    at: datetime | None = None,
    **extra: Any,
) -> uuid.UUID:
    """A pass record as the ingest stores it (`extra`: lane, car_park, visitor_pass, image)."""
    row = PassRecord(
        community=community,
        household=household,
        vehicle=vehicle,
        at=at or datetime.now(UTC),
        direction=direction,
        colour="blue",
        vehicle_type="car",
        confidence=0.97,
        decision=decision,
        reason=reason,
        **msgspec.structs.asdict(identifiers.stored(app.state.cipher, plate)),
        **extra,
    )
    await row.save()
    return row.id


async def register(api: ApiClient, **body: Any) -> dict[str, Any]:
    """Enter a vehicle; its JSON."""
    r = await api.post("/api/v1/vehicles", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def car_park_with_lanes(
    api: ApiClient, community: uuid.UUID, name: str = "地下车库", **extra: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A car park (by the manager) with an entrance and an exit lane; (park, in lane, out lane)."""
    r = await api.post(
        "/api/v1/car-parks",
        json={"community_id": str(community), "name": name, "capacity": 100, **extra},
    )
    assert r.status_code == 201, r.text
    park = dict(r.json())
    lanes = []
    for lane_name, direction in ((f"{name}入口", "in"), (f"{name}出口", "out")):
        devices = await lane_devices(community)
        r = await api.post(
            "/api/v1/vehicle-lanes",
            json={
                "car_park_id": park["id"],
                "name": lane_name,
                "direction": direction,
                "barrier_id": str(devices["barrier"]),
                "camera_id": str(devices["plate_camera"]),
            },
        )
        assert r.status_code == 201, r.text
        lanes.append(dict(r.json()))
    return park, lanes[0], lanes[1]


def stay_fee(entered: datetime, left: datetime, tariff: dict[str, int], *, usual: int) -> int:
    """What a stay should cost: `usual`, worked out by hand for a stay within one day, unless the
    site's midnight falls inside it and starts a new hour (then the fee function says; its
    midnight cases are tested in test_fees.py). Tests may run at any time of day."""
    if entered.astimezone(SITE_TIMEZONE).date() == left.astimezone(SITE_TIMEZONE).date():
        return usual
    return fee(entered, left, Tariff(**tariff), SITE_TIMEZONE)
