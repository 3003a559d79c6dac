"""Work orders opened by device faults: once per fault, not once per event.

A fault (catalogue.FAULT_EVENTS: a device offline, video lost, a door that did not open) is one
statement: `INSERT … ON CONFLICT (device, fault) WHERE <absorbing states> DO UPDATE`, arbitrated
by the partial unique index `work_orders_open_fault`. While an order of the device and fault is
open (or done, not yet verified) a repeat only counts on it (`repeats`, `last_seen_at`); once it
is closed or cancelled, the fault opens a new order whose `previous` is the last ended one. Two
reports at once — two api instances, a replay racing the live event — make one order: the second
INSERT waits on the first's index entry and then updates it.

Wired in api/app.py: `on_events` as a bridge-link event hook (inside the ingest's transaction)
and `door_open_failed` beside the alarm of a door the platform opened that did not open.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

import structlog

from api.core.effects import Effects
from api.devices.rows import DeviceEventRow
from api.devices.tables import Device
from api.workorders.catalogue import FAULT_EVENTS, FAULT_KINDS, SLA
from api.workorders.orders import announce_new, audited, entry, now
from api.workorders.rows import order_row
from api.workorders.tables import WorkOrder

log = structlog.get_logger()

# The predicate is the index's (the migration): ABSORBING_STATES, spelt out (a test checks).
UPSERT = """
INSERT INTO work_orders (
    id, community, kind, priority, state, waiting_for, title, description, device, fault,
    repeats, last_seen_at, previous, created_at, due_at, cause, report, rating_note
)
VALUES (
    {}, {}, 'fault', {}, 'new', '', {}, {}, {}, {}, 1, {},
    (SELECT id FROM work_orders
     WHERE device = {} AND fault = {} AND state IN ('closed', 'cancelled')
     ORDER BY created_at DESC LIMIT 1),
    {}, {}, '', '', ''
)
ON CONFLICT (device, fault)
    WHERE fault IS NOT NULL AND state IN ('new', 'assigned', 'in_progress', 'waiting', 'done')
DO UPDATE SET repeats = work_orders.repeats + 1,
              last_seen_at = GREATEST(work_orders.last_seen_at, EXCLUDED.last_seen_at)
RETURNING id, (xmax = 0) AS opened
"""


async def open_fault(
    community_id: UUID,
    device_id: UUID,
    fault: str,
    *,
    at: datetime,
    effects: Effects,
    note: str = "",
    device_name: str | None = None,
) -> tuple[UUID, bool]:
    """The open order of the device's fault, made if there is none (in the caller's
    transaction); its id and whether it was opened now."""
    priority, label = FAULT_KINDS[fault]
    if device_name is None:
        row = await Device.select(Device.name).where(Device.id == device_id).first()
        device_name = row["name"] if row else "设备"
    created = now()
    result = await WorkOrder.raw(
        UPSERT,
        uuid4(),
        community_id,
        priority,
        f"{label} · {device_name}"[:200],
        note,
        device_id,
        fault,
        at,
        device_id,
        fault,
        created,
        created + SLA[priority],
    )
    order_id, opened = result[0]["id"], result[0]["opened"]
    if opened:
        order = await order_row(order_id)
        assert order is not None
        await entry(order_id, "created", to_state="new", text=note, fault=fault)
        await audited(None, "workorder.created", order, kind="fault", fault=fault)
        await announce_new(
            WorkOrder(
                id=order_id,
                community=community_id,
                title=order.title,
                priority=priority,
                due_at=order.due_at,
            ),
            effects,
        )
        log.info("workorder.fault.opened", work_order_id=str(order_id), fault=fault)
    return order_id, opened


async def on_events(community_id: UUID, stored: list[DeviceEventRow]) -> Effects:
    """The ingest hook: a fault order for each fault event of a device in the batch."""
    effects = Effects()
    for event in stored:
        fault = FAULT_EVENTS.get(event.kind)
        if fault is None or event.device is None:  # a bridge's own outage is no asset's fault
            continue
        await open_fault(community_id, event.device, fault, at=event.at, effects=effects)
    return effects


async def door_open_failed(
    community_id: UUID, *, device_id: UUID, note: str, effects: Effects
) -> None:
    """A door the platform granted did not open: the door's fault order (in the caller's
    transaction, beside the alarm and the access record)."""
    await open_fault(
        community_id, device_id, "door_open_failed", at=now(), effects=effects, note=note
    )
