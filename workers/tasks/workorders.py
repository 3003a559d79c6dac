"""Jobs of the work-order domain: orders past their SLA escalate, once; preventive plans make
their orders ahead, and push them once on their day."""

from __future__ import annotations

from typing import Any

from api.core.effects import WorkerOutlet
from api.workorders import escalation, generation, prompting


async def escalate_work_orders(ctx: dict[str, Any]) -> None:
    """Every minute: open orders past due escalate once (a push to the managers)."""
    effects = await escalation.escalate_due()
    await effects.apply(WorkerOutlet(ctx["redis"]))


async def generate_preventive_orders(ctx: dict[str, Any]) -> None:
    """Every hour: the plans' orders within their horizon are made (once each), and the open
    ones of assets retired since are cancelled."""
    await generation.generate()
    await generation.cancel_for_retired()


async def prompt_preventive_orders(ctx: dict[str, Any]) -> None:
    """Every minute: the plans' orders whose day has come push their people, once."""
    effects = await prompting.prompt_due()
    await effects.apply(WorkerOutlet(ctx["redis"]))
