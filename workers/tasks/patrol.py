"""Jobs of the patrol domain: rounds made from plans, rounds ended past their grace."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.core.effects import WorkerOutlet
from api.patrol import rounds


async def make_patrol_rounds(ctx: dict[str, Any], *, plan_id: UUID) -> int:
    """Make a plan's rounds a day ahead (repeating it makes none twice)."""
    return await rounds.make_rounds(plan_id)


async def schedule_patrol_rounds(ctx: dict[str, Any]) -> int:
    """Every ten minutes: keep each active plan's rounds a day ahead."""
    return sum([await rounds.make_rounds(plan_id) for plan_id in await rounds.active_plans()])


async def end_patrol_rounds(ctx: dict[str, Any]) -> None:
    """Every half minute: end rounds past their grace; missed or late points raise an alarm."""
    effects = await rounds.end_due()
    await effects.apply(WorkerOutlet(ctx["redis"]))
