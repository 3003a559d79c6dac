"""Access control jobs: the nightly purge of access records past their retention."""

from __future__ import annotations

from typing import Any

from api.access import records


async def purge_access_records(ctx: dict[str, Any]) -> int:
    """Nightly: delete access records older than the retention (186 days), never younger ones."""
    return await records.purge()
