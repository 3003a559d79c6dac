"""What O&M records there are (8.1.5: incident, problem, change, release, defect), the states of
each kind and the moves between them, which fields a move needs filled, and which moves only a
manager makes. Pure data and small pure functions: one table drives all five kinds.

Configuration management (8.1.9) is the device ledger's (api/devices); security management
(8.1.12) is spread over accounts, audit and crypto. Neither is a record kind here.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Kind = Literal["incident", "problem", "change", "release", "defect"]
Severity = Literal["critical", "major", "minor", "low"]  # 分级: P1 … P4
Risk = Literal["low", "medium", "high"]
Outcome = Literal["", "succeeded", "rolled_back"]
LinkType = Literal["alarm", "work_order", "record"]

KINDS: Final = frozenset(get_args(Kind))

# kind -> (the state a record opens in, {target state: the states it may be reached from}).
# Anything else is `409 transition_not_allowed`.
STATES: Final[dict[str, tuple[str, dict[str, tuple[str, ...]]]]] = {
    # 事件: handled, resolved (with its evaluation), closed with the summary report (8.1.6)
    "incident": (
        "new",
        {
            "investigating": ("new", "resolved"),  # from resolved: it came back
            "resolved": ("new", "investigating"),
            "closed": ("resolved",),
        },
    ),
    # 问题: the cause behind incidents; a known error (root cause and workaround) is the
    # knowledge base's entry (8.1.7)
    "problem": (
        "new",
        {
            "investigating": ("new",),
            "known_error": ("investigating",),
            "resolved": ("investigating", "known_error"),
            "closed": ("resolved",),
        },
    ),
    # 变更: requested with its scope, risk and rollback plan; approved or rejected by a manager;
    # implemented (or rolled back); reviewed: the analysis of how it went (8.1.8)
    "change": (
        "requested",
        {
            "approved": ("requested",),
            "rejected": ("requested",),
            "implemented": ("approved",),
            "reviewed": ("implemented",),
        },
    ),
    # 发布: planned, released (its result recorded), verified (its analysis) (8.1.10)
    "release": (
        "planned",
        {
            "released": ("planned",),
            "verified": ("released",),
        },
    ),
    # 缺陷: found, fixing, fixed, verified; a fix that does not hold goes back (8.1.11)
    "defect": (
        "found",
        {
            "fixing": ("found", "fixed"),
            "fixed": ("fixing",),
            "verified": ("fixed",),
        },
    ),
}

# (kind, target) -> the detail fields that must be filled once the move is made (the move may
# fill them itself); else `400 fields_required` naming them.
REQUIRED: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("incident", "resolved"): ("resolution",),
    ("incident", "closed"): ("evaluation", "summary"),
    ("problem", "known_error"): ("root_cause", "workaround"),
    ("problem", "resolved"): ("root_cause", "solution"),
    ("change", "implemented"): ("outcome", "implementation"),
    ("change", "reviewed"): ("review",),
    ("release", "released"): ("result",),
    ("release", "verified"): ("analysis",),
    ("defect", "fixed"): ("fix",),
    ("defect", "verified"): ("analysis", "improvement_plan"),
}

# Moves only a property manager makes (`ops.approve`): approving and rejecting a change, and
# the closing moves that accept the work of others.
MANAGER_MOVES: Final = frozenset(
    {
        ("incident", "closed"),
        ("problem", "closed"),
        ("change", "approved"),
        ("change", "rejected"),
        ("change", "reviewed"),
        ("release", "verified"),
        ("defect", "verified"),
    }
)

# A record in one of these states takes no more edits of its fields (its history stays).
FINAL_STATES: Final = frozenset({"closed", "rejected", "reviewed", "verified"})


def opening_state(kind: str) -> str:
    """The state a record of the kind opens in."""
    return STATES[kind][0]


def states_of(kind: str) -> tuple[str, ...]:
    """Every state of a kind, the opening one first."""
    start, moves = STATES[kind]
    return (start, *moves)


def allowed(kind: str, current: str, target: str) -> bool:
    """Whether a record of the kind in `current` may move to `target`."""
    return current in STATES[kind][1].get(target, ())


def missing(kind: str, target: str, details: dict[str, object]) -> list[str]:
    """The fields the move needs that are still empty."""
    return [f for f in REQUIRED.get((kind, target), ()) if not str(details.get(f) or "").strip()]


def is_manager_move(kind: str, target: str) -> bool:
    """Whether only a manager makes the move."""
    return (kind, target) in MANAGER_MOVES
