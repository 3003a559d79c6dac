"""Jobs of the resident registry: a bulk import's run, the retention of imported files, and tenants
whose lease has ended moving out."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from api.app import MOVE_OUT_HOOKS
from api.core.effects import Effects, WorkerOutlet
from api.core.realtime import user_channel
from api.lifespan import make_cipher
from api.people.imports import service
from api.people.imports.tables import PersonImport
from api.people.service import PersonService
from workers.tasks.context import object_store

LOCAL = ZoneInfo("Asia/Shanghai")  # a lease ends at the end of its day where the community is


async def run_person_import(ctx: dict[str, Any], *, import_id: UUID) -> None:
    """Run a queued import; its progress goes to the uploader's socket as chunks are written."""
    outlet = WorkerOutlet(ctx["redis"])
    owner = await PersonImport.select(PersonImport.created_by).where(PersonImport.id == import_id)
    channel = user_channel(owner[0]["created_by"]) if owner else ""

    async def progress(done: int, total: int) -> None:
        event = {"type": "person_import.progress", "import_id": str(import_id)}
        await outlet.publish({**event, "done": done, "total": total}, channel)

    async with object_store(ctx) as store:
        cipher = ctx.setdefault("cipher", make_cipher(ctx["settings"]))
        effects = await service.ImportService(cipher, store).run(import_id, progress)
    await effects.apply(outlet)


async def purge_expired_imports(ctx: dict[str, Any]) -> int:
    """Nightly: delete imported files and their import rows past their retention (6 months)."""
    async with object_store(ctx) as store:
        return await service.purge_expired(store)


async def expire_tenant_leases(ctx: dict[str, Any]) -> int:
    """Each hour: move out the tenants whose lease ended (credentials, plates, household roles
    end with it); the bridges get the revocations after commit. Idempotent."""
    effects = Effects()
    people = PersonService(ctx["cipher"], on_moved_out=MOVE_OUT_HOOKS)
    moved = await people.expire_leases(effects, today=datetime.now(LOCAL).date())
    await effects.apply(WorkerOutlet(ctx["redis"]))
    return len(moved)
