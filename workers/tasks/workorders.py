"""Jobs of the work-order domain: orders past their SLA escalate, once."""

from __future__ import annotations

from typing import Any

from api.core.effects import WorkerOutlet
from api.workorders import escalation


async def escalate_work_orders(ctx: dict[str, Any]) -> None:
    """Every minute: open orders past due escalate once (a push to the managers)."""
    effects = await escalation.escalate_due()
    await effects.apply(WorkerOutlet(ctx["redis"]))
