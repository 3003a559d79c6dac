"""`WorkOrderRow`: an order as the modules hand it to each other (converted at the query)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from api.workorders.tables import WorkOrder

COLUMNS = (
    *WorkOrder.all_columns(),
    WorkOrder.device.name.as_alias("device_name"),
    WorkOrder.assignee.display_name.as_alias("assignee_name"),
)


class WorkOrderRow(msgspec.Struct, frozen=True, kw_only=True):
    """A `WorkOrder` row with its device's and assignee's names."""

    id: UUID
    community: UUID
    kind: str
    priority: str
    state: str
    waiting_for: str
    title: str
    description: str
    device: UUID | None
    device_name: str | None
    fault: str | None
    repeats: int
    last_seen_at: datetime | None
    previous: UUID | None
    household: UUID | None
    requested_by: UUID | None
    assignee: UUID | None
    assignee_name: str | None
    created_at: datetime
    due_at: datetime
    escalated_at: datetime | None
    prompted_at: datetime | None
    done_at: datetime | None
    closed_at: datetime | None
    cause: str
    report: str
    rating: int | None
    rating_note: str
    plan: UUID | None
    due_on: date | None
    checklist: list[dict[str, Any]]
    signature_required: bool
    signature_key: str | None
    cancel_reason: str
    external_cost: int | None
    external_cost_note: str


async def order_row(order_id: UUID) -> WorkOrderRow | None:
    """One order's row, or None."""
    row = (
        await WorkOrder.select(*COLUMNS)
        .where(WorkOrder.id == order_id)
        .output(load_json=True)
        .first()
    )
    return None if row is None else msgspec.convert(row, WorkOrderRow)
