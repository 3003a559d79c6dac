"""Preventive orders made ahead from the plans (OPS-19/20), and cancelled for retired assets.

One statement generates: the due dates of each plan that fall in the next `horizon_days` (a
`generate_series` over the schedule's step numbers) crossed with the in-service assets of its
kind in its community, inserted with `ON CONFLICT (plan, device, due_on) DO NOTHING` — the unique
constraint is what makes a re-run, or two runs at once, create each order once (the second
insert of a key waits for the first's and then does nothing). The same statement writes each new
order's `created` history line. Nothing loops per row in Python; the audit log gets one entry per
plan and run that made orders, not one per order.

A retired asset gets no new orders (only `in_service` ones match), and its open preventive
orders are cancelled by `cancel_for_retired`, with the reason `asset_retired`, at each run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID

import structlog
from piccolo.querystring import QueryString

from api.alarms.catalogue import SITE_TIMEZONE
from api.audit.service import record
from api.piccolo_conf import DB
from api.workorders.catalogue import OPEN_STATES
from api.workorders.orders import now

log = structlog.get_logger()

# (months, days) of one step of each frequency; every_n_days takes its days from the plan.
STEPS: Final[dict[str, tuple[int, int]]] = {
    "daily": (0, 1),
    "weekly": (0, 7),
    "monthly": (1, 0),
    "quarterly": (3, 0),
    "yearly": (12, 0),
    "every_n_days": (0, 0),
}

# The slots a plan has in the window: its due dates crossed with its in-service assets. `args`
# holds the run's time, a plan id or null (every plan), a horizon in days or null (each plan's
# own), the site timezone, where due dates and times are wall-clock, and whether paused plans
# count (a preview's question, never a generation's). The step numbers k
# searched are bounded from the elapsed days with the longest month (31 days) below and the
# shortest (28) above, then the dates are filtered exactly by their due time.
_SLOTS = """
args AS (
    SELECT {}::timestamptz AS at, {}::uuid AS plan_id, {}::int AS horizon, {}::text AS tz,
           {}::boolean AS with_paused
),
plan AS (
    SELECT p.id, p.community, p.asset_kind, p.priority, p.name, p.starts_on, p.due_time,
           COALESCE((SELECT jsonb_agg(jsonb_build_object('step', s, 'done', false))
                     FROM jsonb_array_elements_text(p.checklist) AS s), '[]'::jsonb) AS checklist,
           p.signature_required, args.at, args.tz,
           COALESCE(args.horizon, p.horizon_days) AS horizon,
           CASE p.frequency WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 WHEN 'yearly' THEN 12
                ELSE 0 END AS months,
           CASE p.frequency WHEN 'daily' THEN 1 WHEN 'weekly' THEN 7
                WHEN 'every_n_days' THEN p.interval_days ELSE 0 END AS days,
           CASE WHEN EXISTS (
               SELECT 1 FROM role_assignments r JOIN accounts a ON a.id = r.account
               WHERE r.account = p.assignee AND r.role = 'maintenance'
                 AND r.community = p.community AND a.is_active
           ) THEN p.assignee END AS assignee
    FROM maintenance_plans p, args
    WHERE (args.plan_id IS NULL OR p.id = args.plan_id) AND (NOT p.paused OR args.with_paused)
),
span AS (
    SELECT plan.*, ((plan.at AT TIME ZONE plan.tz)::date - plan.starts_on) AS elapsed,
           CASE WHEN plan.months > 0 THEN 31 * plan.months ELSE plan.days END AS longest,
           CASE WHEN plan.months > 0 THEN 28 * plan.months ELSE plan.days END AS shortest
    FROM plan
),
due AS (
    SELECT span.*, d.due_on, (d.due_on + span.due_time) AT TIME ZONE span.tz AS due_at
    FROM span
    CROSS JOIN LATERAL generate_series(
        GREATEST(0, span.elapsed / span.longest - 1),
        GREATEST(0, (span.elapsed + span.horizon + 1) / span.shortest + 1)
    ) AS k
    CROSS JOIN LATERAL (
        SELECT (
            span.starts_on + make_interval(months => span.months * k, days => span.days * k)
        )::date AS due_on
    ) AS d
),
slot AS (
    SELECT due.*, dev.id AS device, dev.name AS device_name
    FROM due
    JOIN devices dev ON dev.community = due.community AND dev.kind = due.asset_kind
                    AND dev.status = 'in_service'
    WHERE due.due_at > due.at AND due.due_at <= due.at + make_interval(days => due.horizon)
)
"""

# Both statements put the constant _SLOTS in front: no value is formatted into SQL.
GENERATE: Final = f"""
WITH {_SLOTS},
made AS (
    INSERT INTO work_orders (
        id, community, kind, priority, state, waiting_for, title, description, device, repeats,
        assignee, created_at, due_at, cause, report, rating_note, plan, due_on, checklist,
        signature_required, cancel_reason
    )
    SELECT gen_random_uuid(), slot.community, 'preventive', slot.priority,
           CASE WHEN slot.assignee IS NULL THEN 'new' ELSE 'assigned' END, '',
           left(slot.name || ' · ' || slot.device_name, 200), '', slot.device, 1,
           slot.assignee, slot.at, slot.due_at, '', '', '', slot.id, slot.due_on,
           slot.checklist, slot.signature_required, ''
    FROM slot
    ON CONFLICT (plan, device, due_on) DO NOTHING
    RETURNING id, community, plan, state, due_on, created_at
),
history AS (
    INSERT INTO work_order_entries (work_order, at, kind, from_state, to_state, text, data)
    SELECT made.id, made.created_at, 'created', '', made.state, '保养计划生成',
           jsonb_build_object('plan', made.plan, 'due_on', made.due_on)
    FROM made
)
SELECT plan, community, count(*) AS made FROM made GROUP BY plan, community
"""  # noqa: S608

PREVIEW: Final = f"""
WITH {_SLOTS}
SELECT count(*) AS orders, count(DISTINCT slot.device) AS assets,
       min(slot.due_on) AS first_due_on, max(slot.due_on) AS last_due_on
FROM slot
WHERE NOT EXISTS (
    SELECT 1 FROM work_orders w
    WHERE w.plan = slot.id AND w.device = slot.device AND w.due_on = slot.due_on
)
"""  # noqa: S608

# Open preventive orders of assets retired since: cancelled with the reason, and a history line.
CANCEL_RETIRED: Final = """
WITH gone AS (
    UPDATE work_orders w SET state = 'cancelled', cancel_reason = 'asset_retired'
    FROM devices d
    WHERE w.device = d.id AND d.status = 'retired' AND w.plan IS NOT NULL
      AND w.state = ANY({}::text[])
    RETURNING w.id, w.community, w.plan
),
history AS (
    INSERT INTO work_order_entries (work_order, at, kind, from_state, to_state, text, data)
    SELECT gone.id, {}::timestamptz, 'moved', '', 'cancelled', '资产已报废，计划工单取消',
           '{{"reason": "asset_retired"}}'::jsonb
    FROM gone
)
SELECT community, plan, count(*) AS cancelled FROM gone GROUP BY community, plan
"""


@dataclass(frozen=True, slots=True)
class Preview:
    """What a generation would make now."""

    orders: int
    assets: int
    first_due_on: date | None
    last_due_on: date | None


async def _raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run a statement (inside the current transaction when there is one)."""
    rows: list[dict[str, Any]] = await DB.run_querystring(QueryString(sql, *args))
    return rows


async def generate(
    at: datetime | None = None, *, plan_id: UUID | None = None, horizon_days: int | None = None
) -> dict[UUID, int]:
    """Make the orders due within each plan's horizon (one plan's, given `plan_id`); how many
    each plan made. Idempotent: a re-run, or a run at the same time, makes none twice."""
    at = at or now()
    async with DB.transaction():
        rows = await _raw(GENERATE, at, plan_id, horizon_days, SITE_TIMEZONE.key, False)
        for r in rows:
            await record(
                "workorder.plan_generated",
                actor_name="platform",
                target_type="maintenance_plan",
                target_id=r["plan"],
                community_id=r["community"],
                details={"orders": r["made"]},
            )
    made = {r["plan"]: r["made"] for r in rows}
    if made:
        log.info("workorder.plans.generated", plans=len(made), orders=sum(made.values()))
    return made


async def preview(plan_id: UUID, days: int, at: datetime | None = None) -> Preview:
    """How many orders generating the plan `days` ahead would make now (paused or not)."""
    row = (await _raw(PREVIEW, at or now(), plan_id, days, SITE_TIMEZONE.key, True))[0]
    return Preview(
        orders=row["orders"],
        assets=row["assets"],
        first_due_on=row["first_due_on"],
        last_due_on=row["last_due_on"],
    )


async def cancel_for_retired(at: datetime | None = None) -> int:
    """Cancel the open preventive orders of retired assets, with the reason; how many."""
    at = at or now()
    async with DB.transaction():
        rows = await _raw(CANCEL_RETIRED, list(OPEN_STATES), at)
        for r in rows:
            await record(
                "workorder.plan_cancelled",
                actor_name="platform",
                target_type="maintenance_plan",
                target_id=r["plan"],
                community_id=r["community"],
                details={"orders": r["cancelled"], "reason": "asset_retired"},
            )
    cancelled = sum(r["cancelled"] for r in rows)
    if cancelled:
        log.info("workorder.plans.cancelled_retired", orders=cancelled)
    return cancelled
