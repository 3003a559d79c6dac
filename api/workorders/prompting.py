"""Prompting a plan's orders (OPS-19): a generated preventive order pushes its people once, on the
morning its due day arrives on site, and once more when it is overdue (its escalation).

Who: the order's assignee — the plan's default assignee, set at generation, or whoever it was
given to since — and, for an order nobody holds, the community's active maintenance staff.

Once: a conditional `UPDATE … SET prompted_at … WHERE prompted_at IS NULL … RETURNING` claims the
orders, and the push rows (`push.notify`), a history line an order and an audit entry a plan are
written in the same transaction, so a second sweep, a sweep at the same time or a worker restarted
after the commit claims nothing twice; a crash before the commit claims nothing at all, and the
next sweep does it. The push rows are delivered, and re-enqueued if lost, by the push domain's
sweep. An order already past its due time when first claimed (the worker was down all day) is
claimed silently: its escalation
(`escalation.py`, once by `escalated_at`) is its one prompt, so nobody gets two at once.

The day is the site's (`SITE_TIMEZONE`, where the plans' due dates and times are wall-clock; a
community has no time zone of its own yet).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Final
from uuid import UUID

import structlog
from piccolo.querystring import QueryString

from api.alarms.catalogue import SITE_TIMEZONE
from api.audit.service import record
from api.core.effects import Effects
from api.piccolo_conf import DB
from api.workorders.orders import entry, maintenance_staff, now, tell
from api.workorders.rows import order_row

log = structlog.get_logger()

# The open preventive orders whose due day has come on site and that were never prompted. The
# states are catalogue.OPEN_STATES written out, to match the partial index `work_orders_unprompted`
# (migration 2026-12-03T15:33:07) that keeps the minute's sweep off the rest of the table.
CLAIM_DUE: Final = """
UPDATE work_orders SET prompted_at = {}::timestamptz
WHERE plan IS NOT NULL AND prompted_at IS NULL
  AND state IN ('new', 'assigned', 'in_progress', 'waiting')
  AND due_on <= ({}::timestamptz AT TIME ZONE {}::text)::date
RETURNING id, plan, community, due_at
"""


async def prompt_people(community: UUID, assignee: UUID | None) -> set[UUID]:
    """Who a plan's order prompts: its assignee, or the community's maintenance staff."""
    if assignee is not None:
        return {assignee}
    return set(await maintenance_staff(community))


async def prompt_due(at: datetime | None = None) -> Effects:
    """Push every preventive order whose due day has come, once (see the module's docstring)."""
    at = at or now()
    effects = Effects()
    pushed: Counter[tuple[UUID, UUID]] = Counter()
    async with DB.transaction():
        claimed = await DB.run_querystring(QueryString(CLAIM_DUE, at, at, SITE_TIMEZONE.key))
        for row in claimed:
            if row["due_at"] <= at:
                continue  # already overdue: its escalation prompts
            order = await order_row(row["id"])
            assert order is not None
            told = await prompt_people(order.community, order.assignee)
            await tell(told, order, "今日保养", effects)
            await entry(order.id, "prompted", text="保养到期提醒", told=len(told))
            pushed[(row["plan"], row["community"])] += 1
        for (plan, community), orders in pushed.items():  # one entry per plan and run
            await record(
                "workorder.plan_prompted",
                actor_name="platform",
                target_type="maintenance_plan",
                target_id=plan,
                community_id=community,
                details={"orders": orders},
            )
    if claimed:
        log.info("workorder.plans.prompted", orders=pushed.total(), claimed=len(claimed))
    return effects
