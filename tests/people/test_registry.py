"""The residents registry console's API: filters by place, relation and residence; move-in and the
one-step move-out endpoint; callers of another community get 404, bad input 4xx."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from api.communities.tables import Building, Household, Unit
from api.core.auth import Role
from api.people.tables import Person
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, audit_rows
from tests.people.test_people import PERSONS, ids, person_body


async def second_building(world: World) -> uuid.UUID:
    """A building 2 with one unit and one household (room 0201) in community A; its household."""
    code = (await Building.select(Building.code).where(Building.community == world.a.community))[0]
    base = code["code"][:-3]
    building = Building(
        community=world.a.community, number="2", name="2栋", code=base + "002", floors=6
    )
    await building.save()
    unit = Unit(community=world.a.community, building=building.id, number="1", code=base + "00201")
    await unit.save()
    household = Household(
        community=world.a.community,
        building=building.id,
        unit=unit.id,
        room="0201",
        code=base + "002010201",
    )
    await household.save()
    return household.id


class TestFilters:
    async def test_persons_are_found_by_building_and_unit(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        household = await second_building(world)
        r = await manager.post(
            PERSONS, json=person_body(world.a, household_id=str(household), name="赵六")
        )
        assert r.status_code == 201, r.text
        row = await Household.select(Household.building, Household.unit).where(
            Household.id == household
        )

        by_building = await manager.get(PERSONS, params={"building_id": str(row[0]["building"])})
        by_unit = await manager.get(PERSONS, params={"unit_id": str(row[0]["unit"])})

        assert ids(by_building) == ids(by_unit) == [r.json()["id"]]
        assert r.json()["household_label"] == "2栋1单元0201"

    async def test_persons_are_found_by_relation_and_residence(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        tenant = await manager.post(
            PERSONS, json=person_body(world.a, category="tenant", relation="tenant")
        )
        assert tenant.status_code == 201, tenant.text
        moved = await manager.post(
            f"{PERSONS}/{world.a.persons[1]}/move-out", json={"moved_out_on": "2026-11-01"}
        )
        assert moved.status_code == 200, moved.text

        tenants = await manager.get(PERSONS, params={"relation": "tenant"})
        gone = await manager.get(PERSONS, params={"moved_out": "true"})
        living = await manager.get(PERSONS, params={"moved_out": "false", "relation": "owner"})

        assert ids(tenants) == [tenant.json()["id"]]
        assert ids(gone) == [str(world.a.persons[1])]
        assert ids(living) == [str(world.a.persons[0])]

    @pytest.mark.parametrize(
        "params",
        [{"relation": "landlord"}, {"moved_out": "maybe"}, {"building_id": "1"}],
    )
    async def test_a_bad_filter_is_400(
        self, as_role: AsRole, world: World, params: dict[str, str]
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.get(PERSONS, params=params)

        assert_error(r, 400, "invalid_parameters")

    async def test_another_communitys_building_lists_nothing(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER, "b")
        building = await Building.select(Building.id).where(Building.community == world.a.community)

        r = await manager.get(PERSONS, params={"building_id": str(building[0]["id"])})

        assert ids(r) == []


class TestMoveIn:
    @pytest.mark.req("REG-06", partial=True)
    async def test_a_moved_out_person_moves_into_another_household(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        person = world.a.persons[1]
        out = await manager.post(
            f"{PERSONS}/{person}/move-out", json={"moved_out_on": "2026-11-01"}
        )
        assert out.status_code == 200, out.text

        r = await manager.post(
            f"{PERSONS}/{person}/move-in",
            json={
                "household_id": str(world.a.households[0]),
                "moved_in_on": "2026-11-15",
                "relation": "member",
            },
        )

        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["household_label"], body["moved_in_on"], body["moved_out_on"]) == (
            "1栋1单元0101",
            "2026-11-15",
            None,
        )
        assert body["relation"] == "member"
        rows = await audit_rows("person.moved_in", person)
        assert rows[0]["details"] == {
            "household_id": str(world.a.households[0]),
            "relation": "member",
        }

    async def test_someone_still_living_in_a_household_moves_out_first(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(
            f"{PERSONS}/{world.a.persons[1]}/move-in",
            json={"household_id": str(world.a.households[0]), "moved_in_on": "2026-11-15"},
        )

        assert_error(r, 409, "still_resident")

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"household_id": "nope", "moved_in_on": "2026-11-15"}, 422, "invalid_body"),
            ({"moved_in_on": "2026-11-15"}, 422, "invalid_body"),
            ({"household_id": None, "moved_in_on": "2026-11-15", "x": 1}, 422, "invalid_body"),
        ],
    )
    async def test_bad_input_is_refused(
        self, as_role: AsRole, world: World, body: dict[str, Any], status: int, code: str
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(f"{PERSONS}/{world.a.persons[1]}/move-in", json=body)

        assert_error(r, status, code)

    async def test_a_household_of_another_community_is_400(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        floating = await manager.post(
            PERSONS, json=person_body(world.a, household_id=None, category="floating")
        )

        r = await manager.post(
            f"{PERSONS}/{floating.json()['id']}/move-in",
            json={"household_id": str(world.b.households[0]), "moved_in_on": "2026-11-15"},
        )

        assert_error(r, 400, "invalid_input")
        row = await Person.select(Person.household).where(Person.id == floating.json()["id"])
        assert row[0]["household"] is None


class TestOutOfScope:
    @pytest.mark.parametrize(
        ("role", "site"),
        [
            (Role.PROPERTY_MANAGER, "b"),
            (Role.COMMUNITY_OFFICER, "a"),
            (Role.RESIDENT, "a"),
            (Role.GUARD, "a"),
            (Role.SECURITY_ADMIN, "a"),
        ],
    )
    @pytest.mark.parametrize("action", ["move-out", "move-in"])
    async def test_only_the_communitys_manager_moves_people(
        self, as_role: AsRole, world: World, role: Role, site: str, action: str
    ) -> None:
        api = await as_role(role, site)
        body = (
            {"moved_out_on": "2026-11-01"}
            if action == "move-out"
            else {"household_id": str(world.a.households[0]), "moved_in_on": "2026-11-01"}
        )

        r = await api.post(f"{PERSONS}/{world.a.persons[1]}/{action}", json=body)

        assert_error(r, 404, "not_found")
        row = await Person.select(Person.moved_out_on).where(Person.id == world.a.persons[1])
        assert row[0]["moved_out_on"] is None
