"""The vehicle registry: residents enter their household's cars, managers run the lifecycle
(entry → authorise → change → cancel → extend, each audited) and the blacklist; plates are
stored encrypted and leave masked; out of scope is 404 and bad input a 4xx, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.core.auth import Role
from api.vehicles.tables import Vehicle
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows, make_account
from tests.vehicles.helpers import register


@pytest.mark.req("VEH-07")
async def test_a_vehicle_goes_through_entry_authorise_change_cancel_and_extend_each_audited(
    as_role: AsRole, resident: ApiClient, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    car = await register(resident, plate="川a·12345", colour="blue", vehicle_type="suv")
    assert car["status"] == "registered" and car["plate"] == "川A***45"
    assert car["household_id"] == str(world.a.households[0])
    start = datetime.now(UTC)
    r = await manager.post(
        f"/api/v1/vehicles/{car['id']}/authorise",
        json={
            "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(days=30)).isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
    r = await manager.patch(f"/api/v1/vehicles/{car['id']}", json={"colour": "green"})
    assert r.status_code == 200 and r.json()["colour"] == "green"
    later = start + timedelta(days=90)
    r = await manager.post(
        f"/api/v1/vehicles/{car['id']}/extend", json={"valid_until": later.isoformat()}
    )
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["valid_until"]) == later
    r = await manager.post(f"/api/v1/vehicles/{car['id']}/cancel", json={"reason": "sold"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    for action in (
        "vehicle.registered",
        "vehicle.authorised",
        "vehicle.changed",
        "vehicle.extended",
        "vehicle.cancelled",
    ):
        rows = await audit_rows(action, car["id"])
        assert len(rows) == 1, action
        assert "12345" not in str(rows[0]["details"])  # the plate only masked in the log
    # A cancelled car cannot be authorised again; the plate may be entered anew.
    r = await manager.post(f"/api/v1/vehicles/{car['id']}/authorise", json={})
    assert_error(r, 409, "invalid_lifecycle_step")
    again = await register(resident, plate="川A12345")
    assert again["id"] != car["id"]


async def test_the_plate_is_stored_encrypted_beside_its_blind_index(
    resident: ApiClient,
) -> None:
    car = await register(resident, plate="川AD12345", vehicle_type="new_energy", colour="green")
    row = await Vehicle.select().where(Vehicle.id == car["id"]).first()
    assert row is not None
    assert "12345" not in row["plate"] and len(row["plate_index"]) == 64
    assert row["plate_class"] == "new_energy"


@pytest.mark.req("VEH-23", partial=True)
async def test_a_manager_blacklists_a_plate_with_a_reason(as_role: AsRole, world: World) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    body = {
        "plate": "京A99999",
        "vehicle_class": "blacklisted",
        "community_id": str(world.a.community),
    }
    assert_error(await manager.post("/api/v1/vehicles", json=body), 400, "reason_required")
    banned = await register(manager, **body, reason="多次冲卡")
    assert banned["status"] == "active" and banned["household_id"] is None
    assert len(await audit_rows("vehicle.blacklisted", banned["id"])) == 1
    r = await manager.get("/api/v1/vehicles", params={"vehicle_class": "blacklisted"})
    assert [v["id"] for v in r.json()["items"]] == [banned["id"]]
    assert_error(
        await manager.post("/api/v1/vehicles", json={**body, "reason": "x"}),
        409,
        "duplicate_vehicle",
    )


@pytest.mark.req("VEH-06", partial=True)
async def test_residents_register_only_their_own_cars_and_classes(
    resident: ApiClient, world: World
) -> None:
    assert_error(
        await resident.post(
            "/api/v1/vehicles", json={"plate": "川A54321", "vehicle_class": "staff"}
        ),
        400,
        "vehicle_class_not_allowed",
    )
    other = {"plate": "川A54321", "household_id": str(world.a.households[1])}
    assert_error(await resident.post("/api/v1/vehicles", json=other), 404, "not_found")
    car = await register(resident, plate="川A54321")
    assert_error(
        await resident.post(f"/api/v1/vehicles/{car['id']}/authorise", json={}), 404, "not_found"
    )
    assert_error(
        await resident.patch(f"/api/v1/vehicles/{car['id']}", json={"colour": "black"}),
        404,
        "not_found",
    )
    r = await resident.post(f"/api/v1/vehicles/{car['id']}/cancel", json={"reason": "sold"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


@pytest.mark.req("VEH-06", partial=True)
async def test_a_resident_sees_only_the_households_cars(
    as_role: AsRole, resident: ApiClient, login, world: World
) -> None:
    mine = await register(resident, plate="川A11111")
    neighbour = await make_account(
        Role.RESIDENT, community=world.a.community, household=world.a.households[1]
    )
    theirs = await register(await login(neighbour), plate="川A22222")
    r = await resident.get("/api/v1/vehicles")
    assert [v["id"] for v in r.json()["items"]] == [mine["id"]]
    assert_error(await resident.get(f"/api/v1/vehicles/{theirs['id']}"), 404, "not_found")
    guard = await as_role(Role.GUARD)
    r = await guard.get("/api/v1/vehicles")
    assert {v["id"] for v in r.json()["items"]} == {mine["id"], theirs["id"]}
    assert_error(
        await guard.post(
            "/api/v1/vehicles", json={"plate": "川A33333", "community_id": str(world.a.community)}
        ),
        404,
        "not_found",
    )


async def test_another_communitys_vehicles_answer_404(as_role: AsRole, world: World) -> None:
    manager_b = await as_role(Role.PROPERTY_MANAGER, "b")
    car_b = await register(
        manager_b, plate="川B12345", community_id=str(world.b.community), vehicle_class="staff"
    )
    manager = await as_role(Role.PROPERTY_MANAGER)
    assert_error(await manager.get(f"/api/v1/vehicles/{car_b['id']}"), 404, "not_found")
    for path, body in (
        ("authorise", {}),
        ("cancel", {"reason": "x"}),
        ("extend", {"valid_until": (datetime.now(UTC) + timedelta(days=1)).isoformat()}),
    ):
        assert_error(
            await manager.post(f"/api/v1/vehicles/{car_b['id']}/{path}", json=body),
            404,
            "not_found",
        )
    assert_error(
        await manager.patch(f"/api/v1/vehicles/{car_b['id']}", json={"colour": "white"}),
        404,
        "not_found",
    )
    assert_error(
        await manager.post(
            "/api/v1/vehicles", json={"plate": "川B54321", "community_id": str(world.b.community)}
        ),
        404,
        "not_found",
    )
    police = await as_role(Role.POLICE)  # police search passes, not the registry
    assert_error(await police.get(f"/api/v1/vehicles/{car_b['id']}"), 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"plate": "not a plate"},
        {"plate": "川A1234"},
        {"plate": "川A12345", "colour": "purple"},
        {"plate": "川A12345", "extra": 1},
        {"plate": ""},
        {"plate": "川A12345" * 5},
        {"plate": "川A12345", "valid_from": "2026-01-01T00:00:00"},
    ],
)
async def test_bad_input_is_a_4xx(resident: ApiClient, body: dict) -> None:
    r = await resident.post("/api/v1/vehicles", json=body)
    assert 400 <= r.status_code < 500, r.text


async def test_bad_lifecycle_input_is_a_4xx(as_role: AsRole, resident: ApiClient) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    car = await register(resident, plate="川A77777")
    now = datetime.now(UTC)
    backwards = {
        "valid_from": now.isoformat(),
        "valid_until": (now - timedelta(days=1)).isoformat(),
    }
    assert_error(
        await manager.post(f"/api/v1/vehicles/{car['id']}/authorise", json=backwards),
        400,
        "invalid_validity",
    )
    # Extending a car that is not active yet, or to an earlier end, is refused.
    later = {"valid_until": (now + timedelta(days=5)).isoformat()}
    assert_error(
        await manager.post(f"/api/v1/vehicles/{car['id']}/extend", json=later),
        409,
        "invalid_lifecycle_step",
    )
    r = await manager.post(
        f"/api/v1/vehicles/{car['id']}/authorise",
        json={"valid_until": (now + timedelta(days=10)).isoformat()},
    )
    assert r.status_code == 200, r.text
    assert_error(
        await manager.post(f"/api/v1/vehicles/{car['id']}/extend", json=later),
        400,
        "invalid_validity",
    )
    assert_error(
        await manager.get("/api/v1/vehicles", params={"plate": "nonsense"}), 400, "invalid_plate"
    )
    assert_error(
        await manager.post(f"/api/v1/vehicles/{car['id']}/cancel", json={"reason": ""}),
        422,
        "invalid_body",
    )
