"""What work orders there are: kinds, priorities and their SLA, states and the moves between them,
and the device faults that open an order by themselves. Pure data and small pure functions."""

from __future__ import annotations

from datetime import timedelta
from typing import Final, Literal, get_args

Kind = Literal["fault", "repair", "complaint", "preventive", "manual"]
Priority = Literal["urgent", "high", "normal", "low"]
State = Literal["new", "assigned", "in_progress", "waiting", "done", "closed", "cancelled"]
WaitingFor = Literal["", "parts", "resident"]
Fault = Literal["device_offline", "video_loss", "door_open_failed", "video_quality"]
Stage = Literal["before", "after", "request"]

KINDS: Final = frozenset(get_args(Kind))
FAULTS: Final = frozenset(get_args(Fault))

# Time to done from the order's creation (its `due_at`); past it, the order escalates once.
SLA: Final[dict[str, timedelta]] = {
    "urgent": timedelta(hours=2),
    "high": timedelta(hours=8),
    "normal": timedelta(hours=24),
    "low": timedelta(hours=72),
}

# Still to be worked on: an order in these states can run late and escalate.
OPEN_STATES: Final = ("new", "assigned", "in_progress", "waiting")
# A fault order in these states absorbs a repeat of its fault (the partial unique index holds
# exactly these: one such order per device and fault). A done order is not verified yet: a
# repeat before the manager closes it counts on it, for the manager to see before verifying.
ABSORBING_STATES: Final = (*OPEN_STATES, "done")
ENDED_STATES: Final = ("closed", "cancelled")

# target state -> the states it may be reached from (anything else: 409 transition_not_allowed).
# `assigned` is reached through assignment (which also re-assigns), the others through moves.
TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "assigned": ("new", "assigned", "in_progress", "waiting"),
    "in_progress": ("assigned", "waiting", "done"),
    "waiting": ("in_progress",),
    "done": ("in_progress",),
    "closed": ("done",),
    "cancelled": ("new", "assigned", "in_progress", "waiting"),
}
# Who makes a move: the assignee works (start, wait, resume, done); managers verify, reopen and
# cancel. `in_progress` from `done` is a manager's "not fixed, back to work".
WORK_MOVES: Final = frozenset({("assigned", "in_progress"), ("waiting", "in_progress")}) | {
    ("in_progress", "waiting"),
    ("in_progress", "done"),
}

# Device alarm types (api/alarms/catalogue.py) that open a fault order, with its priority and
# title. There is no barrier-fault alarm type yet (barriers report `barrier.*` events that raise
# none), so a barrier fault opens an order only as `device_offline`.
FAULT_KINDS: Final[dict[str, tuple[Priority, str]]] = {
    "device_offline": ("normal", "设备离线"),
    "video_loss": ("high", "视频丢失"),
    "door_open_failed": ("high", "门禁授权后未打开"),
    # a camera whose picture a video patrol found bad (dark, covered, blurred, frozen, unclear):
    # raised by api/patrol/tour_runs.py, not by an alarm type or event of its own
    "video_quality": ("normal", "画面质量异常"),
}
# Canonical event kinds that are a fault of their device.
FAULT_EVENTS: Final[dict[str, str]] = {
    "device.offline": "device_offline",
    "video.loss": "video_loss",
    "door.open_failed": "door_open_failed",
}


def allowed(current: str, target: str) -> bool:
    """Whether an order in `current` may move to `target`."""
    return current in TRANSITIONS.get(target, ())


def is_work_move(current: str, target: str) -> bool:
    """Whether the move is the assignee's to make (else a manager's)."""
    return (current, target) in WORK_MOVES
