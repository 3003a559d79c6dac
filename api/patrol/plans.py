"""Patrol routes (checkpoints in walking order) and plans (when a route is walked, by whom).

Saving a plan makes its rounds for the next day through a job (`jobs.MAKE_PATROL_ROUNDS`, after
commit); a cron job keeps every active plan's rounds a day ahead (rounds.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from api.accounts.tables import RoleAssignment
from api.core import jobs
from api.core.auth import Caller, Role, Scope, require_staff
from api.core.effects import Effects
from api.core.paging import equals, paged, paged_page
from api.patrol.errors import (
    InUse,
    InvalidPlan,
    UnknownCheckpoint,
    UnknownGuard,
    UnknownRoute,
)
from api.patrol.points import audited, changes_of, row_in_scope
from api.patrol.rounds import drop_unbegun
from api.patrol.rows import PlanRow
from api.patrol.schemas import (
    PatrolGuard,
    PatrolPlanCreate,
    PatrolPlanPage,
    PatrolPlanRead,
    PatrolPlanUpdate,
    PatrolRouteCreate,
    PatrolRoutePage,
    PatrolRouteRead,
    PatrolRouteUpdate,
    PatrolStop,
    check_fits,
    check_windows,
)
from api.patrol.tables import Checkpoint, PatrolPlan, PatrolRoute
from api.piccolo_conf import DB


def _now() -> datetime:
    return datetime.now(UTC)


# -- routes ----------------------------------------------------------------------------------------


async def _names(ids: list[Any]) -> dict[str, str]:
    if not ids:
        return {}
    rows = await Checkpoint.select(Checkpoint.id, Checkpoint.name).where(
        Checkpoint.id.is_in([UUID(str(i)) for i in ids])
    )
    return {str(r["id"]): r["name"] for r in rows}


def _route(row: dict[str, Any], names: dict[str, str]) -> PatrolRouteRead:
    return PatrolRouteRead(
        id=row["id"],
        community_id=row["community"],
        name=row["name"],
        checkpoints=[
            PatrolStop(id=UUID(str(c)), name=names[str(c)])
            for c in row["checkpoints"]
            if str(c) in names
        ],
    )


async def _check_stops(community_id: UUID, ids: list[UUID]) -> None:
    found = await Checkpoint.count().where(
        Checkpoint.id.is_in(ids) & (Checkpoint.community == community_id)
    )
    if found != len(ids):
        raise UnknownCheckpoint(field="checkpoints")


async def create_route(caller: Caller, data: PatrolRouteCreate) -> PatrolRouteRead:
    """A route through checkpoints of the community, in order."""
    require_staff(caller, "patrol.configure", data.community_id)
    await _check_stops(data.community_id, data.checkpoints)
    async with DB.transaction():
        route = PatrolRoute(
            community=data.community_id,
            name=data.name,
            checkpoints=[str(c) for c in data.checkpoints],
            created_at=_now(),
        )
        await route.save()
        await audited(
            caller,
            "patrol.route_created",
            "patrol_route",
            route.id,
            data.community_id,
            checkpoints=len(data.checkpoints),
        )
    return await get_route(caller, route.id)


async def get_route(caller: Caller, route_id: UUID) -> PatrolRouteRead:
    """One route with its checkpoints."""
    row = await row_in_scope(caller, PatrolRoute, route_id, "patrol.read")
    return _route(row, await _names(row["checkpoints"]))


async def list_routes(
    caller: Caller, *, page: int, page_size: int, community_id: UUID | None
) -> PatrolRoutePage:
    """Routes of the communities where the caller is staff."""
    rows, total = await paged(
        PatrolRoute.select().order_by(PatrolRoute.name).output(load_json=True),
        Scope.of(caller, "patrol.read").where(PatrolRoute.community),
        equals(PatrolRoute.community, community_id),
        page=page,
        page_size=page_size,
    )
    names = await _names([c for r in rows for c in r["checkpoints"]])
    return PatrolRoutePage(
        items=[_route(r, names) for r in rows], total=total, page=page, page_size=page_size
    )


async def update_route(caller: Caller, route_id: UUID, data: PatrolRouteUpdate) -> PatrolRouteRead:
    """Rename a route or change its checkpoints; rounds already made keep theirs."""
    row = await row_in_scope(caller, PatrolRoute, route_id, "patrol.configure")
    changes: dict[Any, Any] = {}
    if data.name is not msgspec.UNSET:
        changes[PatrolRoute.name] = data.name
    if data.checkpoints is not msgspec.UNSET:
        await _check_stops(row["community"], data.checkpoints)
        changes[PatrolRoute.checkpoints] = [str(c) for c in data.checkpoints]
    if changes:
        async with DB.transaction():
            await PatrolRoute.update(changes).where(PatrolRoute.id == route_id)
            await audited(
                caller,
                "patrol.route_updated",
                "patrol_route",
                route_id,
                row["community"],
                fields=sorted(c._meta.name for c in changes),
            )
    return await get_route(caller, route_id)


async def delete_route(caller: Caller, route_id: UUID) -> None:
    """Delete a route no plan uses (409 otherwise)."""
    row = await row_in_scope(caller, PatrolRoute, route_id, "patrol.configure")
    if await PatrolPlan.exists().where(PatrolPlan.route == route_id):
        raise InUse()
    async with DB.transaction():
        await PatrolRoute.delete().where(PatrolRoute.id == route_id)
        await audited(caller, "patrol.route_deleted", "patrol_route", route_id, row["community"])


# -- plans -----------------------------------------------------------------------------------------


def _plan(row: dict[str, Any]) -> PatrolPlanRead:
    plan = msgspec.convert(row, PlanRow)
    return PatrolPlanRead(
        id=plan.id,
        community_id=plan.community,
        route_id=plan.route,
        name=plan.name,
        guards=plan.guards,
        day_starts=plan.day_starts,
        night_starts=plan.night_starts,
        day_every=plan.day_every,
        night_every=plan.night_every,
        round_minutes=plan.round_minutes,
        grace_minutes=plan.grace_minutes,
        active=plan.active,
    )


async def community_guards(caller: Caller, community_id: UUID) -> list[PatrolGuard]:
    """The active guards of a community, by name: whom a plan may name (managers)."""
    require_staff(caller, "patrol.configure", community_id)
    rows = (
        await RoleAssignment.select(
            RoleAssignment.account.as_alias("id"),
            RoleAssignment.account._.display_name.as_alias("name"),
        )
        .where(
            (RoleAssignment.role == Role.GUARD.value)
            & (RoleAssignment.community == community_id)
            & RoleAssignment.account._.is_active.eq(True)
        )
        .order_by(RoleAssignment.account._.display_name)
    )
    return [PatrolGuard(id=r["id"], name=r["name"]) for r in rows]


async def _check_guards(community_id: UUID, guards: list[UUID]) -> None:
    if not guards:
        return
    rows = await RoleAssignment.select(RoleAssignment.account).where(
        RoleAssignment.account.is_in(guards)
        & (RoleAssignment.role == Role.GUARD.value)
        & (RoleAssignment.community == community_id)
    )
    if {r["account"] for r in rows} != set(guards):
        raise UnknownGuard(field="guards")


def _made(plan_id: UUID, effects: Effects) -> None:
    effects.job(jobs.MAKE_PATROL_ROUNDS, plan_id=plan_id)


async def create_plan(caller: Caller, data: PatrolPlanCreate, effects: Effects) -> PatrolPlanRead:
    """A plan for a route; its rounds are made after commit."""
    scope = Scope.of(caller, "patrol.configure")
    route = await PatrolRoute.select().where(PatrolRoute.id == data.route_id).first()
    if route is None or not scope.staff_in(route["community"]):
        raise UnknownRoute(field="route_id")
    await _check_guards(route["community"], data.guards)
    async with DB.transaction():
        plan = PatrolPlan(
            community=route["community"],
            route=data.route_id,
            name=data.name,
            guards=[str(g) for g in data.guards],
            day_starts=data.day_starts,
            night_starts=data.night_starts,
            day_every=data.day_every,
            night_every=data.night_every,
            round_minutes=data.round_minutes,
            grace_minutes=data.grace_minutes,
            active=data.active,
            created_at=_now(),
        )
        await plan.save()
        await audited(caller, "patrol.plan_created", "patrol_plan", plan.id, route["community"])
    _made(plan.id, effects)
    return await get_plan(caller, plan.id)


async def get_plan(caller: Caller, plan_id: UUID) -> PatrolPlanRead:
    """One plan."""
    return _plan(await row_in_scope(caller, PatrolPlan, plan_id, "patrol.read"))


async def list_plans(
    caller: Caller, *, page: int, page_size: int, community_id: UUID | None
) -> PatrolPlanPage:
    """Plans of the communities where the caller is staff."""
    return await paged_page(
        PatrolPlanPage,
        _plan,
        PatrolPlan.select().order_by(PatrolPlan.name).output(load_json=True),
        Scope.of(caller, "patrol.read").where(PatrolPlan.community),
        equals(PatrolPlan.community, community_id),
        page=page,
        page_size=page_size,
    )


async def update_plan(
    caller: Caller, plan_id: UUID, data: PatrolPlanUpdate, effects: Effects
) -> PatrolPlanRead:
    """Change a plan; its rounds not yet begun and not scanned are made again."""
    row = await row_in_scope(caller, PatrolPlan, plan_id, "patrol.configure")
    plan = msgspec.convert(row, PlanRow)
    changes = changes_of(PatrolPlan, data, {})
    if data.guards is not msgspec.UNSET:
        await _check_guards(plan.community, data.guards)
        changes[PatrolPlan.guards] = [str(g) for g in data.guards]
    merged = msgspec.structs.replace(plan, **{c._meta.name: v for c, v in changes.items()})
    try:
        check_windows(merged.day_starts, merged.night_starts)
        check_fits(merged.round_minutes, merged.grace_minutes, merged.day_every, merged.night_every)
    except ValueError as e:
        raise InvalidPlan(str(e)) from None
    if changes:
        async with DB.transaction():
            await PatrolPlan.update(changes).where(PatrolPlan.id == plan_id)
            await drop_unbegun(plan_id, _now())
            await audited(
                caller,
                "patrol.plan_updated",
                "patrol_plan",
                plan_id,
                plan.community,
                fields=sorted(c._meta.name for c in changes),
            )
        _made(plan_id, effects)
    return await get_plan(caller, plan_id)


async def delete_plan(caller: Caller, plan_id: UUID) -> None:
    """Delete a plan and its rounds not yet begun; rounds walked stay on record."""
    row = await row_in_scope(caller, PatrolPlan, plan_id, "patrol.configure")
    async with DB.transaction():
        await drop_unbegun(plan_id, _now())
        await PatrolPlan.delete().where(PatrolPlan.id == plan_id)
        await audited(caller, "patrol.plan_deleted", "patrol_plan", plan_id, row["community"])
