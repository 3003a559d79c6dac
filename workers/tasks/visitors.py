"""Jobs of the visitors domain: passes whose window is over end, and their credentials with them."""

from __future__ import annotations

from typing import Any

from api.core.effects import Effects, WorkerOutlet
from api.visitors.service import expire_due


async def expire_visitor_passes(ctx: dict[str, Any]) -> int:
    """Each minute: expire live passes past their window; the bridges drop their credentials."""
    effects = Effects()
    ended = await expire_due(effects)
    await effects.apply(WorkerOutlet(ctx["redis"]))
    return len(ended)
