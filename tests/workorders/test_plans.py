"""Preventive maintenance plans: a plan generates its orders ahead within its horizon, for every
in-service asset of its kind in its community, once each (a re-run or two runs at once make
none twice); retired assets get none and lose the open ones; a paused plan makes nothing; the
API is the community's managers' (another community's plans answer 404) and audited; done needs
the signature a plan requires."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from api.alarms.catalogue import SITE_TIMEZONE
from api.core.auth import Role
from api.devices.tables import Device
from api.workorders import generation
from api.workorders.tables import MaintenancePlan, WorkOrder, WorkOrderEntry
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, audit_rows
from tests.workorders.helpers import SIGNATURE, make_assets

URL = "/api/v1/workorders"
PLANS = f"{URL}/plans"
# A fixed Monday morning on site: generation is given its time, so dates are exact.
AT = datetime(2027, 3, 1, 9, 0, tzinfo=SITE_TIMEZONE).astimezone(UTC)


async def _plan(community: UUID, **fields: object) -> UUID:
    """A plan row, not paused, starting on AT's date, due at 17:00."""
    values: dict[str, Any] = {
        "community": community,
        "name": "灭火器月检",
        "asset_kind": "extinguisher",
        "frequency": "monthly",
        "interval_days": None,
        "starts_on": date(2027, 3, 1),
        "due_time": time(17, 0),
        "horizon_days": 30,
        "priority": "normal",
        "checklist": ["压力表在绿区", "铅封完好"],
        "signature_required": False,
        "paused": False,
        "created_at": AT,
        "updated_at": AT,
    }
    values.update(fields)
    plan = MaintenancePlan(**values)
    await plan.save()
    return plan.id


async def _orders(plan: UUID) -> list[dict]:
    return await (
        WorkOrder.select()
        .where(WorkOrder.plan == plan)
        .order_by(WorkOrder.due_on)
        .output(load_json=True)
    )


@pytest.mark.req("OPS-20")
async def test_a_plan_generates_its_orders_ahead_for_each_in_service_asset_once(
    world: World,
) -> None:
    pumps = await make_assets(world.a.community, "pump", 3)
    await make_assets(world.a.community, "pump", 1, status="retired")
    await make_assets(world.a.community, "pump", 1, status="in_stock")
    await make_assets(world.b.community, "pump", 2)  # another community's: not this plan's
    plan = await _plan(world.a.community, name="水泵周检", asset_kind="pump", frequency="weekly")

    made = await generation.generate(AT, plan_id=plan)
    assert made == {plan: 3 * 5}  # Mar 1 (17:00, after 9:00), 8, 15, 22, 29 — within 30 days
    orders = await _orders(plan)
    assert {o["device"] for o in orders} == set(pumps)
    assert sorted({o["due_on"] for o in orders}) == [date(2027, 3, d) for d in (1, 8, 15, 22, 29)]
    first = orders[0]
    assert first["kind"] == "preventive" and first["state"] == "new"
    assert first["due_at"] == datetime.combine(date(2027, 3, 1), time(17), SITE_TIMEZONE)
    assert first["checklist"] == [
        {"step": "压力表在绿区", "done": False},
        {"step": "铅封完好", "done": False},
    ]
    created = await WorkOrderEntry.count().where(
        WorkOrderEntry.work_order.is_in([o["id"] for o in orders])
        & (WorkOrderEntry.kind == "created")
    )
    assert created == 15

    assert await generation.generate(AT, plan_id=plan) == {}  # a re-run makes nothing
    later = AT + timedelta(days=7)  # a week on, the horizon reaches one more date
    assert await generation.generate(later, plan_id=plan) == {plan: 3}
    assert max(o["due_on"] for o in await _orders(plan)) == date(2027, 4, 5)
    runs = await audit_rows("workorder.plan_generated", plan)
    assert [r["details"]["orders"] for r in runs] == [15, 3]


@pytest.mark.parametrize(
    ("frequency", "interval", "starts_on", "horizon", "expected"),
    [
        ("daily", None, date(2027, 3, 1), 3, [date(2027, 3, d) for d in (1, 2, 3)]),
        ("every_n_days", 10, date(2027, 2, 5), 30, [date(2027, 3, d) for d in (7, 17, 27)]),
        ("monthly", None, date(2026, 1, 31), 70, [date(2027, 3, 31), date(2027, 4, 30)]),
        ("quarterly", None, date(2026, 6, 10), 120, [date(2027, 3, 10), date(2027, 6, 10)]),
        ("yearly", None, date(2020, 3, 2), 366, [date(2027, 3, 2)]),
    ],
)
async def test_each_frequency_gives_its_due_dates(
    world: World,
    frequency: str,
    interval: int | None,
    starts_on: date,
    horizon: int,
    expected: list[date],
) -> None:
    await make_assets(world.a.community, "elevator", 1)
    plan = await _plan(
        world.a.community,
        asset_kind="elevator",
        frequency=frequency,
        interval_days=interval,
        starts_on=starts_on,
        horizon_days=horizon,
    )
    await generation.generate(AT, plan_id=plan)
    assert [o["due_on"] for o in await _orders(plan)] == expected


async def test_concurrent_runs_make_each_order_once(world: World) -> None:
    await make_assets(world.a.community, "light", 40)
    plan = await _plan(world.a.community, asset_kind="light", frequency="daily", horizon_days=10)
    runs = await asyncio.gather(*(generation.generate(AT) for _ in range(4)))
    assert sum(r.get(plan, 0) for r in runs) == 400
    assert await WorkOrder.count().where(WorkOrder.plan == plan) == 400


async def test_a_paused_plan_makes_nothing_and_a_retired_asset_loses_its_open_orders(
    world: World,
) -> None:
    extinguishers = await make_assets(world.a.community, "extinguisher", 2)
    plan = await _plan(world.a.community, frequency="weekly")
    paused = await _plan(world.a.community, name="停用", frequency="daily", paused=True)
    made = await generation.generate(AT)
    assert made.get(plan) == 10 and paused not in made

    await Device.update({Device.status: "retired"}).where(Device.id == extinguishers[0])
    assert await generation.cancel_for_retired(AT) >= 5  # (other tests' retired assets too)
    orders = await _orders(plan)
    gone = [o for o in orders if o["device"] == extinguishers[0]]
    assert {(o["state"], o["cancel_reason"]) for o in gone} == {("cancelled", "asset_retired")}
    assert {o["state"] for o in orders if o["device"] == extinguishers[1]} == {"new"}
    made = await generation.generate(AT + timedelta(days=7))
    assert made[plan] == 1 and paused not in made  # the other extinguisher's next date only
    assert (await audit_rows("workorder.plan_cancelled", plan))[0]["details"] == {
        "orders": 5,
        "reason": "asset_retired",
    }


async def _create(manager, world: World, **body: object) -> dict:  # type: ignore[no-untyped-def]
    payload: dict[str, object] = {
        "community_id": str(world.a.community),
        "name": "电梯季检",
        "asset_kind": "elevator",
        "frequency": "quarterly",
        "starts_on": (datetime.now(SITE_TIMEZONE).date() + timedelta(days=1)).isoformat(),
        "checklist": ["检查钢丝绳", "试运行"],
    }
    payload.update(body)
    r = await manager.post(PLANS, json=payload)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.req("OPS-19")  # with the prompt tests: drawn up, prompted, execution
async def test_managers_draw_up_pause_preview_and_delete_plans_audited(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    staff = world.a.users[Role.MAINTENANCE]
    await make_assets(world.a.community, "elevator", 2)
    plan = await _create(manager, world, assignee_id=str(staff.id), signature_required=True)
    assert plan["assets"] == 2 and plan["open_orders"] == 2  # tomorrow's, made at once
    orders = (await manager.get(URL, params={"kind": "preventive"})).json()["items"]
    assert {(o["state"], o["assignee_id"], o["signature_required"]) for o in orders} == {
        ("assigned", str(staff.id), True)
    }
    created = await audit_rows("workorder.plan_created", plan["id"])
    assert created[0]["actor_id"] == world.a.users[Role.PROPERTY_MANAGER].id

    # 300 days, not 366: a year on, the date's 17:00 falls in or out by the time of day it runs.
    r = await manager.get(f"{PLANS}/{plan['id']}/preview", params={"days": 300})
    assert r.status_code == 200, r.text
    assert r.json()["orders"] == 2 * 3 and r.json()["assets"] == 2  # three quarters more

    r = await manager.post(f"{PLANS}/{plan['id']}/pause")
    assert r.json()["paused"] is True
    r = await manager.patch(f"{PLANS}/{plan['id']}", json={"horizon_days": 300})
    assert r.status_code == 200, r.text
    assert r.json()["open_orders"] == 2  # paused: nothing more made
    r = await manager.post(f"{PLANS}/{plan['id']}/resume")
    assert r.json()["open_orders"] == 2 * 4
    listed = (await manager.get(PLANS, params={"paused": "false", "asset_kind": "elevator"})).json()
    assert [p["id"] for p in listed["items"]] == [plan["id"]] and listed["total"] == 1
    for action in ("plan_paused", "plan_updated", "plan_resumed"):
        assert len(await audit_rows(f"workorder.{action}", plan["id"])) == 1

    assert (await manager.delete(f"{PLANS}/{plan['id']}")).status_code == 204
    orders = (await manager.get(URL, params={"kind": "preventive"})).json()["items"]
    assert {(o["state"], o["cancel_reason"]) for o in orders} == {("cancelled", "plan_deleted")}
    assert (await audit_rows("workorder.plan_deleted", plan["id"]))[0]["details"]["cancelled"] == 8


async def test_plans_are_their_communitys_managers_only(as_role: AsRole, world: World) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    other = await as_role(Role.PROPERTY_MANAGER, "b")
    fixer = await as_role(Role.MAINTENANCE)
    plan = await _create(manager, world)
    pid = plan["id"]
    for r in (
        await other.get(f"{PLANS}/{pid}"),
        await other.patch(f"{PLANS}/{pid}", json={"name": "x"}),
        await other.post(f"{PLANS}/{pid}/pause"),
        await other.get(f"{PLANS}/{pid}/preview"),
        await other.delete(f"{PLANS}/{pid}"),
        await fixer.get(f"{PLANS}/{pid}"),
    ):
        assert r.status_code == 404, r.text
    assert (await other.get(PLANS)).json()["total"] == 0
    r = await other.post(PLANS, json={**_body(world), "community_id": str(world.a.community)})
    assert r.status_code == 404, r.text
    assert_error(
        await manager.post(PLANS, json={**_body(world), "frequency": "every_n_days"}),
        400,
        "invalid_schedule",
    )
    assert_error(
        await manager.post(
            PLANS, json={**_body(world), "assignee_id": str(world.b.users[Role.MAINTENANCE].id)}
        ),
        400,
        "unknown_assignee",
    )
    assert_error(
        await manager.post(PLANS, json={**_body(world), "horizon_days": 0}), 422, "invalid_body"
    )


def _body(world: World) -> dict[str, object]:
    return {
        "community_id": str(world.a.community),
        "name": "泵房周检",
        "asset_kind": "pump",
        "frequency": "weekly",
        "starts_on": "2027-03-01",
    }


async def test_a_preventive_order_needs_its_signature_to_be_done(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    staff = world.a.users[Role.MAINTENANCE]
    await make_assets(world.a.community, "extinguisher", 1)
    await _create(
        manager,
        world,
        name="灭火器月检",
        asset_kind="extinguisher",
        frequency="monthly",
        assignee_id=str(staff.id),
        signature_required=True,
        checklist=["压力表在绿区", "铅封完好", "瓶身无锈蚀"],
    )
    order = (await fixer.get(URL, params={"mine": "true"})).json()["items"][0]
    oid = order["id"]
    assert order["kind"] == "preventive" and order["title"] == "灭火器月检 · extinguisher 1"
    assert (await fixer.post(f"{URL}/{oid}/moves", json={"to": "in_progress"})).status_code == 200
    done = {"to": "done", "cause": "例行保养", "report": "三项检查完成", "checked": [0, 2]}
    assert_error(await fixer.post(f"{URL}/{oid}/moves", json=done), 400, "signature_required")
    bad = {**done, "signature": {"content_type": "image/png", "data": SIGNATURE["data"][::-1]}}
    assert (await fixer.post(f"{URL}/{oid}/moves", json=bad)).status_code == 400
    assert_error(
        await fixer.post(f"{URL}/{oid}/moves", json={**done, "checked": [5], **_sig()}),
        400,
        "unknown_step",
    )
    r = await fixer.post(f"{URL}/{oid}/moves", json={**done, **_sig()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "done" and body["signed"] is True
    assert body["signature_url"]
    assert [c["done"] for c in body["checklist"]] == [True, False, True]
    image = await fixer.get(body["signature_url"])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")


def _sig() -> dict[str, object]:
    return {"signature": SIGNATURE}


async def _seed(plan: UUID, community: UUID, device: UUID, due_at: datetime, **fields: Any) -> None:
    """One of the plan's orders due at `due_at` (its site date is `due_on`)."""
    values: dict[str, Any] = {
        "community": community,
        "kind": "preventive",
        "priority": "normal",
        "state": "assigned",
        "title": "泵房周检",
        "device": device,
        "created_at": due_at - timedelta(days=30),
        "due_at": due_at,
        "plan": plan,
        "due_on": due_at.astimezone(SITE_TIMEZONE).date(),
    }
    values.update(fields)
    await WorkOrder(**values).save()


@pytest.mark.req("OPS-19")  # with the prompt tests: drawn up, prompted, execution
async def test_a_plans_execution_counts_its_orders_done_on_time_late_overdue_and_open(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    a, b = await make_assets(world.a.community, "pump", 2)
    plan = await _plan(world.a.community, name="水泵周检", asset_kind="pump", frequency="weekly")
    other = await _plan(world.a.community, name="水泵月检", asset_kind="pump")
    c = world.a.community
    at = datetime.now(UTC).replace(microsecond=0)

    def days(n: float) -> datetime:
        return at + timedelta(days=n)

    await _seed(plan, c, a, days(-20), state="closed", done_at=days(-20) - timedelta(hours=1))
    await _seed(plan, c, a, days(-13), state="done", done_at=days(-13) - timedelta(hours=2))
    await _seed(plan, c, b, days(-13), state="done", done_at=days(-12))  # a day late
    await _seed(plan, c, a, days(-6))  # assigned, past due: overdue
    await _seed(plan, c, b, days(-6), state="in_progress")  # overdue
    await _seed(plan, c, a, days(1))  # not due yet: open
    await _seed(plan, c, b, days(1), state="new")  # open
    await _seed(plan, c, a, days(6), state="cancelled", cancel_reason="asset_retired")
    await _seed(plan, c, a, days(-40), state="closed", done_at=days(-41))  # before the period
    await _seed(other, c, a, days(-6))  # another plan's
    today = at.astimezone(SITE_TIMEZONE).date()
    url = f"{PLANS}/{plan}/execution"

    r = await manager.get(
        url,
        params={
            "since": (today - timedelta(days=30)).isoformat(),
            "until": (today + timedelta(days=7)).isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    found = r.json()
    figures = ("generated", "done_on_time", "done_late", "overdue", "open", "cancelled")
    assert {k: found[k] for k in figures} == {
        "generated": 8,
        "done_on_time": 2,
        "done_late": 1,
        "overdue": 2,
        "open": 2,
        "cancelled": 1,
    }
    assert found["on_time_rate"] == 0.4  # 2 of the 5 that were due and not cancelled

    default = (await manager.get(url)).json()  # the 30 days to today: nothing due later
    assert (default["since"], default["until"]) == (
        (today - timedelta(days=29)).isoformat(),
        today.isoformat(),
    )
    assert {k: default[k] for k in figures} == {
        "generated": 5,
        "done_on_time": 2,
        "done_late": 1,
        "overdue": 2,
        "open": 0,
        "cancelled": 0,
    }


async def test_a_plans_execution_is_its_communitys_managers_and_checks_the_period(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    other = await as_role(Role.PROPERTY_MANAGER, "b")
    fixer = await as_role(Role.MAINTENANCE)
    plan = await _plan(world.a.community)
    url = f"{PLANS}/{plan}/execution"
    for r in (
        await other.get(url),
        await fixer.get(url),
        await manager.get(f"{PLANS}/{uuid4()}/execution"),
    ):
        assert r.status_code == 404, r.text
    assert_error(
        await manager.get(url, params={"since": "2027-03-02", "until": "2027-03-01"}),
        400,
        "invalid_period",
    )
    assert_error(
        await manager.get(url, params={"since": "2026-01-01", "until": "2027-03-01"}),
        400,
        "invalid_period",
    )
    r = await manager.get(url, params={"since": "not-a-date"})
    assert r.status_code == 400, r.text
    assert (await manager.get(url, params={"since": "2027-03-01", "until": "2027-03-01"})).json()[
        "on_time_rate"
    ] is None
