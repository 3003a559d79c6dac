"""The security policy: password, lockout, session and second-factor rules, stored in the database
and read through one place.

One row (`security_policy`, name "platform") holds the values the security administrator set, with
a version that grows at each change. Every api process keeps the policy it read and its version;
`current()` compares that version with the one in Redis (one GET) and reloads the row only when
they differ, so a change takes effect at the next login in every process, without a restart. A
change writes the row and its audit entry in one transaction, then publishes the new version.
With Redis flushed the reader falls back to the row itself.

The floor is the platform's baseline from GB/T 22239 as docs/security.md states it (the catalogue
gives SEC-08/SEC-09 no numbers): 10 characters of 3 classes, a lock after at most 5 failures for at
least 15 minutes, idle timeouts of at most 15 minutes (staff) and 30 (residents), at most 12 hours
absolute, and TOTP for every staff role and administrator. A value below it is refused with
`422 policy_below_floor`, naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta
from redis.asyncio import Redis

from api.accounts.tables import SecurityPolicyRow
from api.audit.service import record
from api.core.auth import Caller, Role, Scope
from api.core.errors import DomainError
from api.piccolo_conf import DB

NAME = "platform"
VERSION_KEY = "anju:security-policy:version"
STAFF_ROLES = tuple(sorted(set(Role) - {Role.RESIDENT}))


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    """The rules in force. The defaults are the floor."""

    password_min_length: int = 10
    password_min_classes: int = 3
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    idle_staff_minutes: int = 15
    idle_resident_minutes: int = 30
    absolute_hours: int = 12
    totp_roles: tuple[Role, ...] = STAFF_ROLES  # sorted

    def needs_totp(self, roles: set[Role]) -> bool:
        """Whether an account with these roles logs in with a second factor."""
        return bool(roles & set(self.totp_roles))


FLOOR = Policy()


class PolicyRead(Policy, frozen=True, kw_only=True):
    """The policy with its version and when it last changed."""

    version: int
    updated_at: datetime | None


class PolicyUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to the policy; each must be at least as strict as the floor."""

    password_min_length: Annotated[int, Meta(ge=1, le=64)] | msgspec.UnsetType = msgspec.UNSET
    password_min_classes: Annotated[int, Meta(ge=1, le=4)] | msgspec.UnsetType = msgspec.UNSET
    lockout_threshold: Annotated[int, Meta(ge=1, le=100)] | msgspec.UnsetType = msgspec.UNSET
    lockout_minutes: Annotated[int, Meta(ge=1, le=10_080)] | msgspec.UnsetType = msgspec.UNSET
    idle_staff_minutes: Annotated[int, Meta(ge=1, le=1_440)] | msgspec.UnsetType = msgspec.UNSET
    idle_resident_minutes: Annotated[int, Meta(ge=1, le=1_440)] | msgspec.UnsetType = msgspec.UNSET
    absolute_hours: Annotated[int, Meta(ge=1, le=720)] | msgspec.UnsetType = msgspec.UNSET
    totp_roles: list[Role] | msgspec.UnsetType = msgspec.UNSET


class BelowFloor(DomainError):
    """A value weaker than the standard's minimum."""

    status_code = 422
    code = "policy_below_floor"
    message = "This value is weaker than the minimum the standard requires."


# field -> True when a larger value is stricter (a length), False when a smaller one is (a timeout)
_STRICTER_UP = {
    "password_min_length": True,
    "password_min_classes": True,
    "lockout_threshold": False,
    "lockout_minutes": True,
    "idle_staff_minutes": False,
    "idle_resident_minutes": False,
    "absolute_hours": False,
}


def _check_floor(policy: Policy) -> None:
    for field, up in _STRICTER_UP.items():
        value, floor = getattr(policy, field), getattr(FLOOR, field)
        if (value < floor) if up else (value > floor):
            raise BelowFloor(field=field, floor=floor)
    if not set(FLOOR.totp_roles) <= set(policy.totp_roles):
        raise BelowFloor(field="totp_roles", floor=sorted(FLOOR.totp_roles))


def _decode(row: dict[str, Any] | None) -> tuple[Policy, int, datetime | None]:
    if row is None:
        return FLOOR, 0, None
    value = row["value"]
    value = msgspec.json.decode(value) if isinstance(value, str | bytes) else value
    return msgspec.convert(value, Policy), row["version"], row["updated_at"]


async def _row() -> dict[str, Any] | None:
    return (
        await SecurityPolicyRow.select()
        .where(SecurityPolicyRow.name == NAME)
        .output(load_json=True)
        .first()
    )


class PolicyReader:
    """The policy in force, cached per process and reloaded when its version moves."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._policy = FLOOR
        self._version: int | None = None
        self.loads = 0  # how many times the row was read (tests and metrics)

    async def current(self) -> Policy:
        """The policy; one Redis GET, and a read of the row only after a change."""
        raw = await self.redis.get(VERSION_KEY)
        if raw is None or self._version is None or int(raw) != self._version:
            self._policy, self._version, _ = _decode(await _row())
            self.loads += 1
            if raw is None:  # Redis lost it: publish what the database says
                await self.redis.set(VERSION_KEY, self._version, nx=True)
        return self._policy


async def read(caller: Caller) -> PolicyRead:
    """The policy for the security administrator (anyone else: 404)."""
    Scope.of(caller, "policy.read")
    policy, version, updated_at = _decode(await _row())
    return PolicyRead(**msgspec.structs.asdict(policy), version=version, updated_at=updated_at)


async def change(caller: Caller, data: PolicyUpdate, redis: Redis) -> PolicyRead:
    """Change the policy (never below the floor); audited with the old and new values; every api
    process reads it at its next login."""
    Scope.of(caller, "policy.write")
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if "totp_roles" in changes:
        changes["totp_roles"] = tuple(sorted(set(changes["totp_roles"])))
    async with DB.transaction():
        await SecurityPolicyRow.raw(
            "SELECT pg_advisory_xact_lock(hashtextextended({}, 0))", "security-policy"
        )
        old, version, _ = _decode(await _row())
        new = msgspec.structs.replace(old, **changes)
        _check_floor(new)
        value = msgspec.to_builtins(new)
        now = datetime.now(UTC)
        if version == 0:
            await SecurityPolicyRow(
                name=NAME, value=value, version=1, updated_at=now, updated_by=caller.account_id
            ).save()
        else:
            await SecurityPolicyRow.update(
                {
                    SecurityPolicyRow.value: value,
                    SecurityPolicyRow.version: version + 1,
                    SecurityPolicyRow.updated_at: now,
                    SecurityPolicyRow.updated_by: caller.account_id,
                }
            ).where(SecurityPolicyRow.name == NAME)
        before = msgspec.to_builtins(old)
        await record(
            "security_policy.changed",
            actor=caller,
            target_type="security_policy",
            target_id=NAME,
            details={
                "changed": {
                    k: [before[k], value[k]] for k in sorted(changes) if before[k] != value[k]
                }
            },
        )
    await redis.set(VERSION_KEY, version + 1)
    return await read(caller)
