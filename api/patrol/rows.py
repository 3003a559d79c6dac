"""The rows the patrol modules hand each other, typed at the query."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from uuid import UUID

import msgspec


class CheckpointRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    community: UUID
    area: UUID
    name: str
    code: str
    needs_photo: bool
    needs_note: bool
    lat: float | None
    lon: float | None
    device: UUID | None
    photo: str = ""


class PlanRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    community: UUID
    route: UUID
    name: str
    guards: list[UUID]
    day_starts: time
    night_starts: time
    day_every: int
    night_every: int
    round_minutes: int
    grace_minutes: int
    active: bool


class RoundRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    community: UUID
    plan: UUID | None
    route_name: str
    checkpoints: list[dict[str, Any]]  # [{id, name}] in order
    guards: list[UUID]
    starts_at: datetime
    due_at: datetime
    closes_at: datetime
    ended_at: datetime | None
    summary: dict[str, Any]
    alarm: UUID | None

    def stop_ids(self) -> list[UUID]:
        """The round's checkpoint ids in walking order."""
        return [UUID(str(c["id"])) for c in self.checkpoints]


class ScanRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    community: UUID
    round: UUID | None
    checkpoint: UUID | None
    guard: UUID | None
    device: UUID | None
    phone: str
    phone_at: datetime
    server_at: datetime
    at: datetime
    accepted: bool
    reason: str
    late: bool
    flags: list[str]
    note: str
    photo: str


class TourRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    community: UUID
    name: str
    cameras: list[UUID]
    dwell_seconds: int
    day_starts: time
    night_starts: time
    day_every: int
    night_every: int
    run_minutes: int
    active: bool


class RunRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    community: UUID
    tour: UUID | None
    tour_name: str
    cameras: list[dict[str, Any]]  # [{id, name}] in order
    dwell_seconds: int
    starts_at: datetime
    due_at: datetime
    reminded_at: datetime | None
    guard: UUID | None
    started_at: datetime | None
    ended_at: datetime | None
    outcome: str
    alarm: UUID | None


class CheckRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    run: UUID
    camera: UUID | None
    camera_name: str
    guard: UUID | None
    at: datetime
    result: str
    problem: str
    note: str
    alarm: UUID | None
    quality: dict[str, Any] | None = None
