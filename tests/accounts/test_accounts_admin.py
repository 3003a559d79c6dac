"""Account administration: the security administrator alone, 三员分立, and the effects."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pyotp
import pytest
from litestar import Litestar

from api.accounts.tables import Account, RoleAssignment
from api.audit.tables import AuditEntry
from api.core.auth import Role
from tests.helpers import ApiClient, TestUser, World, build_world, make_account

ACCOUNTS = "/api/v1/accounts/"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
STRONG = "Harbour-lights-58!"

Browser = Callable[[], Awaitable[ApiClient]]


@pytest.fixture(scope="module")
async def places(app: Litestar) -> World:
    """Communities and households, shared by the module: tests make their own accounts."""
    return await build_world(app.state.cipher)


@pytest.fixture
async def security_admin(client: ApiClient, places: World) -> ApiClient:
    """A browser logged in as a fresh security administrator (its user on `.user`)."""
    user = await make_account(Role.SECURITY_ADMIN)
    await client.login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def actor(client: ApiClient) -> TestUser:
    """The account a fixture logged the browser in as."""
    return client.user  # type: ignore[attr-defined]


async def audit_mark() -> int:
    """The id of the newest audit entry."""
    last = await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first()
    return last["id"] if last else 0


async def audit_since(mark: int) -> list[dict[str, Any]]:
    """Audit entries written after the mark, oldest first."""
    return await (
        AuditEntry.select()
        .where(AuditEntry.id > mark)
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )


async def roles_of(account_id: UUID) -> list[str]:
    """The account's roles as stored."""
    rows = await RoleAssignment.select(RoleAssignment.role).where(
        RoleAssignment.account == account_id
    )
    return sorted(r["role"] for r in rows)


def new_guard(places: World, **extra: Any) -> dict[str, Any]:
    """A create body for a guard of community A."""
    name = f"guard.{uuid.uuid4().hex[:8]}"
    return {
        "username": name,
        "display_name": "王保安",
        "password": STRONG,
        "role": {"role": "guard", "community_id": str(places.a.community)},
        **extra,
    }


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """An error with the status, its machine code and a human message."""
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    assert response.json()["message"]


@pytest.mark.req("IAM-02")
@pytest.mark.req("IAM-16")
class TestOnlyTheSecurityAdministrator:
    @pytest.mark.parametrize(
        "role",
        [
            Role.RESIDENT,
            Role.GUARD,
            Role.PROPERTY_MANAGER,
            Role.POLICE,
            Role.SYSTEM_ADMIN,
            Role.AUDIT_ADMIN,
        ],
    )
    async def test_every_other_role_gets_404_and_changes_nothing(
        self, client: ApiClient, places: World, role: Role
    ) -> None:
        scope: dict[str, Any] = {
            Role.RESIDENT: {"household": places.a.households[0]},
            Role.POLICE: {"jurisdiction": places.jurisdiction},
        }.get(
            role,
            {"community": places.a.community}
            if role in {Role.GUARD, Role.PROPERTY_MANAGER}
            else {},
        )
        await client.login(await make_account(role, **scope))
        target = await make_account(Role.RESIDENT, household=places.a.households[1])
        before = await Account.select().where(Account.id == target.id).first()
        body = new_guard(places)
        mark = await audit_mark()
        base = f"{ACCOUNTS}{target.id}"

        answers = [
            await client.get(ACCOUNTS),
            await client.get(base),
            await client.post(ACCOUNTS, json=body),
            await client.patch(base, json={"is_active": False, "unlock": True}),
            await client.post(
                f"{base}/roles", json={"role": "guard", "community_id": str(places.a.community)}
            ),
            await client.delete(f"{base}/roles/resident"),
        ]

        for r in answers:
            assert_error(r, 404, "not_found")
        assert await Account.select().where(Account.id == target.id).first() == before
        assert await roles_of(target.id) == ["resident"]
        assert not await Account.exists().where(Account.username == body["username"])
        assert [e for e in await audit_since(mark) if e["action"].startswith("account.")] == []

    async def test_not_logged_in_is_401(self, client: ApiClient, places: World) -> None:
        assert_error(await client.get(ACCOUNTS), 401, "not_authenticated")


class TestCreate:
    @pytest.mark.req("IAM-01", partial=True)
    async def test_creates_the_account_with_its_first_role_and_audits_it(
        self, security_admin: ApiClient, places: World
    ) -> None:
        body = new_guard(places)
        mark = await audit_mark()

        r = await security_admin.post(ACCOUNTS, json=body)

        assert r.status_code == 201, r.text
        created = r.json()
        assert created["username"] == body["username"]
        assert created["is_active"] is True
        assert created["totp_confirmed"] is False
        assert [(x["role"], x["community_id"]) for x in created["roles"]] == [
            ("guard", str(places.a.community))
        ]
        assert not {"password", "password_hash", "totp_secret"} & set(created)
        entries = await audit_since(mark)
        assert [
            (e["action"], e["actor_id"], e["actor_name"], e["actor_role"], e["target_id"])
            for e in entries
        ] == [
            (
                "account.created",
                actor(security_admin).id,
                actor(security_admin).username,
                "security_admin",
                created["id"],
            )
        ]
        # The new guard logs in with the password and must set up TOTP first.
        async with ApiClient.for_app(security_admin._transport.app) as guard:  # type: ignore[attr-defined]
            login = await guard.post(LOGIN, json={"username": body["username"], "password": STRONG})
            assert login.json()["state"] == "totp_enrolment"

    @pytest.mark.req("IAM-16")
    @pytest.mark.parametrize("role", ["system_admin", "security_admin", "audit_admin"])
    async def test_administrator_accounts_come_only_from_the_command_line(
        self, security_admin: ApiClient, places: World, role: str
    ) -> None:
        body = {**new_guard(places), "role": {"role": role}}
        mark = await audit_mark()

        r = await security_admin.post(ACCOUNTS, json=body)

        assert_error(r, 403, "administrator_role_refused")
        assert not await Account.exists().where(Account.username == body["username"])
        assert [e["action"] for e in await audit_since(mark)] == []

    async def test_a_new_account_must_change_the_password_it_was_given_first(
        self, security_admin: ApiClient, browser: Browser, places: World
    ) -> None:
        body = new_guard(places)
        assert (await security_admin.post(ACCOUNTS, json=body)).status_code == 201
        guard = await browser()
        login = await guard.post(LOGIN, json={"username": body["username"], "password": STRONG})
        code = pyotp.parse_uri(login.json()["otpauth_uri"]).now()

        enrolled = await guard.post("/api/v1/auth/totp", json={"code": code})

        assert enrolled.json()["state"] == "password_change_required", enrolled.text
        assert (await guard.get(ME)).json()["username"] == body["username"]
        for path in ("/api/v1/communities/", "/api/v1/devices/"):
            assert_error(await guard.get(path), 403, "password_change_required")
        changed = await guard.post(
            "/api/v1/auth/password",
            json={"current_password": STRONG, "new_password": "Quiet-river-walk-73"},
        )
        assert changed.json()["state"] == "active", changed.text
        assert (await guard.get("/api/v1/communities/")).status_code == 200
        row = await Account.select(Account.must_change_password).where(
            Account.username == body["username"]
        )
        assert row == [{"must_change_password": False}]

    @pytest.mark.req("SEC-08", partial=True)
    @pytest.mark.parametrize(
        "password",
        [
            "Short1!",
            "alllowercaseletters",
            "Password123!",
            "{username}-X9",
            "Aaaaaaaaa1",  # length and classes, but three characters
            "Kite-1111-river",  # one digit four times in a row
        ],
    )
    async def test_a_weak_password_is_refused(
        self, security_admin: ApiClient, places: World, password: str
    ) -> None:
        body = new_guard(places)
        body["password"] = password.format(username=body["username"])
        mark = await audit_mark()

        r = await security_admin.post(ACCOUNTS, json=body)

        assert_error(r, 400, "weak_password")
        assert not await Account.exists().where(Account.username == body["username"])
        assert await audit_since(mark) == []

    async def test_a_taken_user_name_is_409(self, security_admin: ApiClient, places: World) -> None:
        body = new_guard(places)
        assert (await security_admin.post(ACCOUNTS, json=body)).status_code == 201

        r = await security_admin.post(ACCOUNTS, json={**body, "display_name": "另一个"})

        assert_error(r, 409, "conflict")
        assert await Account.count().where(Account.username == body["username"]) == 1

    @pytest.mark.parametrize(
        "role",
        [{"role": "guard"}, {"role": "resident"}, {"role": "police"}, {"role": "superuser"}],
    )
    async def test_a_role_without_its_scope_is_refused(
        self, security_admin: ApiClient, places: World, role: dict[str, Any]
    ) -> None:
        body = {**new_guard(places), "role": role}

        r = await security_admin.post(ACCOUNTS, json=body)

        assert_error(r, 422, "invalid_body")
        assert not await Account.exists().where(Account.username == body["username"])

    async def test_an_unknown_community_is_400(
        self, security_admin: ApiClient, places: World
    ) -> None:
        body = {**new_guard(places), "role": {"role": "guard", "community_id": str(uuid.uuid4())}}

        r = await security_admin.post(ACCOUNTS, json=body)

        assert_error(r, 400, "invalid_input")
        assert not await Account.exists().where(Account.username == body["username"])

    async def test_a_person_of_a_community_the_role_does_not_reach_is_404(
        self, security_admin: ApiClient, places: World
    ) -> None:
        resident = {"role": "resident", "household_id": str(places.a.households[0])}
        for body in (
            new_guard(places, person_id=str(places.b.persons[0])),
            {**new_guard(places), "role": resident, "person_id": str(places.b.persons[0])},
            new_guard(places, person_id=str(uuid.uuid4())),
        ):
            assert_error(await security_admin.post(ACCOUNTS, json=body), 404, "not_found")
            assert not await Account.exists().where(Account.username == body["username"])

    async def test_a_resident_bound_to_another_household_is_400(
        self, security_admin: ApiClient, places: World
    ) -> None:
        resident = {"role": "resident", "household_id": str(places.a.households[0])}
        neighbour = {**new_guard(places), "role": resident, "person_id": str(places.a.persons[1])}
        r = await security_admin.post(ACCOUNTS, json=neighbour)
        assert_error(r, 400, "invalid_input")
        assert r.json()["extra"]["field"] == "person_id"
        assert not await Account.exists().where(Account.username == neighbour["username"])
        own = {**neighbour, "username": f"res.{uuid.uuid4().hex[:8]}"}
        own["person_id"] = str(places.a.persons[0])
        assert (await security_admin.post(ACCOUNTS, json=own)).status_code == 201

    async def test_a_nul_in_a_name_is_400_and_nothing_is_written(
        self, security_admin: ApiClient, places: World
    ) -> None:
        body = {**new_guard(places), "display_name": "王\u0000保安"}
        mark = await audit_mark()

        r = await security_admin.post(ACCOUNTS, json=body)

        assert_error(r, 400, "invalid_input")
        assert not await Account.exists().where(Account.username == body["username"])
        assert await audit_since(mark) == []


class TestList:
    async def test_filters_by_name_fragment_and_role_and_pages(
        self, security_admin: ApiClient, places: World
    ) -> None:
        tag = uuid.uuid4().hex[:6]
        names = []
        for role in ("guard", "guard", "maintenance"):
            body = new_guard(places)
            body["username"] = f"list-{tag}-{len(names)}"
            body["role"]["role"] = role
            assert (await security_admin.post(ACCOUNTS, json=body)).status_code == 201
            names.append(body["username"])

        everything = (await security_admin.get(ACCOUNTS, params={"q": tag})).json()
        guards = (await security_admin.get(ACCOUNTS, params={"q": tag, "role": "guard"})).json()
        first = (await security_admin.get(ACCOUNTS, params={"q": tag, "page_size": 2})).json()
        second = (
            await security_admin.get(ACCOUNTS, params={"q": tag, "page_size": 2, "page": 2})
        ).json()

        assert [a["username"] for a in everything["items"]] == names
        assert everything["total"] == 3
        assert [a["username"] for a in guards["items"]] == names[:2]
        assert guards["total"] == 2
        assert (first["total"], first["page"], first["page_size"]) == (3, 1, 2)
        assert [a["username"] for a in first["items"] + second["items"]] == names
        assert all("password_hash" not in a and "totp_secret" not in a for a in everything["items"])

    async def test_bad_paging_is_refused(self, security_admin: ApiClient, places: World) -> None:
        for params in ({"page": 0}, {"page_size": 201}, {"role": "superuser"}):
            r = await security_admin.get(ACCOUNTS, params=params)
            assert 400 <= r.status_code < 500, params
            assert {"code", "message"} <= set(r.json())

    async def test_a_nul_in_the_search_is_400(
        self, security_admin: ApiClient, places: World
    ) -> None:
        assert_error(
            await security_admin.get(ACCOUNTS, params={"q": "a\u0000"}), 400, "invalid_input"
        )


class TestUpdate:
    @pytest.mark.req("IAM-01", partial=True)
    async def test_a_deactivated_account_cannot_log_in_and_loses_its_sessions(
        self, security_admin: ApiClient, browser: Browser, places: World
    ) -> None:
        target = await make_account(Role.RESIDENT, household=places.a.households[0])
        session = await browser()
        await session.login(target)
        mark = await audit_mark()

        r = await security_admin.patch(f"{ACCOUNTS}{target.id}", json={"is_active": False})

        assert r.status_code == 200, r.text
        assert r.json()["is_active"] is False
        assert_error(await session.get(ME), 401, "session_expired")
        again = await browser()
        r = await again.post(LOGIN, json={"username": target.username, "password": target.password})
        assert_error(r, 401, "invalid_credentials")
        entries = [e for e in await audit_since(mark) if e["action"] == "account.updated"]
        assert [(e["actor_name"], e["target_id"], e["details"]) for e in entries] == [
            (actor(security_admin).username, str(target.id), {"fields": ["is_active"]})
        ]

    @pytest.mark.req("SEC-09", partial=True)
    async def test_unlock_clears_a_lock(
        self, security_admin: ApiClient, browser: Browser, places: World
    ) -> None:
        target = await make_account(Role.RESIDENT, household=places.a.households[0])
        attacker = await browser()
        for _ in range(5):
            await attacker.post(
                LOGIN, json={"username": target.username, "password": "Wrong-pass-1"}
            )
        row = await Account.select(Account.locked_until).where(Account.id == target.id).first()
        assert row["locked_until"] > datetime.now(UTC) + timedelta(minutes=14)

        r = await security_admin.patch(f"{ACCOUNTS}{target.id}", json={"unlock": True})

        assert r.status_code == 200, r.text
        assert r.json()["locked_until"] is None
        owner = await browser()
        assert (await owner.login(target)).json()["state"] == "active"

    async def test_reset_totp_makes_the_account_enrol_again(
        self, security_admin: ApiClient, browser: Browser, places: World
    ) -> None:
        target = await make_account(Role.GUARD, community=places.a.community)
        session = await browser()
        await session.login(target)

        r = await security_admin.patch(f"{ACCOUNTS}{target.id}", json={"reset_totp": True})

        assert r.status_code == 200, r.text
        assert r.json()["totp_confirmed"] is False
        assert_error(await session.get(ME), 401, "session_expired")
        again = await browser()
        r = await again.post(LOGIN, json={"username": target.username, "password": target.password})
        assert r.json()["state"] == "totp_enrolment"

    async def test_an_unknown_account_is_404(
        self, security_admin: ApiClient, places: World
    ) -> None:
        r = await security_admin.patch(f"{ACCOUNTS}{uuid.uuid4()}", json={"is_active": False})

        assert_error(r, 404, "not_found")

    async def test_an_unknown_field_is_422(self, security_admin: ApiClient, places: World) -> None:
        target = await make_account(Role.RESIDENT, household=places.a.households[0])

        r = await security_admin.patch(f"{ACCOUNTS}{target.id}", json={"password_hash": "x"})

        assert_error(r, 422, "invalid_body")


class TestGrant:
    @pytest.mark.req("IAM-01", partial=True)
    async def test_a_granted_role_shows_in_me_after_logging_in_again(
        self, security_admin: ApiClient, browser: Browser, places: World
    ) -> None:
        target = await make_account(Role.GUARD, community=places.a.community)
        session = await browser()
        await session.login(target)
        mark = await audit_mark()

        r = await security_admin.post(
            f"{ACCOUNTS}{target.id}/roles",
            json={"role": "maintenance", "community_id": str(places.b.community)},
        )

        assert r.status_code == 200, r.text
        assert_error(
            await session.get(ME), 401, "session_expired"
        )  # privileges changed: log in again
        again = await browser()
        await again.login(target)
        roles = {(x["role"], x["community_id"]) for x in (await again.get(ME)).json()["roles"]}
        assert roles == {
            ("guard", str(places.a.community)),
            ("maintenance", str(places.b.community)),
        }
        entries = [e for e in await audit_since(mark) if e["action"] == "account.role.granted"]
        assert [
            (e["actor_name"], e["target_id"], e["community_id"], e["details"]) for e in entries
        ] == [
            (
                actor(security_admin).username,
                str(target.id),
                places.b.community,
                {"role": "maintenance"},
            )
        ]

    async def test_a_resident_gets_a_second_household(
        self, security_admin: ApiClient, browser: Browser, places: World
    ) -> None:
        target = await make_account(
            Role.RESIDENT, community=places.a.community, household=places.a.households[0]
        )

        r = await security_admin.post(
            f"{ACCOUNTS}{target.id}/roles",
            json={"role": "resident", "household_id": str(places.b.households[1])},
        )

        assert r.status_code == 200, r.text
        session = await browser()
        await session.login(target)
        me = (await session.get(ME)).json()
        assert {(x["household_id"], x["community_id"]) for x in me["roles"]} == {
            (str(places.a.households[0]), str(places.a.community)),
            (str(places.b.households[1]), str(places.b.community)),
        }

    async def test_an_unknown_household_is_400(
        self, security_admin: ApiClient, places: World
    ) -> None:
        target = await make_account(Role.RESIDENT, household=places.a.households[0])

        r = await security_admin.post(
            f"{ACCOUNTS}{target.id}/roles",
            json={"role": "resident", "household_id": str(uuid.uuid4())},
        )

        assert_error(r, 400, "invalid_input")
        assert await roles_of(target.id) == ["resident"]

    @pytest.mark.req("IAM-16", partial=True)
    async def test_a_security_administrator_cannot_change_own_roles(
        self, security_admin: ApiClient, places: World
    ) -> None:
        me = actor(security_admin)

        granted = await security_admin.post(
            f"{ACCOUNTS}{me.id}/roles", json={"role": "audit_admin"}
        )
        revoked = await security_admin.delete(f"{ACCOUNTS}{me.id}/roles/security_admin")

        assert_error(granted, 409, "conflict")
        assert_error(revoked, 409, "conflict")
        assert await roles_of(me.id) == ["security_admin"]

    @pytest.mark.req("IAM-16", partial=True)
    @pytest.mark.parametrize(
        ("holder", "grant", "status", "code"),
        [
            (Role.SYSTEM_ADMIN, {"role": "audit_admin"}, 403, "administrator_role_refused"),
            (Role.AUDIT_ADMIN, {"role": "security_admin"}, 403, "administrator_role_refused"),
            (Role.SECURITY_ADMIN, {"role": "system_admin"}, 403, "administrator_role_refused"),
            (Role.AUDIT_ADMIN, {"role": "guard", "community_id": "A"}, 409, "conflict"),
            (Role.GUARD, {"role": "audit_admin"}, 403, "administrator_role_refused"),
        ],
    )
    async def test_an_administrator_account_holds_exactly_one_role(
        self,
        security_admin: ApiClient,
        places: World,
        holder: Role,
        grant: dict[str, Any],
        status: int,
        code: str,
    ) -> None:
        scope = {"community": places.a.community} if holder == Role.GUARD else {}
        target = await make_account(holder, **scope)
        if grant.get("community_id") == "A":
            grant = {**grant, "community_id": str(places.a.community)}

        r = await security_admin.post(f"{ACCOUNTS}{target.id}/roles", json=grant)

        assert_error(r, status, code)
        assert await roles_of(target.id) == [holder.value]

    async def test_an_unknown_account_is_404(
        self, security_admin: ApiClient, places: World
    ) -> None:
        r = await security_admin.post(
            f"{ACCOUNTS}{uuid.uuid4()}/roles",
            json={"role": "guard", "community_id": str(places.a.community)},
        )

        assert_error(r, 404, "not_found")


class TestRevoke:
    @pytest.mark.req("IAM-01", partial=True)
    async def test_the_role_is_gone_and_the_sessions_end(
        self, security_admin: ApiClient, browser: Browser, places: World
    ) -> None:
        target = await make_account(Role.GUARD, community=places.a.community)
        await RoleAssignment(
            account=target.id, role=Role.MAINTENANCE, community=places.a.community
        ).save()
        session = await browser()
        await session.login(target)
        mark = await audit_mark()

        r = await security_admin.delete(f"{ACCOUNTS}{target.id}/roles/maintenance")

        assert r.status_code == 200, r.text
        assert [x["role"] for x in r.json()["roles"]] == ["guard"]
        assert await roles_of(target.id) == ["guard"]
        assert_error(await session.get(ME), 401, "session_expired")
        entries = [e for e in await audit_since(mark) if e["action"] == "account.role.revoked"]
        assert [(e["actor_name"], e["target_id"], e["details"]) for e in entries] == [
            (actor(security_admin).username, str(target.id), {"role": "maintenance"})
        ]

    async def test_a_role_not_held_is_404(self, security_admin: ApiClient, places: World) -> None:
        target = await make_account(Role.GUARD, community=places.a.community)

        r = await security_admin.delete(f"{ACCOUNTS}{target.id}/roles/police")

        assert_error(r, 404, "not_found")
        assert await roles_of(target.id) == ["guard"]


class TestListByCommunity:
    async def test_filters_by_the_community_a_role_applies_to(
        self, security_admin: ApiClient, places: World
    ) -> None:
        tag = uuid.uuid4().hex[:6]
        for i, site in enumerate((places.a, places.b)):
            body = new_guard(places, username=f"site-{tag}-{i}")
            body["role"]["community_id"] = str(site.community)
            assert (await security_admin.post(ACCOUNTS, json=body)).status_code == 201

        in_a = await security_admin.get(
            ACCOUNTS, params={"q": tag, "community_id": str(places.a.community)}
        )
        guards_in_b = await security_admin.get(
            ACCOUNTS, params={"q": tag, "community_id": str(places.b.community), "role": "guard"}
        )
        nobody = await security_admin.get(
            ACCOUNTS, params={"q": tag, "community_id": str(uuid.uuid4())}
        )

        assert [a["roles"][0]["community_id"] for a in in_a.json()["items"]] == [
            str(places.a.community)
        ]
        assert [a["roles"][0]["community_id"] for a in guards_in_b.json()["items"]] == [
            str(places.b.community)
        ]
        assert nobody.json()["total"] == 0

    async def test_a_malformed_community_is_400(
        self, security_admin: ApiClient, places: World
    ) -> None:
        r = await security_admin.get(ACCOUNTS, params={"community_id": "not-a-uuid"})

        assert r.status_code == 400, r.text


class TestPasswordReset:
    @pytest.mark.req("IAM-09", partial=True)
    async def test_a_one_time_password_must_be_changed_at_the_next_login(
        self, security_admin: ApiClient, browser: Browser, places: World
    ) -> None:
        target = await make_account(Role.GUARD, community=places.a.community)
        session = await browser()
        await session.login(target)
        mark = await audit_mark()

        r = await security_admin.post(f"{ACCOUNTS}{target.id}/password-reset")

        assert r.status_code == 200, r.text
        password = r.json()["password"]
        assert_error(await session.get(ME), 401, "session_expired")
        fresh = await browser()
        old = await fresh.post(
            LOGIN, json={"username": target.username, "password": target.password}
        )
        assert_error(old, 401, "invalid_credentials")
        login = await fresh.post(LOGIN, json={"username": target.username, "password": password})
        assert login.json()["state"] == "totp_required"
        done = await fresh.post("/api/v1/auth/totp", json={"code": target.totp_now()})
        assert done.json()["state"] == "password_change_required"
        entries = [e for e in await audit_since(mark) if e["action"] == "account.password_reset"]
        assert [e["target_id"] for e in entries] == [str(target.id)]
        assert password not in str(entries)

    async def test_it_lifts_a_lock(self, security_admin: ApiClient, places: World) -> None:
        target = await make_account(Role.RESIDENT, household=places.a.households[0])
        await Account.update(
            {
                Account.locked_until: datetime.now(UTC) + timedelta(minutes=30),
                Account.failed_logins: 5,
            }
        ).where(Account.id == target.id)

        r = await security_admin.post(f"{ACCOUNTS}{target.id}/password-reset")

        assert r.json()["account"]["locked_until"] is None
        row = await Account.select(Account.failed_logins).where(Account.id == target.id).first()
        assert row == {"failed_logins": 0}

    async def test_not_the_own_password(self, security_admin: ApiClient, places: World) -> None:
        r = await security_admin.post(f"{ACCOUNTS}{actor(security_admin).id}/password-reset")

        assert_error(r, 409, "conflict")

    async def test_an_unknown_account_is_404(
        self, security_admin: ApiClient, places: World
    ) -> None:
        r = await security_admin.post(f"{ACCOUNTS}{uuid.uuid4()}/password-reset")

        assert_error(r, 404, "not_found")

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize("role", [Role.PROPERTY_MANAGER, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN])
    async def test_any_other_role_gets_404_and_changes_nothing(
        self, client: ApiClient, places: World, role: Role
    ) -> None:
        scope = {"community": places.a.community} if role == Role.PROPERTY_MANAGER else {}
        await client.login(await make_account(role, **scope))
        target = await make_account(Role.GUARD, community=places.a.community)
        before = await Account.select().where(Account.id == target.id).first()

        r = await client.post(f"{ACCOUNTS}{target.id}/password-reset")

        assert_error(r, 404, "not_found")
        assert await Account.select().where(Account.id == target.id).first() == before


class TestCommunityChoices:
    async def test_the_security_administrator_finds_a_community_by_name_or_code(
        self, security_admin: ApiClient, places: World
    ) -> None:
        by_code = await security_admin.get(f"{ACCOUNTS}communities", params={"q": places.a.code})
        by_name = await security_admin.get(
            f"{ACCOUNTS}communities", params={"q": f"测试小区{places.b.code[-4:]}"}
        )

        assert by_code.json()["items"] == [
            {
                "id": str(places.a.community),
                "name": f"测试小区{places.a.code[-4:]}",
                "code": places.a.code,
            }
        ]
        assert [c["id"] for c in by_name.json()["items"]] == [str(places.b.community)]

    async def test_bad_paging_is_refused(self, security_admin: ApiClient, places: World) -> None:
        for params in ({"page": 0}, {"page_size": 201}):
            r = await security_admin.get(f"{ACCOUNTS}communities", params=params)
            assert 400 <= r.status_code < 500, params

    @pytest.mark.req("IAM-02")
    @pytest.mark.parametrize("role", [Role.PROPERTY_MANAGER, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN])
    async def test_any_other_role_gets_404(
        self, client: ApiClient, places: World, role: Role
    ) -> None:
        scope = {"community": places.a.community} if role == Role.PROPERTY_MANAGER else {}
        await client.login(await make_account(role, **scope))

        assert_error(await client.get(f"{ACCOUNTS}communities"), 404, "not_found")
