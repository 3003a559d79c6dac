"""A car park's spaces at the bridges: the platform's figures decide "full" at the lanes (VEH-22).

The manager sets a car park's `capacity` and `temporary_capacity` here (车辆管理); the bridge's
lanes decide "full" and show "临时车位已满" from them. They travel in the credential sync, not a
second one: each car park with lanes at a bridge is one entry of kind `car_park` (`doors`: the
bridge's ids of those lanes' plate cameras, `spaces`: [capacity, temporary_capacity]). A change
to a car park's spaces or lanes appends its id to the credential change log, so the next delta
carries it (or removes it when no lane of it is left at the bridge), and every full set — sent at
each (re)connection — carries them all. The bridge keeps them in its credential cache, offline
and across restarts, and uses its site file's `capacity` only until one arrives.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import sync
from api.access.credentials import after_commit, log_changes
from api.access.tables import CredentialChange
from api.core.effects import Effects
from api.devices.tables import Device
from api.vehicles.tables import CarPark, Lane
from device_bridge import protocol


async def changed(community_id: UUID, car_park_ids: list[UUID], effects: Effects) -> None:
    """Inside the caller's transaction: these car parks' spaces or lanes changed; after commit,
    the community's bridges are sent the delta."""
    await log_changes(community_id, car_park_ids)
    after_commit(effects, community_id)


async def entries(
    bridge_id: UUID, community_id: UUID, since: int | None
) -> tuple[list[protocol.CredentialEntry], list[str]]:
    """The car parks with lanes at the bridge (all, or those changed after `since`), and the
    changed ones with none there (removed)."""
    where: Any = CarPark.community == community_id
    if since is not None:
        logged = await CredentialChange.select(CredentialChange.credential).where(
            (CredentialChange.community == community_id) & (CredentialChange.id > since)
        )
        ids = list({r["credential"] for r in logged})
        if not ids:
            return [], []
        where &= CarPark.id.is_in(ids)
    parks = await CarPark.select(CarPark.id, CarPark.capacity, CarPark.temporary_capacity).where(
        where
    )
    if not parks:
        return [], []
    cameras = {
        r["id"]: r["external_id"]
        for r in await Device.select(Device.id, Device.external_id).where(
            (Device.bridge == bridge_id) & (Device.kind == "plate_camera")
        )
    }
    lanes: dict[UUID, list[str]] = {}
    for lane in await Lane.select(Lane.car_park, Lane.camera).where(
        Lane.car_park.is_in([p["id"] for p in parks])
    ):
        if lane["camera"] in cameras:
            lanes.setdefault(lane["car_park"], []).append(cameras[lane["camera"]])
    upserts, removals = [], []
    for park in parks:
        doors = sorted(lanes.get(park["id"], []))
        if doors:
            upserts.append(
                protocol.CredentialEntry(
                    id=str(park["id"]),
                    kind="car_park",
                    doors=doors,
                    spaces=[park["capacity"], park["temporary_capacity"]],
                )
            )
        elif since is not None:
            removals.append(str(park["id"]))
    return upserts, removals


async def frame_for(
    bridge_id: UUID, community_id: UUID, since: int | None
) -> protocol.Credentials | None:
    """The credential sync's frame (api/access/sync.py) with the car parks' spaces in it."""
    frame = await sync.frame_for(bridge_id, community_id, since=since)
    if frame is None:
        return None
    upserts, removals = await entries(bridge_id, community_id, frame.since)
    frame.upserts.extend(upserts)
    frame.removals.extend(removals)
    return frame
