"""The security policy: only the security administrator reads and changes it, never below the
floor, every change audited; a change reaches every api process's reader without a restart, and
logins follow it (lockout threshold and duration, password length, sessions' timeouts)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar

from api.accounts.policy import FLOOR, PolicyReader
from api.core.auth import Role
from tests.fixtures import AsRole
from tests.helpers import PASSWORD, ApiClient, World, assert_error, audit_rows, make_account

POLICY = "/api/v1/security-policy"
LOGIN = "/api/v1/auth/login"
FLOOR_BODY = {
    "password_min_length": FLOOR.password_min_length,
    "password_min_classes": FLOOR.password_min_classes,
    "lockout_threshold": FLOOR.lockout_threshold,
    "lockout_minutes": FLOOR.lockout_minutes,
    "idle_staff_minutes": FLOOR.idle_staff_minutes,
    "idle_resident_minutes": FLOOR.idle_resident_minutes,
    "absolute_hours": FLOOR.absolute_hours,
    "totp_roles": sorted(FLOOR.totp_roles),
}


@pytest.fixture
async def security(as_role: AsRole) -> AsyncIterator[ApiClient]:
    """The security administrator; the policy goes back to the floor after the test (the
    session's other tests log in under it)."""
    api = await as_role(Role.SECURITY_ADMIN)
    yield api
    restored = await api.patch(POLICY, json=FLOOR_BODY)
    assert restored.status_code == 200, restored.text


class TestScope:
    @pytest.mark.parametrize(
        "role",
        [
            Role.SYSTEM_ADMIN,
            Role.AUDIT_ADMIN,
            Role.PROPERTY_MANAGER,
            Role.GUARD,
            Role.RESIDENT,
            Role.POLICE,
        ],
    )
    async def test_no_one_but_the_security_administrator_reads_or_writes_it(
        self, as_role: AsRole, role: Role
    ) -> None:
        api = await as_role(role)

        assert_error(await api.get(POLICY), 404, "not_found")
        assert_error(await api.patch(POLICY, json={"lockout_threshold": 3}), 404, "not_found")

    @pytest.mark.req("SEC-08", partial=True)
    async def test_the_security_administrator_tightens_it_and_the_change_is_audited(
        self, security: ApiClient
    ) -> None:
        before = (await security.get(POLICY)).json()

        r = await security.patch(POLICY, json={"lockout_threshold": 3, "lockout_minutes": 30})

        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["lockout_threshold"], body["lockout_minutes"]) == (3, 30)
        assert body["version"] == before["version"] + 1
        [entry] = [
            e
            for e in await audit_rows("security_policy.changed", "platform")
            if e["details"]["changed"].get("lockout_minutes") == [before["lockout_minutes"], 30]
        ]
        assert entry["details"]["changed"]["lockout_threshold"] == [
            before["lockout_threshold"],
            3,
        ]
        assert entry["actor_role"] == "security_admin"


class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"password_min_length": 8}, "password_min_length"),
            ({"password_min_classes": 2}, "password_min_classes"),
            ({"lockout_threshold": 6}, "lockout_threshold"),
            ({"lockout_minutes": 5}, "lockout_minutes"),
            ({"idle_staff_minutes": 60}, "idle_staff_minutes"),
            ({"idle_resident_minutes": 31}, "idle_resident_minutes"),
            ({"absolute_hours": 24}, "absolute_hours"),
            ({"totp_roles": ["guard"]}, "totp_roles"),
        ],
    )
    async def test_a_value_below_the_floor_is_422_and_changes_nothing(
        self, security: ApiClient, body: dict[str, Any], field: str
    ) -> None:
        before = (await security.get(POLICY)).json()

        r = await security.patch(POLICY, json=body)

        assert_error(r, 422, "policy_below_floor")
        assert r.json()["extra"]["field"] == field
        assert (await security.get(POLICY)).json() == before

    @pytest.mark.parametrize(
        "body",
        [
            {"lockout_threshold": "three"},
            {"lockout_threshold": 0},
            {"password_min_length": 65},
            {"totp_roles": ["janitor"]},
            {"max_sessions": 2},
        ],
    )
    async def test_malformed_input_is_422_invalid_body(
        self, security: ApiClient, body: dict[str, Any]
    ) -> None:
        assert_error(await security.patch(POLICY, json=body), 422, "invalid_body")


class TestTakesEffect:
    async def test_a_change_reaches_another_processs_reader_without_a_restart(
        self, app: Litestar, security: ApiClient
    ) -> None:
        # Two readers stand for two api processes: each caches what it read.
        one, other = PolicyReader(app.state.redis), PolicyReader(app.state.redis)
        assert (await one.current()).lockout_threshold == FLOOR.lockout_threshold
        await other.current()
        loads = one.loads
        assert (await one.current()) == (await one.current())
        assert one.loads == loads  # cached: no read of the row while nothing changed

        r = await security.patch(POLICY, json={"lockout_threshold": 4, "idle_staff_minutes": 10})
        assert r.status_code == 200, r.text

        for reader in (one, other):
            policy = await reader.current()
            assert (policy.lockout_threshold, policy.idle_staff_minutes) == (4, 10)
        assert one.loads == loads + 1

    @pytest.mark.req("SEC-09", partial=True)
    async def test_a_login_locks_after_the_new_threshold_for_the_new_duration(
        self, security: ApiClient, client: ApiClient, world: World
    ) -> None:
        r = await security.patch(POLICY, json={"lockout_threshold": 3, "lockout_minutes": 20})
        assert r.status_code == 200, r.text
        user = await make_account(Role.RESIDENT, household=world.a.households[0])
        wrong = {"username": user.username, "password": "Wrong-password-1"}

        for _ in range(2):
            assert_error(await client.post(LOGIN, json=wrong), 401, "invalid_credentials")
        third = await client.post(LOGIN, json=wrong)

        assert_error(third, 423, "account_locked")
        until = datetime.fromisoformat(third.json()["extra"]["locked_until"])
        assert abs(until - (datetime.now(UTC) + timedelta(minutes=20))) < timedelta(seconds=30)
        right = {"username": user.username, "password": PASSWORD}
        assert_error(await client.post(LOGIN, json=right), 423, "account_locked")

    async def test_a_longer_minimum_refuses_a_new_password_that_the_floor_allowed(
        self, security: ApiClient, client: ApiClient, world: World
    ) -> None:
        r = await security.patch(POLICY, json={"password_min_length": 14})
        assert r.status_code == 200, r.text
        user = await make_account(Role.RESIDENT, household=world.a.households[0])
        await client.login(user)

        short = await client.post(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": "Kp7x-3mQa-9Rt"},
        )

        assert_error(short, 400, "weak_password")
        assert "14" in short.json()["message"]

    async def test_a_session_idles_out_after_the_policys_timeout(
        self, app: Litestar, security: ApiClient, client: ApiClient, world: World
    ) -> None:
        r = await security.patch(POLICY, json={"idle_resident_minutes": 5})
        assert r.status_code == 200, r.text
        user = await make_account(Role.RESIDENT, household=world.a.households[0])

        await client.login(user)

        token = client.cookies["anju_session"]
        ttl = await app.state.redis.ttl(
            "anju:session:" + hashlib.sha256(token.encode()).hexdigest()
        )
        assert 0 < ttl <= 5 * 60
