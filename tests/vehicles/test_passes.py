"""Pass records in scope: a resident reads the household's cars' passes, staff their community's,
police their jurisdiction's; every search by plate (exact or one character off) is audited."""

from __future__ import annotations

import pytest
from litestar import Litestar

from api.audit.tables import AuditEntry
from api.core.auth import Role
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error
from tests.vehicles.helpers import register, store_pass


async def _searches(actor: object) -> list[dict]:
    return (
        await AuditEntry.select()
        .where((AuditEntry.action == "vehicle_pass.searched") & (AuditEntry.actor_id == actor))
        .output(load_json=True)
    )


@pytest.mark.req("VEH-11", partial=True)
async def test_a_resident_sees_only_the_households_cars_passes(
    app: Litestar, resident: ApiClient, world: World
) -> None:
    a = world.a
    car = await register(resident, plate="川A12345")
    mine = await store_pass(
        app, a.community, "川A12345", household=a.households[0], vehicle=car["id"]
    )
    other = await store_pass(app, a.community, "川A67890", household=a.households[1])
    stranger = await store_pass(app, a.community, "川A55555", decision="denied", reason="unknown")
    r = await resident.get("/api/v1/vehicle-passes")
    assert r.status_code == 200, r.text
    assert [p["id"] for p in r.json()["items"]] == [str(mine)]
    assert r.json()["items"][0]["plate"] == "川A***45"
    for record in (other, stranger):
        assert_error(await resident.get(f"/api/v1/vehicle-passes/{record}"), 404, "not_found")
    # A resident does not search by plate.
    assert_error(
        await resident.get("/api/v1/vehicle-passes", params={"plate": "川A67890"}), 404, "not_found"
    )


@pytest.mark.req("VEH-06", partial=True)
async def test_police_search_their_jurisdiction_by_plate_fuzzy_and_each_search_is_audited(
    app: Litestar, as_role: AsRole, world: World
) -> None:
    here = await store_pass(app, world.a.community, "川A12345")
    elsewhere = await store_pass(app, world.b.community, "川A12345")
    police = await as_role(Role.POLICE)
    r = await police.get("/api/v1/vehicle-passes", params={"plate": "川A12345"})
    assert r.status_code == 200, r.text
    assert [p["id"] for p in r.json()["items"]] == [str(here)]
    r = await police.get("/api/v1/vehicle-passes", params={"plate": "川A12346", "fuzzy": "true"})
    assert [p["id"] for p in r.json()["items"]] == [str(here)]
    r = await police.get("/api/v1/vehicle-passes", params={"plate": "川A12346"})
    assert r.json()["items"] == []
    assert_error(await police.get(f"/api/v1/vehicle-passes/{elsewhere}"), 404, "not_found")
    assert_error(
        await police.get("/api/v1/vehicle-passes", params={"community_id": str(world.b.community)}),
        404,
        "not_found",
    )
    searches = await _searches(world.a.users[Role.POLICE].id)
    assert len(searches) == 3
    assert [s["details"]["found"] for s in searches] == [1, 1, 0]
    assert all("12345" not in str(s["details"]) for s in searches)  # masked in the log


async def test_guards_read_their_communitys_passes_and_not_anothers(
    app: Litestar, as_role: AsRole, world: World
) -> None:
    here = await store_pass(app, world.a.community, "川A12345")
    await store_pass(app, world.b.community, "川A12345")
    guard = await as_role(Role.GUARD)
    r = await guard.get("/api/v1/vehicle-passes", params={"decision": "granted"})
    assert [p["id"] for p in r.json()["items"]] == [str(here)]
    maintenance = await as_role(Role.MAINTENANCE)
    assert_error(await maintenance.get("/api/v1/vehicle-passes"), 404, "not_found")


@pytest.mark.parametrize(
    "params",
    [
        {"plate": "not a plate"},
        {"plate": "川A12345" * 10},
        {"direction": "sideways"},
        {"since": "yesterday"},
        {"page": "0"},
        {"page_size": "1000"},
        {"fuzzy": "maybe"},
    ],
)
async def test_bad_search_input_is_a_4xx(as_role: AsRole, params: dict) -> None:
    police = await as_role(Role.POLICE)
    r = await police.get("/api/v1/vehicle-passes", params=params)
    assert 400 <= r.status_code < 500, r.text
