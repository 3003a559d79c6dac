"""Who is calling and what they may reach: roles, permissions and scope.

One dependency (`provide_caller`) turns the session cookie into a `Caller`. Services take the
caller's `Scope` for a permission — whole communities, or (for residents) households — and filter
every query by it. A caller outside scope gets 404, never someone else's row — so a missing
permission also answers 404: from outside, "not yours" and "not there" look the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from piccolo.columns import Column

from api.core.errors import DomainError, InvalidInput, NotFound
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
    # self-registration (业主认证): managers review the requests filed through the join link
    "join.review": frozenset({R.PROPERTY_MANAGER}),
    "account.read": frozenset({R.SECURITY_ADMIN}),
    "account.write": frozenset({R.SECURITY_ADMIN}),
    "policy.read": frozenset({R.SECURITY_ADMIN}),
    "policy.write": frozenset({R.SECURITY_ADMIN}),
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
    # The equipment ledger and spare parts: maintenance staff and managers keep them, guards read
    # them (what is where, who maintains it).
    "ledger.read": frozenset({R.GUARD, R.MAINTENANCE, R.PROPERTY_MANAGER}),
    "ledger.write": frozenset({R.MAINTENANCE, R.PROPERTY_MANAGER}),
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
    # Intercom: residents answer (and read) their household's calls, guards the guard room's;
    # managers read every call of the community. Live camera view: guards, managers, police.
    "intercom.answer": frozenset({R.RESIDENT, R.GUARD}),
    "intercom.read": frozenset({R.PROPERTY_MANAGER}),
    "video.view": frozenset({R.GUARD, R.PROPERTY_MANAGER, R.POLICE}),
    # Visitors: residents book and answer for their own household; the desk (guards, managers)
    # registers walk-ins and sees who is inside; police read their jurisdiction's passes.
    "visitor.book": frozenset({R.RESIDENT}),
    "visitor.read": frozenset({R.RESIDENT, R.GUARD, R.PROPERTY_MANAGER, R.POLICE}),
    "visitor.desk": frozenset({R.GUARD, R.PROPERTY_MANAGER}),
    "visitor.reveal": frozenset({R.GUARD, R.PROPERTY_MANAGER, R.POLICE}),
    # Vehicles, tiered (VEH-06): residents register and read their household's cars and passes;
    # guards read the registry and every pass; managers run the registry, blacklist and car
    # parks; system administrators configure car parks and lanes; police search passes by plate
    # in their jurisdiction (each search audited).
    "vehicle.register": frozenset({R.RESIDENT}),
    "vehicle.read": frozenset({R.RESIDENT, R.GUARD, R.PROPERTY_MANAGER}),
    "vehicle.manage": frozenset({R.PROPERTY_MANAGER}),
    "parking.configure": frozenset({R.PROPERTY_MANAGER, R.SYSTEM_ADMIN}),
    "parking.read": frozenset({R.RESIDENT, R.GUARD, R.PROPERTY_MANAGER, R.SYSTEM_ADMIN}),
    "vehicle_pass.read": frozenset({R.RESIDENT, R.GUARD, R.PROPERTY_MANAGER, R.POLICE}),
    "vehicle_pass.search": frozenset({R.GUARD, R.PROPERTY_MANAGER, R.POLICE}),
    # Pass records' CSV export and statistics (VEH-13): managers, and police for their
    # jurisdiction (as the access log's); each export audited. Long-stay and abnormal-entry
    # warnings (VEH-04): guards and managers read them, managers dismiss them with a reason.
    "vehicle_pass.export": frozenset({R.PROPERTY_MANAGER, R.POLICE}),
    "vehicle_pass.stats": frozenset({R.PROPERTY_MANAGER, R.POLICE}),
    "vehicle_warning.read": frozenset({R.GUARD, R.PROPERTY_MANAGER}),
    "vehicle_warning.dismiss": frozenset({R.PROPERTY_MANAGER}),
    # The warnings' thresholds per community (ANA-06): guards read them (vehicle_warning.read),
    # managers change them.
    "vehicle_warning.configure": frozenset({R.PROPERTY_MANAGER}),
    # The lane console (VEH-15): guards and managers lift or close an arm with a stated reason,
    # and let in, refuse or correct a read the bridge held.
    "barrier.control": frozenset({R.GUARD, R.PROPERTY_MANAGER}),
    # Patrol: managers set up areas, checkpoints, routes and plans and follow the rounds; guards
    # see the rounds and walk them (checkpoint codes, the QR labels' secrets, only managers read).
    "patrol.configure": frozenset({R.PROPERTY_MANAGER}),
    "patrol.read": frozenset({R.GUARD, R.PROPERTY_MANAGER}),
    "patrol.scan": frozenset({R.GUARD}),
    # Work orders: staff of the community read its orders, residents their own requests; managers,
    # guards and maintenance open orders, residents repair and complaint requests; managers assign,
    # verify and cancel, maintenance take new orders and work those assigned to them; the
    # requester rates a done request.
    "workorder.read": frozenset({R.RESIDENT, R.GUARD, R.MAINTENANCE, R.PROPERTY_MANAGER}),
    "workorder.create": frozenset({R.RESIDENT, R.GUARD, R.MAINTENANCE, R.PROPERTY_MANAGER}),
    "workorder.manage": frozenset({R.PROPERTY_MANAGER}),
    "workorder.work": frozenset({R.MAINTENANCE}),
    "workorder.rate": frozenset({R.RESIDENT}),
    # O&M records (运维记录): staff of the community read and file incidents, problems, changes,
    # releases and defects and work them; managers approve changes and make the closing moves.
    # Handovers: guards write and acknowledge them, managers read them. Drills and training:
    # managers record them, staff read them.
    "ops.read": frozenset({R.GUARD, R.MAINTENANCE, R.PROPERTY_MANAGER}),
    "ops.write": frozenset({R.GUARD, R.MAINTENANCE, R.PROPERTY_MANAGER}),
    "ops.approve": frozenset({R.PROPERTY_MANAGER}),
    "handover.read": frozenset({R.GUARD, R.PROPERTY_MANAGER}),
    "handover.write": frozenset({R.GUARD}),
    "drill.read": frozenset({R.GUARD, R.MAINTENANCE, R.PROPERTY_MANAGER}),
    "drill.write": frozenset({R.PROPERTY_MANAGER}),
    # Video patrol: managers set camera tours up (patrol.configure); guards in the control room
    # run them, confirming each camera or reporting a problem.
    "patrol.tour_run": frozenset({R.GUARD}),
    # Compliance per guard and route (and its CSV export): managers.
    "patrol.report": frozenset({R.PROPERTY_MANAGER}),
}


class SessionExpired(DomainError):
    """The cookie names a session that has timed out or ended."""

    status_code = 401
    code = "session_expired"
    message = "Your session has ended; please log in again."


class PasswordChangeRequired(DomainError):
    """Someone else chose the password, or it is too old: until it is changed, the session may
    change it, ask who it is and log out, and nothing else."""

    status_code = 403
    code = "password_change_required"
    message = "Change your password before going on."


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


@dataclass(frozen=True)
class Scope:
    """Where a caller holds a permission: everywhere, in whole communities, or in households.

    The two kinds never merge. An account that is a resident in community X and a guard in Y sees
    Y's rows and its own household's rows of X, never the rest of X: a household assignment
    reaches rows of that household (and the places of its community, `where_member`), but no
    other household's and no staff-only row.
    """

    everywhere: bool
    communities: frozenset[UUID]  # held for the whole community (staff, police of a jurisdiction)
    households: frozenset[UUID]  # held for these households only (residents)
    homes: frozenset[UUID]  # the communities of those households

    @classmethod
    def of(cls, caller: Caller, permission: str) -> Scope:
        """The caller's scope for the permission; NotFound when it holds it nowhere."""
        scope = cls.held(caller, permission)
        if scope is None:
            raise NotFound()
        return scope

    @classmethod
    def held(cls, caller: Caller, permission: str) -> Scope | None:
        """The caller's scope for the permission; None when it holds it nowhere."""
        everywhere = False
        communities: set[UUID] = set()
        households: set[UUID] = set()
        homes: set[UUID] = set()
        for a in caller.assignments:
            if a.role not in PERMISSIONS[permission]:
                continue
            if a.household_id is not None:
                households.add(a.household_id)
                if a.community_id is not None:
                    homes.add(a.community_id)
            elif a.jurisdiction_id is not None:
                communities |= a.jurisdiction_communities
            elif a.community_id is not None:
                communities.add(a.community_id)
            else:
                everywhere = True
        if not (everywhere or communities or households):
            return None
        return cls(everywhere, frozenset(communities), frozenset(households), frozenset(homes))

    def where(self, community: Column, household: Column | None = None, *, own: Any = None) -> Any:
        """A filter on rows in scope; None when nothing can be.

        Residents reach rows whose `household` column is one of theirs or, for rows without one,
        those matching `own` (a filter on the caller's own rows, such as their passes) in their
        home communities. Given neither, the rows are staff-only.
        """
        if self.everywhere:
            return community.is_not_null()
        parts = []
        if self.communities:
            parts.append(community.is_in(list(self.communities)))
        if household is not None and self.households:
            parts.append(household.is_in(list(self.households)))
        elif own is not None and self.homes:
            parts.append(community.is_in(list(self.homes)) & own)
        if not parts:
            return None
        return parts[0] | parts[1] if len(parts) == 2 else parts[0]

    def where_member(self, community: Column) -> Any:
        """A filter on rows of the whole community (its places), which its residents reach too;
        None when nothing can be."""
        if self.everywhere:
            return community.is_not_null()
        reach = self.communities | self.homes
        return community.is_in(list(reach)) if reach else None

    @property
    def staff(self) -> bool:
        """Whether the caller holds the permission for some whole community (not only at home)."""
        return self.everywhere or bool(self.communities)

    def staff_in(self, community_id: UUID) -> bool:
        """Whether the caller holds the permission for the whole community."""
        return self.everywhere or community_id in self.communities

    def allows(self, community_id: UUID, household_id: UUID | None) -> bool:
        """Whether a row of this community and household (None: staff-only) is in scope."""
        return self.staff_in(community_id) or (
            household_id is not None and household_id in self.households
        )

    def check(self, community_id: UUID, household_id: UUID | None) -> None:
        """NotFound unless the row of this community and household is in scope."""
        if not self.allows(community_id, household_id):
            raise NotFound()

    def check_member(self, community_id: UUID) -> None:
        """NotFound unless a row of the whole community (a place) is in scope: staff or resident."""
        if not (self.staff_in(community_id) or community_id in self.homes):
            raise NotFound()


def staff_community(caller: Caller, permission: str, community_id: UUID | None) -> UUID:
    """The community a staff-only view is for: the one named (NotFound unless the caller is staff
    there) or, named none, the caller's only community; a caller of several must name one (400
    on `community_id`). A caller without the permission gets NotFound before any of that."""
    scope = Scope.of(caller, permission)
    if community_id is None:
        if scope.everywhere or len(scope.communities) != 1:
            raise InvalidInput("Name the community.", field="community_id")
        return next(iter(scope.communities))
    if not scope.staff_in(community_id):
        raise NotFound()
    return community_id


def require_staff(caller: Caller, permission: str, community_id: UUID) -> Scope:
    """The scope, after checking the caller holds the permission for the whole community."""
    scope = Scope.of(caller, permission)
    if not scope.staff_in(community_id):
        raise NotFound()
    return scope


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The peer address (the reverse proxy in front is expected to set it)."""
    return request.client.host if request.client else None


class CallerLoader(Protocol):
    """The caller behind an account, or None: the accounts domain's `load_caller`, which
    api/app.py puts in the app's state as `load_caller` (core does not import accounts)."""

    async def __call__(self, account_id: UUID, *, ip: str | None) -> Caller | None: ...


async def provide_caller(request: Request[Any, Any, Any], state: State) -> Caller:
    """The dependency every protected route takes: an active session's caller, or 401 (403
    `password_change_required` while a password change is due)."""
    return await _caller(request, state, during_password_change=False)


async def provide_own_caller(request: Request[Any, Any, Any], state: State) -> Caller:
    """The caller for its own account (`/auth/me`), also while a password change is due."""
    return await _caller(request, state, during_password_change=True)


async def _caller(
    request: Request[Any, Any, Any], state: State, *, during_password_change: bool
) -> Caller:
    load_caller: CallerLoader = state.load_caller
    store: SessionStore = state.sessions
    token = request.cookies.get(COOKIE)
    session = await store.get(token)
    if session is None:
        raise SessionExpired() if token else NotAuthorizedException("Please log in.")
    if session.state == "password_change_required" and not during_password_change:
        raise PasswordChangeRequired()
    if session.state not in ("active", "password_change_required"):
        raise NotAuthorizedException("Finish logging in first.")
    caller = await load_caller(session.account_id, ip=client_ip(request))
    if caller is None:
        await store.end(token)
        raise SessionExpired()
    return caller


def staff_communities(
    caller: Caller, permission: str, column: Column, community_id: UUID | None
) -> Any:
    """The filter of a community-wide list: the one community asked for (NotFound unless the caller
    is staff there) or every community where it is; None when there is none. A caller without the
    permission gets NotFound before any parameter is asked of it."""
    scope = Scope.of(caller, permission)
    if community_id is not None:
        if not scope.staff_in(community_id):
            raise NotFound()
        return column == community_id
    if scope.everywhere:
        return column.is_not_null()
    return column.is_in(list(scope.communities)) if scope.communities else None
