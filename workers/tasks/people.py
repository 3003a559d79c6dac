"""Jobs of the resident registry: tenants whose lease has ended move out."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from api.app import MOVE_OUT_HOOKS
from api.core.effects import Effects, WorkerOutlet
from api.people.service import PersonService

LOCAL = ZoneInfo("Asia/Shanghai")  # a lease ends at the end of its day where the community is


async def expire_tenant_leases(ctx: dict[str, Any]) -> int:
    """Each hour: move out the tenants whose lease ended (credentials, plates, household roles
    end with it); the bridges get the revocations after commit. Idempotent."""
    effects = Effects()
    people = PersonService(ctx["cipher"], on_moved_out=MOVE_OUT_HOOKS)
    moved = await people.expire_leases(effects, today=datetime.now(LOCAL).date())
    await effects.apply(WorkerOutlet(ctx["redis"]))
    return len(moved)
