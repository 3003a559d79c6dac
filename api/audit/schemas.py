"""Wire shapes of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from api.core.paging import Page


class AuditEntryRead(msgspec.Struct, kw_only=True):
    """One audit entry as the audit administrator sees it."""

    id: int
    at: datetime
    actor_id: UUID | None
    actor_name: str | None
    actor_role: str | None
    action: str
    outcome: str
    target_type: str | None
    target_id: str | None
    community_id: UUID | None
    ip: str | None
    purpose: str | None
    details: dict[str, Any]
    hash: str


class AuditPage(Page, kw_only=True):
    """A page of audit entries, newest first."""

    items: list[AuditEntryRead]


class VerifyRead(msgspec.Struct, kw_only=True):
    """The result of walking the hash chain."""

    ok: bool
    checked: int
    broken_id: int | None
    reason: str | None
