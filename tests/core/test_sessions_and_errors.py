"""Sessions (idle and absolute timeouts, token at rest), CSRF, error bodies, rate limits."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from redis.asyncio import Redis

from api.accounts.tables import Account
from api.app import create_app
from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.core.sessions import SessionStore
from api.settings import Settings
from tests.helpers import ApiClient, TestUser, World, build_world, make_account

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"

Browser = Callable[[], Awaitable[ApiClient]]


@pytest.fixture(scope="module")
async def places(app: Litestar) -> World:
    """Communities for the module's accounts (also readies make_account's cipher)."""
    return await build_world(app.state.cipher)


def session_key(token: str) -> str:
    """Where Redis keeps a session: under the SHA-256 of the cookie's token, never the token."""
    return "anju:session:" + hashlib.sha256(token.encode()).hexdigest()


def redis_of(app: Litestar) -> Redis:
    """The app's Redis client."""
    return app.state.redis


async def audit_count() -> int:
    """How many audit entries exist."""
    return await AuditEntry.count()


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """The response is an error with the status, the machine code and a human message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]


class TestIdleTimeout:
    async def test_a_staff_session_idles_out_after_15_minutes(
        self, app: Litestar, client: ApiClient, places: World
    ) -> None:
        await client.login(await make_account(Role.GUARD, community=places.a.community))

        ttl = await redis_of(app).ttl(session_key(client.cookies["anju_session"]))

        assert 890 <= ttl <= 900

    async def test_an_administrator_session_idles_out_after_15_minutes(
        self, app: Litestar, client: ApiClient, places: World
    ) -> None:
        await client.login(await make_account(Role.AUDIT_ADMIN))

        ttl = await redis_of(app).ttl(session_key(client.cookies["anju_session"]))

        assert 890 <= ttl <= 900

    async def test_a_resident_session_idles_out_after_30_minutes(
        self, app: Litestar, client: ApiClient, places: World
    ) -> None:
        await client.login(await make_account(Role.RESIDENT, household=places.a.households[0]))

        ttl = await redis_of(app).ttl(session_key(client.cookies["anju_session"]))

        assert 1790 <= ttl <= 1800

    async def test_a_half_finished_login_lives_5_minutes(
        self, app: Litestar, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.GUARD, community=places.a.community)
        await client.post(LOGIN, json={"username": user.username, "password": user.password})

        ttl = await redis_of(app).ttl(session_key(client.cookies["anju_session"]))

        assert 290 <= ttl <= 300

    async def test_each_request_restarts_the_idle_timer(
        self, app: Litestar, client: ApiClient, places: World
    ) -> None:
        await client.login(await make_account(Role.GUARD, community=places.a.community))
        key = session_key(client.cookies["anju_session"])
        await redis_of(app).expire(key, 5)

        assert (await client.get(ME)).status_code == 200

        assert 890 <= await redis_of(app).ttl(key) <= 900

    async def test_an_idled_out_session_answers_session_expired(
        self, app: Litestar, client: ApiClient, places: World
    ) -> None:
        await client.login(await make_account(Role.RESIDENT, household=places.a.households[0]))
        await redis_of(app).delete(session_key(client.cookies["anju_session"]))  # the TTL ran out

        assert_error(await client.get(ME), 401, "session_expired")


class TestAbsoluteLimit:
    async def _age(self, app: Litestar, client: ApiClient, seconds: float) -> str:
        key = session_key(client.cookies["anju_session"])
        raw = msgspec.json.decode(await redis_of(app).get(key))
        raw["created"] = time.time() - seconds
        await redis_of(app).set(key, msgspec.json.encode(raw), keepttl=True)
        return key

    async def test_a_session_older_than_12_hours_ends_however_busy(
        self, app: Litestar, client: ApiClient, places: World
    ) -> None:
        await client.login(await make_account(Role.GUARD, community=places.a.community))
        key = await self._age(app, client, 13 * 3600)

        assert_error(await client.get(ME), 401, "session_expired")
        assert await redis_of(app).exists(key) == 0

    async def test_a_session_just_under_12_hours_still_works(
        self, app: Litestar, client: ApiClient, places: World
    ) -> None:
        await client.login(await make_account(Role.GUARD, community=places.a.community))
        await self._age(app, client, 12 * 3600 - 60)

        assert (await client.get(ME)).status_code == 200


class TestSessionAtRest:
    async def test_redis_holds_only_the_hash_of_the_token(
        self, app: Litestar, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        response = await client.login(user)
        token = client.cookies["anju_session"]

        stored = await redis_of(app).get(session_key(token))

        assert stored is not None
        assert token.encode() not in stored
        assert await redis_of(app).exists("anju:session:" + token) == 0
        assert msgspec.json.decode(stored)["account_id"] == str(user.id)
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "path=/" in cookie


class TestCsrf:
    async def test_a_post_without_the_header_is_refused_and_writes_nothing(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        await client.get(ME)  # the browser holds the CSRF cookie but the request lacks the header
        assert "csrftoken" in client.cookies
        before = await Account.select().where(Account.id == user.id).first()
        entries = await audit_count()

        r = await httpx.AsyncClient.request(
            client, "POST", LOGIN, json={"username": user.username, "password": "Wrong-password-0"}
        )

        assert_error(r, 403, "csrf_failed")
        assert await Account.select().where(Account.id == user.id).first() == before
        assert await audit_count() == entries
        assert "anju_session" not in client.cookies

    async def test_a_header_that_does_not_match_the_cookie_is_refused(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])

        r = await client.post(
            LOGIN,
            json={"username": user.username, "password": user.password},
            headers={"x-csrftoken": "forged-" + uuid.uuid4().hex},
        )

        assert_error(r, 403, "csrf_failed")
        assert "anju_session" not in client.cookies

    async def test_a_logged_in_write_without_the_header_is_refused(
        self, client: ApiClient, places: World
    ) -> None:
        await client.login(await make_account(Role.RESIDENT, household=places.a.households[0]))

        r = await httpx.AsyncClient.request(client, "POST", "/api/v1/auth/logout")

        assert_error(r, 403, "csrf_failed")
        assert (await client.get(ME)).status_code == 200  # the logout did not happen


class TestBadInput:
    async def test_malformed_json_is_a_4xx_with_a_code(self, client: ApiClient, app: Any) -> None:
        entries = await audit_count()

        r = await client.post(
            LOGIN,
            content=b'{"username": "a", "password": ',
            headers={"content-type": "application/json"},
        )

        assert_error(r, 400, "bad_request")
        assert await audit_count() == entries

    async def test_an_unknown_field_is_422_invalid_body(self, client: ApiClient, app: Any) -> None:
        r = await client.post(LOGIN, json={"username": "a", "password": "b", "remember_me": True})

        assert_error(r, 422, "invalid_body")
        assert "remember_me" in r.text

    async def test_a_wrongly_typed_field_is_422_invalid_body(
        self, client: ApiClient, app: Any
    ) -> None:
        r = await client.post(LOGIN, json={"username": "a", "password": 12345678})

        assert_error(r, 422, "invalid_body")

    async def test_a_body_over_1_mb_is_413(self, client: ApiClient, app: Any) -> None:
        entries = await audit_count()
        big = {"username": "a", "password": "x" * 1_100_000}

        r = await client.post(LOGIN, json=big)

        assert_error(r, 413, "body_too_large")
        assert await audit_count() == entries

    async def test_a_nul_character_is_400_not_a_crash(self, client: ApiClient, app: Any) -> None:
        r = await client.post(LOGIN, json={"username": "ad\u0000min", "password": "x"})

        assert_error(r, 400, "invalid_input")

    async def test_an_unknown_route_is_404_with_a_code(self, client: ApiClient, app: Any) -> None:
        assert_error(await client.get("/api/v1/no-such-thing"), 404, "not_found")

    async def test_not_logged_in_is_401_with_a_code(self, client: ApiClient, app: Any) -> None:
        assert_error(await client.get(ME), 401, "not_authenticated")


@pytest.fixture
async def limited(settings: Settings, app: Litestar) -> AsyncIterator[list[Litestar]]:
    """Two more api instances with a login limit of 3 a minute, sharing the session's Redis.

    Their lifespans are not run (a second one would close the shared database pool): each gets
    the session store and cipher the lifespan would have given it.
    """
    instances = [create_app(msgspec.structs.replace(settings, auth_rate_limit=3)) for _ in range(2)]
    for instance in instances:
        instance.state.sessions = SessionStore(instance.state.redis)
        instance.state.cipher = app.state.cipher
    yield instances
    for instance in instances:
        await instance.state.redis.aclose()


def from_address(instance: Litestar, address: str) -> ApiClient:
    """A browser on the given client address."""
    transport = httpx.ASGITransport(app=instance, client=(address, 40000))
    return ApiClient(transport=transport, base_url="http://testserver")


def fresh_address() -> str:
    """A client address no other test has used (the limit is counted per address)."""
    return f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


async def fail_login(client: ApiClient) -> httpx.Response:
    """A login attempt for a user name that does not exist."""
    return await client.post(
        LOGIN, json={"username": f"nobody-{uuid.uuid4().hex}", "password": "x"}
    )


@pytest.mark.req("SEC-09", partial=True)
class TestLoginRateLimit:
    async def test_the_fourth_login_in_a_minute_is_429(
        self, limited: list[Litestar], places: World
    ) -> None:
        user: TestUser = await make_account(Role.RESIDENT, household=places.a.households[0])
        async with from_address(limited[0], fresh_address()) as client:
            answers = [await fail_login(client) for _ in range(3)]
            assert [a.status_code for a in answers] == [401, 401, 401]
            assert [a.headers["ratelimit-limit"] for a in answers] == ["3", "3", "3"]
            assert [int(a.headers["ratelimit-remaining"]) for a in answers] == [2, 1, 0]

            r = await client.post(
                LOGIN, json={"username": user.username, "password": user.password}
            )

            assert_error(r, 429, "rate_limited")
            assert "ratelimit-reset" in r.headers
            assert "anju_session" not in client.cookies
            r = await client.post("/api/v1/auth/totp", json={"code": "123456"})
            assert_error(r, 429, "rate_limited")

    async def test_the_limit_is_per_client_address(
        self, limited: list[Litestar], places: World
    ) -> None:
        async with from_address(limited[0], fresh_address()) as busy:
            for _ in range(3):
                await fail_login(busy)
            assert (await fail_login(busy)).status_code == 429
        async with from_address(limited[0], fresh_address()) as other:
            assert (await fail_login(other)).status_code == 401

    async def test_the_count_is_shared_by_every_instance(
        self, limited: list[Litestar], places: World
    ) -> None:
        address = fresh_address()
        async with (
            from_address(limited[0], address) as one,
            from_address(limited[1], address) as two,
        ):
            assert (await fail_login(one)).status_code == 401
            assert (await fail_login(two)).status_code == 401
            assert (await fail_login(one)).status_code == 401

            assert_error(await fail_login(two), 429, "rate_limited")

    async def test_asking_who_is_logged_in_is_not_counted(
        self, limited: list[Litestar], places: World
    ) -> None:
        user: TestUser = await make_account(Role.RESIDENT, household=places.a.households[0])
        async with from_address(limited[0], fresh_address()) as client:
            answers = [await client.get(ME) for _ in range(10)]
            assert [a.status_code for a in answers] == [401] * 10
            assert "ratelimit-limit" not in answers[-1].headers

            r = await client.post(
                LOGIN, json={"username": user.username, "password": user.password}
            )

            assert r.status_code == 200, r.text
            assert (await client.get(ME)).status_code == 200

    async def test_other_endpoints_are_not_limited(
        self, limited: list[Litestar], places: World
    ) -> None:
        async with from_address(limited[0], fresh_address()) as client:
            answers = [await client.get("/api/v1/accounts/") for _ in range(5)]

        assert [a.status_code for a in answers] == [401] * 5


class TestMissingParameter:
    async def test_a_missing_query_parameter_is_400_not_a_body_error(
        self, client: ApiClient, world: World
    ) -> None:
        await client.login(world.a.users[Role.PROPERTY_MANAGER])
        answer = await client.get("/api/v1/alarms/plan-stats")  # community_id is required
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == "invalid_parameters"
