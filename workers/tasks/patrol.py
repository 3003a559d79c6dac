"""Jobs of the patrol domain: rounds made from plans, rounds ended past their grace; camera
tours' runs made, reminded and marked missed by the same crons."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.core.effects import WorkerOutlet
from api.patrol import rounds, tour_runs, tours


async def make_patrol_rounds(ctx: dict[str, Any], *, plan_id: UUID) -> int:
    """Make a plan's rounds a day ahead (repeating it makes none twice)."""
    return await rounds.make_rounds(plan_id)


async def schedule_patrol_rounds(ctx: dict[str, Any]) -> int:
    """Every ten minutes: keep each active plan's rounds and each tour's runs a day ahead."""
    made = [await rounds.make_rounds(plan_id) for plan_id in await rounds.active_plans()]
    made += [await tours.make_runs(tour_id) for tour_id in await tours.active_tours()]
    return sum(made)


async def end_patrol_rounds(ctx: dict[str, Any]) -> None:
    """Every half minute: end rounds past their grace (missed or late points raise an alarm);
    remind of tours that are due, mark tours past their time missed (an alarm)."""
    outlet = WorkerOutlet(ctx["redis"])
    await (await rounds.end_due()).apply(outlet)
    await (await tour_runs.sweep()).apply(outlet)
