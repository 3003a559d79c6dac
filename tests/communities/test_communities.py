"""Jurisdictions, communities, buildings, units and households: scope, coding, input, paging."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import pytest

from api.communities.tables import Household
from api.core.auth import Role
from tests.fixtures import AsRole
from tests.helpers import ApiClient, Login, Site, World, assert_error, audit_rows, user

JURISDICTIONS = "/api/v1/jurisdictions"
COMMUNITIES = "/api/v1/communities"
HOUSEHOLDS = "/api/v1/households"


def _n3() -> str:
    return f"{secrets.randbelow(999) + 1:03d}"


def community_code() -> str:
    """A plausible, almost surely unused code in Chengdu's Jinjiang district."""
    return "510104" + _n3() + _n3() + _n3()


async def place_of(site: Site) -> dict[str, Any]:
    """The building and unit of the site's first household."""
    row = (
        await Household.select(Household.building, Household.unit)
        .where(Household.id == site.households[0])
        .first()
    )
    assert row is not None
    return row


# -- jurisdictions ------------------------------------------------------------------------------


class TestCreateJurisdiction:
    async def test_system_admin_creates_one(self, as_role: AsRole) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)
        code = _n3() * 4

        r = await admin.post(JURISDICTIONS, json={"name": "青羊分局测试派出所", "code": code})

        assert r.status_code == 201, r.text
        assert r.json()["code"] == code
        assert await audit_rows("jurisdiction.created", r.json()["id"])

    async def test_a_taken_code_conflicts(self, as_role: AsRole) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)
        body = {"name": "甲", "code": _n3() * 4}
        assert (await admin.post(JURISDICTIONS, json=body)).status_code == 201

        assert_error(await admin.post(JURISDICTIONS, json=body), 409, "duplicate_code")

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "甲", "code": "12345"},
            {"name": "甲", "code": "12345678901a"},
            {"name": "", "code": "123456789012"},
            {"name": "甲", "code": "123456789012", "area": "x"},
        ],
    )
    async def test_bad_input_is_422(self, as_role: AsRole, body: dict[str, str]) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)

        assert_error(await admin.post(JURISDICTIONS, json=body), 422, "invalid_body")

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        "role", [Role.POLICE, Role.PROPERTY_MANAGER, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN]
    )
    async def test_only_the_system_admin_creates(
        self, world: World, login: Login, role: Role
    ) -> None:
        api = await login(user(world, role))

        r = await api.post(JURISDICTIONS, json={"name": "甲", "code": _n3() * 4})

        assert_error(r, 404, "not_found")


class TestListJurisdictions:
    async def test_police_see_only_their_own(self, as_role: AsRole, world: World) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)
        other = await admin.post(JURISDICTIONS, json={"name": "乙", "code": _n3() * 4})
        police = await as_role(Role.POLICE)

        r = await police.get(JURISDICTIONS)

        assert r.status_code == 200, r.text
        assert [j["id"] for j in r.json()["items"]] == [str(world.jurisdiction)]
        assert r.json()["total"] == 1
        everything = await admin.get(JURISDICTIONS, params={"page_size": 200})
        ids = {j["id"] for j in everything.json()["items"]}
        assert {str(world.jurisdiction), other.json()["id"]} <= ids

    async def test_community_staff_see_none(self, as_role: AsRole) -> None:
        guard = await as_role(Role.GUARD)

        r = await guard.get(JURISDICTIONS)

        assert r.status_code == 200, r.text
        assert r.json() == {"total": 0, "page": 1, "page_size": 50, "items": []}

    @pytest.mark.req("IAM-16", partial=True)
    @pytest.mark.parametrize("role", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
    async def test_security_and_audit_admins_get_404(self, as_role: AsRole, role: Role) -> None:
        api = await as_role(role)

        assert_error(await api.get(JURISDICTIONS), 404, "not_found")


# -- communities --------------------------------------------------------------------------------


class TestCreateCommunity:
    @pytest.mark.req("REG-02", partial=True)
    async def test_system_admin_creates_one_with_a_gbt31000_code(
        self, as_role: AsRole, world: World
    ) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)
        code = community_code()

        r = await admin.post(
            COMMUNITIES,
            json={
                "code": code,
                "name": "锦城花园",
                "address": "成都市锦江区锦城路8号",
                "jurisdiction_id": str(world.jurisdiction),
            },
        )

        assert r.status_code == 201, r.text
        body = r.json()
        assert body["code"] == code
        assert body["jurisdiction_id"] == str(world.jurisdiction)
        rows = await audit_rows("community.created", body["id"])
        assert rows[0]["community_id"] == uuid.UUID(body["id"])
        assert rows[0]["actor_role"] == "system_admin"

    @pytest.mark.parametrize(
        "code", ["51010400100100", "5101040010010011", "51010400100100A", " 510104001001001"]
    )
    async def test_a_code_that_is_not_15_digits_is_422(self, as_role: AsRole, code: str) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)

        r = await admin.post(COMMUNITIES, json={"code": code, "name": "甲", "address": "乙"})

        assert_error(r, 422, "invalid_body")

    @pytest.mark.parametrize(
        "code",
        [
            "010104001001001",  # starts with 0
            "991234001001001",  # no province 99
            "510100001001001",  # a prefecture, not a county
            "510104000001001",  # no township
            "510104001000001",  # no residents' committee
            "510104001001000",  # sequence 000
        ],
    )
    async def test_an_implausible_division_code_is_400(self, as_role: AsRole, code: str) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)

        r = await admin.post(COMMUNITIES, json={"code": code, "name": "甲", "address": "乙"})

        assert_error(r, 400, "invalid_community_code")

    async def test_unknown_fields_are_422(self, as_role: AsRole) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)
        body = {"code": community_code(), "name": "甲", "address": "乙", "owner": "x"}

        assert_error(await admin.post(COMMUNITIES, json=body), 422, "invalid_body")

    async def test_a_taken_code_conflicts(self, as_role: AsRole, world: World) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)
        body = {"code": world.b.code, "name": "甲", "address": "乙"}

        assert_error(await admin.post(COMMUNITIES, json=body), 409, "duplicate_code")

    async def test_an_unknown_jurisdiction_is_400(self, as_role: AsRole) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)
        body = {
            "code": community_code(),
            "name": "甲",
            "address": "乙",
            "jurisdiction_id": str(uuid.uuid4()),
        }

        assert_error(await admin.post(COMMUNITIES, json=body), 400, "invalid_input")

    @pytest.mark.req("IAM-02")
    @pytest.mark.req("IAM-16", partial=True)
    @pytest.mark.parametrize(
        "role",
        [Role.PROPERTY_MANAGER, Role.GUARD, Role.POLICE, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN],
    )
    async def test_only_the_system_admin_creates(
        self, world: World, login: Login, role: Role
    ) -> None:
        api = await login(user(world, role))
        body = {"code": community_code(), "name": "甲", "address": "乙"}

        assert_error(await api.post(COMMUNITIES, json=body), 404, "not_found")


class TestListCommunities:
    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize("role", [Role.GUARD, Role.RESIDENT, Role.PROPERTY_MANAGER])
    async def test_community_members_see_only_their_community(
        self, as_role: AsRole, world: World, role: Role
    ) -> None:
        api = await as_role(role)

        r = await api.get(COMMUNITIES)

        assert r.status_code == 200, r.text
        assert [c["id"] for c in r.json()["items"]] == [str(world.a.community)]
        assert r.json()["total"] == 1

    async def test_police_see_the_communities_of_their_jurisdiction(
        self, as_role: AsRole, world: World
    ) -> None:
        police = await as_role(Role.POLICE)

        r = await police.get(COMMUNITIES)

        assert [c["id"] for c in r.json()["items"]] == [str(world.a.community)]

    async def test_q_matches_a_name_fragment_or_a_code_prefix(
        self, as_role: AsRole, world: World
    ) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)

        by_code = await admin.get(COMMUNITIES, params={"q": world.b.code[:12]})
        by_name = await admin.get(COMMUNITIES, params={"q": f"小区{world.a.code[-4:]}"})

        assert str(world.b.community) in [c["id"] for c in by_code.json()["items"]]
        assert str(world.a.community) in [c["id"] for c in by_name.json()["items"]]
        assert str(world.b.community) not in [c["id"] for c in by_name.json()["items"]]

    async def test_pages_carry_the_total(self, as_role: AsRole) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)
        tag = secrets.token_hex(4)
        for i in range(3):
            body = {"code": community_code(), "name": f"分页{tag}-{i}", "address": "乙"}
            assert (await admin.post(COMMUNITIES, json=body)).status_code == 201

        first = await admin.get(COMMUNITIES, params={"q": tag, "page_size": 2})
        second = await admin.get(COMMUNITIES, params={"q": tag, "page_size": 2, "page": 2})

        assert (first.json()["total"], len(first.json()["items"])) == (3, 2)
        assert (second.json()["total"], len(second.json()["items"])) == (3, 1)
        names = {c["name"] for c in first.json()["items"] + second.json()["items"]}
        assert names == {f"分页{tag}-{i}" for i in range(3)}

    @pytest.mark.parametrize("params", [{"page": 0}, {"page_size": 201}, {"page": "x"}])
    async def test_bad_paging_is_rejected(self, as_role: AsRole, params: dict[str, Any]) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)

        r = await admin.get(COMMUNITIES, params=params)

        assert r.status_code == 400, r.text
        assert r.json()["code"] == "invalid_parameters"

    @pytest.mark.req("IAM-16", partial=True)
    @pytest.mark.parametrize("role", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
    async def test_security_and_audit_admins_get_404(self, as_role: AsRole, role: Role) -> None:
        api = await as_role(role)

        assert_error(await api.get(COMMUNITIES), 404, "not_found")


class TestGetCommunity:
    async def test_a_member_reads_their_community(self, as_role: AsRole, world: World) -> None:
        guard = await as_role(Role.GUARD)

        r = await guard.get(f"{COMMUNITIES}/{world.a.community}")

        assert r.status_code == 200, r.text
        assert r.json()["code"] == world.a.code

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site", "target"),
        [
            (Role.GUARD, "a", "b"),
            (Role.RESIDENT, "b", "a"),
            (Role.POLICE, "a", "b"),
            (Role.PROPERTY_MANAGER, "b", "a"),
        ],
    )
    async def test_outside_scope_is_404(
        self, world: World, login: Login, role: Role, site: str, target: str
    ) -> None:
        api = await login(user(world, role, site))

        r = await api.get(f"{COMMUNITIES}/{getattr(world, target).community}")

        assert_error(r, 404, "not_found")

    async def test_an_absent_community_is_404(self, as_role: AsRole) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)

        assert_error(await admin.get(f"{COMMUNITIES}/{uuid.uuid4()}"), 404, "not_found")


class TestUpdateCommunity:
    async def test_system_admin_renames_and_it_is_audited(
        self, as_role: AsRole, world: World
    ) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)

        r = await admin.patch(f"{COMMUNITIES}/{world.b.community}", json={"name": "新名字"})

        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["code"]) == ("新名字", world.b.code)
        rows = await audit_rows("community.updated", world.b.community)
        assert rows[0]["details"]["fields"] == ["name"]

    async def test_moving_a_community_into_a_jurisdiction_opens_it_to_its_police(
        self, as_role: AsRole, world: World
    ) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)
        police = await as_role(Role.POLICE)
        path = f"{COMMUNITIES}/{world.b.community}"
        assert (await police.get(path)).status_code == 404

        r = await admin.patch(path, json={"jurisdiction_id": str(world.jurisdiction)})

        assert r.status_code == 200, r.text
        assert (await police.get(path)).status_code == 200

    async def test_the_code_cannot_change(self, as_role: AsRole, world: World) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)

        r = await admin.patch(f"{COMMUNITIES}/{world.a.community}", json={"code": community_code()})

        assert_error(r, 422, "invalid_body")

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize("role", [Role.PROPERTY_MANAGER, Role.AUDIT_ADMIN])
    async def test_others_get_404(self, world: World, login: Login, role: Role) -> None:
        api = await login(user(world, role))

        r = await api.patch(f"{COMMUNITIES}/{world.a.community}", json={"name": "x"})

        assert_error(r, 404, "not_found")


# -- buildings ----------------------------------------------------------------------------------


class TestCreateBuilding:
    @pytest.mark.req("REG-02", partial=True)
    async def test_the_code_is_the_community_code_and_three_digits(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(
            f"{COMMUNITIES}/{world.a.community}/buildings", json={"number": "3", "floors": 18}
        )

        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["code"], body["name"], body["floors"]) == (world.a.code + "003", "3栋", 18)
        assert await audit_rows("building.created", body["id"])

    async def test_the_system_admin_may_create_buildings(
        self, as_role: AsRole, world: World
    ) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)

        r = await admin.post(
            f"{COMMUNITIES}/{world.b.community}/buildings",
            json={"number": "120", "floors": 6, "name": "商业楼"},
        )

        assert r.status_code == 201, r.text
        assert r.json()["code"] == world.b.code + "120"

    @pytest.mark.parametrize(
        "body",
        [
            {"number": "0", "floors": 6},
            {"number": "1000", "floors": 6},
            {"number": "03", "floors": 6},
            {"number": "A", "floors": 6},
            {"number": "4", "floors": 0},
            {"number": "4"},
            {"number": "4", "floors": 6, "height": 20},
        ],
    )
    async def test_bad_input_is_422(
        self, as_role: AsRole, world: World, body: dict[str, Any]
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(f"{COMMUNITIES}/{world.a.community}/buildings", json=body)

        assert_error(r, 422, "invalid_body")

    async def test_a_taken_number_conflicts(self, as_role: AsRole, world: World) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(
            f"{COMMUNITIES}/{world.a.community}/buildings", json={"number": "1", "floors": 6}
        )

        assert_error(r, 409, "duplicate_code")

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site"),
        [
            (Role.PROPERTY_MANAGER, "b"),
            (Role.GUARD, "a"),
            (Role.RESIDENT, "a"),
            (Role.AUDIT_ADMIN, "a"),
            (Role.SECURITY_ADMIN, "a"),
        ],
    )
    async def test_others_get_404(self, world: World, login: Login, role: Role, site: str) -> None:
        api = await login(user(world, role, site))

        r = await api.post(
            f"{COMMUNITIES}/{world.a.community}/buildings", json={"number": "7", "floors": 6}
        )

        assert_error(r, 404, "not_found")


class TestListBuildings:
    async def test_pages_in_number_order(self, as_role: AsRole, world: World) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        path = f"{COMMUNITIES}/{world.a.community}/buildings"
        for number in ("10", "2"):
            assert (
                await manager.post(path, json={"number": number, "floors": 6})
            ).status_code == 201

        first = await manager.get(path, params={"page_size": 2})
        second = await manager.get(path, params={"page_size": 2, "page": 2})

        assert first.json()["total"] == 3
        numbers = [b["number"] for b in first.json()["items"] + second.json()["items"]]
        assert numbers == ["1", "2", "10"]

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site", "target"), [(Role.GUARD, "a", "b"), (Role.RESIDENT, "b", "a")]
    )
    async def test_outside_scope_is_404(
        self, world: World, login: Login, role: Role, site: str, target: str
    ) -> None:
        api = await login(user(world, role, site))
        community = getattr(world, target).community

        assert_error(await api.get(f"{COMMUNITIES}/{community}/buildings"), 404, "not_found")

    async def test_one_building_outside_scope_is_404(self, as_role: AsRole, world: World) -> None:
        guard = await as_role(Role.GUARD)
        own, other = await place_of(world.a), await place_of(world.b)

        assert (await guard.get(f"/api/v1/buildings/{own['building']}")).status_code == 200
        r = await guard.get(f"/api/v1/buildings/{other['building']}")
        assert_error(r, 404, "not_found")


# -- units --------------------------------------------------------------------------------------


class TestUnits:
    @pytest.mark.req("REG-02", partial=True)
    async def test_the_code_is_the_building_code_and_two_digits(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        building = (await place_of(world.a))["building"]

        r = await manager.post(f"/api/v1/buildings/{building}/units", json={"number": "2"})

        assert r.status_code == 201, r.text
        assert r.json()["code"] == world.a.code + "001" + "02"
        assert r.json()["community_id"] == str(world.a.community)
        assert await audit_rows("unit.created", r.json()["id"])

    @pytest.mark.parametrize(
        "body", [{"number": "0"}, {"number": "100"}, {"number": "x"}, {"number": "3", "x": 1}]
    )
    async def test_bad_input_is_422(
        self, as_role: AsRole, world: World, body: dict[str, Any]
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        building = (await place_of(world.a))["building"]

        r = await manager.post(f"/api/v1/buildings/{building}/units", json=body)

        assert_error(r, 422, "invalid_body")

    async def test_a_taken_number_conflicts(self, as_role: AsRole, world: World) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        building = (await place_of(world.a))["building"]

        r = await manager.post(f"/api/v1/buildings/{building}/units", json={"number": "1"})

        assert_error(r, 409, "duplicate_code")

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site"), [(Role.PROPERTY_MANAGER, "b"), (Role.GUARD, "a"), (Role.AUDIT_ADMIN, "a")]
    )
    async def test_others_cannot_create(
        self, world: World, login: Login, role: Role, site: str
    ) -> None:
        api = await login(user(world, role, site))
        building = (await place_of(world.a))["building"]

        r = await api.post(f"/api/v1/buildings/{building}/units", json={"number": "5"})

        assert_error(r, 404, "not_found")

    async def test_list_pages_and_stays_in_scope(self, as_role: AsRole, world: World) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        guard_b = await as_role(Role.GUARD, "b")
        building = (await place_of(world.a))["building"]
        path = f"/api/v1/buildings/{building}/units"
        for number in ("3", "2"):
            assert (await manager.post(path, json={"number": number})).status_code == 201

        page = await manager.get(path, params={"page_size": 2})

        assert page.json()["total"] == 3
        assert [u["number"] for u in page.json()["items"]] == ["1", "2"]
        assert_error(await guard_b.get(path), 404, "not_found")
        unit = (await place_of(world.a))["unit"]
        assert_error(await guard_b.get(f"/api/v1/units/{unit}"), 404, "not_found")


# -- households ---------------------------------------------------------------------------------


async def new_unit(manager: ApiClient, site: Site, *, building: str = "3", floors: int = 18) -> str:
    """A building with one unit ("2"), made through the API; returns the unit id."""
    b = await manager.post(
        f"{COMMUNITIES}/{site.community}/buildings", json={"number": building, "floors": floors}
    )
    assert b.status_code == 201, b.text
    u = await manager.post(f"/api/v1/buildings/{b.json()['id']}/units", json={"number": "2"})
    assert u.status_code == 201, u.text
    return str(u.json()["id"])


class TestCreateHousehold:
    @pytest.mark.req("REG-02", partial=True)
    @pytest.mark.req("REG-01")
    async def test_the_code_and_label_derive_from_the_place(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        unit = await new_unit(manager, world.a)

        r = await manager.post(
            f"/api/v1/units/{unit}/households", json={"room": "0302", "housing": "rented"}
        )

        assert r.status_code == 201, r.text
        body = r.json()
        assert body["code"] == world.a.code + "003" + "02" + "0302"
        assert (body["label"], body["housing"]) == ("3栋2单元0302", "rented")
        rows = await audit_rows("household.created", body["id"])
        assert rows[0]["community_id"] == world.a.community

    @pytest.mark.parametrize("room", ["1901", "0000", "0300"])
    async def test_the_room_must_be_on_a_floor_of_the_building(
        self, as_role: AsRole, world: World, room: str
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        unit = await new_unit(manager, world.a)

        r = await manager.post(f"/api/v1/units/{unit}/households", json={"room": room})

        assert_error(r, 400, "invalid_room")

    @pytest.mark.parametrize(
        "body",
        [
            {"room": "302"},
            {"room": "03a2"},
            {"room": "0302", "housing": "leased"},
            {"room": "0302", "owner": "张三"},
        ],
    )
    async def test_bad_input_is_422(
        self, as_role: AsRole, world: World, body: dict[str, Any]
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        unit = (await place_of(world.a))["unit"]

        r = await manager.post(f"/api/v1/units/{unit}/households", json=body)

        assert_error(r, 422, "invalid_body")

    async def test_a_taken_room_conflicts(self, as_role: AsRole, world: World) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        unit = (await place_of(world.a))["unit"]

        r = await manager.post(f"/api/v1/units/{unit}/households", json={"room": "0101"})

        assert_error(r, 409, "duplicate_code")

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site"),
        [
            (Role.PROPERTY_MANAGER, "b"),
            (Role.GUARD, "a"),
            (Role.RESIDENT, "a"),
            (Role.SYSTEM_ADMIN, "a"),
            (Role.AUDIT_ADMIN, "a"),
        ],
    )
    async def test_only_the_property_manager_creates(
        self, world: World, login: Login, role: Role, site: str
    ) -> None:
        api = await login(user(world, role, site))
        unit = (await place_of(world.a))["unit"]

        r = await api.post(f"/api/v1/units/{unit}/households", json={"room": "0501"})

        assert_error(r, 404, "not_found")


class TestListHouseholds:
    async def test_a_unit_lists_its_households_in_pages(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        unit = await new_unit(manager, world.a, building="5")
        path = f"/api/v1/units/{unit}/households"
        for room in ("0201", "0101", "0102"):
            assert (await manager.post(path, json={"room": room})).status_code == 201

        first = await manager.get(path, params={"page_size": 2})
        second = await manager.get(path, params={"page_size": 2, "page": 2})

        assert (first.json()["total"], second.json()["total"]) == (3, 3)
        rooms = [h["room"] for h in first.json()["items"] + second.json()["items"]]
        assert rooms == ["0101", "0102", "0201"]

    @pytest.mark.req("IAM-02")
    async def test_a_resident_sees_only_their_own_household(
        self, as_role: AsRole, world: World
    ) -> None:
        resident = await as_role(Role.RESIDENT)
        unit = (await place_of(world.a))["unit"]

        in_unit = await resident.get(f"/api/v1/units/{unit}/households")
        anywhere = await resident.get(HOUSEHOLDS)

        assert [h["id"] for h in in_unit.json()["items"]] == [str(world.a.households[0])]
        assert [h["id"] for h in anywhere.json()["items"]] == [str(world.a.households[0])]
        assert anywhere.json()["items"][0]["label"] == "1栋1单元0101"

    async def test_filters_by_community_building_and_room(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        building = (await place_of(world.a))["building"]

        by_building = await manager.get(HOUSEHOLDS, params={"building_id": str(building)})
        by_room = await manager.get(
            HOUSEHOLDS, params={"community_id": str(world.a.community), "q": "0102"}
        )
        other = await manager.get(HOUSEHOLDS, params={"community_id": str(world.b.community)})

        assert {h["id"] for h in by_building.json()["items"]} == {
            str(h) for h in world.a.households
        }
        assert [h["id"] for h in by_room.json()["items"]] == [str(world.a.households[1])]
        assert other.json()["total"] == 0

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site"), [(Role.RESIDENT, "b"), (Role.GUARD, "b"), (Role.MAINTENANCE, "a")]
    )
    async def test_a_unit_outside_scope_is_404(
        self, world: World, login: Login, role: Role, site: str
    ) -> None:
        api = await login(user(world, role, site))
        unit = (await place_of(world.a))["unit"]

        assert_error(await api.get(f"/api/v1/units/{unit}/households"), 404, "not_found")

    @pytest.mark.req("IAM-16", partial=True)
    @pytest.mark.parametrize("role", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
    async def test_security_and_audit_admins_get_404(self, as_role: AsRole, role: Role) -> None:
        api = await as_role(role)

        assert_error(await api.get(HOUSEHOLDS), 404, "not_found")


class TestGetHousehold:
    async def test_staff_read_a_household_of_their_community(
        self, as_role: AsRole, world: World
    ) -> None:
        guard = await as_role(Role.GUARD)

        r = await guard.get(f"{HOUSEHOLDS}/{world.a.households[1]}")

        assert r.status_code == 200, r.text
        assert (r.json()["code"], r.json()["label"]) == (
            world.a.code + "00101" + "0102",
            "1栋1单元0102",
        )

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site", "target", "index"),
        [
            (Role.RESIDENT, "a", "a", 1),  # the neighbour's household
            (Role.RESIDENT, "b", "a", 0),
            (Role.GUARD, "a", "b", 0),
            (Role.MAINTENANCE, "a", "a", 0),
        ],
    )
    async def test_outside_scope_is_404(
        self, world: World, login: Login, role: Role, site: str, target: str, index: int
    ) -> None:
        api = await login(user(world, role, site))
        household = getattr(world, target).households[index]

        assert_error(await api.get(f"{HOUSEHOLDS}/{household}"), 404, "not_found")


class TestUpdateBuilding:
    async def test_a_manager_renames_and_adds_floors_and_it_is_audited(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        building = (await place_of(world.a))["building"]

        r = await manager.patch(
            f"/api/v1/buildings/{building}", json={"name": "一号楼", "floors": 20}
        )

        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["floors"], r.json()["code"]) == (
            "一号楼",
            20,
            world.a.code + "001",
        )
        rows = await audit_rows("building.updated", building)
        assert rows[0]["details"] == {"fields": ["floors", "name"]}

    async def test_floors_cannot_drop_below_a_household(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        unit = await new_unit(manager, world.a, building="8")
        assert (
            await manager.post(f"/api/v1/units/{unit}/households", json={"room": "1201"})
        ).status_code == 201
        building = (await manager.get(f"/api/v1/units/{unit}")).json()["building_id"]

        r = await manager.patch(f"/api/v1/buildings/{building}", json={"floors": 11})

        assert_error(r, 400, "floors_in_use")
        assert (await manager.get(f"/api/v1/buildings/{building}")).json()["floors"] == 18

    @pytest.mark.parametrize(
        "body", [{"floors": 0}, {"name": ""}, {"number": "9"}, {"code": "1"}, {"floors": "x"}]
    )
    async def test_bad_input_is_422(
        self, as_role: AsRole, world: World, body: dict[str, Any]
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        building = (await place_of(world.a))["building"]

        r = await manager.patch(f"/api/v1/buildings/{building}", json=body)

        assert_error(r, 422, "invalid_body")

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site"),
        [
            (Role.PROPERTY_MANAGER, "b"),
            (Role.GUARD, "a"),
            (Role.RESIDENT, "a"),
            (Role.SECURITY_ADMIN, "a"),
        ],
    )
    async def test_others_get_404(self, world: World, login: Login, role: Role, site: str) -> None:
        api = await login(user(world, role, site))
        building = (await place_of(world.a))["building"]

        r = await api.patch(f"/api/v1/buildings/{building}", json={"name": "x"})

        assert_error(r, 404, "not_found")
        assert not await audit_rows("building.updated", building)


class TestUpdateHousehold:
    async def test_a_manager_marks_a_household_rented_and_it_is_audited(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        household = world.a.households[1]

        r = await manager.patch(f"{HOUSEHOLDS}/{household}", json={"housing": "rented"})

        assert r.status_code == 200, r.text
        assert r.json()["housing"] == "rented"
        rows = await audit_rows("household.updated", household)
        assert rows[0]["details"] == {"housing": "rented"}

    @pytest.mark.parametrize(
        "body", [{}, {"housing": "leased"}, {"housing": "owned", "room": "0201"}]
    )
    async def test_bad_input_is_422(
        self, as_role: AsRole, world: World, body: dict[str, Any]
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.patch(f"{HOUSEHOLDS}/{world.a.households[1]}", json=body)

        assert_error(r, 422, "invalid_body")

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site"),
        [
            (Role.PROPERTY_MANAGER, "b"),
            (Role.RESIDENT, "a"),
            (Role.GUARD, "a"),
            (Role.SYSTEM_ADMIN, "a"),
        ],
    )
    async def test_others_get_404(self, world: World, login: Login, role: Role, site: str) -> None:
        api = await login(user(world, role, site))
        household = world.a.households[0]

        r = await api.patch(f"{HOUSEHOLDS}/{household}", json={"housing": "vacant"})

        assert_error(r, 404, "not_found")
        assert not await audit_rows("household.updated", household)
