"""Who may see which alarms and zones: whole communities (staff, police) or households (residents).

`Caller.communities()` merges both kinds of assignment, which would let someone who is a resident in
one community and staff in another see every alarm of the first. This keeps them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from piccolo.columns import Column

from api.core.auth import PERMISSIONS, Caller
from api.core.errors import NotFound


@dataclass(frozen=True)
class Scope:
    """Where a caller holds a permission: everywhere, in communities, or in households."""

    everywhere: bool
    communities: frozenset[UUID]
    households: frozenset[UUID]

    @classmethod
    def of(cls, caller: Caller, permission: str) -> Scope:
        """The caller's scope for the permission; NotFound when it holds it nowhere."""
        everywhere = False
        communities: set[UUID] = set()
        households: set[UUID] = set()
        for a in caller.assignments:
            if a.role not in PERMISSIONS[permission]:
                continue
            if a.household_id is not None:
                households.add(a.household_id)
            elif a.jurisdiction_id is not None:
                communities |= a.jurisdiction_communities
            elif a.community_id is not None:
                communities.add(a.community_id)
            else:
                everywhere = True
        if not (everywhere or communities or households):
            raise NotFound()
        return cls(everywhere, frozenset(communities), frozenset(households))

    def where(self, community: Column, household: Column) -> Any | None:
        """A filter on rows in scope; None when nothing can be."""
        if self.everywhere:
            return community.is_not_null()
        parts = []
        if self.communities:
            parts.append(community.is_in(list(self.communities)))
        if self.households:
            parts.append(household.is_in(list(self.households)))
        if not parts:
            return None
        return parts[0] | parts[1] if len(parts) == 2 else parts[0]

    def allows(self, community_id: UUID, household_id: UUID | None = None) -> bool:
        """Whether a row of this community (and household) is in scope."""
        return (
            self.everywhere
            or community_id in self.communities
            or (household_id is not None and household_id in self.households)
        )

    def staff_in(self, community_id: UUID) -> bool:
        """Whether the caller holds the permission for the whole community."""
        return self.everywhere or community_id in self.communities

    def check(self, community_id: UUID, household_id: UUID | None = None) -> None:
        """NotFound unless the row is in scope."""
        if not self.allows(community_id, household_id):
            raise NotFound()


def require_staff(caller: Caller, permission: str, community_id: UUID) -> Scope:
    """The scope, after checking the caller holds the permission for the whole community."""
    scope = Scope.of(caller, permission)
    if not scope.staff_in(community_id):
        raise NotFound()
    return scope


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
