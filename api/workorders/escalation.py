"""SLA escalation: an order past its `due_at` and still open escalates once.

Escalation is a push to the community's property managers (and the assignee), not an alarm: a
late repair is a management matter, not an emergency for the guards' board (docs/workorders.md).
A plan's order nobody holds also tells the community's maintenance staff: it is the overdue
prompt of `prompting.py`, so the staff hear of it once more, not once per sweep.
A conditional `UPDATE … WHERE escalated_at IS NULL … RETURNING` claims the orders, so of two
sweeps at once each order escalates in one.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from api.alarms.roster import recipients
from api.core.effects import Effects
from api.piccolo_conf import DB
from api.workorders.catalogue import OPEN_STATES
from api.workorders.orders import audited, entry, now, tell
from api.workorders.prompting import prompt_people
from api.workorders.rows import order_row
from api.workorders.tables import WorkOrder

log = structlog.get_logger()


async def escalate_due(at: datetime | None = None) -> Effects:
    """Escalate every open order past due that has not escalated yet."""
    at = at or now()
    effects = Effects()
    async with DB.transaction():
        claimed = (
            await WorkOrder.update({WorkOrder.escalated_at: at})
            .where(
                WorkOrder.state.is_in(list(OPEN_STATES))
                & (WorkOrder.due_at < at)
                & WorkOrder.escalated_at.is_null()
            )
            .returning(WorkOrder.id)
        )
        for row in claimed:
            order = await order_row(row["id"])
            assert order is not None
            told = await recipients(order.community, ("property_manager",))
            if order.plan is not None:
                told |= await prompt_people(order.community, order.assignee)
            elif order.assignee:
                told.add(order.assignee)
            await tell(told, order, "保养逾期" if order.plan else "工单超时", effects)
            await entry(order.id, "escalated", text=f"超过时限（{order.priority}）", told=len(told))
            await audited(None, "workorder.escalated", order, due_at=order.due_at.isoformat())
            log.warning("workorder.escalated", work_order_id=str(order.id))
    return effects
