"""Car parks, their zones and lanes: what managers and system administrators configure.

Residents read their community's car parks (how many spaces are free); lanes are staff-only.
A lane's devices are devices of the car park's community, of the kind the role needs (a barrier,
a plate camera, a display — any kind that shows text — and a speaker); one camera serves one lane.
Every write is audited.

The counts move with the reads (api/vehicles/recording.py) and a manager corrects them with a
stated reason, never below zero and the temporary cars never more than all of them. Every change
of a count goes live on the community's board channel as `car_park.occupancy` (counts only, no
plate: every `board.read` holder may see it). Space guidance (VEH-21) directs an incoming car to
the zone with the most free spaces.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from piccolo.querystring import QueryString

from api.audit.service import record
from api.core.auth import Caller, Scope, require_staff, staff_communities
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.core.realtime import community_channel
from api.devices.tables import Device
from api.piccolo_conf import DB
from api.vehicles.errors import InvalidLane, InvalidOccupancy, ReasonRequired
from api.vehicles.payments.schemas import TariffBody
from api.vehicles.schemas import (
    CarParkCreate,
    CarParkGuidance,
    CarParkPage,
    CarParkRead,
    CarParkUpdate,
    LaneCreate,
    LanePage,
    LaneRead,
    LaneUpdate,
    OccupancyCorrection,
)
from api.vehicles.spaces import changed as spaces_changed
from api.vehicles.tables import CarPark, Lane

LANE_DEVICES = (
    ("barrier_id", ("barrier",)),
    ("camera_id", ("plate_camera",)),
    ("speaker_id", ("speaker",)),
    ("display_id", ("display",)),
)


def car_park_read(row: dict[str, Any]) -> CarParkRead:
    """A car park with its free spaces (never below zero) and whether temporary parking is full."""
    temporary = row["temporary_capacity"]
    taken = row.get("temporary_occupied") or 0
    return CarParkRead(
        id=row["id"],
        community_id=row["community"],
        parent_id=row["parent"],
        name=row["name"],
        capacity=row["capacity"],
        temporary_capacity=temporary,
        occupied=row["occupied"],
        free=max(row["capacity"] - row["occupied"], 0),
        temporary_occupied=taken,
        temporary_free=max(temporary - taken, 0),
        full=temporary > 0 and taken >= temporary,
        free_minutes=row["free_minutes"],
        hourly_fen=row["hourly_fen"],
        daily_cap_fen=row["daily_cap_fen"],
        long_stay_days=row["long_stay_days"],
    )


def announce_occupancy(effects: Effects, park: CarParkRead) -> None:
    """A car park's counts, live to its community's board (no plate, nobody named)."""
    effects.send(
        {"type": "car_park.occupancy", "car_park": msgspec.to_builtins(park)},
        community_channel(park.community_id),
    )


async def move_occupancy(car_park_id: UUID, delta: int, temporary: int, effects: Effects) -> None:
    """Spaces taken (+1) or given back (−1) by a read, inside the caller's transaction; neither
    count goes below zero. Announced after commit."""
    rows = await DB.run_querystring(
        QueryString(
            "UPDATE car_parks SET occupied = GREATEST(occupied + {}, 0), "
            "temporary_occupied = LEAST(GREATEST(temporary_occupied + {}, 0), "
            "GREATEST(occupied + {}, 0)) WHERE id = {} RETURNING *",
            delta,
            temporary,
            delta,
            car_park_id,
        )
    )
    if rows:
        announce_occupancy(effects, car_park_read(rows[0]))


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


async def _configured(caller: Caller, car_park_id: UUID) -> dict[str, Any]:
    """The car park locked, when the caller configures its community; else 404."""
    rows = await CarPark.raw("SELECT * FROM car_parks WHERE id = {} FOR UPDATE", car_park_id)
    if not rows:
        raise NotFound()
    require_staff(caller, "parking.configure", rows[0]["community"])
    return dict(rows[0])


async def update_car_park(
    caller: Caller, car_park_id: UUID, data: CarParkUpdate, effects: Effects
) -> CarParkRead:
    """A car park's name or spaces; audited with the fields from → to."""
    async with DB.transaction():
        row = await _configured(caller, car_park_id)
        values: dict[Any, Any] = {}
        changes: dict[str, Any] = {}
        for field, column in (
            ("name", CarPark.name),
            ("capacity", CarPark.capacity),
            ("temporary_capacity", CarPark.temporary_capacity),
            ("long_stay_days", CarPark.long_stay_days),
        ):
            value = getattr(data, field)
            if value is msgspec.UNSET:
                continue
            value = value.strip() if isinstance(value, str) else value
            values[column] = value
            changes[field] = {"from": row[field], "to": value}
        if values:
            await CarPark.update(values).where(CarPark.id == car_park_id)
        if {"capacity", "temporary_capacity"} & changes.keys():  # to its lanes' bridges
            await spaces_changed(row["community"], [car_park_id], effects)
        await record(
            "car_park.changed",
            actor=caller,
            target_type="car_park",
            target_id=car_park_id,
            community_id=row["community"],
            details=changes,
        )
        found = car_park_read({**row, **{c._meta.name: v for c, v in values.items()}})
    announce_occupancy(effects, found)
    return found


async def correct_occupancy(
    caller: Caller, car_park_id: UUID, data: OccupancyCorrection, effects: Effects
) -> CarParkRead:
    """The counts set by hand (a car left unseen, a lane was down), with the reason audited."""
    reason = data.reason.strip()
    if not reason:
        raise ReasonRequired(field="reason")
    async with DB.transaction():
        row = await _configured(caller, car_park_id)
        temporary = (
            data.temporary_occupied
            if data.temporary_occupied is not None
            else min(row["temporary_occupied"], data.occupied)
        )
        if temporary > data.occupied:
            raise InvalidOccupancy(field="temporary_occupied")
        await CarPark.update(
            {CarPark.occupied: data.occupied, CarPark.temporary_occupied: temporary}
        ).where(CarPark.id == car_park_id)
        await record(
            "car_park.occupancy_corrected",
            actor=caller,
            target_type="car_park",
            target_id=car_park_id,
            community_id=row["community"],
            purpose=reason,
            details={
                "occupied": {"from": row["occupied"], "to": data.occupied},
                "temporary_occupied": {"from": row["temporary_occupied"], "to": temporary},
            },
        )
        found = car_park_read({**row, "occupied": data.occupied, "temporary_occupied": temporary})
    announce_occupancy(effects, found)
    return found


async def guidance(caller: Caller, car_park_id: UUID) -> CarParkGuidance:
    """Space guidance (VEH-21): the car park's zones, most free first, and the one to go to."""
    park = await get_car_park(caller, car_park_id)
    zones = [
        car_park_read(r)
        for r in await CarPark.select().where(CarPark.parent == car_park_id).order_by(CarPark.name)
    ]
    zones.sort(key=lambda z: -z.free)  # stable: equally free zones stay in name order
    best = zones[0] if zones and zones[0].free > 0 else None
    return CarParkGuidance(
        car_park=park, zones=zones, recommended_zone_id=best.id if best else None
    )


async def set_tariff(caller: Caller, car_park_id: UUID, data: TariffBody) -> CarParkRead:
    """A car park's prices for temporary cars (the manager's); audited from → to."""
    row = await CarPark.select().where(CarPark.id == car_park_id).first()
    if row is None:
        raise NotFound()
    require_staff(caller, "parking.configure", row["community"])
    fields = ("free_minutes", "hourly_fen", "daily_cap_fen")
    before = {f: row[f] for f in fields}
    after = {f: getattr(data, f) for f in fields}
    async with DB.transaction():
        await CarPark.update(
            {
                CarPark.free_minutes: data.free_minutes,
                CarPark.hourly_fen: data.hourly_fen,
                CarPark.daily_cap_fen: data.daily_cap_fen,
            }
        ).where(CarPark.id == car_park_id)
        await record(
            "car_park.tariff_changed",
            actor=caller,
            target_type="car_park",
            target_id=car_park_id,
            community_id=row["community"],
            details={"from": before, "to": after},
        )
    return await get_car_park(caller, car_park_id)


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


async def create_lane(caller: Caller, data: LaneCreate, effects: Effects) -> LaneRead:
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
        await spaces_changed(community_id, [data.car_park_id], effects)  # its bridge's lanes
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


async def update_lane(
    caller: Caller, lane_id: UUID, data: LaneUpdate, effects: Effects
) -> LaneRead:
    """A lane moved to another car park or zone of its community, renamed, or made fuzzy."""
    lane = await Lane.select().where(Lane.id == lane_id).first()
    if lane is None:
        raise NotFound()
    require_staff(caller, "parking.configure", lane["community"])
    if isinstance(data.car_park_id, UUID) and not await CarPark.exists().where(
        (CarPark.id == data.car_park_id) & (CarPark.community == lane["community"])
    ):
        raise NotFound()
    values: dict[Any, Any] = {}
    changes: dict[str, Any] = {}
    for field, column, key in (
        ("car_park_id", Lane.car_park, "car_park"),
        ("name", Lane.name, "name"),
        ("fuzzy", Lane.fuzzy, "fuzzy"),
    ):
        value = getattr(data, field)
        if value is msgspec.UNSET:
            continue
        value = value.strip() if isinstance(value, str) else value
        values[column] = value
        changes[field] = {"from": str(lane[key]), "to": str(value)}
    async with DB.transaction():
        if values:
            await Lane.update(values).where(Lane.id == lane_id)
        if Lane.car_park in values:  # both car parks' lanes at the bridge changed
            moved = [lane["car_park"], values[Lane.car_park]]
            await spaces_changed(lane["community"], moved, effects)
        await record(
            "lane.changed",
            actor=caller,
            target_type="lane",
            target_id=lane_id,
            community_id=lane["community"],
            details=changes,
        )
    found = await Lane.select().where(Lane.id == lane_id).first()
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
        display = by_id.get(str(attrs.get("display") or ""))
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
                display=display["id"] if display and display["kind"] == "display" else None,
                fuzzy=str(attrs.get("fuzzy")).lower() in ("true", "1", "yes"),
                created_at=now,
            ).save()
        made += 1
    return made
