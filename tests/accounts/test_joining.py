"""Self-registration (业主认证): a person proves a phone through the community's join link and
files a request; the community's manager approves it (account, person, resident role) or rejects
it. Strangers learn nothing about rooms or residents; codes and requests are budgeted."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar

from api.accounts.joining.service import (
    CODE_TTL,
    CODES_PER_ADDRESS,
    CODES_PER_PHONE,
    REQUESTS_PER_ADDRESS,
)
from api.accounts.tables import Account, RoleAssignment
from api.communities.tables import Unit
from api.core.auth import Role
from api.people.tables import Person
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows

PUBLIC = "/api/v1/public/join"
REQUESTS = "/api/v1/join-requests"
PASSWORD = "Join-Us-2026!x"

Stranger = Callable[[], Awaitable[ApiClient]]


@pytest.fixture
async def stranger(app: Litestar) -> AsyncIterator[Stranger]:
    """A factory of logged-out browsers, each from its own client address (the budgets count
    per address), with this test's budgets and codes cleared from Redis."""
    redis = app.state.redis
    async for key in redis.scan_iter("anju:join:*"):
        await redis.delete(key)
    opened: list[ApiClient] = []

    async def make() -> ApiClient:
        address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
        api = ApiClient(
            transport=httpx.ASGITransport(app=app, client=(address, 40000)),
            base_url="http://testserver",
        )
        await api.__aenter__()
        opened.append(api)
        return api

    yield make
    for api in opened:
        await api.__aexit__(None, None, None)


def new_phone() -> str:
    return "139" + f"{secrets.randbelow(10**8):08d}"


async def link_of(manager: ApiClient, community: uuid.UUID) -> str:
    r = await manager.get(f"{REQUESTS}/link", params={"community_id": str(community)})
    assert r.status_code == 200, r.text
    assert r.json()["path"] == "/join/" + r.json()["code"]
    return str(r.json()["code"])


def sent_code(app: Litestar, phone: str) -> str:
    text = app.state.sms.last(phone)
    assert text, "no text was sent"
    found = re.search(r"\b(\d{6})\b", text)
    assert found
    return found.group(1)


async def unit_of(world: World, site: str = "a") -> uuid.UUID:
    community = getattr(world, site).community
    row = await Unit.select(Unit.id).where(Unit.community == community).first()
    assert row
    return uuid.UUID(str(row["id"]))


async def file(
    app: Litestar,
    api: ApiClient,
    code: str,
    unit: uuid.UUID,
    *,
    room: str = "0102",
    phone: str | None = None,
    username: str | None = None,
    password: str = PASSWORD,
) -> tuple[httpx.Response, dict[str, Any]]:
    """Ask for a code, read it from the console sender, file the request."""
    phone = phone or new_phone()
    r = await api.post(f"{PUBLIC}/{code}/code", json={"phone": phone})
    assert r.status_code == 202, r.text
    body = {
        "unit_id": str(unit),
        "room": room,
        "name": "王小明",
        "phone": phone,
        "code": sent_code(app, phone),
        "username": username or f"wang-{uuid.uuid4().hex[:8]}",
        "password": password,
    }
    return await api.post(f"{PUBLIC}/{code}/requests", json=body), body


async def pending(manager: ApiClient, username: str) -> dict[str, Any]:
    r = await manager.get(REQUESTS)
    assert r.status_code == 200, r.text
    found = [i for i in r.json()["items"] if i["username"] == username]
    assert len(found) == 1, r.text
    return found[0]


@pytest.mark.req("REG-11", partial=True)
@pytest.mark.req("REG-06", partial=True)
async def test_a_person_joining_through_the_link_and_approved_logs_in_as_a_resident_of_the_room(
    app: Litestar, world: World, as_role: AsRole, stranger: Stranger, browser: Any
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    code = await link_of(manager, world.a.community)
    assert await link_of(manager, world.a.community) == code  # one link per community
    person = await stranger()
    r, body = await file(app, person, code, await unit_of(world))
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "pending"}

    request = await pending(manager, body["username"])
    assert request["room_found"] is True
    assert request["household_id"] == str(world.a.households[1])
    assert request["phone"] == body["phone"][:3] + "****" + body["phone"][-4:]
    approved = await manager.post(f"{REQUESTS}/{request['id']}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    account_id = approved.json()["account_id"]

    roles = await RoleAssignment.select().where(RoleAssignment.account == account_id)
    assert [(r["role"], r["household"]) for r in roles] == [("resident", world.a.households[1])]
    account = await Account.objects().where(Account.id == account_id).first()
    assert account and account.person and not account.must_change_password
    new_person = await Person.objects().where(Person.id == account.person).first()
    assert new_person and new_person.household == world.a.households[1]
    assert new_person.name == "王小明" and body["phone"] not in new_person.phone  # encrypted
    (entry,) = await audit_rows("join.approved", request["id"])
    assert entry["details"]["person_created"] is True
    registry = await manager.get(f"/api/v1/persons/{new_person.id}")
    assert registry.status_code == 200, registry.text  # in the registry, its ID number to come
    assert await audit_rows("join.requested", request["id"])

    resident = await browser()
    login = await resident.post(
        "/api/v1/auth/login", json={"username": body["username"], "password": PASSWORD}
    )
    assert login.status_code == 200 and login.json()["state"] == "active", login.text
    me = (await resident.get("/api/v1/auth/me")).json()
    assert [r["role"] for r in me["roles"]] == ["resident"]
    still_pending = (await manager.get(REQUESTS)).json()["items"]
    assert request["id"] not in [i["id"] for i in still_pending]


async def test_approval_binds_the_account_to_the_person_already_registered_with_that_phone(
    app: Litestar, world: World, as_role: AsRole, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    code = await link_of(manager, world.a.community)
    r, body = await file(
        app, await stranger(), code, await unit_of(world), room="0101", phone="13812345678"
    )
    assert r.status_code == 202, r.text
    request = await pending(manager, body["username"])
    approved = await manager.post(f"{REQUESTS}/{request['id']}/approve")
    assert approved.status_code == 200, approved.text
    account = await Account.objects().where(Account.id == approved.json()["account_id"]).first()
    assert account and account.person == world.a.persons[0]
    (entry,) = await audit_rows("join.approved", request["id"])
    assert entry["details"]["person_created"] is False


@pytest.mark.req("REG-09", partial=True)
async def test_a_request_for_a_missing_room_answers_the_same_and_can_only_be_rejected(
    app: Litestar, world: World, as_role: AsRole, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    code = await link_of(manager, world.a.community)
    unit = await unit_of(world)
    real, real_body = await file(app, await stranger(), code, unit, room="0102")
    missing, missing_body = await file(app, await stranger(), code, unit, room="9999")
    assert (real.status_code, real.json()) == (missing.status_code, missing.json())

    request = await pending(manager, missing_body["username"])
    assert request["room_found"] is False and request["household_id"] is None
    assert_error(await manager.post(f"{REQUESTS}/{request['id']}/approve"), 409, "no_such_room")
    assert_error(
        await manager.post(f"{REQUESTS}/{request['id']}/reject", json={}), 422, "invalid_body"
    )
    assert_error(
        await manager.post(f"{REQUESTS}/{request['id']}/reject", json={"reason": ""}),
        422,
        "invalid_body",
    )
    rejected = await manager.post(
        f"{REQUESTS}/{request['id']}/reject", json={"reason": "没有这个房间"}
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["reason"] == "没有这个房间"
    (entry,) = await audit_rows("join.rejected", request["id"])
    assert entry["details"]["reason"] == "没有这个房间"
    assert not await Account.exists().where(Account.username == missing_body["username"])
    assert_error(await manager.post(f"{REQUESTS}/{request['id']}/approve"), 409, "not_pending")
    listed = await manager.get(REQUESTS, params={"status": "rejected"})
    assert request["id"] in [i["id"] for i in listed.json()["items"]]
    del real_body


async def test_the_join_page_shows_buildings_and_units_never_rooms_and_an_unknown_link_is_not_found(
    world: World, as_role: AsRole, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    code = await link_of(manager, world.a.community)
    api = await stranger()
    page = await api.get(f"{PUBLIC}/{code}")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    (building,) = page.json()["buildings"]
    assert building["number"] == "1" and [u["number"] for u in building["units"]] == ["1"]
    assert "0101" not in page.text and "张三" not in page.text
    assert_error(await api.get(f"{PUBLIC}/not-a-link"), 404, "not_found")
    assert_error(
        await api.post(f"{PUBLIC}/not-a-link/code", json={"phone": new_phone()}), 404, "not_found"
    )


@pytest.mark.req("REG-09", partial=True)
async def test_sending_a_code_answers_the_same_for_any_number_and_refuses_a_bad_one(
    app: Litestar, world: World, as_role: AsRole, stranger: Stranger
) -> None:
    code = await link_of(await as_role(Role.PROPERTY_MANAGER), world.a.community)
    api = await stranger()
    known = await api.post(f"{PUBLIC}/{code}/code", json={"phone": "13812345678"})
    unknown = await api.post(f"{PUBLIC}/{code}/code", json={"phone": new_phone()})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.json() == {"expires_in": CODE_TTL}
    assert_error(
        await api.post(f"{PUBLIC}/{code}/code", json={"phone": "12345"}), 400, "invalid_phone"
    )
    assert_error(await api.post(f"{PUBLIC}/{code}/code", json={"mobile": "1"}), 422, "invalid_body")


async def test_codes_are_budgeted_per_phone_and_per_address(
    world: World, as_role: AsRole, stranger: Stranger
) -> None:
    code = await link_of(await as_role(Role.PROPERTY_MANAGER), world.a.community)
    phone = new_phone()
    per_phone, _ = CODES_PER_PHONE
    for _ in range(per_phone):
        api = await stranger()
        assert (await api.post(f"{PUBLIC}/{code}/code", json={"phone": phone})).status_code == 202
    other = await stranger()
    assert_error(
        await other.post(f"{PUBLIC}/{code}/code", json={"phone": phone}), 429, "too_many_requests"
    )
    per_address, _ = CODES_PER_ADDRESS
    api = await stranger()
    for _ in range(per_address):
        r = await api.post(f"{PUBLIC}/{code}/code", json={"phone": new_phone()})
        assert r.status_code == 202, r.text
    assert_error(
        await api.post(f"{PUBLIC}/{code}/code", json={"phone": new_phone()}),
        429,
        "too_many_requests",
    )


async def test_requests_are_budgeted_per_address_whatever_their_codes(
    world: World, as_role: AsRole, stranger: Stranger
) -> None:
    code = await link_of(await as_role(Role.PROPERTY_MANAGER), world.a.community)
    unit = await unit_of(world)
    api = await stranger()
    body = {
        "unit_id": str(unit),
        "room": "0102",
        "name": "钱七",
        "code": "000000",
        "username": "qian-7",
        "password": PASSWORD,
    }
    per_address, _ = REQUESTS_PER_ADDRESS
    for _ in range(per_address):
        r = await api.post(f"{PUBLIC}/{code}/requests", json={**body, "phone": new_phone()})
        assert_error(r, 400, "wrong_code")
    r = await api.post(f"{PUBLIC}/{code}/requests", json={**body, "phone": new_phone()})
    assert_error(r, 429, "too_many_requests")
    other = await stranger()
    r = await other.post(f"{PUBLIC}/{code}/requests", json={**body, "phone": new_phone()})
    assert_error(r, 400, "wrong_code")  # another address has its own budget


async def test_a_code_is_refused_when_wrong_tried_too_often_used_or_expired(
    app: Litestar, world: World, as_role: AsRole, stranger: Stranger
) -> None:
    code = await link_of(await as_role(Role.PROPERTY_MANAGER), world.a.community)
    unit = await unit_of(world)
    api = await stranger()
    redis = app.state.redis

    async def attempt(phone: str, otp: str, username: str) -> httpx.Response:
        body = {
            "unit_id": str(unit),
            "room": "0102",
            "name": "赵六",
            "phone": phone,
            "code": otp,
            "username": username,
            "password": PASSWORD,
        }
        return await api.post(f"{PUBLIC}/{code}/requests", json=body)

    # wrong five times: then even the right code is dead
    phone = new_phone()
    await api.post(f"{PUBLIC}/{code}/code", json={"phone": phone})
    right = sent_code(app, phone)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert_error(await attempt(phone, wrong, "zhao-1"), 400, "wrong_code")
    assert_error(await attempt(phone, right, "zhao-1"), 400, "wrong_code")

    # the right code works once
    phone = new_phone()
    await api.post(f"{PUBLIC}/{code}/code", json={"phone": phone})
    right = sent_code(app, phone)
    assert (await attempt(phone, right, f"zhao-{uuid.uuid4().hex[:6]}")).status_code == 202
    assert_error(await attempt(phone, right, f"zhao-{uuid.uuid4().hex[:6]}"), 400, "wrong_code")

    # a code lives five minutes: past its time it is refused
    phone = new_phone()
    await api.post(f"{PUBLIC}/{code}/code", json={"phone": phone})
    keys = [k async for k in redis.scan_iter("anju:join:otp:*")]
    ttls = [await redis.ttl(k) for k in keys]
    assert ttls and all(0 < t <= CODE_TTL for t in ttls)
    for key in keys:
        await redis.expire(key, -1)  # what Redis does when the five minutes are up
    assert_error(await attempt(phone, sent_code(app, phone), "zhao-3"), 400, "wrong_code")
    assert_error(await attempt(phone, "12345", "zhao-3"), 422, "invalid_body")


async def test_bad_requests_are_refused_before_anything_is_filed(
    app: Litestar, world: World, as_role: AsRole, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    code = await link_of(manager, world.a.community)
    api = await stranger()
    other_unit = await unit_of(world, "b")
    r, _ = await file(app, api, code, other_unit)
    assert_error(r, 400, "no_such_unit")
    r, _ = await file(app, api, code, await unit_of(world), password="short")
    assert_error(r, 400, "weak_password")
    taken = world.a.users[Role.GUARD].username
    r, _ = await file(app, api, code, await unit_of(world), username=taken)
    assert_error(r, 409, "username_taken")
    phone = new_phone()
    r, _ = await file(app, api, code, await unit_of(world), phone=phone)
    assert r.status_code == 202, r.text
    r, _ = await file(app, api, code, await unit_of(world), phone=phone)
    assert_error(r, 409, "request_pending")
    assert_error(await manager.get(f"{REQUESTS}/link"), 400, "invalid_parameters")
    assert_error(await manager.get(REQUESTS, params={"status": "maybe"}), 400, "invalid_parameters")


async def test_managers_of_another_community_and_other_roles_find_no_request(
    app: Litestar, world: World, as_role: AsRole, stranger: Stranger
) -> None:
    manager_a = await as_role(Role.PROPERTY_MANAGER)
    code = await link_of(manager_a, world.a.community)
    r, body = await file(app, await stranger(), code, await unit_of(world))
    assert r.status_code == 202, r.text
    request = await pending(manager_a, body["username"])
    manager_b = await as_role(Role.PROPERTY_MANAGER, "b")
    listed = await manager_b.get(REQUESTS, params={"community_id": str(world.a.community)})
    assert listed.status_code == 200 and listed.json()["items"] == []
    for client in (manager_b, await as_role(Role.GUARD), await as_role(Role.RESIDENT)):
        assert_error(await client.get(f"{REQUESTS}/{request['id']}"), 404, "not_found")
        assert_error(await client.post(f"{REQUESTS}/{request['id']}/approve"), 404, "not_found")
        assert_error(
            await client.post(f"{REQUESTS}/{request['id']}/reject", json={"reason": "x"}),
            404,
            "not_found",
        )
        assert_error(
            await client.get(f"{REQUESTS}/link", params={"community_id": str(world.a.community)}),
            404,
            "not_found",
        )
    assert_error(await (await as_role(Role.GUARD)).get(REQUESTS), 404, "not_found")
    assert (await manager_a.get(f"{REQUESTS}/{request['id']}")).json()["status"] == "pending"
    assert_error(await (await stranger()).get(REQUESTS), 401, "not_authenticated")
