"""Car parks, zones and lanes: configured by managers and system administrators for their
community, read with free spaces; a lane's devices belong to its community and fit their role."""

from __future__ import annotations

import pytest

from api.core.auth import Role
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows
from tests.vehicles.helpers import lane_devices


async def _car_park(api: ApiClient, community: object, **extra: object) -> dict:
    body = {"community_id": str(community), "name": "地下车库", "capacity": 120, **extra}
    r = await api.post("/api/v1/car-parks", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.req("VEH-06", partial=True)
async def test_a_manager_sets_up_a_car_park_a_zone_and_a_lane(
    as_role: AsRole, resident: ApiClient, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    park = await _car_park(manager, world.a.community, temporary_capacity=20)
    assert park["free"] == 120 and park["occupied"] == 0
    zone = await _car_park(
        manager, world.a.community, name="B区", capacity=40, parent_id=park["id"]
    )
    assert zone["parent_id"] == park["id"]
    devices = await lane_devices(world.a.community)
    body = {
        "car_park_id": park["id"],
        "name": "北门入口",
        "direction": "in",
        "barrier_id": str(devices["barrier"]),
        "camera_id": str(devices["plate_camera"]),
        "display_id": str(devices["display"]),
        "speaker_id": str(devices["speaker"]),
        "fuzzy": True,
    }
    r = await manager.post("/api/v1/vehicle-lanes", json=body)
    assert r.status_code == 201, r.text
    lane = r.json()
    assert len(await audit_rows("lane.created", lane["id"])) == 1
    assert len(await audit_rows("car_park.created", park["id"])) == 1
    assert_error(await manager.post("/api/v1/vehicle-lanes", json=body), 400, "invalid_lane")
    # Residents see their community's car parks and free spaces, not the lanes.
    r = await resident.get("/api/v1/car-parks")
    assert {p["id"] for p in r.json()["items"]} == {park["id"], zone["id"]}
    r = await resident.get("/api/v1/vehicle-lanes")
    assert r.status_code == 200 and r.json()["items"] == []
    guard = await as_role(Role.GUARD)
    r = await guard.get("/api/v1/vehicle-lanes", params={"car_park_id": park["id"]})
    assert [x["id"] for x in r.json()["items"]] == [lane["id"]]


async def test_lane_devices_must_be_of_the_community_and_fit_their_role(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    park = await _car_park(manager, world.a.community)
    mine = await lane_devices(world.a.community)
    theirs = await lane_devices(world.b.community)
    base = {"car_park_id": park["id"], "name": "出口", "direction": "out"}
    for barrier, camera, field in (
        (theirs["barrier"], mine["plate_camera"], "barrier_id"),
        (mine["speaker"], mine["plate_camera"], "barrier_id"),
        (mine["barrier"], mine["barrier"], "camera_id"),
    ):
        r = await manager.post(
            "/api/v1/vehicle-lanes",
            json={**base, "barrier_id": str(barrier), "camera_id": str(camera)},
        )
        assert_error(r, 400, "invalid_lane")
        assert r.json()["extra"]["field"] == field


async def test_another_communitys_car_parks_answer_404(as_role: AsRole, world: World) -> None:
    manager_b = await as_role(Role.PROPERTY_MANAGER, "b")
    park_b = await _car_park(manager_b, world.b.community)
    manager = await as_role(Role.PROPERTY_MANAGER)
    assert_error(await manager.get(f"/api/v1/car-parks/{park_b['id']}"), 404, "not_found")
    r = await manager.post(
        "/api/v1/car-parks",
        json={"community_id": str(world.b.community), "name": "x", "capacity": 1},
    )
    assert_error(r, 404, "not_found")
    devices = await lane_devices(world.b.community)
    r = await manager.post(
        "/api/v1/vehicle-lanes",
        json={
            "car_park_id": park_b["id"],
            "name": "x",
            "direction": "in",
            "barrier_id": str(devices["barrier"]),
            "camera_id": str(devices["plate_camera"]),
        },
    )
    assert_error(r, 404, "not_found")
    r = await manager.post(
        "/api/v1/car-parks",
        json={
            "community_id": str(world.a.community),
            "name": "zone",
            "capacity": 1,
            "parent_id": park_b["id"],
        },
    )
    assert_error(r, 404, "not_found")
    resident = await as_role(Role.RESIDENT)
    assert_error(
        await resident.post(
            "/api/v1/car-parks",
            json={"community_id": str(world.a.community), "name": "x", "capacity": 1},
        ),
        404,
        "not_found",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "capacity": 1},
        {"name": "x", "capacity": -1},
        {"name": "x", "capacity": "many"},
        {"name": "x"},
    ],
)
async def test_bad_car_park_input_is_a_4xx(as_role: AsRole, world: World, body: dict) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    r = await manager.post(
        "/api/v1/car-parks", json={"community_id": str(world.a.community), **body}
    )
    assert_error(r, 422, "invalid_body")
