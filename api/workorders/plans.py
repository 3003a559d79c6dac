"""Preventive maintenance plans (保养计划, OPS-19/20): managers draw them up, pause and resume
them, and preview what they would generate; the orders themselves come from `generation.py`.

Who: `workorder.manage` (property managers) of the plan's community; another community's plans
answer 404. Every write is audited (`workorder.plan_created`, `.plan_updated`, `.plan_paused`,
`.plan_resumed`, `.plan_deleted`). A new or resumed plan generates its orders at once (the
hourly job keeps the horizon filled after that). `execution` counts how its orders fare.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Final
from uuid import UUID, uuid4

import msgspec
from piccolo.columns.combination import Combinable

from api.alarms.catalogue import SITE_TIMEZONE
from api.audit.service import record
from api.core.auth import Caller, Scope, require_staff
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.devices.tables import Device
from api.piccolo_conf import DB
from api.workorders import generation
from api.workorders.catalogue import ENDED_STATES, OPEN_STATES
from api.workorders.errors import PlanPeriodInvalid, PlanScheduleInvalid, UnknownAssignee
from api.workorders.orders import maintenance_staff, now
from api.workorders.schemas import (
    MaintenancePlanCreate,
    MaintenancePlanExecution,
    MaintenancePlanPage,
    MaintenancePlanPreview,
    MaintenancePlanRead,
    MaintenancePlanUpdate,
)
from api.workorders.tables import MaintenancePlan, WorkOrder, WorkOrderEntry

PERMISSION = "workorder.manage"
DEFAULT_DUE_TIME = time(17, 0)  # wall-clock, site timezone
COLUMNS = (
    *MaintenancePlan.all_columns(),
    MaintenancePlan.assignee.display_name.as_alias("assignee_name"),
)


async def _read(rows: list[dict[str, Any]]) -> list[MaintenancePlanRead]:
    """Plans with their counts of in-service assets and open orders (two grouped queries)."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    open_orders = {
        r["plan"]: r["n"]
        for r in await WorkOrder.raw(
            "SELECT plan, count(*) AS n FROM work_orders WHERE plan = ANY({}::uuid[]) "
            "AND state <> ALL({}::text[]) GROUP BY plan",
            ids,
            list(ENDED_STATES),
        )
    }
    pairs = {(r["community"], r["asset_kind"]) for r in rows}
    assets = {
        (r["community"], r["kind"]): r["n"]
        for r in await Device.raw(
            "SELECT community, kind, count(*) AS n FROM devices WHERE status = 'in_service' "
            "AND community = ANY({}::uuid[]) AND kind = ANY({}::text[]) GROUP BY community, kind",
            list({c for c, _ in pairs}),
            list({k for _, k in pairs}),
        )
    }
    return [
        MaintenancePlanRead(
            id=r["id"],
            community_id=r["community"],
            name=r["name"],
            asset_kind=r["asset_kind"],
            frequency=r["frequency"],
            interval_days=r["interval_days"],
            starts_on=r["starts_on"],
            due_time=r["due_time"],
            horizon_days=r["horizon_days"],
            priority=r["priority"],
            assignee_id=r["assignee"],
            assignee_name=r["assignee_name"],
            checklist=r["checklist"],
            signature_required=r["signature_required"],
            paused=r["paused"],
            description=r["description"],
            assets=assets.get((r["community"], r["asset_kind"]), 0),
            open_orders=open_orders.get(r["id"], 0),
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )
        for r in rows
    ]


async def _row(plan_id: UUID) -> dict[str, Any] | None:
    return await (
        MaintenancePlan.select(*COLUMNS)
        .where(MaintenancePlan.id == plan_id)
        .output(load_json=True)
        .first()
    )


async def _in_scope(caller: Caller, plan_id: UUID) -> dict[str, Any]:
    """The plan if the caller manages its community; NotFound otherwise."""
    row = await _row(plan_id)
    if row is None or not Scope.of(caller, PERMISSION).staff_in(row["community"]):
        raise NotFound()
    return row


async def _one(plan_id: UUID) -> MaintenancePlanRead:
    row = await _row(plan_id)
    assert row is not None
    return (await _read([row]))[0]


async def _audit(caller: Caller, action: str, plan: dict[str, Any], **details: Any) -> None:
    await record(
        action,
        actor=caller,
        target_type="maintenance_plan",
        target_id=plan["id"],
        community_id=plan["community"],
        details=details or None,
    )


async def _check_assignee(community_id: UUID, assignee_id: UUID | None) -> None:
    if assignee_id is not None and assignee_id not in await maintenance_staff(community_id):
        raise UnknownAssignee(field="assignee_id")


async def list_plans(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    asset_kind: str | None = None,
    paused: bool | None = None,
) -> MaintenancePlanPage:
    """The plans of the caller's communities, by name."""
    where: Combinable | None = Scope.of(caller, PERMISSION).where(MaintenancePlan.community)
    rows, total = await paged(
        MaintenancePlan.select(*COLUMNS)
        .order_by(MaintenancePlan.name)
        .order_by(MaintenancePlan.id)
        .output(load_json=True),
        where,
        equals(MaintenancePlan.community, community_id),
        equals(MaintenancePlan.asset_kind, asset_kind),
        equals(MaintenancePlan.paused, paused),
        page=page,
        page_size=page_size,
    )
    return MaintenancePlanPage(items=await _read(rows), total=total, page=page, page_size=page_size)


async def get_plan(caller: Caller, plan_id: UUID) -> MaintenancePlanRead:
    """One plan (managers of its community)."""
    await _in_scope(caller, plan_id)
    return await _one(plan_id)


async def create_plan(caller: Caller, data: MaintenancePlanCreate) -> MaintenancePlanRead:
    """Draw up a plan, and generate its orders within the horizon at once."""
    require_staff(caller, PERMISSION, data.community_id)
    if (data.frequency == "every_n_days") != (data.interval_days is not None):
        raise PlanScheduleInvalid(field="interval_days")
    await _check_assignee(data.community_id, data.assignee_id)
    at = now()
    plan = MaintenancePlan(
        id=uuid4(),
        community=data.community_id,
        name=data.name,
        asset_kind=data.asset_kind,
        frequency=data.frequency,
        interval_days=data.interval_days,
        starts_on=data.starts_on,
        due_time=data.due_time or DEFAULT_DUE_TIME,
        horizon_days=data.horizon_days,
        priority=data.priority,
        assignee=data.assignee_id,
        checklist=list(data.checklist),
        signature_required=data.signature_required,
        paused=False,
        description=data.description,
        created_by=caller.account_id,
        created_at=at,
        updated_at=at,
    )
    async with DB.transaction():
        await plan.save()
        await _audit(
            caller,
            "workorder.plan_created",
            {"id": plan.id, "community": data.community_id},
            name=data.name,
            asset_kind=data.asset_kind,
            frequency=data.frequency,
        )
    await generation.generate(plan_id=plan.id)
    return await _one(plan.id)


async def update_plan(
    caller: Caller, plan_id: UUID, data: MaintenancePlanUpdate
) -> MaintenancePlanRead:
    """Change a plan's name, horizon, priority, assignee, checklist, signature or description;
    orders generated from now on carry the change."""
    plan = await _in_scope(caller, plan_id)
    changes = {
        field: value
        for field, value in msgspec.structs.asdict(data).items()
        if value is not msgspec.UNSET
    }
    if "assignee_id" in changes:
        await _check_assignee(plan["community"], changes["assignee_id"])
        changes["assignee"] = changes.pop("assignee_id")
    if not changes:
        return await _one(plan_id)
    async with DB.transaction():
        await MaintenancePlan.update(
            {
                **{getattr(MaintenancePlan, k): v for k, v in changes.items()},
                MaintenancePlan.updated_at: now(),
            }
        ).where(MaintenancePlan.id == plan_id)
        await _audit(
            caller, "workorder.plan_updated", plan, fields=sorted(changes), name=plan["name"]
        )
    await generation.generate(plan_id=plan_id)  # a longer horizon reaches further at once
    return await _one(plan_id)


async def set_paused(caller: Caller, plan_id: UUID, *, paused: bool) -> MaintenancePlanRead:
    """Pause a plan (it generates nothing more; orders made stay) or resume it (it generates its
    horizon at once)."""
    plan = await _in_scope(caller, plan_id)
    async with DB.transaction():
        await MaintenancePlan.update(
            {MaintenancePlan.paused: paused, MaintenancePlan.updated_at: now()}
        ).where(MaintenancePlan.id == plan_id)
        await _audit(caller, "workorder.plan_paused" if paused else "workorder.plan_resumed", plan)
    if not paused:
        await generation.generate(plan_id=plan_id)
    return await _one(plan_id)


async def delete_plan(caller: Caller, plan_id: UUID) -> None:
    """Delete a plan: its orders nobody has started (`new`, `assigned`) are cancelled with the
    reason `plan_deleted`; the others are kept, without their plan."""
    plan = await _in_scope(caller, plan_id)
    at = now()
    async with DB.transaction():
        cancelled = (
            await WorkOrder.update(
                {WorkOrder.state: "cancelled", WorkOrder.cancel_reason: "plan_deleted"}
            )
            .where(
                (WorkOrder.plan == plan_id)
                & WorkOrder.state.is_in(["new", "assigned"])
                & (WorkOrder.due_at > at)
            )
            .returning(WorkOrder.id, WorkOrder.state)
        )
        if cancelled:
            await WorkOrderEntry.insert(
                *(
                    WorkOrderEntry(
                        work_order=c["id"],
                        at=at,
                        kind="moved",
                        actor=caller.account_id,
                        to_state="cancelled",
                        text="保养计划已删除",
                        data={"reason": "plan_deleted"},
                    )
                    for c in cancelled
                )
            )
        await MaintenancePlan.delete().where(MaintenancePlan.id == plan_id)
        await _audit(
            caller, "workorder.plan_deleted", plan, name=plan["name"], cancelled=len(cancelled)
        )


async def preview_plan(caller: Caller, plan_id: UUID, days: int) -> MaintenancePlanPreview:
    """What generating the plan `days` ahead would make now (orders not made yet)."""
    await _in_scope(caller, plan_id)
    found = await generation.preview(plan_id, days)
    return MaintenancePlanPreview(
        days=days,
        orders=found.orders,
        assets=found.assets,
        first_due_on=found.first_due_on,
        last_due_on=found.last_due_on,
    )


# A plan's orders due in a period, counted by outcome in one pass (`at` decides overdue vs open).
# Done is `done_at` set: done, or closed after done (back to work clears it).
EXECUTION: Final = """
SELECT count(*) AS generated,
       count(*) FILTER (WHERE state <> 'cancelled' AND done_at IS NOT NULL
                        AND done_at <= due_at) AS done_on_time,
       count(*) FILTER (WHERE state <> 'cancelled' AND done_at IS NOT NULL
                        AND done_at > due_at) AS done_late,
       count(*) FILTER (WHERE state = ANY({}::text[]) AND due_at < {}::timestamptz) AS overdue,
       count(*) FILTER (WHERE state = ANY({}::text[]) AND due_at >= {}::timestamptz) AS open,
       count(*) FILTER (WHERE state = 'cancelled') AS cancelled
FROM work_orders
WHERE plan = {}::uuid AND due_on BETWEEN {}::date AND {}::date
"""
MAX_PERIOD_DAYS: Final = 366


async def execution(
    caller: Caller,
    plan_id: UUID,
    *,
    since: date | None = None,
    until: date | None = None,
    at: datetime | None = None,
) -> MaintenancePlanExecution:
    """The plan's orders due `since`…`until` (site dates; default the 30 days to today) by
    outcome: done on time, done late, overdue, open, cancelled."""
    await _in_scope(caller, plan_id)
    at = at or now()
    until = until or at.astimezone(SITE_TIMEZONE).date()
    since = since or until - timedelta(days=29)
    if since > until or (until - since).days >= MAX_PERIOD_DAYS:
        raise PlanPeriodInvalid(field="since")
    row = (
        await WorkOrder.raw(
            EXECUTION, list(OPEN_STATES), at, list(OPEN_STATES), at, plan_id, since, until
        )
    )[0]
    settled = row["generated"] - row["cancelled"] - row["open"]
    return MaintenancePlanExecution(
        plan_id=plan_id,
        since=since,
        until=until,
        generated=row["generated"],
        done_on_time=row["done_on_time"],
        done_late=row["done_late"],
        overdue=row["overdue"],
        open=row["open"],
        cancelled=row["cancelled"],
        on_time_rate=round(row["done_on_time"] / settled, 3) if settled else None,
    )
