"""What jobs take from the worker's context."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from api.core.storage import ObjectStore, open_object_store


@contextlib.asynccontextmanager
async def object_store(ctx: dict[str, Any]) -> AsyncIterator[ObjectStore]:
    """The worker's object store: one put in ctx (tests), else opened per job from the settings."""
    if "objects" in ctx:
        yield ctx["objects"]
    else:
        async with open_object_store(ctx["settings"]) as store:
            yield store
