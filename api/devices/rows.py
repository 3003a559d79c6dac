"""Device rows as the devices package hands them to the domains above it.

Converted at the query (`msgspec.convert`), so a misspelt column fails in mypy rather than in the
handler of a live event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec


class DeviceEventRow(msgspec.Struct, frozen=True, kw_only=True):
    """A stored `DeviceEvent` with its `data` decoded: what the ingest hands its handlers."""

    id: int
    community: UUID
    seq: int | None
    device: UUID | None
    kind: str
    at: datetime
    data: dict[str, Any]
