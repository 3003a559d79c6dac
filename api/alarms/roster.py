"""The duty roster, and who is told of an alarm: on-duty guards, managers, the household, police.

"On duty now" means the guards of the community with a shift covering now. A community that has
rostered nobody for now is not left unguarded: then every guard of the community counts as on duty.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.accounts.tables import Account, RoleAssignment
from api.alarms.errors import NotAGuard
from api.alarms.schemas_config import (
    GuardRead,
    OnDutyRead,
    ShiftCreate,
    ShiftPage,
    ShiftRead,
)
from api.alarms.tables import DutyShift
from api.audit.service import record
from api.communities.tables import Community
from api.core.auth import Caller, Role, require_staff, staff_communities
from api.core.errors import NotFound
from api.core.paging import paged_page
from api.piccolo_conf import DB


def _now() -> datetime:
    return datetime.now(UTC)


async def _guards(community_id: UUID) -> dict[UUID, str]:
    """Active guard accounts of the community, with display names."""
    rows = await RoleAssignment.select(
        RoleAssignment.account, RoleAssignment.account.display_name.as_alias("name")
    ).where(
        (RoleAssignment.role == Role.GUARD)
        & (RoleAssignment.community == community_id)
        & RoleAssignment.account._.is_active.eq(True)
    )
    return {r["account"]: r["name"] for r in rows}


async def on_duty(community_id: UUID, at: datetime | None = None) -> list[OnDutyRead]:
    """The guards on duty at a moment (now by default); every guard when nobody is rostered."""
    at = at or _now()
    guards = await _guards(community_id)
    rostered = {
        r["account"]
        for r in await DutyShift.select(DutyShift.account).where(
            (DutyShift.community == community_id)
            & (DutyShift.starts_at <= at)
            & (DutyShift.ends_at > at)
        )
    } & set(guards)
    chosen = rostered or set(guards)
    return [
        OnDutyRead(account_id=a, name=guards[a], rostered=bool(rostered))
        for a in sorted(chosen, key=lambda a: guards[a])
    ]


async def recipients(
    community_id: UUID, roles: Iterable[str], *, household_id: UUID | None = None
) -> set[UUID]:
    """The active accounts behind recipient roles for one community (and household)."""
    wanted = set(roles)
    found: set[UUID] = set()
    if "guard" in wanted:
        found |= {g.account_id for g in await on_duty(community_id)}
    staff = [r for r in ("property_manager", "maintenance", "community_officer") if r in wanted]
    if staff:
        found |= {
            r["account"]
            for r in await RoleAssignment.select(RoleAssignment.account).where(
                RoleAssignment.role.is_in(staff)
                & (RoleAssignment.community == community_id)
                & RoleAssignment.account._.is_active.eq(True)
            )
        }
    if "household" in wanted and household_id is not None:
        found |= {
            r["account"]
            for r in await RoleAssignment.select(RoleAssignment.account).where(
                (RoleAssignment.role == Role.RESIDENT)
                & (RoleAssignment.household == household_id)
                & RoleAssignment.account._.is_active.eq(True)
            )
        }
    if "police" in wanted:
        community = (
            await Community.select(Community.jurisdiction)
            .where(Community.id == community_id)
            .first()
        )
        if community and community["jurisdiction"]:
            found |= {
                r["account"]
                for r in await RoleAssignment.select(RoleAssignment.account).where(
                    (RoleAssignment.role == Role.POLICE)
                    & (RoleAssignment.jurisdiction == community["jurisdiction"])
                    & RoleAssignment.account._.is_active.eq(True)
                )
            }
    return found


def _read(row: dict[str, Any]) -> ShiftRead:
    return ShiftRead(
        id=row["id"],
        community_id=row["community"],
        account_id=row["account"],
        account_name=row["account_name"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
    )


_COLUMNS = (*DutyShift.all_columns(), DutyShift.account.display_name.as_alias("account_name"))


async def create_shift(caller: Caller, data: ShiftCreate) -> ShiftRead:
    """Roster a guard of the community (property managers)."""
    require_staff(caller, "alarm.configure", data.community_id)
    if data.account_id not in await _guards(data.community_id):
        raise NotAGuard(field="account_id")
    async with DB.transaction():
        shift = DutyShift(
            community=data.community_id,
            account=data.account_id,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
        )
        await shift.save()
        await record(
            "duty_shift.created",
            actor=caller,
            target_type="duty_shift",
            target_id=shift.id,
            community_id=data.community_id,
            details={"account_id": str(data.account_id)},
        )
    row = await DutyShift.select(*_COLUMNS).where(DutyShift.id == shift.id).first()
    assert row is not None
    return _read(row)


async def list_shifts(
    caller: Caller,
    *,
    community_id: UUID | None,
    page: int,
    page_size: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ShiftPage:
    """Shifts of a community (or of every one the caller rosters) overlapping [since, until),
    earliest first."""
    return await paged_page(
        ShiftPage,
        _read,
        DutyShift.select(*_COLUMNS).order_by(DutyShift.starts_at),
        staff_communities(caller, "alarm.configure", DutyShift.community, community_id),
        DutyShift.ends_at > since if since else None,
        DutyShift.starts_at < until if until else None,
        page=page,
        page_size=page_size,
    )


async def delete_shift(caller: Caller, shift_id: UUID) -> None:
    """Take a shift off the roster."""
    row = await DutyShift.select(DutyShift.community).where(DutyShift.id == shift_id).first()
    if row is None:
        raise NotFound()
    require_staff(caller, "alarm.configure", row["community"])
    async with DB.transaction():
        await DutyShift.delete().where(DutyShift.id == shift_id)
        await record(
            "duty_shift.deleted",
            actor=caller,
            target_type="duty_shift",
            target_id=shift_id,
            community_id=row["community"],
        )


async def rosterable_guards(caller: Caller, community_id: UUID) -> list[GuardRead]:
    """The active guards of a community a manager may roster, by name."""
    require_staff(caller, "alarm.configure", community_id)
    guards = await _guards(community_id)
    return [
        GuardRead(account_id=a, name=guards[a]) for a in sorted(guards, key=lambda a: guards[a])
    ]


async def who_is_on_duty(caller: Caller, community_id: UUID) -> list[OnDutyRead]:
    """The guards on duty now, for the handlers and managers of the community."""
    require_staff(caller, "alarm.handle", community_id)
    return await on_duty(community_id)


async def display_name(account_id: UUID | None) -> str | None:
    """An account's display name."""
    if account_id is None:
        return None
    row = await Account.select(Account.display_name).where(Account.id == account_id).first()
    return row["display_name"] if row else None
