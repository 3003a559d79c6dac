"""Access rows as the access package hands them to the domains above it.

Converted where they are made (`msgspec.convert`), so a misspelt column fails in mypy rather than
in a handler inside the ingest's transaction.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class AccessRecordRow(msgspec.Struct, frozen=True, kw_only=True):
    """An `AccessRecord`: one pass or refusal at an access point."""

    id: UUID
    community: UUID
    device: UUID
    person: UUID | None
    account: UUID | None
    at: datetime
    direction: str
    method: str
    result: str
    reason: str
    command: UUID | None
    credential: UUID | None
    visitor_pass: UUID | None
    decided_by: str
    photo: str
