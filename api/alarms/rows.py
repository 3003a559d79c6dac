"""Alarm, zone and timeline rows as the alarms modules hand them to each other.

A query that returns a row beyond its own function converts it here (`msgspec.convert`), so a
misspelt column fails in mypy rather than at run time. JSON columns arrive decoded
(`output(load_json=True)`). Rows are read-only: a changed row is a new one (`replace`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from api.alarms.catalogue import AlarmType, Severity, State, ZoneKind


class AlarmRow(msgspec.Struct, frozen=True, kw_only=True):
    """An `Alarm` row; `assigned_to_name` when the query joins it (`reads.alarm_row`)."""

    id: UUID
    community: UUID
    type: AlarmType
    severity: Severity
    state: State
    source_device: UUID | None
    zone: UUID | None
    household: UUID | None
    raised_by: UUID | None
    location: dict[str, Any]
    title: str
    assigned_to: UUID | None
    plan: UUID | None
    plan_steps: list[str]
    event: int | None
    retention: str
    raised_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    escalated_at: datetime | None
    linkage_at: datetime | None
    assigned_to_name: str | None = None


class EntryRow(msgspec.Struct, frozen=True, kw_only=True):
    """An `AlarmEntry` (timeline) row with the actor's display name."""

    id: UUID
    alarm: UUID
    at: datetime
    kind: str
    actor: UUID | None
    actor_name: str | None
    text: str
    data: dict[str, Any]


class ZoneRow(msgspec.Struct, frozen=True, kw_only=True):
    """An `IntrusionZone` row; `devices` holds platform device ids as text."""

    id: UUID
    community: UUID
    household: UUID | None
    name: str
    kind: ZoneKind
    room: str
    armed: bool
    entry_delay: int
    devices: list[str]
    state_changed_at: datetime | None
    created_at: datetime


class LinkedDevice(msgspec.Struct, frozen=True, kw_only=True):
    """A device a linkage action may work on (`failsafe.community_devices`)."""

    id: UUID
    external_id: str
    kind: str
    bridge: UUID
