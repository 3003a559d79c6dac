"""Logging in (password, TOTP, lockout, password age) and managing accounts and their roles."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pyotp

from api.accounts.policy import Policy, PolicyReader
from api.accounts.schemas import (
    AccountCreate,
    AccountPage,
    AccountRead,
    AccountUpdate,
    CommunityChoice,
    CommunityChoicePage,
    LoginResult,
    Me,
    PasswordReset,
    RoleGrant,
    RoleRead,
)
from api.accounts.tables import Account, RecoveryCode, RoleAssignment
from api.audit.service import record
from api.communities.service import household_label
from api.communities.tables import Community, Household, Jurisdiction
from api.core.auth import ADMINISTRATORS, Assignment, Caller, Role, Scope
from api.core.crypto import FieldCipher
from api.core.effects import Effects
from api.core.errors import Conflict, DomainError, InvalidInput, NotFound
from api.core.paging import equals, paged, paged_page
from api.core.passwords import (
    DUMMY_HASH,
    WeakPassword,
    check_policy,
    hash_password,
    one_time_password,
    verify_password,
)
from api.core.query import like
from api.core.sessions import Session, SessionStore, new_session
from api.people.moves import MovingOut
from api.people.tables import Person
from api.piccolo_conf import DB

ADMIN_PASSWORD_MAX_AGE = timedelta(days=90)
RECOVERY_CODES = 10
ISSUER = "安居 Anju"
TOTP_CONTEXT = "accounts.totp_secret"


class InvalidCredentials(DomainError):
    """Unknown user or wrong password: the two are not told apart."""

    status_code = 401
    code = "invalid_credentials"
    message = "Wrong user name or password."


class AccountLocked(DomainError):
    """Too many consecutive failures."""

    status_code = 423
    code = "account_locked"
    message = "Too many failed attempts; the account is locked for a while."


class InvalidTotp(DomainError):
    """A wrong, expired or already used code."""

    status_code = 401
    code = "invalid_totp"
    message = "The code is wrong, expired or already used."


class WrongStep(DomainError):
    """The login is not at the step this request belongs to."""

    status_code = 409
    code = "wrong_login_step"
    message = "This step of the login is not expected now."


class AdministratorRole(DomainError):
    """The three administrators (三员分立) come only from `anju createadmin`: no administrator may
    create or grant another, or the security administrator could make itself an auditor."""

    status_code = 403
    code = "administrator_role_refused"
    message = "Administrator accounts are created only with `anju createadmin`."


def _now() -> datetime:
    return datetime.now(UTC)


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").lower().encode()).hexdigest()


def _recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


END_SESSIONS = "accounts.end_sessions"
"""After-commit hook name: end every session of an account (api/app.py wires the session store)."""


async def end_household_roles(moving: MovingOut, caller: Caller | None, effects: Effects) -> int:
    """At a move-out (people's hook, wired in api/app.py), the resident roles on the household of
    the accounts bound to the person end, and when the person was its last resident every
    resident role on it: nobody reads that household's doors, visitors or records through the app
    any more. Each account's loss is audited and its sessions end after commit. How many ended."""
    if moving.household_id is None:
        return 0
    where = (RoleAssignment.household == moving.household_id) & (
        RoleAssignment.role == Role.RESIDENT
    )
    if not moving.last_resident:
        bound = await Account.select(Account.id).where(Account.person == moving.person_id)
        if not bound:
            return 0
        where &= RoleAssignment.account.is_in([a["id"] for a in bound])
    gone = await RoleAssignment.delete().where(where).returning(RoleAssignment.account)
    for account_id in sorted({g["account"] for g in gone}):
        await record(
            "account.role.revoked",
            actor=caller,
            target_type="account",
            target_id=account_id,
            community_id=moving.community_id,
            purpose=moving.reason,
            details={"role": Role.RESIDENT, "household_id": str(moving.household_id)},
        )
        effects.after(END_SESSIONS, account_id)
    return len(gone)


async def holds_household_roles(household_id: UUID) -> bool:
    """Whether an account still holds a resident role on the household (places ask before they
    retire one)."""
    return bool(
        await RoleAssignment.exists().where(
            (RoleAssignment.household == household_id) & (RoleAssignment.role == Role.RESIDENT)
        )
    )


async def roles_of(account_id: UUID) -> set[Role]:
    """Every role an account holds, anywhere."""
    rows = await RoleAssignment.select(RoleAssignment.role).where(
        RoleAssignment.account == account_id
    )
    return {Role(r["role"]) for r in rows}


async def load_caller(account_id: UUID, *, ip: str | None) -> Caller | None:
    """The caller behind an active account, with every role and its scope resolved."""
    account = (
        await Account.objects()
        .where((Account.id == account_id) & (Account.is_active.eq(True)))
        .first()
    )
    if account is None:
        return None
    rows = await RoleAssignment.select().where(RoleAssignment.account == account_id)
    jurisdictions = {r["jurisdiction"] for r in rows if r["jurisdiction"]}
    members: dict[UUID, set[UUID]] = {j: set() for j in jurisdictions}
    if jurisdictions:
        for c in await Community.select(Community.id, Community.jurisdiction).where(
            Community.jurisdiction.is_in(list(jurisdictions))
        ):
            members[c["jurisdiction"]].add(c["id"])
    return Caller(
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        ip=ip,
        assignments=tuple(
            Assignment(
                role=Role(r["role"]),
                community_id=r["community"],
                household_id=r["household"],
                jurisdiction_id=r["jurisdiction"],
                jurisdiction_communities=frozenset(members.get(r["jurisdiction"], ())),
            )
            for r in rows
        ),
    )


async def _role_reads(account_ids: list[UUID]) -> dict[UUID, list[RoleRead]]:
    ra = RoleAssignment
    rows = (
        await ra.select(
            ra.account,
            ra.role,
            ra.community,
            ra.community.name.as_alias("community_name"),
            ra.household,
            ra.household._.building._.number.as_alias("building"),
            ra.household._.unit._.number.as_alias("unit"),
            ra.household.room.as_alias("room"),
            ra.jurisdiction,
        )
        .where(ra.account.is_in(account_ids))
        .order_by(ra.created_at)
    )
    out: dict[UUID, list[RoleRead]] = {a: [] for a in account_ids}
    for r in rows:
        out[r["account"]].append(
            RoleRead(
                role=Role(r["role"]),
                community_id=r["community"],
                community_name=r["community_name"],
                household_id=r["household"],
                household_label=household_label(r["building"], r["unit"], r["room"])
                if r["room"]
                else None,
                jurisdiction_id=r["jurisdiction"],
            )
        )
    return out


async def me(account_id: UUID) -> Me:
    """The account as the PWA shows it."""
    account = await Account.objects().where(Account.id == account_id).first()
    if account is None:
        raise NotFound()
    roles = (await _role_reads([account_id]))[account_id]
    return Me(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        roles=roles,
        locale="en" if account.locale == "en" else "zh-CN",
    )


class AuthService:
    """The login state machine: password → (TOTP enrolment | TOTP) → (password change) → active."""

    def __init__(
        self, sessions: SessionStore, cipher: FieldCipher, *, policy: PolicyReader
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self.policy = policy

    async def login(
        self, username: str, password: str, *, ip: str | None, old_token: str | None
    ) -> tuple[LoginResult, str]:
        """Check the password; return where the login stands and the new session token."""
        rules = await self.policy.current()
        account = await Account.objects().where(Account.username == username).first()
        if account is None or not account.is_active:
            verify_password(DUMMY_HASH, password)  # same cost as a real check: no user enumeration
            await record(
                "auth.login.failed",
                actor_name=None if account is None else account.username,
                outcome="denied",
                ip=ip,
                details={"reason": "inactive"}
                if account
                else {"reason": "unknown_user", "name_hash": self._name_hash(username)},
            )
            await self._unknown_failed(username, rules)
            raise InvalidCredentials()
        # The hash is checked before the lock: a locked name must cost the same argon2 time as an
        # unknown one, or the quick 423 would tell which names exist.
        password_ok = verify_password(account.password_hash, password)
        self._refuse_if_locked(account)
        if not password_ok:
            await self._failed(account, rules, ip=ip, reason="wrong_password")
        roles = await roles_of(account.id)
        staff = bool(roles - {Role.RESIDENT})
        totp = rules.needs_totp(roles)
        result = LoginResult.step(state="active")
        # Only the columns this step decides: a full-row save would write back values read before
        # the password check and undo a concurrent lock, password change or TOTP step.
        changes: dict[Any, Any] = {}
        if totp and account.totp_confirmed:
            result = LoginResult.step(state="totp_required")
        elif totp:
            secret = pyotp.random_base32()
            changes[Account.totp_secret] = self.cipher.encrypt(secret, context=TOTP_CONTEXT)
            result = LoginResult.step(
                state="totp_enrolment",
                otpauth_uri=pyotp.TOTP(secret).provisioning_uri(
                    name=account.username, issuer_name=ISSUER
                ),
            )
        elif self._must_change_password(account, roles):
            result = LoginResult.step(state="password_change_required")
        if result.state == "active":
            # Only a completed login clears the failures: a known password alone must not reset
            # the count of wrong TOTP codes (that would allow unlimited second-factor guessing).
            changes[Account.failed_logins] = 0
            changes[Account.last_login_at] = _now()
        async with DB.transaction():
            if changes:
                await Account.update(changes).where(Account.id == account.id)
            await record(
                "auth.login",
                actor_id=account.id,
                actor_name=account.username,
                ip=ip,
                details={"state": result.state},
            )
        session = self._session(account.id, result.state, staff, ip, rules)
        token = (
            await self.sessions.replace(old_token, session)
            if old_token
            else await self.sessions.create(session)
        )
        if result.state == "active":
            result.account = await me(account.id)
        return result, token

    async def totp(
        self, token: str, session: Session, code: str, *, ip: str | None
    ) -> tuple[LoginResult, str]:
        """Check a TOTP or recovery code; on enrolment, confirm it and hand out recovery codes."""
        if session.state not in ("totp_required", "totp_enrolment"):
            raise WrongStep()
        account = await Account.objects().where(Account.id == session.account_id).first()
        if account is None or account.totp_secret is None:
            raise WrongStep()
        self._refuse_if_locked(account)
        rules = await self.policy.current()
        secret = self.cipher.decrypt(account.totp_secret, context=TOTP_CONTEXT)
        recovery: list[str] | None = None
        if "-" in code and session.state == "totp_required":
            if not await self._use_recovery_code(account.id, code):
                await self._failed(
                    account, rules, ip=ip, reason="wrong_recovery_code", error=InvalidTotp
                )
        elif not await self._use_totp(account, secret, code):
            await self._failed(account, rules, ip=ip, reason="wrong_totp", error=InvalidTotp)
        roles = await roles_of(account.id)
        state = (
            "password_change_required" if self._must_change_password(account, roles) else "active"
        )
        async with DB.transaction():
            if session.state == "totp_enrolment":
                recovery = [_recovery_code() for _ in range(RECOVERY_CODES)]
                await RecoveryCode.delete().where(RecoveryCode.account == account.id)
                await RecoveryCode.insert(
                    *[RecoveryCode(account=account.id, code_hash=_hash_code(c)) for c in recovery]
                )
                await Account.update({Account.totp_confirmed: True}).where(Account.id == account.id)
            await Account.update({Account.failed_logins: 0, Account.last_login_at: _now()}).where(
                Account.id == account.id
            )
            await record(
                "auth.totp.enrolled" if recovery else "auth.totp",
                actor_id=account.id,
                actor_name=account.username,
                ip=ip,
                details={"state": state},
            )
        new = self._session(account.id, state, bool(roles - {Role.RESIDENT}), ip, rules)
        token = await self.sessions.replace(token, new)
        result = LoginResult.step(state=new.state, recovery_codes=recovery)
        if new.state == "active":
            result.account = await me(account.id)
        return result, token

    async def change_password(
        self, token: str, session: Session, current: str, new: str, *, ip: str | None
    ) -> tuple[LoginResult, str]:
        """Change the password; every other session of the account ends."""
        if session.state not in ("active", "password_change_required"):
            raise WrongStep()
        account = await Account.objects().where(Account.id == session.account_id).first()
        if account is None:
            raise WrongStep()
        rules = await self.policy.current()
        if not verify_password(account.password_hash, current):
            await self._failed(account, rules, ip=ip, reason="wrong_current_password")
        if verify_password(account.password_hash, new):
            raise WeakPassword("The new password must differ from the current one.")
        check_policy(
            new,
            username=account.username,
            min_length=rules.password_min_length,
            min_classes=rules.password_min_classes,
        )
        async with DB.transaction():
            await Account.update(
                {
                    Account.password_hash: hash_password(new),
                    Account.password_changed_at: _now(),
                    Account.must_change_password: False,
                    Account.failed_logins: 0,
                }
            ).where(Account.id == account.id)
            await record(
                "auth.password.changed", actor_id=account.id, actor_name=account.username, ip=ip
            )
        await self.sessions.end_all(account.id)
        new_token = await self.sessions.create(
            self._session(account.id, "active", session.staff, ip, rules)
        )
        return LoginResult.step(state="active", account=await me(account.id)), new_token

    async def logout(self, token: str | None, session: Session | None, *, ip: str | None) -> None:
        """End the session."""
        await self.sessions.end(token)
        if session is not None:
            account = (
                await Account.select(Account.username)
                .where(Account.id == session.account_id)
                .first()
            )
            await record(
                "auth.logout",
                actor_id=session.account_id,
                actor_name=account["username"] if account else None,
                ip=ip,
            )

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _session(
        account_id: UUID, state: Any, staff: bool, ip: str | None, rules: Policy
    ) -> Session:
        """A session with the policy's idle and absolute timeouts."""
        idle = rules.idle_staff_minutes if staff else rules.idle_resident_minutes
        return new_session(
            account_id,
            state=state,
            staff=staff,
            ip=ip,
            idle=idle * 60,
            absolute=rules.absolute_hours * 3600,
        )

    async def _unknown_failed(self, username: str, rules: Policy) -> None:
        """Unknown names lock like real ones, so a lockout does not tell which names exist."""
        key = "anju:login-failures:" + hashlib.sha256(username.lower().encode()).hexdigest()
        redis = self.sessions.redis
        failures = await redis.incr(key)
        if failures == 1:
            await redis.expire(key, rules.lockout_minutes * 60)
        if failures >= rules.lockout_threshold:
            ttl = max(await redis.ttl(key), 1)
            raise AccountLocked(locked_until=(_now() + timedelta(seconds=ttl)).isoformat())

    def _name_hash(self, username: str) -> str:
        """A keyed hash of a name that matches no account: what was typed may be a password, so
        the audit log keeps only enough to see repeated attempts on one name."""
        return self.cipher.blind_index(username, kind="username")[:16]

    @staticmethod
    def _refuse_if_locked(account: Account) -> None:
        if account.locked_until and account.locked_until > _now():
            raise AccountLocked(locked_until=account.locked_until.isoformat())

    @staticmethod
    def _must_change_password(account: Account, roles: set[Role]) -> bool:
        """Someone else chose the password, or an administrator's is older than 90 days."""
        return account.must_change_password or (
            bool(roles & ADMINISTRATORS)
            and _now() - account.password_changed_at > ADMIN_PASSWORD_MAX_AGE
        )

    async def _failed(
        self,
        account: Account,
        rules: Policy,
        *,
        ip: str | None,
        reason: str,
        error: type[DomainError] = InvalidCredentials,
    ) -> None:
        """Count a failure, lock at the policy's threshold in a row, audit, raise."""
        async with DB.transaction():
            rows = (
                await Account.update({Account.failed_logins: Account.failed_logins + 1})
                .where(Account.id == account.id)
                .returning(Account.failed_logins)
            )
            failures = rows[0]["failed_logins"]
            await record(
                "auth.login.failed",
                actor_id=account.id,
                actor_name=account.username,
                outcome="denied",
                ip=ip,
                details={"reason": reason, "failures": failures},
            )
            if failures >= rules.lockout_threshold:
                until = _now() + timedelta(minutes=rules.lockout_minutes)
                await Account.update({Account.locked_until: until, Account.failed_logins: 0}).where(
                    Account.id == account.id
                )
                await record(
                    "auth.account.locked",
                    actor_id=account.id,
                    actor_name=account.username,
                    outcome="denied",
                    ip=ip,
                    details={"until": until.isoformat()},
                )
        if failures >= rules.lockout_threshold:
            await self.sessions.end_all(account.id)
            raise AccountLocked(locked_until=until.isoformat())
        raise error()

    @staticmethod
    async def _use_totp(account: Account, secret: str, code: str) -> bool:
        """Accept a code of the current, previous or next 30 s step, once: replays are refused."""
        if not (code.isascii() and code.isdigit()):
            return False  # compare_digest raises on non-ASCII text (e.g. full-width digits)
        totp = pyotp.TOTP(secret)
        now = _now()
        for drift in (0, -1, 1):
            at = now + timedelta(seconds=drift * totp.interval)
            if secrets.compare_digest(totp.at(at), code):
                step = totp.timecode(at)
                used = (
                    await Account.update({Account.totp_last_step: step})
                    .where((Account.id == account.id) & (Account.totp_last_step < step))
                    .returning(Account.id)
                )
                return bool(used)
        return False

    @staticmethod
    async def _use_recovery_code(account_id: UUID, code: str) -> bool:
        used = (
            await RecoveryCode.update({RecoveryCode.used_at: _now()})
            .where(
                (RecoveryCode.account == account_id)
                & (RecoveryCode.code_hash == _hash_code(code))
                & RecoveryCode.used_at.is_null()
            )
            .returning(RecoveryCode.id)
        )
        return bool(used)


class AccountService:
    """Accounts and role assignments, for security administrators."""

    def __init__(self, sessions: SessionStore, *, policy: PolicyReader) -> None:
        self.sessions = sessions
        self.policy = policy

    async def search(
        self,
        caller: Caller,
        *,
        page: int,
        page_size: int,
        q: str | None,
        role: Role | None,
        community_id: UUID | None = None,
    ) -> AccountPage:
        """A page of accounts, filtered by user name fragment, role and the community a role
        applies to (a household's community for residents)."""
        Scope.of(caller, "account.read")
        holding = None
        filters = [
            w
            for w in (
                equals(RoleAssignment.role, role),
                equals(RoleAssignment.community, community_id),
            )
            if w is not None
        ]
        if filters:
            holders = RoleAssignment.select(RoleAssignment.account).where(*filters)
            # A sub-select: a role or community nobody holds is an empty page, not an empty IN ().
            holding = Account.id.is_in(holders)
        rows, total = await paged(
            Account.objects().order_by(Account.username),
            Account.id.is_not_null(),
            Account.username.ilike(f"%{q}%") | Account.display_name.ilike(f"%{q}%") if q else None,
            holding,
            page=page,
            page_size=page_size,
        )
        roles = await _role_reads([a.id for a in rows]) if rows else {}
        return AccountPage(
            items=[self._read(a, roles[a.id]) for a in rows],
            total=total,
            page=page,
            page_size=page_size,
        )

    async def community_choices(
        self, caller: Caller, *, page: int, page_size: int, q: str | None
    ) -> CommunityChoicePage:
        """The communities a role can be scoped to, by name fragment or code prefix. The security
        administrator reads no community's contents (`community.read`), only which exist."""
        Scope.of(caller, "account.write")
        return await paged_page(
            CommunityChoicePage,
            lambda row: CommunityChoice(id=row["id"], name=row["name"], code=row["code"]),
            Community.select(Community.id, Community.name, Community.code).order_by(Community.code),
            Community.id.is_not_null(),
            Community.name.ilike(like(q)) | Community.code.like(like(q, prefix=True))
            if q
            else None,
            page=page,
            page_size=page_size,
        )

    async def get(self, caller: Caller, account_id: UUID) -> AccountRead:
        """One account."""
        Scope.of(caller, "account.read")
        account = await Account.objects().where(Account.id == account_id).first()
        if account is None:
            raise NotFound()
        return self._read(account, (await _role_reads([account.id]))[account.id])

    async def create(self, caller: Caller, data: AccountCreate) -> AccountRead:
        """A new account with its first role, whose password its holder must change at first
        login (the security administrator chose it). Never an administrator's."""
        Scope.of(caller, "account.write")
        if data.role.role in ADMINISTRATORS:
            raise AdministratorRole(field="role")
        rules = await self.policy.current()
        check_policy(
            data.password,
            username=data.username,
            min_length=rules.password_min_length,
            min_classes=rules.password_min_classes,
        )
        if await Account.exists().where(Account.username == data.username):
            raise Conflict("That user name is taken.", field="username")
        grant = await self._checked_grant(data.role)
        if data.person_id:
            await self._check_person(data.person_id, grant)
        async with DB.transaction():
            account = Account(
                username=data.username,
                display_name=data.display_name,
                password_hash=hash_password(data.password),
                must_change_password=True,
                person=data.person_id,
            )
            await account.save()
            await RoleAssignment(account=account.id, **grant).save()
            await record(
                "account.created",
                actor=caller,
                target_type="account",
                target_id=account.id,
                community_id=grant["community"],
                details={"role": data.role.role},
            )
        return await self.get(caller, account.id)

    async def update(self, caller: Caller, account_id: UUID, data: AccountUpdate) -> AccountRead:
        """Rename, (de)activate, unlock, or reset TOTP (the account enrols again at next login)."""
        Scope.of(caller, "account.write")
        await self.get(caller, account_id)
        changes: dict[Any, Any] = {}
        if data.display_name is not msgspec.UNSET:
            changes[Account.display_name] = data.display_name
        if data.is_active is not msgspec.UNSET:
            changes[Account.is_active] = data.is_active
        if data.unlock is True:
            changes[Account.locked_until] = None
            changes[Account.failed_logins] = 0
        if data.reset_totp is True:
            changes[Account.totp_secret] = None
            changes[Account.totp_confirmed] = False
        if changes:
            async with DB.transaction():
                await Account.update(changes).where(Account.id == account_id)
                await record(
                    "account.updated",
                    actor=caller,
                    target_type="account",
                    target_id=account_id,
                    details={"fields": sorted(c._meta.name for c in changes)},
                )
            if data.is_active is False or data.reset_totp is True:
                await self.sessions.end_all(account_id)
        return await self.get(caller, account_id)

    async def reset_password(self, caller: Caller, account_id: UUID) -> PasswordReset:
        """Give an account a one-time password (returned once, never logged or audited): its
        holder must change it at the next login; its sessions end and a lock is lifted."""
        Scope.of(caller, "account.write")
        if account_id == caller.account_id:
            raise Conflict("Change your own password from your profile.")
        await self.get(caller, account_id)
        password = one_time_password()
        async with DB.transaction():
            await Account.update(
                {
                    Account.password_hash: hash_password(password),
                    Account.password_changed_at: _now(),
                    Account.must_change_password: True,
                    Account.locked_until: None,
                    Account.failed_logins: 0,
                }
            ).where(Account.id == account_id)
            await record(
                "account.password_reset",
                actor=caller,
                target_type="account",
                target_id=account_id,
            )
        await self.sessions.end_all(account_id)
        return PasswordReset(account=await self.get(caller, account_id), password=password)

    async def grant(self, caller: Caller, account_id: UUID, data: RoleGrant) -> AccountRead:
        """Give an account one more role: never an administrator's (`anju createadmin` makes
        those), and never another role to an administrator (the three never share an account)."""
        Scope.of(caller, "account.write")
        if account_id == caller.account_id:
            raise Conflict("Administrators cannot change their own roles.")
        if data.role in ADMINISTRATORS:
            raise AdministratorRole(field="role")
        current = await roles_of(account_id)
        await self.get(caller, account_id)
        if current & ADMINISTRATORS:
            raise Conflict("An administrator account holds exactly one role (三员分立).")
        grant = await self._checked_grant(data)
        async with DB.transaction():
            await RoleAssignment(account=account_id, **grant).save()
            await record(
                "account.role.granted",
                actor=caller,
                target_type="account",
                target_id=account_id,
                community_id=grant["community"],
                details={"role": data.role},
            )
        await self.sessions.end_all(account_id)
        return await self.get(caller, account_id)

    async def revoke(self, caller: Caller, account_id: UUID, role: Role) -> AccountRead:
        """Take every assignment of one role from an account."""
        Scope.of(caller, "account.write")
        if account_id == caller.account_id:
            raise Conflict("Administrators cannot change their own roles.")
        await self.get(caller, account_id)
        async with DB.transaction():
            gone = (
                await RoleAssignment.delete()
                .where((RoleAssignment.account == account_id) & (RoleAssignment.role == role))
                .returning(RoleAssignment.id)
            )
            if not gone:
                raise NotFound("The account does not hold that role.")
            await record(
                "account.role.revoked",
                actor=caller,
                target_type="account",
                target_id=account_id,
                details={"role": role},
            )
        await self.sessions.end_all(account_id)
        return await self.get(caller, account_id)

    @staticmethod
    async def _checked_grant(data: RoleGrant) -> dict[str, Any]:
        """Check the scope exists and fits together; return the assignment's columns."""
        community = data.community_id
        if data.household_id:
            household = (
                await Household.select(Household.community)
                .where(Household.id == data.household_id)
                .first()
            )
            if household is None:
                raise InvalidInput("No such household.", field="household_id")
            community = household["community"]
        if community and not await Community.exists().where(Community.id == community):
            raise InvalidInput("No such community.", field="community_id")
        if data.jurisdiction_id and not await Jurisdiction.exists().where(
            Jurisdiction.id == data.jurisdiction_id
        ):
            raise InvalidInput("No such jurisdiction.", field="jurisdiction_id")
        return {
            "role": data.role,
            "community": community,
            "household": data.household_id,
            "jurisdiction": data.jurisdiction_id,
        }

    @staticmethod
    async def _check_person(person_id: UUID, grant: dict[str, Any]) -> None:
        """A person binds only to an account whose role reaches them: the account reads that
        person's records as its own (access log, doors), so a resident is bound to someone of its
        household and staff to someone of their community (police: of their jurisdiction).

        NotFound for a person of a community the role does not reach (or none); InvalidInput
        for a resident's person of another household. (Administrators, who reach no community,
        are never made through the API.)
        """
        person = (
            await Person.select(Person.community, Person.household)
            .where(Person.id == person_id)
            .first()
        )
        if grant["jurisdiction"] is not None:
            reached = {
                c["id"]
                for c in await Community.select(Community.id).where(
                    Community.jurisdiction == grant["jurisdiction"]
                )
            }
        else:
            reached = {grant["community"]} if grant["community"] else set()
        if person is None or person["community"] not in reached:
            raise NotFound()
        if grant["household"] is not None and person["household"] != grant["household"]:
            raise InvalidInput(
                "The person does not live in the resident's household.", field="person_id"
            )

    @staticmethod
    def _read(account: Account, roles: list[RoleRead]) -> AccountRead:
        return AccountRead(
            id=account.id,
            username=account.username,
            display_name=account.display_name,
            is_active=account.is_active,
            locked_until=account.locked_until,
            totp_confirmed=account.totp_confirmed,
            last_login_at=account.last_login_at,
            password_changed_at=account.password_changed_at,
            roles=roles,
        )
