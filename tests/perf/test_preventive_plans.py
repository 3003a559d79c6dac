"""Benchmark: a preventive plan generates its orders for ASSETS assets over a 30-day horizon.

The plan is weekly, so each asset gets 4 or 5 orders: the generation's one statement (the due
dates by generate_series, crossed with the in-service assets, inserted with ON CONFLICT DO
NOTHING, each new order's history line, one audit entry) against a bare INSERT … SELECT of the
same rows (the same columns and values) into two copies of `work_orders`: one without its
indexes or constraints, one with its indexes (`LIKE … INCLUDING ALL`: the unique key too, no
foreign keys), in the same run on the same database. Then a re-run (every row a conflict,
nothing made). Prints seconds of each and the ratios.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from datetime import time as clock

from api.alarms.catalogue import SITE_TIMEZONE
from api.workorders import generation
from api.workorders.tables import MaintenancePlan, WorkOrder
from tests.helpers import World
from tests.perf.sizes import size
from tests.workorders.helpers import make_assets

ASSETS = size(10_000, smoke=200)
HORIZON = 30
AT = datetime(2027, 3, 1, 9, 0, tzinfo=SITE_TIMEZONE).astimezone(UTC)

BARE = """
INSERT INTO {table} (
    id, community, kind, priority, state, waiting_for, title, description, device, repeats,
    assignee, created_at, due_at, cause, report, rating_note, plan, due_on, checklist,
    signature_required, cancel_reason
)
SELECT gen_random_uuid(), d.community, 'preventive', 'normal', 'new', '', 'b', '', d.id, 1,
       NULL, {}, (day + time '17:00') AT TIME ZONE {}, '', '', '', {}, day::date,
       '[]'::jsonb, false, ''
FROM devices d
CROSS JOIN generate_series({}::date, {}::date, interval '7 days') AS day
WHERE d.community = {} AND d.kind = 'pump' AND d.status = 'in_service'
"""


async def test_plan_generation_against_a_bare_insert_select(world: World) -> None:
    community = world.a.community
    await make_assets(community, "pump", ASSETS)
    plan = MaintenancePlan(
        community=community,
        name="水泵周检",
        asset_kind="pump",
        frequency="weekly",
        starts_on=date(2027, 3, 1),
        due_time=clock(17, 0),
        horizon_days=HORIZON,
        checklist=["检查压力", "检查密封"],
        created_at=AT,
        updated_at=AT,
    )
    await plan.save()

    began = time.perf_counter()
    made = await generation.generate(AT, plan_id=plan.id)
    generated = time.perf_counter() - began
    expected = ASSETS * 5  # Mar 1, 8, 15, 22, 29
    assert made == {plan.id: expected}

    began = time.perf_counter()
    assert await generation.generate(AT, plan_id=plan.id) == {}
    rerun = time.perf_counter() - began

    bare: dict[str, float] = {}
    for table, like in (("bench_bare", "DEFAULTS"), ("bench_indexed", "ALL")):
        await WorkOrder.raw(f"CREATE TABLE {table} (LIKE work_orders INCLUDING {like})")
        try:
            began = time.perf_counter()
            await WorkOrder.raw(
                BARE.replace("{table}", table),
                AT,
                SITE_TIMEZONE.key,
                plan.id,
                date(2027, 3, 1),
                date(2027, 3, 29),
                community,
            )
            bare[like] = time.perf_counter() - began
            count = await WorkOrder.raw(f"SELECT count(*) AS n FROM {table}")
            assert count[0]["n"] == expected
        finally:
            await WorkOrder.raw(f"DROP TABLE {table}")

    print(
        f"\npreventive plan, {ASSETS} assets weekly over {HORIZON} days = {expected} orders: "
        f"generation {generated:.2f} s (history lines, audit); re-run {rerun:.2f} s (nothing "
        f"made); bare INSERT … SELECT of the same rows into an index-free copy "
        f"{bare['DEFAULTS']:.2f} s (ratio {generated / bare['DEFAULTS']:.2f}), into an indexed "
        f"copy {bare['ALL']:.2f} s (ratio {generated / bare['ALL']:.2f})"
    )
