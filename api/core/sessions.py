"""Server-side sessions in Redis behind an httpOnly cookie; idle and absolute timeouts.

The cookie holds a random token; Redis holds only its SHA-256, so a Redis dump cannot be replayed as
cookies. Idle timeout is the key's TTL, refreshed on every request; the absolute limit is checked on
read. Each account's session keys are kept in a set so a password change or a lock ends them all.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Literal
from uuid import UUID

import msgspec
from redis.asyncio import Redis

COOKIE = "anju_session"
IDLE_RESIDENT = 30 * 60
IDLE_STAFF = 15 * 60
ABSOLUTE = 12 * 60 * 60
PENDING = 5 * 60  # a half-finished login (password accepted, TOTP not yet) lives 5 minutes

SessionState = Literal["active", "totp_required", "totp_enrolment", "password_change_required"]


class Session(msgspec.Struct, kw_only=True):
    """What the platform remembers about one logged-in browser."""

    account_id: UUID
    state: SessionState
    staff: bool
    created: float
    ip: str | None = None
    idle: int | None = None  # the security policy's idle timeout when the session began
    absolute: int | None = None  # and its absolute limit (seconds)

    @property
    def idle_timeout(self) -> int:
        """Seconds of inactivity after which the session ends."""
        if self.state != "active":
            return PENDING
        if self.idle is not None:
            return self.idle
        return IDLE_STAFF if self.staff else IDLE_RESIDENT


def _key(token: str) -> str:
    return "anju:session:" + hashlib.sha256(token.encode()).hexdigest()


def _account_key(account_id: UUID) -> str:
    return f"anju:account-sessions:{account_id}"


class SessionStore:
    """Create, read, refresh and end sessions."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def create(self, session: Session) -> str:
        """Store a new session; return the token for the cookie."""
        token = secrets.token_urlsafe(32)
        await self._save(token, session)
        await self.redis.sadd(_account_key(session.account_id), _key(token))  # type: ignore[misc]
        await self.redis.expire(_account_key(session.account_id), ABSOLUTE)
        return token

    async def replace(self, token: str, session: Session) -> str:
        """End the old token and issue a new one (at each privilege change: no session fixation)."""
        await self.end(token)
        return await self.create(session)

    async def get(self, token: str | None) -> Session | None:
        """The live session for a token, refreshing its idle timer; None when absent or expired."""
        if not token:
            return None
        raw = await self.redis.get(_key(token))
        if raw is None:
            return None
        session = msgspec.json.decode(raw, type=Session)
        if time.time() - session.created > (session.absolute or ABSOLUTE):
            await self.end(token)
            return None
        await self.redis.expire(_key(token), session.idle_timeout)
        return session

    async def end(self, token: str | None) -> None:
        """End one session."""
        if token:
            await self.redis.delete(_key(token))

    async def end_all(self, account_id: UUID) -> None:
        """End every session of an account."""
        keys = await self.redis.smembers(_account_key(account_id))  # type: ignore[misc]
        if keys:
            await self.redis.delete(*keys)
        await self.redis.delete(_account_key(account_id))

    async def _save(self, token: str, session: Session) -> None:
        await self.redis.set(_key(token), msgspec.json.encode(session), ex=session.idle_timeout)


def new_session(
    account_id: UUID,
    *,
    state: SessionState,
    staff: bool,
    ip: str | None,
    idle: int | None = None,
    absolute: int | None = None,
) -> Session:
    """A session that starts now; `idle` and `absolute` (seconds) from the security policy."""
    return Session(
        account_id=account_id,
        state=state,
        staff=staff,
        created=time.time(),
        ip=ip,
        idle=idle,
        absolute=absolute,
    )
