"""The manager's vehicle console, API side: car parks edited and their counts corrected by hand
with a reason (audited, never negative), live to the community's board; temporary parking fills
from the reads and shows full; space guidance per zone; lanes moved between car parks; the
registry searched by plate and expiry with each car's history; a blacklist entry with a validity
and its removal, refused at the edge after the change. Another community's ids are 404, a
guard reads and does not write, bad input is a 4xx.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.core.auth import Role
from device_bridge.drivers.sim import client as sim_client
from device_bridge.settings import BridgeSettings
from tests.fixtures import AsRole
from tests.helpers import (
    ApiClient,
    World,
    assert_error,
    audit_rows,
    eventually,
    live_socket,
    next_event,
    running,
)
from tests.vehicles.helpers import register
from tests.vehicles.test_site import IN, OUT, lanes, probe
from tests.visitors.helpers import book


@pytest.fixture(autouse=True)
def quick_barriers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sim barriers answer at once."""
    monkeypatch.setitem(sim_client._LATENCY, ("barrier", "*"), (0.0, 0.001))


@pytest.fixture
async def manager(as_role: AsRole) -> ApiClient:
    return await as_role(Role.PROPERTY_MANAGER)


async def car_park(api: ApiClient, world: World, **extra: Any) -> dict[str, Any]:
    body = {"community_id": str(world.a.community), "name": "地面停车场", "capacity": 10, **extra}
    r = await api.post("/api/v1/car-parks", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.req("VEH-06", partial=True)
async def test_a_manager_edits_a_car_park_and_corrects_its_counts_with_a_reason_audited(
    manager: ApiClient, as_role: AsRole, world: World, live_url: str
) -> None:
    park = await car_park(manager, world, temporary_capacity=2)
    assert (park["temporary_free"], park["full"]) == (2, False)
    r = await manager.patch(
        f"/api/v1/car-parks/{park['id']}", json={"name": "东区停车场", "capacity": 12}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["capacity"], r.json()["free"]) == ("东区停车场", 12, 12)
    [changed] = await audit_rows("car_park.changed", park["id"])
    assert changed["details"]["capacity"] == {"from": 10, "to": 12}

    async with live_socket(live_url, world.a.users[Role.GUARD]) as ws:
        r = await manager.post(
            f"/api/v1/car-parks/{park['id']}/occupancy",
            json={"occupied": 5, "temporary_occupied": 2, "reason": "夜间巡查清点"},
        )
        assert r.status_code == 200, r.text
        found = r.json()
        assert (found["occupied"], found["free"], found["temporary_free"], found["full"]) == (
            5,
            7,
            0,
            True,
        )
        event = await next_event(ws, lambda e: e.get("type") == "car_park.occupancy")
        assert event["car_park"]["id"] == park["id"] and event["car_park"]["full"] is True
    [corrected] = await audit_rows("car_park.occupancy_corrected", park["id"])
    assert corrected["purpose"] == "夜间巡查清点"
    assert corrected["details"]["occupied"] == {"from": 0, "to": 5}
    # Fewer cars than temporary cars stays consistent: the temporary count follows down.
    r = await manager.post(
        f"/api/v1/car-parks/{park['id']}/occupancy", json={"occupied": 1, "reason": "清点"}
    )
    assert (r.json()["occupied"], r.json()["temporary_occupied"]) == (1, 1)

    for body, status, code in (
        ({"occupied": -1, "reason": "x"}, 422, "invalid_body"),  # never negative
        ({"occupied": 1, "temporary_occupied": 2, "reason": "x"}, 400, "invalid_occupancy"),
        ({"occupied": 1, "reason": "  "}, 400, "reason_required"),
        ({"occupied": 1}, 422, "invalid_body"),
    ):
        r = await manager.post(f"/api/v1/car-parks/{park['id']}/occupancy", json=body)
        assert_error(r, status, code)
    # Guards read the car park, they do not configure it; another community's manager gets 404.
    guard = await as_role(Role.GUARD)
    assert (await guard.get(f"/api/v1/car-parks/{park['id']}")).status_code == 200
    assert_error(
        await guard.patch(f"/api/v1/car-parks/{park['id']}", json={"capacity": 1}),
        404,
        "not_found",
    )
    other = await as_role(Role.PROPERTY_MANAGER, "b")
    for call in (
        other.patch(f"/api/v1/car-parks/{park['id']}", json={"capacity": 1}),
        other.post(
            f"/api/v1/car-parks/{park['id']}/occupancy", json={"occupied": 0, "reason": "x"}
        ),
        other.get(f"/api/v1/car-parks/{park['id']}/guidance"),
    ):
        assert_error(await call, 404, "not_found")
    assert len(await audit_rows("car_park.occupancy_corrected", park["id"])) == 2


@pytest.mark.req("VEH-21", partial=True)
async def test_space_guidance_directs_a_car_to_the_zone_with_the_most_free_spaces(
    manager: ApiClient, resident: ApiClient, world: World
) -> None:
    park = await car_park(manager, world, capacity=60)
    zones = {
        name: await car_park(manager, world, name=name, capacity=cap, parent_id=park["id"])
        for name, cap in (("A区", 20), ("B区", 30), ("C区", 10))
    }
    await manager.post(
        f"/api/v1/car-parks/{zones['B区']['id']}/occupancy", json={"occupied": 25, "reason": "x"}
    )
    r = await manager.get(f"/api/v1/car-parks/{park['id']}/guidance")
    assert r.status_code == 200, r.text
    guide = r.json()
    assert [(z["name"], z["free"]) for z in guide["zones"]] == [
        ("A区", 20),
        ("C区", 10),
        ("B区", 5),
    ]
    assert guide["recommended_zone_id"] == zones["A区"]["id"]
    # Residents read their community's guidance too (free spaces, nobody named).
    assert (await resident.get(f"/api/v1/car-parks/{park['id']}/guidance")).status_code == 200
    for zone in zones.values():
        await manager.post(
            f"/api/v1/car-parks/{zone['id']}/occupancy",
            json={"occupied": zone["capacity"], "reason": "满"},
        )
    r = await manager.get(f"/api/v1/car-parks/{park['id']}/guidance")
    assert r.json()["recommended_zone_id"] is None


@pytest.mark.req("VEH-22", partial=True)
async def test_temporary_cars_fill_the_temporary_spaces_and_the_car_park_shows_full(
    site_settings: BridgeSettings,
    manager: ApiClient,
    resident: ApiClient,
    world: World,
    as_role: AsRole,
) -> None:
    async with running(site_settings) as bridge:
        made = await lanes(manager, bridge, world)
        park = await car_park(manager, world, name="访客停车场", capacity=5, temporary_capacity=2)
        listed = await manager.get("/api/v1/vehicle-lanes", params={"car_park_id": made["id"]})
        for lane in listed.json()["items"]:  # the site's lanes now count the new car park
            r = await manager.patch(
                f"/api/v1/vehicle-lanes/{lane['id']}", json={"car_park_id": park["id"]}
            )
            assert r.status_code == 200 and r.json()["car_park_id"] == park["id"], r.text
            assert len(await audit_rows("lane.changed", lane["id"])) == 1
        car = await register(resident, plate="川A12345")
        await manager.post(f"/api/v1/vehicles/{car['id']}/authorise", json={})
        await book(resident, plate="川A66666")
        await book(resident, plate="川A66667")
        await eventually(lambda: probe(bridge, "川A12345") == "resident")
        await eventually(lambda: probe(bridge, "川A66667") == "visitor")
        assert bridge.sim is not None

        async def counts() -> tuple[int, int, bool]:
            p = (await manager.get(f"/api/v1/car-parks/{park['id']}")).json()
            return p["occupied"], p["temporary_occupied"], p["full"]

        await bridge.sim.read_plate(IN, plate="川A12345")  # a resident's: no temporary space
        await eventually(lambda: _is(counts, (1, 0, False)))
        await bridge.sim.read_plate(IN, plate="川A66666")
        await bridge.sim.read_plate(IN, plate="川A66667")
        await eventually(lambda: _is(counts, (3, 2, True)))
        await bridge.sim.read_plate(OUT, plate="川A66666")  # a visitor leaves: a space again
        await eventually(lambda: _is(counts, (2, 1, False)))
        await bridge.sim.read_plate(OUT, plate="川A12345")
        await eventually(lambda: _is(counts, (1, 1, False)))
    other = await as_role(Role.PROPERTY_MANAGER, "b")
    lane_id = listed.json()["items"][0]["id"]
    assert_error(
        await other.patch(f"/api/v1/vehicle-lanes/{lane_id}", json={"name": "x"}), 404, "not_found"
    )
    theirs = await other.post(
        "/api/v1/car-parks",
        json={"community_id": str(world.b.community), "name": "B", "capacity": 1},
    )
    r = await manager.patch(
        f"/api/v1/vehicle-lanes/{lane_id}", json={"car_park_id": theirs.json()["id"]}
    )
    assert_error(r, 404, "not_found")


async def _is(counts: Any, expected: tuple[int, int, bool]) -> bool:
    return bool(await counts() == expected)


@pytest.mark.req("VEH-07", partial=True)
async def test_the_registry_is_searched_by_plate_and_expiry_and_shows_a_cars_history(
    manager: ApiClient, resident: ApiClient, as_role: AsRole, world: World
) -> None:
    car = await register(resident, plate="川A12345")
    other = await register(resident, plate="川A54321")
    soon = datetime.now(UTC) + timedelta(days=10)
    await manager.post(
        f"/api/v1/vehicles/{car['id']}/authorise", json={"valid_until": soon.isoformat()}
    )
    await manager.post(
        f"/api/v1/vehicles/{other['id']}/authorise",
        json={"valid_until": (soon + timedelta(days=300)).isoformat()},
    )
    r = await manager.get("/api/v1/vehicles", params={"plate": "川a·12345"})
    assert [v["id"] for v in r.json()["items"]] == [car["id"]]
    r = await manager.get(
        "/api/v1/vehicles",
        params={"expires_before": (soon + timedelta(days=1)).isoformat(), "status": "active"},
    )
    assert [v["id"] for v in r.json()["items"]] == [car["id"]]
    # Lifecycle steps that do not follow are 409.
    assert_error(
        await manager.post(f"/api/v1/vehicles/{car['id']}/authorise", json={}),
        409,
        "invalid_lifecycle_step",
    )
    later = (soon + timedelta(days=30)).isoformat()
    await manager.post(f"/api/v1/vehicles/{car['id']}/extend", json={"valid_until": later})
    await manager.post(f"/api/v1/vehicles/{car['id']}/cancel", json={"reason": "车辆已出售"})
    assert_error(
        await manager.post(f"/api/v1/vehicles/{car['id']}/extend", json={"valid_until": later}),
        409,
        "invalid_lifecycle_step",
    )
    r = await manager.get(f"/api/v1/vehicles/{car['id']}/history")
    assert r.status_code == 200, r.text
    steps = [(h["action"], h["purpose"]) for h in r.json()]
    assert steps == [
        ("vehicle.registered", None),
        ("vehicle.authorised", None),
        ("vehicle.extended", None),
        ("vehicle.cancelled", "车辆已出售"),
    ]
    assert "12345" not in r.text  # masked in the history too
    guard = await as_role(Role.GUARD)
    assert (await guard.get(f"/api/v1/vehicles/{car['id']}/history")).status_code == 200
    # The household reads its car, not who did what to it; another community: 404.
    assert_error(await resident.get(f"/api/v1/vehicles/{car['id']}/history"), 404, "not_found")
    other_manager = await as_role(Role.PROPERTY_MANAGER, "b")
    assert_error(await other_manager.get(f"/api/v1/vehicles/{car['id']}/history"), 404, "not_found")
    r = await manager.get("/api/v1/vehicles", params={"expires_before": "soon"})
    assert r.status_code == 400, r.text


@pytest.mark.req("VEH-23")
async def test_a_blacklisted_plate_is_refused_at_the_edge_until_removed_with_a_reason(
    site_settings: BridgeSettings, manager: ApiClient, world: World
) -> None:
    async with running(site_settings) as bridge:
        await lanes(manager, bridge, world)
        until = datetime.now(UTC) + timedelta(days=30)
        entry = await register(
            manager,
            plate="川A88888",
            vehicle_class="blacklisted",
            community_id=str(world.a.community),
            reason="多次冲卡",
            valid_until=until.isoformat(),
        )
        assert (entry["status"], entry["valid_until"] is not None) == ("active", True)
        await eventually(lambda: probe(bridge, "川A88888") == "blacklisted")
        assert bridge.sim is not None
        await bridge.sim.read_plate(IN, plate="川A88888")
        assert bridge.sim.fleet.devices["barrier-carpark"].state["barrier"] == "closed"
        r = await manager.get(
            "/api/v1/vehicles", params={"vehicle_class": "blacklisted", "status": "active"}
        )
        assert [v["id"] for v in r.json()["items"]] == [entry["id"]]
        r = await manager.post(
            f"/api/v1/vehicles/{entry['id']}/cancel", json={"reason": "误录，已核实"}
        )
        assert r.status_code == 200, r.text
        [removed] = await audit_rows("vehicle.unblacklisted", entry["id"])
        assert removed["purpose"] == "误录，已核实"
        await eventually(lambda: probe(bridge, "川A88888") in ("revoked", "unknown"))
        assert_error(
            await manager.post(f"/api/v1/vehicles/{entry['id']}/cancel", json={"reason": "x"}),
            409,
            "invalid_lifecycle_step",
        )
