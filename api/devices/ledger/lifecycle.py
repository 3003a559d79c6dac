"""An asset's lifecycle: its statuses and the moves allowed between them (OPS-14).

in stock -> installed -> in service -> faulty -> under repair -> in service, and retired from
anywhere but retired itself, which is the end. A move not in `MOVES` is refused, so the history
of an asset always reads as a path through this graph.
"""

from __future__ import annotations

from typing import Literal

Status = Literal["in_stock", "installed", "in_service", "faulty", "under_repair", "retired"]
STATUSES: tuple[Status, ...] = (
    "in_stock",
    "installed",
    "in_service",
    "faulty",
    "under_repair",
    "retired",
)
# A new asset added by hand starts in one of these; one a bridge reports is in service.
INITIAL: frozenset[Status] = frozenset({"in_stock", "installed", "in_service"})

MOVES: dict[Status, frozenset[Status]] = {
    "in_stock": frozenset({"installed", "retired"}),
    "installed": frozenset({"in_service", "faulty", "in_stock", "retired"}),
    "in_service": frozenset({"faulty", "under_repair", "in_stock", "retired"}),
    "faulty": frozenset({"under_repair", "in_service", "retired"}),
    "under_repair": frozenset({"in_service", "faulty", "in_stock", "retired"}),
    "retired": frozenset(),
}


def allowed(current: str, target: str) -> bool:
    """Whether an asset may move from `current` to `target`."""
    return target in MOVES.get(current, frozenset())  # type: ignore[call-overload]
