"""Small query helpers every domain uses: literal LIKE patterns."""

from __future__ import annotations


def like(q: str, *, prefix: bool = False) -> str:
    """A LIKE pattern matching q anywhere (or at the start), q's own wildcards taken literally."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix else f"%{escaped}%"
