"""The resident registry: scope, encryption at rest, masking, blind-index search, reveal."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from litestar import Litestar

from api.core.auth import ADMINISTRATORS, Role
from api.core.crypto import FieldCipher, id_check_digit
from api.people.tables import Person
from tests.fixtures import AsRole
from tests.helpers import Login, Site, World, assert_error, audit_rows, user

PERSONS = "/api/v1/persons"
# The world's first resident of each community (张三) and the second (李四).
PHONE_1, ID_1 = "13812345678", "510104199001011230"
PHONE_2, ID_2 = "13987654321", "11010519491231002X"


@pytest.fixture
def cipher(app: Litestar) -> FieldCipher:
    """The platform's personal-data cipher."""
    return app.state.cipher  # type: ignore[no-any-return]


def new_id_number() -> str:
    """A valid, almost surely unused resident ID number (MOD 11-2 check digit)."""
    born = date(1950, 1, 1) + timedelta(days=secrets.randbelow(20_000))
    body = f"510104{born:%Y%m%d}{secrets.randbelow(1000):03d}"
    return body + id_check_digit(body)


def new_phone() -> str:
    """A valid mainland mobile number."""
    return f"139{secrets.randbelow(10**8):08d}"


def person_body(site: Site, **overrides: Any) -> dict[str, Any]:
    """A registration in the site's first household."""
    body = {
        "community_id": str(site.community),
        "household_id": str(site.households[0]),
        "category": "permanent",
        "relation": "member",
        "name": "王小明",
        "id_number": new_id_number(),
        "phone": new_phone(),
    }
    return {**body, **overrides}


def ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["items"]]


# -- registration -------------------------------------------------------------------------------


class TestRegister:
    @pytest.mark.req("REG-01")
    @pytest.mark.parametrize(
        ("category", "relation"),
        [("permanent", "owner"), ("floating", "member"), ("tenant", "tenant")],
    )
    async def test_every_resident_category_is_registered(
        self, as_role: AsRole, world: World, category: str, relation: str
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(
            PERSONS, json=person_body(world.a, category=category, relation=relation)
        )

        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["category"], body["relation"]) == (category, relation)
        assert body["household_label"] == "1栋1单元0101"
        rows = await audit_rows("person.created", body["id"])
        assert rows[0]["community_id"] == world.a.community
        assert rows[0]["details"] == {"category": category, "relation": relation}

    async def test_floating_population_may_have_no_household(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(
            PERSONS, json=person_body(world.a, household_id=None, category="floating")
        )

        assert r.status_code == 201, r.text
        assert (r.json()["household_id"], r.json()["household_label"]) == (None, None)

    @pytest.mark.req("DATA-13")
    async def test_the_response_masks_phone_and_id_number(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        number = new_id_number()

        r = await manager.post(
            PERSONS, json=person_body(world.a, phone="+86 139-0000-1234", id_number=number)
        )

        assert r.status_code == 201, r.text
        assert r.json()["phone"] == "139****1234"
        assert r.json()["id_number"] == number[:4] + "*" * 10 + number[-4:]
        assert r.json()["name"] == "王小明"

    @pytest.mark.req("DATA-13")
    async def test_the_columns_hold_ciphertext_and_blind_indexes(
        self, as_role: AsRole, world: World, cipher: FieldCipher
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        phone, number = new_phone(), new_id_number()

        r = await manager.post(PERSONS, json=person_body(world.a, phone=phone, id_number=number))

        row = await Person.select().where(Person.id == r.json()["id"]).first()
        assert row is not None
        for column, value in (("phone", phone), ("id_number", number)):
            assert value not in row[column]
            assert row[column].startswith(f"{cipher.alg}:")
            assert cipher.decrypt(row[column], context=f"persons.{column}") == value
        assert row["phone_index"] == cipher.blind_index(phone, kind="phone")
        assert row["id_number_index"] == cipher.blind_index(number, kind="id_number")
        audit = await audit_rows("person.created", r.json()["id"])
        assert phone not in str(audit)
        assert number not in str(audit)

    @pytest.mark.parametrize("phone", ["12345678901", "1381234567", "138123456789", "电话"])
    async def test_an_invalid_phone_is_400(self, as_role: AsRole, world: World, phone: str) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(PERSONS, json=person_body(world.a, phone=phone))

        assert_error(r, 400, "invalid_phone")
        assert r.json()["extra"]["field"] == "phone"

    @pytest.mark.parametrize(
        "number",
        [
            "510104199001011231",  # wrong check digit
            "510104199002301234",  # 30 February
            "51010419900101123",  # 17 characters
            "510104" + (date.today() + timedelta(days=400)).strftime("%Y%m%d") + "1234",
        ],
    )
    async def test_an_invalid_id_number_is_400(
        self, as_role: AsRole, world: World, number: str
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(PERSONS, json=person_body(world.a, id_number=number))

        assert_error(r, 400, "invalid_id_number")

    @pytest.mark.parametrize(
        "overrides",
        [
            {"category": "resident"},
            {"relation": "friend"},
            {"name": ""},
            {"photo": "x"},
            {"community_id": "A"},
        ],
    )
    async def test_a_body_that_does_not_decode_is_422(
        self, as_role: AsRole, world: World, overrides: dict[str, Any]
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(PERSONS, json=person_body(world.a, **overrides))

        assert_error(r, 422, "invalid_body")

    async def test_an_owner_cannot_be_a_tenant(self, as_role: AsRole, world: World) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(
            PERSONS, json=person_body(world.a, category="tenant", relation="owner")
        )

        assert_error(r, 400, "invalid_relation")

    @pytest.mark.parametrize("number", [ID_2, ID_2.lower(), "110105 19491231 002x"])
    async def test_an_id_number_registered_in_the_community_conflicts(
        self, as_role: AsRole, world: World, number: str
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(PERSONS, json=person_body(world.a, id_number=number))

        assert_error(r, 409, "duplicate_id_number")
        assert r.json()["extra"]["person_id"] == str(world.a.persons[1])

    async def test_the_same_person_may_be_registered_in_another_community(
        self, as_role: AsRole, world: World
    ) -> None:
        manager_a = await as_role(Role.PROPERTY_MANAGER)
        manager_b = await as_role(Role.PROPERTY_MANAGER, "b")
        number = new_id_number()

        first = await manager_a.post(PERSONS, json=person_body(world.a, id_number=number))
        second = await manager_b.post(PERSONS, json=person_body(world.b, id_number=number))

        assert (first.status_code, second.status_code) == (201, 201)

    async def test_a_household_of_another_community_is_400(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(
            PERSONS, json=person_body(world.a, household_id=str(world.b.households[0]))
        )

        assert_error(r, 400, "invalid_input")
        assert r.json()["extra"]["field"] == "household_id"

    @pytest.mark.req("IAM-02")
    @pytest.mark.req("IAM-16", partial=True)
    @pytest.mark.parametrize(
        ("role", "site"),
        [
            (Role.PROPERTY_MANAGER, "b"),
            (Role.POLICE, "a"),
            (Role.GUARD, "a"),
            (Role.COMMUNITY_OFFICER, "a"),
            (Role.RESIDENT, "a"),
            (Role.SYSTEM_ADMIN, "a"),
            (Role.SECURITY_ADMIN, "a"),
            (Role.AUDIT_ADMIN, "a"),
        ],
    )
    async def test_only_the_community_property_manager_registers(
        self, world: World, login: Login, role: Role, site: str
    ) -> None:
        api = await login(user(world, role, site))

        r = await api.post(PERSONS, json=person_body(world.a))

        assert_error(r, 404, "not_found")
        assert await Person.count().where(Person.community == world.a.community) == 2


# -- finding ------------------------------------------------------------------------------------


class TestListPersons:
    @pytest.mark.req("IAM-02")
    async def test_a_property_manager_sees_only_their_community(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.get(PERSONS, params={"page_size": 200})

        assert set(ids(r)) == {str(p) for p in world.a.persons}
        assert {p["phone"] for p in r.json()["items"]} == {"138****5678", "139****4321"}

    @pytest.mark.req("IAM-02")
    async def test_police_see_their_jurisdiction_but_not_community_b(
        self, as_role: AsRole, world: World
    ) -> None:
        police = await as_role(Role.POLICE)

        everything = await police.get(PERSONS, params={"page_size": 200})
        in_b = await police.get(PERSONS, params={"community_id": str(world.b.community)})

        assert {str(p) for p in world.a.persons} <= set(ids(everything))
        assert not {str(p) for p in world.b.persons} & set(ids(everything))
        assert in_b.json()["total"] == 0
        assert_error(await police.get(f"{PERSONS}/{world.b.persons[0]}"), 404, "not_found")

    @pytest.mark.req("IAM-02")
    async def test_a_resident_sees_only_their_household(
        self, as_role: AsRole, world: World
    ) -> None:
        resident = await as_role(Role.RESIDENT)

        r = await resident.get(PERSONS)

        assert ids(r) == [str(world.a.persons[0])]
        assert r.json()["items"][0]["id_number"] == "5101**********1230"

    @pytest.mark.req("IAM-16", partial=True)
    @pytest.mark.parametrize("role", sorted(ADMINISTRATORS))
    async def test_administrators_cannot_list_persons(self, as_role: AsRole, role: Role) -> None:
        api = await as_role(role)

        assert_error(await api.get(PERSONS), 404, "not_found")

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize("role", [Role.GUARD, Role.MAINTENANCE])
    async def test_staff_without_the_registry_get_404(self, as_role: AsRole, role: Role) -> None:
        api = await as_role(role)

        assert_error(await api.get(PERSONS), 404, "not_found")

    @pytest.mark.parametrize(
        "phone", ["+86 138 1234 5678", "13812345678", "138-1234-5678", "0086 13812345678"]
    )
    async def test_phone_search_finds_any_spelling_through_the_blind_index(
        self, as_role: AsRole, world: World, phone: str
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.get(PERSONS, params={"phone": phone})

        # Community B registers the same phone: scope still applies to a search.
        assert ids(r) == [str(world.a.persons[0])]

    async def test_id_number_search_ignores_case_and_spaces(
        self, as_role: AsRole, world: World
    ) -> None:
        police = await as_role(Role.POLICE)

        r = await police.get(PERSONS, params={"id_number": "110105 19491231002x"})

        assert ids(r) == [str(world.a.persons[1])]

    async def test_filters_by_household_category_and_name(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        tenant = await manager.post(
            PERSONS, json=person_body(world.a, category="tenant", relation="tenant", name="赵租户")
        )

        by_household = await manager.get(
            PERSONS, params={"household_id": str(world.a.households[1])}
        )
        by_category = await manager.get(PERSONS, params={"category": "tenant"})
        by_name = await manager.get(PERSONS, params={"q": "租户"})

        assert ids(by_household) == [str(world.a.persons[1])]
        assert ids(by_category) == [tenant.json()["id"]]
        assert ids(by_name) == [tenant.json()["id"]]

    async def test_pages_carry_the_total(self, as_role: AsRole, world: World) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        tag = secrets.token_hex(3)
        for i in range(5):
            body = person_body(world.a, name=f"页{tag}{i}")
            assert (await manager.post(PERSONS, json=body)).status_code == 201

        pages = [
            await manager.get(PERSONS, params={"q": tag, "page_size": 2, "page": n})
            for n in (1, 2, 3)
        ]

        assert [p.json()["total"] for p in pages] == [5, 5, 5]
        assert [len(p.json()["items"]) for p in pages] == [2, 2, 1]
        assert len({i for p in pages for i in ids(p)}) == 5

    @pytest.mark.parametrize(
        "params", [{"category": "resident"}, {"community_id": "A"}, {"page_size": 0}]
    )
    async def test_bad_filters_are_400(self, as_role: AsRole, params: dict[str, Any]) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.get(PERSONS, params=params)

        assert r.status_code == 400, r.text
        assert r.json()["code"] == "invalid_parameters"


class TestGetPerson:
    @pytest.mark.req("DATA-13")
    async def test_the_detail_is_masked(self, as_role: AsRole, world: World) -> None:
        officer = await as_role(Role.COMMUNITY_OFFICER)

        r = await officer.get(f"{PERSONS}/{world.a.persons[1]}")

        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["name"], body["phone"], body["id_number"]) == (
            "李四",
            "139****4321",
            "1101**********002X",
        )
        assert body["household_label"] == "1栋1单元0102"

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site", "target", "index"),
        [
            (Role.RESIDENT, "b", "a", 0),
            (Role.RESIDENT, "a", "a", 1),  # the neighbour
            (Role.GUARD, "a", "a", 0),
            (Role.PROPERTY_MANAGER, "a", "b", 0),
            (Role.POLICE, "a", "b", 0),
            (Role.SYSTEM_ADMIN, "a", "a", 0),
        ],
    )
    async def test_outside_scope_is_404(
        self, world: World, login: Login, role: Role, site: str, target: str, index: int
    ) -> None:
        api = await login(user(world, role, site))
        person = getattr(world, target).persons[index]

        assert_error(await api.get(f"{PERSONS}/{person}"), 404, "not_found")


# -- changes and move-out -----------------------------------------------------------------------


class TestUpdatePerson:
    async def test_a_new_phone_is_found_and_the_old_one_is_not(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        phone = new_phone()

        r = await manager.patch(f"{PERSONS}/{world.a.persons[0]}", json={"phone": phone})

        assert r.status_code == 200, r.text
        assert r.json()["phone"] == phone[:3] + "****" + phone[-4:]
        assert ids(await manager.get(PERSONS, params={"phone": phone})) == [str(world.a.persons[0])]
        assert ids(await manager.get(PERSONS, params={"phone": PHONE_1})) == []
        rows = await audit_rows("person.updated", world.a.persons[0])
        assert rows[0]["details"] == {"fields": ["phone"]}
        assert phone not in str(rows)

    @pytest.mark.req("REG-06", partial=True)
    async def test_moving_out_keeps_the_record(self, as_role: AsRole, world: World) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        path = f"{PERSONS}/{world.a.persons[1]}"

        r = await manager.patch(path, json={"moved_out_on": "2026-10-31"})

        assert r.status_code == 200, r.text
        assert r.json()["moved_out_on"] == "2026-10-31"
        assert (await manager.get(path)).json()["moved_out_on"] == "2026-10-31"
        rows = await audit_rows("person.moved_out", world.a.persons[1])
        assert rows[0]["details"] == {
            "fields": ["moved_out_on"],
            "ended": {"credentials": 0, "vehicles": 0, "household_roles": 0},
            "last_resident": True,
        }
        assert (await manager.delete(path)).status_code == 405

    @pytest.mark.req("REG-06", partial=True)
    async def test_the_household_category_and_id_number_can_change(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        number = new_id_number()

        r = await manager.patch(
            f"{PERSONS}/{world.a.persons[1]}",
            json={
                "household_id": str(world.a.households[0]),
                "category": "floating",
                "id_number": number,
            },
        )

        assert r.status_code == 200, r.text
        assert (r.json()["household_label"], r.json()["category"]) == ("1栋1单元0101", "floating")
        found = await manager.get(PERSONS, params={"id_number": number})
        assert ids(found) == [str(world.a.persons[1])]

    async def test_moving_out_before_moving_in_is_400(self, as_role: AsRole, world: World) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        path = f"{PERSONS}/{world.a.persons[0]}"
        assert (await manager.patch(path, json={"moved_in_on": "2020-05-01"})).status_code == 200

        assert_error(
            await manager.patch(path, json={"moved_out_on": "2020-04-30"}), 400, "invalid_dates"
        )

    async def test_an_owner_cannot_become_a_tenant(self, as_role: AsRole, world: World) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.patch(f"{PERSONS}/{world.a.persons[0]}", json={"category": "tenant"})

        assert_error(r, 400, "invalid_relation")

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"phone": "110"}, 400, "invalid_phone"),
            ({"id_number": "510104199001011231"}, 400, "invalid_id_number"),
            ({"id_number": ID_2}, 409, "duplicate_id_number"),
            ({"community_id": str(uuid.uuid4())}, 422, "invalid_body"),
            ({"moved_out_on": "yesterday"}, 422, "invalid_body"),
        ],
    )
    async def test_bad_input_changes_nothing(
        self, as_role: AsRole, world: World, body: dict[str, Any], status: int, code: str
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        before = await Person.select().where(Person.id == world.a.persons[0]).first()

        r = await manager.patch(f"{PERSONS}/{world.a.persons[0]}", json=body)

        assert_error(r, status, code)
        assert await Person.select().where(Person.id == world.a.persons[0]).first() == before

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize(
        ("role", "site"),
        [
            (Role.PROPERTY_MANAGER, "b"),
            (Role.POLICE, "a"),
            (Role.RESIDENT, "a"),
            (Role.AUDIT_ADMIN, "a"),
            (Role.SYSTEM_ADMIN, "a"),
        ],
    )
    async def test_others_get_404(self, world: World, login: Login, role: Role, site: str) -> None:
        api = await login(user(world, role, site))

        r = await api.patch(f"{PERSONS}/{world.a.persons[0]}", json={"name": "改名"})

        assert_error(r, 404, "not_found")


# -- reveal -------------------------------------------------------------------------------------


REVEAL = {"fields": ["phone", "id_number"], "purpose": "核实住户身份：快递纠纷"}


class TestReveal:
    @pytest.mark.req("IAM-06", partial=True)
    async def test_a_property_manager_reveals_and_the_purpose_is_recorded(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        person = world.a.persons[0]

        r = await manager.post(f"{PERSONS}/{person}/reveal", json=REVEAL)

        assert r.status_code == 200, r.text
        assert r.json() == {"id": str(person), "phone": PHONE_1, "id_number": ID_1}
        rows = await audit_rows("person.revealed", person)
        assert len(rows) == 1
        row = rows[0]
        assert row["purpose"] == REVEAL["purpose"]
        assert row["details"] == {"fields": ["id_number", "phone"]}
        assert (row["actor_id"], row["actor_role"], row["outcome"]) == (
            world.a.users[Role.PROPERTY_MANAGER].id,
            "property_manager",
            "ok",
        )
        assert row["community_id"] == world.a.community
        assert PHONE_1 not in str(row)
        assert ID_1 not in str(row)

    @pytest.mark.req("IAM-06", partial=True)
    async def test_only_the_fields_asked_for_are_shown(self, as_role: AsRole, world: World) -> None:
        police = await as_role(Role.POLICE)

        r = await police.post(
            f"{PERSONS}/{world.a.persons[1]}/reveal",
            json={"fields": ["id_number"], "purpose": "治安案件协查"},
        )

        assert r.status_code == 200, r.text
        assert r.json() == {"id": str(world.a.persons[1]), "phone": None, "id_number": ID_2}

    @pytest.mark.req("IAM-02")
    async def test_police_cannot_reveal_outside_their_jurisdiction(
        self, as_role: AsRole, world: World
    ) -> None:
        police = await as_role(Role.POLICE)
        person = world.b.persons[0]

        r = await police.post(f"{PERSONS}/{person}/reveal", json=REVEAL)

        assert_error(r, 404, "not_found")
        assert not await audit_rows("person.revealed", person)
        denied = await audit_rows("person.reveal.denied", person)
        assert [d["outcome"] for d in denied] == ["denied"]

    @pytest.mark.req("IAM-16", partial=True)
    @pytest.mark.req("IAM-06", partial=True)
    @pytest.mark.parametrize("role", sorted(ADMINISTRATORS))
    async def test_administrators_cannot_reveal(
        self, as_role: AsRole, world: World, role: Role
    ) -> None:
        api = await as_role(role)
        person = world.a.persons[0]

        r = await api.post(f"{PERSONS}/{person}/reveal", json=REVEAL)

        assert_error(r, 404, "not_found")
        assert PHONE_1 not in r.text
        assert not await audit_rows("person.revealed", person)

    @pytest.mark.req("IAM-06", partial=True)
    @pytest.mark.parametrize(
        ("role", "site"),
        [
            (Role.RESIDENT, "a"),
            (Role.COMMUNITY_OFFICER, "a"),
            (Role.GUARD, "a"),
            (Role.PROPERTY_MANAGER, "b"),
        ],
    )
    async def test_roles_without_the_reveal_right_get_404(
        self, world: World, login: Login, role: Role, site: str
    ) -> None:
        api = await login(user(world, role, site))

        r = await api.post(f"{PERSONS}/{world.a.persons[0]}/reveal", json=REVEAL)

        assert_error(r, 404, "not_found")

    @pytest.mark.req("IAM-06", partial=True)
    @pytest.mark.parametrize(
        "body",
        [
            {"fields": ["phone"]},
            {"fields": ["phone"], "purpose": "查"},
            {"fields": ["phone"], "purpose": "  查   "},
            {"fields": ["phone"], "purpose": "x" * 201},
            {"fields": [], "purpose": "核实住户身份"},
            {"fields": ["name"], "purpose": "核实住户身份"},
            {"fields": ["phone"], "purpose": "核实住户身份", "approved": True},
        ],
    )
    async def test_a_reveal_needs_fields_and_a_stated_purpose(
        self, as_role: AsRole, world: World, body: dict[str, Any]
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await manager.post(f"{PERSONS}/{world.a.persons[0]}/reveal", json=body)

        assert_error(r, 422, "invalid_body")
        assert not await audit_rows("person.revealed", world.a.persons[0])

    async def test_an_absent_person_is_404(self, as_role: AsRole) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        assert_error(
            await manager.post(f"{PERSONS}/{uuid.uuid4()}/reveal", json=REVEAL), 404, "not_found"
        )
