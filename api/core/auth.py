"""Who is calling and what they may reach: roles, permissions and scope.

One dependency (`provide_caller`) turns the session cookie into a `Caller`. Services ask the caller
for the communities (and, for residents, households) in which it holds a permission, and filter
every query by that. A caller outside scope gets 404, never someone else's row — so a missing
permission also answers 404: from outside, "not yours" and "not there" look the same.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException

from api.core.errors import DomainError, NotFound
from api.core.sessions import COOKIE, SessionStore


class Role(StrEnum):
    """The roles of DESIGN.md; the last three are the separated administrators (三员分立)."""

    RESIDENT = "resident"
    GUARD = "guard"
    MAINTENANCE = "maintenance"
    PROPERTY_MANAGER = "property_manager"
    POLICE = "police"
    COMMUNITY_OFFICER = "community_officer"
    SYSTEM_ADMIN = "system_admin"
    SECURITY_ADMIN = "security_admin"
    AUDIT_ADMIN = "audit_admin"


ADMINISTRATORS = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
R = Role

# permission -> roles holding it. Administrators hold no business-data permission: system_admin
# configures places and devices, security_admin accounts and roles, audit_admin reads the audit log.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "community.read": frozenset(set(Role) - {R.SECURITY_ADMIN, R.AUDIT_ADMIN}),
    "community.write": frozenset({R.SYSTEM_ADMIN}),
    "building.write": frozenset({R.SYSTEM_ADMIN, R.PROPERTY_MANAGER}),
    "household.read": frozenset(
        {R.RESIDENT, R.GUARD, R.PROPERTY_MANAGER, R.POLICE, R.COMMUNITY_OFFICER, R.SYSTEM_ADMIN}
    ),
    "household.write": frozenset({R.PROPERTY_MANAGER}),
    "person.read": frozenset({R.RESIDENT, R.PROPERTY_MANAGER, R.POLICE, R.COMMUNITY_OFFICER}),
    "person.write": frozenset({R.PROPERTY_MANAGER}),
    "person.reveal": frozenset({R.PROPERTY_MANAGER, R.POLICE}),
    "account.read": frozenset({R.SECURITY_ADMIN}),
    "account.write": frozenset({R.SECURITY_ADMIN}),
    "audit.read": frozenset({R.AUDIT_ADMIN}),
    # live community boards (alarms, device status) over the WebSocket: staff and police, never
    # residents, whose sockets carry only their own events
    "board.read": frozenset(
        {R.GUARD, R.MAINTENANCE, R.PROPERTY_MANAGER, R.POLICE, R.COMMUNITY_OFFICER, R.SYSTEM_ADMIN}
    ),
    "device.read": frozenset(
        {R.GUARD, R.MAINTENANCE, R.PROPERTY_MANAGER, R.POLICE, R.SYSTEM_ADMIN}
    ),
    "device.write": frozenset({R.SYSTEM_ADMIN}),
    "device.command": frozenset({R.SYSTEM_ADMIN, R.MAINTENANCE}),
    "door.open": frozenset({R.RESIDENT}),
    # Access control: managers configure points/groups/schedules and enrol credentials; guards
    # open doors from the desk and release them in an emergency; residents ask for their QR.
    "access.configure": frozenset({R.PROPERTY_MANAGER, R.SYSTEM_ADMIN}),
    "credential.read": frozenset({R.GUARD, R.PROPERTY_MANAGER}),
    "credential.write": frozenset({R.PROPERTY_MANAGER}),
    "access.qr": frozenset({R.RESIDENT}),
    "door.remote_open": frozenset({R.GUARD, R.PROPERTY_MANAGER}),
    "access.emergency": frozenset({R.GUARD, R.PROPERTY_MANAGER}),
    "access.export": frozenset({R.PROPERTY_MANAGER, R.POLICE}),
    "access.read": frozenset(
        {R.RESIDENT, R.GUARD, R.PROPERTY_MANAGER, R.POLICE, R.COMMUNITY_OFFICER}
    ),
    # Alarms: residents see their household's; police their jurisdiction's; administrators none.
    "alarm.read": frozenset({R.RESIDENT, R.GUARD, R.PROPERTY_MANAGER, R.POLICE}),
    "alarm.handle": frozenset({R.GUARD, R.PROPERTY_MANAGER}),
    "alarm.configure": frozenset({R.PROPERTY_MANAGER}),
    "alarm.stats": frozenset({R.PROPERTY_MANAGER, R.POLICE}),
    "zone.arm": frozenset({R.RESIDENT, R.GUARD, R.PROPERTY_MANAGER}),
    "sos.raise": frozenset({R.RESIDENT}),
    # Intercom: residents answer their household's calls, guards the guard room's; managers read
    # the community's call records. Live camera view: guards, managers, police of the jurisdiction.
    "intercom.answer": frozenset({R.RESIDENT, R.GUARD}),
    "intercom.read": frozenset({R.RESIDENT, R.GUARD, R.PROPERTY_MANAGER}),
    "video.view": frozenset({R.GUARD, R.PROPERTY_MANAGER, R.POLICE}),
    # Visitors: residents book and answer for their own household; the desk (guards, managers)
    # registers walk-ins and sees who is inside; police read their jurisdiction's passes.
    "visitor.book": frozenset({R.RESIDENT}),
    "visitor.read": frozenset({R.RESIDENT, R.GUARD, R.PROPERTY_MANAGER, R.POLICE}),
    "visitor.desk": frozenset({R.GUARD, R.PROPERTY_MANAGER}),
    "visitor.reveal": frozenset({R.GUARD, R.PROPERTY_MANAGER, R.POLICE}),
}


class SessionExpired(DomainError):
    """The cookie names a session that has timed out or ended."""

    status_code = 401
    code = "session_expired"
    message = "Your session has ended; please log in again."


ALL = None  # "every community": the scope of a global (unscoped) administrator


class Assignment(msgspec.Struct, frozen=True, kw_only=True):
    """One role of the caller and where it applies."""

    role: Role
    community_id: UUID | None = None
    household_id: UUID | None = None
    jurisdiction_id: UUID | None = None
    # For police and community officers: the communities of their jurisdiction, resolved at login.
    jurisdiction_communities: frozenset[UUID] = frozenset()


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated account behind a request."""

    account_id: UUID
    username: str
    display_name: str
    assignments: tuple[Assignment, ...]
    ip: str | None = None

    @property
    def roles(self) -> frozenset[Role]:
        """Every role the caller holds anywhere."""
        return frozenset(a.role for a in self.assignments)

    @property
    def primary_role(self) -> Role | None:
        """The role recorded in the audit log beside the caller's actions."""
        return self.assignments[0].role if self.assignments else None

    def holds(self, permission: str) -> bool:
        """True when some role of the caller carries the permission somewhere."""
        return any(a.role in PERMISSIONS[permission] for a in self.assignments)

    def communities(self, permission: str) -> frozenset[UUID] | None:
        """Communities where the caller holds the permission; None means all of them."""
        found: set[UUID] = set()
        for a in self._with(permission):
            if a.jurisdiction_id is not None:
                found |= a.jurisdiction_communities
            elif a.community_id is not None:
                found.add(a.community_id)
            else:
                return ALL
        return frozenset(found)

    def households(self, permission: str) -> frozenset[UUID] | None:
        """For a permission held only through household roles: those households; else None."""
        held = self._with(permission)
        if not held or any(a.household_id is None for a in held):
            return None
        return frozenset(a.household_id for a in held if a.household_id is not None)

    def require(self, permission: str, community_id: UUID | None = None) -> None:
        """Raise NotFound unless the caller holds the permission (in that community, when given)."""
        scope = self.communities(permission)
        if not self.holds(permission) or (
            community_id is not None and scope is not ALL and community_id not in scope
        ):
            raise NotFound()

    def _with(self, permission: str) -> list[Assignment]:
        return [a for a in self.assignments if a.role in PERMISSIONS[permission]]


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The peer address (the reverse proxy in front is expected to set it)."""
    return request.client.host if request.client else None


class CallerLoader(Protocol):
    """The caller behind an account, or None: the accounts domain's `load_caller`, which
    api/app.py puts in the app's state as `load_caller` (core does not import accounts)."""

    async def __call__(self, account_id: UUID, *, ip: str | None) -> Caller | None: ...


async def provide_caller(request: Request[Any, Any, Any], state: State) -> Caller:
    """The dependency every protected route takes: an active session's caller, or 401."""
    load_caller: CallerLoader = state.load_caller
    store: SessionStore = state.sessions
    token = request.cookies.get(COOKIE)
    session = await store.get(token)
    if session is None:
        raise SessionExpired() if token else NotAuthorizedException("Please log in.")
    if session.state != "active":
        raise NotAuthorizedException("Finish logging in first.")
    caller = await load_caller(session.account_id, ip=client_ip(request))
    if caller is None:
        await store.end(token)
        raise SessionExpired()
    return caller
