"""Small query helpers every domain uses: scope narrowing and literal LIKE patterns."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from piccolo.columns import Column

from api.core.auth import ALL


def like(q: str, *, prefix: bool = False) -> str:
    """A LIKE pattern matching q anywhere (or at the start), q's own wildcards taken literally."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix else f"%{escaped}%"


def within(where: Any, column: Column, scope: frozenset[UUID] | None) -> Any | None:
    """Narrow a filter to a scope (None = all); None back when the scope is empty."""
    if scope is ALL:
        return where
    if not scope:
        return None
    return where & column.is_in(list(scope))
