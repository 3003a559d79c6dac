"""Spare parts used on an order: the assignee (or a manager) adds them while the order is worked
or done, and they leave the community's stock through the ledger's `take_parts` in the same
transaction as the order's history line and audit entry.

The stock never goes below zero: each part is one guarded `UPDATE … WHERE stock >= n` (and a
CHECK under it), so of two takes of the last items one gets `409 insufficient_stock` and nothing
of its items is taken. The movements carry the order's id; the order's detail and its closing
report list them from there, so there is one record of what was used.

Parts not used go back through the ledger's `return_parts`: never more of a part than the order
took net of its earlier returns (`409 return_exceeds_taken`; concurrent returns serialize on the
part's row), at the price they were taken at, so the order's parts cost goes down by as much.
"""

from __future__ import annotations

from uuid import UUID

from api.core.auth import Caller
from api.core.storage import ObjectStore
from api.devices.ledger.parts import return_parts, take_parts
from api.devices.ledger.schemas import TakeItem
from api.piccolo_conf import DB
from api.workorders.errors import TransitionNotAllowed
from api.workorders.orders import audited, detail, entry, in_scope
from api.workorders.progress import manages, works
from api.workorders.schemas import PartsReturnCreate, PartsUsedCreate, WorkOrderDetail

# Parts are used while the order is worked (waiting for parts included) and noted up to done.
PARTS_STATES = ("in_progress", "waiting", "done")


async def add(
    caller: Caller, order_id: UUID, data: PartsUsedCreate, store: ObjectStore
) -> WorkOrderDetail:
    """Take the parts out of the order's community stock for it, all or none."""
    order = await in_scope(caller, order_id)
    if not manages(caller, order):
        works(caller, order)
    if order.state not in PARTS_STATES:
        raise TransitionNotAllowed(state=order.state, to="parts")
    items = _merged(data)
    async with DB.transaction():
        taken = await take_parts(
            order.community,
            items,
            actor=caller,
            reason=f"工单 {order.title}"[:200],
            device_id=order.device,
            work_order_id=order.id,
        )
        used = [{"part": str(t.part_id), "quantity": -t.quantity} for t in taken]
        await entry(order.id, "parts", actor=caller, text=data.note, parts=used)
        await audited(caller, "workorder.parts_used", order, parts=used)
    return await detail(caller, order_id, store)


async def give_back(
    caller: Caller, order_id: UUID, data: PartsReturnCreate, store: ObjectStore
) -> WorkOrderDetail:
    """Return parts the order took and did not use to its community's stock, all or none."""
    order = await in_scope(caller, order_id)
    if not manages(caller, order):
        works(caller, order)
    if order.state not in PARTS_STATES:
        raise TransitionNotAllowed(state=order.state, to="parts_return")
    async with DB.transaction():
        back = await return_parts(
            order.community,
            _merged(data),
            work_order_id=order.id,
            actor=caller,
            reason=f"工单 {order.title} 退回"[:200],
            device_id=order.device,
        )
        returned = [
            {"part": str(m.part_id), "quantity": m.quantity, "unit_cost": m.unit_cost} for m in back
        ]
        await entry(order.id, "parts_returned", actor=caller, text=data.note, parts=returned)
        await audited(caller, "workorder.parts_returned", order, parts=returned)
    return await detail(caller, order_id, store)


def _merged(data: PartsUsedCreate | PartsReturnCreate) -> list[TakeItem]:
    """The same part twice is one item of the sum."""
    merged: dict[UUID, int] = {}
    for item in data.items:
        merged[item.part_id] = merged.get(item.part_id, 0) + item.quantity
    return [TakeItem(part_id=p, quantity=q) for p, q in merged.items()]
