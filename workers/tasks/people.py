"""Jobs of the resident registry: a bulk import's run, and the retention of imported files."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.core.effects import WorkerOutlet
from api.core.realtime import user_channel
from api.lifespan import make_cipher
from api.people.imports import service
from api.people.imports.tables import PersonImport
from workers.tasks.context import object_store


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
