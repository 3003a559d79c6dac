"""The login flow: password, lockout, TOTP and its enrolment, admin password age, logout."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pyotp
import pytest
from litestar import Litestar

from api.accounts import service
from api.accounts.tables import Account, RecoveryCode
from api.audit.tables import AuditEntry
from api.core.auth import Role
from tests.helpers import PASSWORD, ApiClient, TestUser, World, build_world, make_account

LOGIN = "/api/v1/auth/login"
TOTP = "/api/v1/auth/totp"
PASSWORD_CHANGE = "/api/v1/auth/password"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
NEW_PASSWORD = "Lantern-river-73!"

Browser = Callable[[], Awaitable[ApiClient]]


@pytest.fixture(scope="module")
async def places(app: Litestar) -> World:
    """Communities and households, shared by the module: tests make their own accounts.

    Building it also hands make_account the cipher it encrypts staff TOTP secrets with.
    """
    return await build_world(app.state.cipher)


async def account_row(account_id: UUID) -> dict[str, Any]:
    """The account's row as stored."""
    row = await Account.select().where(Account.id == account_id).first()
    assert row is not None
    return row


async def audit_mark() -> int:
    """The id of the newest audit entry (0 when the log is empty)."""
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


def wrong_code(secret: str) -> str:
    """A six-digit code the server will not accept now (none of the steps around now)."""
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC)
    valid = {totp.at(now + timedelta(seconds=s)) for s in range(-90, 91, 15)}
    return next(c for c in (f"{d}" * 6 for d in range(10)) if c not in valid)


def current_code(user: TestUser) -> str:
    """The code of the current step, marked used in the helper so later logins step past it."""
    assert user.totp_secret
    totp = pyotp.TOTP(user.totp_secret)
    step = totp.timecode(datetime.now(UTC))
    user._last_step = max(user._last_step, step)
    return totp.generate_otp(step)


async def password_step(
    client: ApiClient, user: TestUser, password: str | None = None
) -> httpx.Response:
    """POST the password; return the response."""
    return await client.post(
        LOGIN, json={"username": user.username, "password": password or user.password}
    )


async def lock(client: ApiClient, user: TestUser) -> httpx.Response:
    """Five wrong passwords in a row; return the fifth response."""
    for _ in range(4):
        r = await password_step(client, user, "Wrong-password-0")
        assert r.status_code == 401, r.text
    return await password_step(client, user, "Wrong-password-0")


async def make_unenrolled_guard(world: World) -> TestUser:
    """A guard account that has never set up TOTP."""
    user = await make_account(Role.GUARD, community=world.a.community)
    await Account.update({Account.totp_secret: None, Account.totp_confirmed: False}).where(
        Account.id == user.id
    )
    user.totp_secret = None
    return user


async def enrol(client: ApiClient, user: TestUser) -> list[str]:
    """Log in, enrol TOTP from the otpauth URI; return the recovery codes handed out."""
    r = await password_step(client, user)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "totp_enrolment"
    parsed = pyotp.parse_uri(r.json()["otpauth_uri"])
    assert isinstance(parsed, pyotp.TOTP)
    user.totp_secret = parsed.secret
    r = await client.post(TOTP, json={"code": current_code(user)})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "active"
    return r.json()["recovery_codes"]


@pytest.mark.req("IAM-04")
class TestWrongPassword:
    async def test_answers_401_and_changes_only_the_failure_counter(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        before = await account_row(user.id)
        mark = await audit_mark()

        r = await password_step(client, user, "Wrong-password-1")

        assert r.status_code == 401
        assert r.json()["code"] == "invalid_credentials"
        assert "anju_session" not in r.cookies
        after = await account_row(user.id)
        assert after.pop("failed_logins") == before.pop("failed_logins") + 1
        assert after == before
        rows = await audit_since(mark)
        assert [(e["action"], e["outcome"], e["actor_id"]) for e in rows] == [
            ("auth.login.failed", "denied", user.id)
        ]
        assert rows[0]["details"]["reason"] == "wrong_password"

    async def test_unknown_user_gets_the_same_answer(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        wrong = await password_step(client, user, "Wrong-password-1")
        mark = await audit_mark()
        accounts_before = await Account.count()

        r = await client.post(LOGIN, json={"username": "nobody-" + user.username, "password": "x"})

        assert r.status_code == wrong.status_code == 401
        assert (
            r.json() == wrong.json()
        )  # same code and message: the user name's existence stays hidden
        assert "anju_session" not in r.cookies
        assert await Account.count() == accounts_before
        rows = await audit_since(mark)
        assert [(e["action"], e["outcome"], e["actor_id"], e["actor_name"]) for e in rows] == [
            ("auth.login.failed", "denied", None, None)
        ]

    async def test_a_name_that_matches_no_account_is_not_audited_verbatim(
        self, client: ApiClient, app: Litestar
    ) -> None:
        """What lands in the name field may be a password typed one field early."""
        typed = "Secret-" + uuid.uuid4().hex
        mark = await audit_mark()

        for _ in range(2):
            await client.post(LOGIN, json={"username": typed, "password": "x"})

        rows = await audit_since(mark)
        assert [e["action"] for e in rows] == ["auth.login.failed"] * 2
        assert all(typed.lower() not in str(e).lower() for e in rows)
        assert all(e["actor_name"] is None for e in rows)
        hashes = {e["details"]["name_hash"] for e in rows}
        assert len(hashes) == 1  # repeated attempts on one name still show as such
        assert hashes != {app.state.cipher.blind_index("Other-" + typed, kind="username")[:16]}


@pytest.mark.req("SEC-09", partial=True)
class TestLockout:
    async def test_fifth_failure_in_a_row_locks_for_15_minutes(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        mark = await audit_mark()

        r = await lock(client, user)

        assert r.status_code == 423
        body = r.json()
        assert body["code"] == "account_locked"
        assert body["message"]
        until = datetime.fromisoformat(body["extra"]["locked_until"])
        assert abs(until - (datetime.now(UTC) + timedelta(minutes=15))) < timedelta(seconds=30)
        assert (await account_row(user.id))["locked_until"] == until
        locked = [e for e in await audit_since(mark) if e["action"] == "auth.account.locked"]
        assert len(locked) == 1
        assert (locked[0]["actor_id"], locked[0]["outcome"]) == (user.id, "denied")

    async def test_right_password_is_refused_while_locked(
        self, browser: Browser, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        await lock(await browser(), user)
        client = await browser()

        r = await password_step(client, user)

        assert r.status_code == 423
        assert r.json()["code"] == "account_locked"
        assert "anju_session" not in client.cookies
        assert (await client.get(ME)).status_code == 401

    async def test_a_locked_account_checks_the_password_like_any_other_name(
        self, browser: Browser, places: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A 423 without the argon2 check comes back at once and tells which names exist; the
        unknown name (a dummy hash) and the locked one must cost the same single check."""
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        await lock(await browser(), user)
        checked: list[str] = []
        real = service.verify_password

        def counting(password_hash: str, password: str) -> bool:
            checked.append(password_hash)
            return real(password_hash, password)

        monkeypatch.setattr(service, "verify_password", counting)

        locked = await password_step(await browser(), user, "Wrong-password-0")
        unknown = await (await browser()).post(
            LOGIN, json={"username": "nobody-" + user.username, "password": "Wrong-password-0"}
        )

        assert locked.status_code == 423
        assert unknown.status_code == 401
        assert len(checked) == 2
        assert checked[0] == (await account_row(user.id))["password_hash"]

    async def test_login_works_again_once_the_lock_has_passed(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        assert (await lock(client, user)).status_code == 423
        await Account.update(
            {Account.locked_until: datetime.now(UTC) - timedelta(seconds=1)}
        ).where(Account.id == user.id)

        r = await password_step(client, user)

        assert r.status_code == 200, r.text
        assert r.json()["state"] == "active"

    async def test_a_successful_login_resets_the_count(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        for _ in range(3):
            assert (await password_step(client, user, "Wrong-password-0")).status_code == 401
        assert (await account_row(user.id))["failed_logins"] == 3

        assert (await password_step(client, user)).status_code == 200
        assert (await account_row(user.id))["failed_logins"] == 0
        for _ in range(4):  # 3 + 4 would have locked without the reset
            assert (await password_step(client, user, "Wrong-password-0")).status_code == 401
        assert (await account_row(user.id))["locked_until"] is None

    async def test_wrong_codes_count_even_when_the_password_is_entered_again(
        self, client: ApiClient, places: World
    ) -> None:
        # Knowing the password must not buy unlimited guesses at the second factor.
        user = await make_account(Role.GUARD, community=places.a.community)
        assert user.totp_secret
        assert (await password_step(client, user)).json()["state"] == "totp_required"
        for _ in range(4):
            r = await client.post(TOTP, json={"code": wrong_code(user.totp_secret)})
            assert r.status_code == 401
            assert r.json()["code"] == "invalid_totp"
        assert (await password_step(client, user)).json()["state"] == "totp_required"

        r = await client.post(TOTP, json={"code": wrong_code(user.totp_secret)})

        assert r.status_code == 423
        assert r.json()["code"] == "account_locked"


@pytest.mark.req("IAM-04")
class TestResidentLogin:
    async def test_password_alone_gives_an_active_session(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])

        r = await password_step(client, user)

        assert r.status_code == 200
        assert r.json()["state"] == "active"
        assert r.json()["account"]["username"] == user.username
        me = await client.get(ME)
        assert me.status_code == 200
        assert me.json()["id"] == str(user.id)
        assert [(x["role"], x["household_id"]) for x in me.json()["roles"]] == [
            ("resident", str(places.a.households[0]))
        ]

    @pytest.mark.req("SEC-07", partial=True)
    async def test_an_old_password_is_never_forced_to_change(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(
            Role.RESIDENT,
            household=places.a.households[0],
            password_changed_at=datetime.now(UTC) - timedelta(days=400),
        )

        r = await password_step(client, user)

        assert r.json()["state"] == "active"
        assert (await client.get(ME)).status_code == 200


@pytest.mark.req("IAM-04")
class TestStaffTotp:
    async def test_password_alone_is_not_enough(self, client: ApiClient, places: World) -> None:
        user = await make_account(Role.GUARD, community=places.a.community)

        r = await password_step(client, user)

        assert r.status_code == 200
        assert r.json()["state"] == "totp_required"
        assert r.json()["account"] is None
        me = await client.get(ME)
        assert me.status_code == 401
        assert me.json()["code"] == "not_authenticated"

    async def test_the_right_code_activates_the_session(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.GUARD, community=places.a.community)
        await password_step(client, user)

        r = await client.post(TOTP, json={"code": current_code(user)})

        assert r.status_code == 200, r.text
        assert r.json()["state"] == "active"
        assert r.json()["account"]["username"] == user.username
        assert (await client.get(ME)).status_code == 200

    async def test_a_used_code_is_refused_on_the_next_login(
        self, browser: Browser, places: World
    ) -> None:
        user = await make_account(Role.GUARD, community=places.a.community)
        code = current_code(user)
        first = await browser()
        await password_step(first, user)
        assert (await first.post(TOTP, json={"code": code})).status_code == 200

        second = await browser()
        await password_step(second, user)
        r = await second.post(TOTP, json={"code": code})

        assert r.status_code == 401
        assert r.json()["code"] == "invalid_totp"
        assert (await second.get(ME)).status_code == 401

    async def test_a_code_from_ten_minutes_ago_is_refused(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.GUARD, community=places.a.community)
        assert user.totp_secret
        old = pyotp.TOTP(user.totp_secret).at(datetime.now(UTC) - timedelta(minutes=10))
        if old == current_code(user):  # one chance in a million
            pytest.skip("the old code happens to equal the current one")
        await password_step(client, user)

        r = await client.post(TOTP, json={"code": old})

        assert r.status_code == 401
        assert r.json()["code"] == "invalid_totp"

    @pytest.mark.parametrize("code", ["１２３４５６", "éééééé", "12 34 56", "abcdef"])
    async def test_a_code_that_is_not_six_ascii_digits_is_refused(
        self, client: ApiClient, places: World, code: str
    ) -> None:
        user = await make_account(Role.GUARD, community=places.a.community)
        await password_step(client, user)

        r = await client.post(TOTP, json={"code": code})

        assert r.status_code == 401
        assert r.json()["code"] == "invalid_totp"
        assert (await account_row(user.id))["failed_logins"] == 1

    async def test_a_code_without_the_password_step_is_refused(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.GUARD, community=places.a.community)

        r = await client.post(TOTP, json={"code": current_code(user)})

        assert r.status_code == 401
        assert (await account_row(user.id))["totp_last_step"] == 0  # the code was not consumed

    async def test_each_step_issues_a_new_token(self, browser: Browser, places: World) -> None:
        user = await make_account(Role.GUARD, community=places.a.community)
        client = await browser()
        await password_step(client, user)
        pending = client.cookies["anju_session"]
        await client.post(TOTP, json={"code": current_code(user)})
        active = client.cookies["anju_session"]
        assert active != pending

        # The half-logged-in token is dead: it cannot be replayed (no session fixation).
        other = await browser()
        other.cookies.set("anju_session", pending)
        r = await other.get(ME)
        assert r.status_code == 401
        assert r.json()["code"] == "session_expired"
        assert (await client.get(ME)).status_code == 200

    async def test_an_active_session_cannot_post_a_code_again(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.GUARD, community=places.a.community)
        await client.login(user)

        r = await client.post(TOTP, json={"code": user.totp_now()})

        assert r.status_code == 409
        assert r.json()["code"] == "wrong_login_step"


@pytest.mark.req("IAM-04")
class TestTotpEnrolment:
    async def test_confirming_hands_out_ten_recovery_codes_stored_hashed(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_unenrolled_guard(places)

        codes = await enrol(client, user)

        assert len(codes) == 10
        assert len(set(codes)) == 10
        row = await account_row(user.id)
        assert row["totp_confirmed"] is True
        assert user.totp_secret not in row["totp_secret"]  # the secret is stored encrypted
        stored = await RecoveryCode.select().where(RecoveryCode.account == user.id)
        assert len(stored) == 10
        dump = repr(stored)
        assert not any(c in dump or c.replace("-", "") in dump for c in codes)
        expected = {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
        assert {s["code_hash"] for s in stored} == expected
        assert (await client.get(ME)).status_code == 200

    async def test_a_wrong_code_does_not_confirm(self, client: ApiClient, places: World) -> None:
        user = await make_unenrolled_guard(places)
        r = await password_step(client, user)
        secret = pyotp.parse_uri(r.json()["otpauth_uri"]).secret

        r = await client.post(TOTP, json={"code": wrong_code(secret)})

        assert r.status_code == 401
        assert (await account_row(user.id))["totp_confirmed"] is False
        assert await RecoveryCode.count().where(RecoveryCode.account == user.id) == 0

    async def test_a_recovery_code_logs_in_once(self, browser: Browser, places: World) -> None:
        user = await make_unenrolled_guard(places)
        codes = await enrol(await browser(), user)

        first = await browser()
        assert (await password_step(first, user)).json()["state"] == "totp_required"
        r = await first.post(TOTP, json={"code": codes[3].upper()})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "active"
        assert (await first.get(ME)).status_code == 200

        second = await browser()
        await password_step(second, user)
        r = await second.post(TOTP, json={"code": codes[3]})
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_totp"
        assert (await second.get(ME)).status_code == 401
        used = await RecoveryCode.count().where(
            (RecoveryCode.account == user.id) & RecoveryCode.used_at.is_not_null()
        )
        assert used == 1


async def expired_admin(role: Role = Role.SECURITY_ADMIN, days: int = 91) -> TestUser:
    """An administrator whose password was last changed `days` ago."""
    return await make_account(role, password_changed_at=datetime.now(UTC) - timedelta(days=days))


async def to_password_change(client: ApiClient, user: TestUser) -> None:
    """Password and TOTP for an administrator whose password is too old."""
    assert (await password_step(client, user)).json()["state"] == "totp_required"
    r = await client.post(TOTP, json={"code": user.totp_now()})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "password_change_required"


@pytest.mark.req("SEC-07", partial=True)
class TestAdministratorPasswordAge:
    @pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
    async def test_a_91_day_old_password_must_be_changed_first(
        self, client: ApiClient, places: World, role: Role
    ) -> None:
        user = await expired_admin(role)

        await to_password_change(client, user)

        assert (await client.get(ME)).json()["username"] == user.username
        for path in ("/api/v1/accounts/", "/api/v1/audit/", "/api/v1/communities/"):
            r = await client.get(path)
            assert r.status_code == 403, path
            assert r.json()["code"] == "password_change_required"
            assert r.json()["message"]

    async def test_an_89_day_old_password_is_still_accepted(
        self, client: ApiClient, places: World
    ) -> None:
        user = await expired_admin(days=89)

        r = await client.login(user)

        assert r.json()["state"] == "active"

    async def test_the_change_activates_and_ends_the_other_sessions(
        self, browser: Browser, places: World
    ) -> None:
        user = await expired_admin()
        earlier = await browser()
        await to_password_change(earlier, user)
        assert (await earlier.get(ME)).status_code == 200  # who it is, and nothing more
        assert (await earlier.get("/api/v1/accounts/")).json()["code"] == "password_change_required"
        client = await browser()
        await to_password_change(client, user)
        mark = await audit_mark()

        r = await client.post(
            PASSWORD_CHANGE, json={"current_password": user.password, "new_password": NEW_PASSWORD}
        )

        assert r.status_code == 200, r.text
        assert r.json()["state"] == "active"
        assert (await client.get(ME)).status_code == 200
        assert (await client.get("/api/v1/accounts/")).status_code == 200
        r = await earlier.get(ME)
        assert r.status_code == 401
        assert r.json()["code"] == "session_expired"
        row = await account_row(user.id)
        assert datetime.now(UTC) - row["password_changed_at"] < timedelta(minutes=1)
        assert [e["action"] for e in await audit_since(mark)] == ["auth.password.changed"]

        again = await browser()
        assert (await password_step(again, user)).status_code == 401
        user.password = NEW_PASSWORD
        assert (await again.login(user)).json()["state"] == "active"

    @pytest.mark.req("SEC-08", partial=True)
    @pytest.mark.parametrize(
        ("new_password", "reason"),
        [
            ("Ab1!xyz", "shorter than 10"),
            ("abcdefghijklmn", "one class"),
            ("abcdefgh12345", "two classes"),
            ("Password123!", "common"),
            ("qwerty2024!!", "common with a suffix"),
            ("{username}Z9!", "contains the user name"),
            (PASSWORD, "same as the current one"),
        ],
    )
    async def test_a_weak_new_password_is_refused(
        self, client: ApiClient, places: World, new_password: str, reason: str
    ) -> None:
        user = await expired_admin()
        await to_password_change(client, user)
        before = await account_row(user.id)

        r = await client.post(
            PASSWORD_CHANGE,
            json={
                "current_password": user.password,
                "new_password": new_password.format(username=user.username.upper()),
            },
        )

        assert r.status_code == 400, reason
        assert r.json()["code"] == "weak_password"
        assert r.json()["message"]
        assert await account_row(user.id) == before
        assert (await client.get("/api/v1/accounts/")).json()["code"] == "password_change_required"


@pytest.mark.req("IAM-04", "IAM-09")
class TestPasswordChange:
    async def test_a_resident_change_ends_the_other_sessions(
        self, browser: Browser, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        other = await browser()
        await other.login(user)
        client = await browser()
        await client.login(user)

        r = await client.post(
            PASSWORD_CHANGE, json={"current_password": user.password, "new_password": NEW_PASSWORD}
        )

        assert r.status_code == 200, r.text
        assert (await client.get(ME)).status_code == 200
        r = await other.get(ME)
        assert r.status_code == 401
        assert r.json()["code"] == "session_expired"

    async def test_a_wrong_current_password_is_refused_and_counted(
        self, client: ApiClient, places: World
    ) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])
        await client.login(user)
        before = await account_row(user.id)

        r = await client.post(
            PASSWORD_CHANGE,
            json={"current_password": "Not-the-password-9", "new_password": NEW_PASSWORD},
        )

        assert r.status_code == 401
        assert r.json()["code"] == "invalid_credentials"
        after = await account_row(user.id)
        assert after["password_hash"] == before["password_hash"]
        assert after["failed_logins"] == before["failed_logins"] + 1

    async def test_without_a_session_it_is_refused(self, client: ApiClient, places: World) -> None:
        user = await make_account(Role.RESIDENT, household=places.a.households[0])

        r = await client.post(
            PASSWORD_CHANGE, json={"current_password": user.password, "new_password": NEW_PASSWORD}
        )

        assert r.status_code == 401
        assert (await account_row(user.id))["password_changed_at"] is not None
        assert (
            await password_step(client, user)
        ).status_code == 200  # the old password still works


@pytest.mark.req("IAM-04")
class TestLogout:
    async def test_ends_the_session_and_the_cookie_no_longer_works(
        self, browser: Browser, places: World
    ) -> None:
        user = await make_account(Role.GUARD, community=places.a.community)
        client = await browser()
        await client.login(user)
        token = client.cookies["anju_session"]
        mark = await audit_mark()

        r = await client.post(LOGOUT)

        assert r.status_code == 204
        assert "anju_session" not in client.cookies
        assert (await client.get(ME)).status_code == 401
        replay = await browser()
        replay.cookies.set("anju_session", token)
        r = await replay.get(ME)
        assert r.status_code == 401
        assert r.json()["code"] == "session_expired"
        rows = await audit_since(mark)
        assert [(e["action"], e["actor_id"], e["actor_name"]) for e in rows] == [
            ("auth.logout", user.id, user.username)
        ]

    async def test_logout_without_a_session_is_harmless(self, client: ApiClient, app: Any) -> None:
        mark = await audit_mark()

        r = await client.post(LOGOUT)

        assert r.status_code == 204
        assert await audit_since(mark) == []


@pytest.mark.req("SEC-09", partial=True)
class TestUnknownNamesLockToo:
    async def test_fifth_failure_of_an_unknown_name_answers_locked(self, client: ApiClient) -> None:
        """A locked answer must not reveal that the name exists."""
        name = f"nobody-{uuid.uuid4().hex[:8]}"
        body = {"username": name, "password": "Wrong-password-1"}
        codes = [(await client.post("/api/v1/auth/login", json=body)).status_code for _ in range(6)]
        assert codes == [401, 401, 401, 401, 423, 423]
        locked = await client.post("/api/v1/auth/login", json=body)
        assert locked.json()["code"] == "account_locked"
        assert "locked_until" in locked.json()["extra"]
