"""Prompting a plan's orders (OPS-19): on its due day an order pushes its assignee, or the
community's maintenance staff when nobody holds it, exactly once (a re-run, a restarted worker
or two sweeps at once push nothing more); overdue, it pushes them once more; nobody of another
community hears of it."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

import pytest

from api.alarms.catalogue import SITE_TIMEZONE
from api.core.auth import Role
from api.push.tables import Notification
from api.workorders import escalation, generation, prompting
from api.workorders.tables import MaintenancePlan, WorkOrder, WorkOrderEntry
from tests.helpers import World, audit_rows, make_account, subscribe
from tests.workorders.helpers import make_assets

# Monday 1 March 2027, 09:00 on site: the day's orders are due at 17:00.
AT = datetime(2027, 3, 1, 9, 0, tzinfo=SITE_TIMEZONE).astimezone(UTC)


async def _plan(community: UUID, kind: str, assignee: UUID | None = None) -> UUID:
    plan = MaintenancePlan(
        community=community,
        name=f"{kind} 周检",
        asset_kind=kind,
        frequency="weekly",
        starts_on=date(2027, 3, 1),
        due_time=time(17, 0),
        horizon_days=30,
        assignee=assignee,
        checklist=[],
        created_at=AT,
        updated_at=AT,
    )
    await plan.save()
    return plan.id


async def _pushes(account: UUID) -> list[tuple[str, str]]:
    """(title's tag, work order id) of every push row the account got."""
    rows = await Notification.select().where(Notification.account == account).output(load_json=True)
    return sorted(
        (r["payload"]["title"].split("】")[0] + "】", r["payload"]["data"]["work_order_id"])
        for r in rows
        if "work_order_id" in r["payload"]["data"]
    )


async def _ids(plan: UUID, day: date) -> list[str]:
    rows = await WorkOrder.select(WorkOrder.id).where(
        (WorkOrder.plan == plan) & (WorkOrder.due_on == day)
    )
    return sorted(str(r["id"]) for r in rows)


@pytest.mark.req("OPS-19")  # with the plan API and execution tests (test_plans.py)
async def test_a_plans_order_pushes_its_assignee_or_the_staff_once_on_its_day_and_once_overdue(
    world: World,
) -> None:
    fixer = world.a.users[Role.MAINTENANCE]
    second = await make_account(Role.MAINTENANCE, community=world.a.community)
    manager = world.a.users[Role.PROPERTY_MANAGER]
    stranger = world.b.users[Role.MAINTENANCE]
    await subscribe(fixer, second, manager, stranger)
    await make_assets(world.a.community, "pump", 2)
    await make_assets(world.a.community, "extinguisher", 1)
    await make_assets(world.b.community, "extinguisher", 1)
    held = await _plan(world.a.community, "pump", assignee=fixer.id)
    free = await _plan(world.a.community, "extinguisher")
    elsewhere = await _plan(world.b.community, "extinguisher")
    await generation.generate(AT)
    day = date(2027, 3, 1)
    pumps, extinguisher = await _ids(held, day), await _ids(free, day)

    await prompting.prompt_due(AT - timedelta(days=1))  # Sunday: not their day yet
    mine = WorkOrder.plan.is_in([held, free, elsewhere])  # other tests' orders share the table
    assert await WorkOrder.count().where(mine & WorkOrder.prompted_at.is_not_null()) == 0
    await prompting.prompt_due(AT)
    # A second sweep, a restarted worker (it has only the database) and two at once: nothing more.
    await prompting.prompt_due(AT + timedelta(minutes=1))
    await asyncio.gather(*(prompting.prompt_due(AT + timedelta(hours=2)) for _ in range(3)))

    due = "【今日保养】"
    assert await _pushes(fixer.id) == sorted([(due, i) for i in pumps + extinguisher])
    assert await _pushes(second.id) == [(due, i) for i in extinguisher]  # nobody holds it
    assert await _pushes(manager.id) == []  # the managers hear only when it is late
    assert await _pushes(stranger.id) == [(due, i) for i in await _ids(elsewhere, day)]
    assert (
        await WorkOrderEntry.count().where(
            WorkOrderEntry.work_order.is_in(pumps + extinguisher)
            & (WorkOrderEntry.kind == "prompted")
        )
        == 3
    )
    assert (await audit_rows("workorder.plan_prompted", held))[0]["details"] == {"orders": 2}
    assert await _ids(held, date(2027, 3, 8))  # next week's are made, not prompted
    assert await WorkOrder.count().where(mine & WorkOrder.prompted_at.is_not_null()) == 4

    # One pump is done; at 18:00 the other one and the extinguisher are overdue: pushed once more.
    await WorkOrder.update({WorkOrder.state: "done", WorkOrder.done_at: AT}).where(
        WorkOrder.id == pumps[0]
    )
    late = AT + timedelta(hours=9)
    await escalation.escalate_due(late)
    await escalation.escalate_due(late + timedelta(minutes=1))

    overdue = "【保养逾期】"
    assert await _pushes(fixer.id) == sorted(
        [(due, i) for i in pumps + extinguisher] + [(overdue, pumps[1]), (overdue, extinguisher[0])]
    )
    assert await _pushes(second.id) == sorted([(due, extinguisher[0]), (overdue, extinguisher[0])])
    assert await _pushes(manager.id) == sorted([(overdue, pumps[1]), (overdue, extinguisher[0])])
    assert [t for t, _ in await _pushes(stranger.id)] == [due, overdue]  # their own order only


@pytest.mark.req("OPS-19", partial=True)
async def test_an_order_first_swept_when_already_overdue_is_prompted_once_not_twice(
    world: World,
) -> None:
    fixer = world.a.users[Role.MAINTENANCE]
    await subscribe(fixer)
    await make_assets(world.a.community, "pump", 1)
    plan = await _plan(world.a.community, "pump", assignee=fixer.id)
    await generation.generate(AT)
    (order,) = await _ids(plan, date(2027, 3, 1))

    evening = AT + timedelta(hours=10)  # the worker was down all day: 19:00, past 17:00
    await prompting.prompt_due(evening)
    await escalation.escalate_due(evening)
    await prompting.prompt_due(evening + timedelta(minutes=1))

    assert await _pushes(fixer.id) == [("【保养逾期】", order)]
