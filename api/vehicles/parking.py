"""Car parks, their zones and lanes: what managers and system administrators configure.

Residents read their community's car parks (how many spaces are free); lanes are staff-only.
A lane's devices are devices of the car park's community, of the kind the role needs (a barrier,
a plate camera, a display — any kind that shows text — and a speaker); one camera serves one lane.
Every write is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from api.audit.service import record
from api.core.auth import Caller, Scope, require_staff, staff_communities
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.devices.tables import Device
from api.piccolo_conf import DB
from api.vehicles.errors import InvalidLane
from api.vehicles.schemas import (
    CarParkCreate,
    CarParkPage,
    CarParkRead,
    LaneCreate,
    LanePage,
    LaneRead,
)
from api.vehicles.tables import CarPark, Lane

LANE_DEVICES = (
    ("barrier_id", ("barrier",)),
    ("camera_id", ("plate_camera",)),
    ("speaker_id", ("speaker",)),
)


def car_park_read(row: dict[str, Any]) -> CarParkRead:
    """A car park with its free spaces (never below zero)."""
    return CarParkRead(
        id=row["id"],
        community_id=row["community"],
        parent_id=row["parent"],
        name=row["name"],
        capacity=row["capacity"],
        temporary_capacity=row["temporary_capacity"],
        occupied=row["occupied"],
        free=max(row["capacity"] - row["occupied"], 0),
        long_stay_days=row["long_stay_days"],
    )


def lane_read(row: dict[str, Any]) -> LaneRead:
    """A lane and its devices."""
    return LaneRead(
        id=row["id"],
        community_id=row["community"],
        car_park_id=row["car_park"],
        name=row["name"],
        direction=row["direction"],
        barrier_id=row["barrier"],
        camera_id=row["camera"],
        display_id=row["display"],
        speaker_id=row["speaker"],
        fuzzy=row["fuzzy"],
    )


async def list_car_parks(
    caller: Caller, *, page: int, page_size: int, community_id: UUID | None = None
) -> CarParkPage:
    """Car parks and zones of the caller's communities (residents: their home's)."""
    where = Scope.of(caller, "parking.read").where_member(CarPark.community)
    rows, total = await paged(
        CarPark.select().order_by(CarPark.name),
        where,
        equals(CarPark.community, community_id),
        page=page,
        page_size=page_size,
    )
    return CarParkPage(
        items=[car_park_read(r) for r in rows], total=total, page=page, page_size=page_size
    )


async def get_car_park(caller: Caller, car_park_id: UUID) -> CarParkRead:
    """One car park in reach, else 404."""
    scope = Scope.of(caller, "parking.read")
    row = await CarPark.select().where(CarPark.id == car_park_id).first()
    if row is None:
        raise NotFound()
    scope.check_member(row["community"])
    return car_park_read(row)


async def create_car_park(caller: Caller, data: CarParkCreate) -> CarParkRead:
    """A car park, or a zone of one of the same community."""
    require_staff(caller, "parking.configure", data.community_id)
    if data.parent_id is not None and not await CarPark.exists().where(
        (CarPark.id == data.parent_id) & (CarPark.community == data.community_id)
    ):
        raise NotFound()
    row = CarPark(
        id=uuid4(),
        community=data.community_id,
        parent=data.parent_id,
        name=data.name.strip(),
        capacity=data.capacity,
        temporary_capacity=data.temporary_capacity,
        long_stay_days=data.long_stay_days,
        occupied=0,
        created_at=datetime.now(UTC),
    )
    async with DB.transaction():
        await row.save()
        await record(
            "car_park.created",
            actor=caller,
            target_type="car_park",
            target_id=row.id,
            community_id=data.community_id,
            details={"capacity": data.capacity, "parent_id": str(data.parent_id or "")},
        )
    return await get_car_park(caller, row.id)


async def list_lanes(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    car_park_id: UUID | None = None,
) -> LanePage:
    """Lanes of the communities where the caller is staff."""
    where = staff_communities(caller, "parking.read", Lane.community, community_id)
    rows, total = await paged(
        Lane.select().order_by(Lane.name),
        where,
        equals(Lane.car_park, car_park_id),
        page=page,
        page_size=page_size,
    )
    return LanePage(items=[lane_read(r) for r in rows], total=total, page=page, page_size=page_size)


async def create_lane(caller: Caller, data: LaneCreate) -> LaneRead:
    """A lane of a car park, with devices of its community."""
    park = await CarPark.select(CarPark.community).where(CarPark.id == data.car_park_id).first()
    if park is None:
        raise NotFound()
    community_id = park["community"]
    require_staff(caller, "parking.configure", community_id)
    wanted = {
        field: getattr(data, field)
        for field in ("barrier_id", "camera_id", "display_id", "speaker_id")
        if getattr(data, field) is not None
    }
    kinds = {
        r["id"]: r["kind"]
        for r in await Device.select(Device.id, Device.kind).where(
            (Device.community == community_id) & Device.id.is_in(list(wanted.values()))
        )
    }
    for field, device_id in wanted.items():
        if device_id not in kinds:
            raise InvalidLane(field=field)
    for field, allowed in LANE_DEVICES:
        if field in wanted and kinds[wanted[field]] not in allowed:
            raise InvalidLane(field=field)
    if await Lane.exists().where(Lane.camera == data.camera_id):
        raise InvalidLane("This camera already serves a lane.", field="camera_id")
    row = Lane(
        id=uuid4(),
        community=community_id,
        car_park=data.car_park_id,
        name=data.name.strip(),
        direction=data.direction,
        barrier=data.barrier_id,
        camera=data.camera_id,
        display=data.display_id,
        speaker=data.speaker_id,
        fuzzy=data.fuzzy,
        created_at=datetime.now(UTC),
    )
    async with DB.transaction():
        await row.save()
        await record(
            "lane.created",
            actor=caller,
            target_type="lane",
            target_id=row.id,
            community_id=community_id,
            details={"car_park_id": str(data.car_park_id), "direction": data.direction},
        )
    found = await Lane.select().where(Lane.id == row.id).first()
    assert found is not None
    return lane_read(found)


async def ensure_for_bridge(bridge_id: UUID) -> int:
    """After a bridge's inventory: a lane for each plate camera whose site-file attributes name a
    barrier of the same bridge (device_bridge/vehicles.py reads the same attributes), in the car
    park they name (made when the community has none of that name, with the temporary spaces as
    its capacity). Lanes that exist are kept: a manager's edits win. How many were new."""
    devices = (
        await Device.select(
            Device.id, Device.community, Device.external_id, Device.kind, Device.name, Device.attrs
        )
        .where(Device.bridge == bridge_id)
        .output(load_json=True)
    )
    by_id = {d["external_id"]: d for d in devices}
    cameras = [d for d in devices if d["kind"] == "plate_camera"]
    have = {
        r["camera"]
        for r in (
            await Lane.select(Lane.camera).where(Lane.camera.is_in([c["id"] for c in cameras]))
            if cameras
            else []
        )
    }
    made = 0
    now = datetime.now(UTC)
    for camera in cameras:
        attrs = camera["attrs"] if isinstance(camera["attrs"], dict) else {}
        barrier = by_id.get(str(attrs.get("barrier") or ""))
        if camera["id"] in have or barrier is None or barrier["kind"] != "barrier":
            continue
        speaker = by_id.get(str(attrs.get("speaker") or ""))
        name = str(attrs.get("car_park") or "停车场")[:100]
        async with DB.transaction():
            park = (
                await CarPark.select(CarPark.id)
                .where(
                    (CarPark.community == camera["community"])
                    & (CarPark.name == name)
                    & CarPark.parent.is_null()
                )
                .first()
            )
            if park is None:
                capacity = str(attrs.get("capacity") or "0").strip()
                spaces = int(capacity) if capacity.isdigit() else 0  # as the bridge reads it
                park = {"id": uuid4()}
                await CarPark(
                    id=park["id"],
                    community=camera["community"],
                    name=name,
                    capacity=spaces,
                    temporary_capacity=spaces,
                    created_at=now,
                ).save()
            await Lane(
                community=camera["community"],
                car_park=park["id"],
                name=camera["name"],
                direction="out" if attrs.get("direction") == "out" else "in",
                barrier=barrier["id"],
                camera=camera["id"],
                speaker=speaker["id"] if speaker and speaker["kind"] == "speaker" else None,
                fuzzy=str(attrs.get("fuzzy")).lower() in ("true", "1", "yes"),
                created_at=now,
            ).save()
        made += 1
    return made
