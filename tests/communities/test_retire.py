"""Retiring places: kept with their codes, hidden from lists, never while anyone lives there."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import pytest

from api.core.auth import Role
from api.devices.tables import Bridge
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows

COMMUNITIES = "/api/v1/communities"


async def _made(api: ApiClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post(path, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _empty_building(manager: ApiClient, world: World) -> dict[str, str]:
    """A new building of community A with one unit and one household nobody lives in."""
    number = str(secrets.randbelow(800) + 100)
    building = await _made(
        manager, f"{COMMUNITIES}/{world.a.community}/buildings", {"number": number, "floors": 6}
    )
    unit = await _made(manager, f"/api/v1/buildings/{building['id']}/units", {"number": "1"})
    household = await _made(
        manager, f"/api/v1/units/{unit['id']}/households", {"room": "0101", "housing": "vacant"}
    )
    return {"building": building["id"], "unit": unit["id"], "household": household["id"]}


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.req("REG-02", partial=True)
async def test_a_manager_retires_a_building_from_the_household_up_and_restores_it(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    place = await _empty_building(manager, world)
    building, unit, household = place["building"], place["unit"], place["household"]

    # Top down is refused while something below is in use.
    assert_error(await manager.post(f"/api/v1/buildings/{building}/retire"), 409, "place_in_use")
    assert_error(await manager.post(f"/api/v1/units/{unit}/retire"), 409, "place_in_use")

    r = await manager.post(f"/api/v1/households/{household}/retire")
    assert r.status_code == 200, r.text
    assert r.json()["retired_at"] is not None
    assert await audit_rows("household.retired", household)
    assert household not in _ids(await manager.get(f"/api/v1/units/{unit}/households"))
    shown = await manager.get(f"/api/v1/units/{unit}/households", params={"include_retired": True})
    assert household in _ids(shown)
    # Read by id it stays, with its code: records and audit keep naming it.
    assert (await manager.get(f"/api/v1/households/{household}")).json()["retired_at"]

    assert (await manager.post(f"/api/v1/units/{unit}/retire")).status_code == 200
    assert (await manager.post(f"/api/v1/buildings/{building}/retire")).status_code == 200
    buildings = f"{COMMUNITIES}/{world.a.community}/buildings"
    assert building not in _ids(await manager.get(buildings, params={"page_size": 200}))
    assert building in _ids(
        await manager.get(buildings, params={"page_size": 200, "include_retired": True})
    )
    # Nothing new goes into a retired place, and nothing comes back inside one.
    assert_error(
        await manager.post(f"/api/v1/buildings/{building}/units", json={"number": "2"}),
        409,
        "parent_retired",
    )
    assert_error(await manager.post(f"/api/v1/units/{unit}/restore"), 409, "parent_retired")

    # Bottom up again: restored, audited, listed.
    for path in (f"buildings/{building}", f"units/{unit}", f"households/{household}"):
        r = await manager.post(f"/api/v1/{path}/restore")
        assert r.status_code == 200, r.text
        assert r.json()["retired_at"] is None
    assert await audit_rows("building.restored", building)
    assert household in _ids(await manager.get(f"/api/v1/units/{unit}/households"))


async def test_retiring_twice_changes_nothing_more(as_role: AsRole, world: World) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    household = (await _empty_building(manager, world))["household"]
    first = await manager.post(f"/api/v1/households/{household}/retire")
    again = await manager.post(f"/api/v1/households/{household}/retire")
    assert again.status_code == 200
    assert again.json()["retired_at"] == first.json()["retired_at"]
    assert len(await audit_rows("household.retired", household)) == 1


async def test_a_household_someone_lives_in_is_not_retired(as_role: AsRole, world: World) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    lived_in = world.a.households[0]  # the site's residents live here
    assert_error(await manager.post(f"/api/v1/households/{lived_in}/retire"), 409, "place_in_use")
    r = await manager.get(f"/api/v1/households/{lived_in}")
    assert r.json()["retired_at"] is None


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.GUARD, Role.POLICE])
async def test_others_get_404(as_role: AsRole, world: World, role: Role) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    place = await _empty_building(manager, world)
    outsider = await as_role(Role.PROPERTY_MANAGER, "b")
    someone = await as_role(role)
    for api in (outsider, someone):
        for path in ("households/{household}", "units/{unit}", "buildings/{building}"):
            for verb in ("retire", "restore"):
                r = await api.post(f"/api/v1/{path.format(**place)}/{verb}")
                assert_error(r, 404, "not_found")


async def test_an_unknown_or_malformed_place_is_404(as_role: AsRole) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    missing = "00000000-0000-4000-8000-000000000000"
    assert_error(await manager.post(f"/api/v1/units/{missing}/retire"), 404, "not_found")
    assert_error(await manager.post("/api/v1/units/not-a-uuid/retire"), 404, "not_found")


async def test_the_system_admin_retires_an_empty_community_and_only_then(
    as_role: AsRole, world: World
) -> None:
    admin = await as_role(Role.SYSTEM_ADMIN)
    code = "510104" + "".join(f"{secrets.randbelow(999) + 1:03d}" for _ in range(3))
    community = await _made(
        admin, COMMUNITIES, {"code": code, "name": "停用测试小区", "address": "x"}
    )
    building = await _made(
        admin, f"{COMMUNITIES}/{community['id']}/buildings", {"number": "1", "floors": 3}
    )
    retire = f"{COMMUNITIES}/{community['id']}/retire"

    assert_error(await admin.post(retire), 409, "place_in_use")  # a building is still live
    assert (await admin.post(f"/api/v1/buildings/{building['id']}/retire")).status_code == 200
    r = await admin.post(retire)
    assert r.status_code == 200, r.text
    assert r.json()["retired_at"] is not None
    assert await audit_rows("community.retired", community["id"])
    listed = await admin.get(COMMUNITIES, params={"q": code})
    assert community["id"] not in _ids(listed)
    listed = await admin.get(COMMUNITIES, params={"q": code, "include_retired": True})
    assert community["id"] in _ids(listed)
    # Nothing is built in a retired community, nor restored in it.
    assert_error(
        await admin.post(
            f"{COMMUNITIES}/{community['id']}/buildings", json={"number": "2", "floors": 3}
        ),
        409,
        "parent_retired",
    )
    assert_error(
        await admin.post(f"/api/v1/buildings/{building['id']}/restore"), 409, "parent_retired"
    )
    assert (await admin.post(f"{COMMUNITIES}/{community['id']}/restore")).status_code == 200


async def test_a_community_is_not_retired_while_it_has_a_bridge(as_role: AsRole) -> None:
    admin = await as_role(Role.SYSTEM_ADMIN)
    code = "510104" + "".join(f"{secrets.randbelow(999) + 1:03d}" for _ in range(3))
    community = await _made(
        admin, COMMUNITIES, {"code": code, "name": "有网关小区", "address": "x"}
    )
    bridge = Bridge(community=community["id"], name="site", public_key="x" * 43)
    await bridge.save()
    retire = f"{COMMUNITIES}/{community['id']}/retire"

    assert_error(await admin.post(retire), 409, "place_in_use")
    await Bridge.update({Bridge.revoked_at: datetime.now(UTC)}).where(Bridge.id == bridge.id)
    assert (await admin.post(retire)).status_code == 200
    manager = await as_role(Role.PROPERTY_MANAGER)
    assert_error(await manager.post(f"{COMMUNITIES}/{community['id']}/restore"), 404, "not_found")
