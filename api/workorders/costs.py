"""What maintenance costs (OPS-17's maintenance-cost statistics), in fen (分).

An order costs its parts — each stock movement taken for it, at the unit cost the part had when it
was taken (`spare_part_movements.unit_cost`, so a later price change does not rewrite history),
less the parts returned from it (`return` movements, at the price they were taken at) —
plus an optional external cost (a contractor's invoice) the assignee or a manager sets while the
order is worked or done. An asset's maintenance cost to date is the sum over all its orders
(cancelled ones included: parts taken for them were spent), aggregated in SQL.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.core.auth import Caller
from api.core.paging import offset
from api.core.storage import ObjectStore
from api.devices.ledger.assets import get_asset
from api.piccolo_conf import DB
from api.workorders.errors import TransitionNotAllowed
from api.workorders.orders import audited, detail, entry, in_scope
from api.workorders.progress import manages, works
from api.workorders.schemas import AssetCosts, AssetOrderCost, ExternalCostSet, WorkOrderDetail
from api.workorders.tables import WorkOrder

# An external cost is set while the order is worked (waiting included) and up to done.
COST_STATES = ("in_progress", "waiting", "done")

# Each order of the asset with its parts' cost (quantity × the unit cost at the time of use) and
# its external cost. Piccolo's raw placeholders are positional: `_args` gives them in order.
_ORDERS = """
WITH used AS (
    SELECT work_order,
           SUM((-quantity)::bigint * unit_cost) AS parts_cost,
           COUNT(*) FILTER (WHERE unit_cost IS NULL AND kind = 'out') AS unpriced_parts
    FROM spare_part_movements
    WHERE kind IN ('out', 'return') AND community = {}
      AND work_order IN (SELECT id FROM work_orders WHERE device = {} AND community = {})
    GROUP BY work_order
), costed AS (
    SELECT w.id, w.title, w.kind, w.state, w.fault, w.created_at, w.done_at,
           COALESCE(u.parts_cost, 0) AS parts_cost,
           COALESCE(w.external_cost, 0)::bigint AS external_cost,
           COALESCE(u.unpriced_parts, 0) AS unpriced_parts
    FROM work_orders w LEFT JOIN used u ON u.work_order = w.id
    WHERE w.device = {} AND w.community = {}
)
"""

_TOTALS = (
    _ORDERS
    + """
SELECT COUNT(*) AS total,
       COALESCE(SUM(parts_cost), 0) AS parts_cost,
       COALESCE(SUM(external_cost), 0) AS external_cost
FROM costed
"""
)

_PAGE = (
    _ORDERS
    + """
SELECT *, parts_cost + external_cost AS cost FROM costed
ORDER BY created_at DESC, id
LIMIT {} OFFSET {}
"""
)


async def asset_costs(caller: Caller, asset_id: UUID, *, page: int, page_size: int) -> AssetCosts:
    """An asset's purchase and maintenance costs and a page of its orders with theirs; NotFound
    for an asset outside the caller's ledger scope."""
    asset = await get_asset(caller, asset_id)
    community = asset.community_id
    key = (community, asset_id, community, asset_id, community)
    totals = (await WorkOrder.raw(_TOTALS, *key))[0]
    rows: list[dict[str, Any]] = await WorkOrder.raw(
        _PAGE, *key, page_size, offset(page, page_size)
    )
    return AssetCosts(
        asset_id=asset_id,
        purchase_cost=asset.purchase_cost,
        parts_cost=int(totals["parts_cost"]),
        external_cost=int(totals["external_cost"]),
        maintenance_cost=int(totals["parts_cost"] + totals["external_cost"]),
        items=[
            AssetOrderCost(
                id=r["id"],
                title=r["title"],
                kind=r["kind"],
                state=r["state"],
                fault=r["fault"],
                created_at=r["created_at"],
                done_at=r["done_at"],
                parts_cost=int(r["parts_cost"]),
                external_cost=int(r["external_cost"]),
                cost=int(r["cost"]),
                unpriced_parts=int(r["unpriced_parts"]),
            )
            for r in rows
        ],
        total=totals["total"],
        page=page,
        page_size=page_size,
    )


async def set_external_cost(
    caller: Caller, order_id: UUID, data: ExternalCostSet, store: ObjectStore
) -> WorkOrderDetail:
    """Set (or clear, with null) the order's external cost: its assignee or a manager, while the
    order is worked or done; one history line and one audit entry with the old and new amount."""
    order = await in_scope(caller, order_id)
    if not manages(caller, order):
        works(caller, order)
    if order.state not in COST_STATES:
        raise TransitionNotAllowed(state=order.state, to="cost")
    note = data.note if data.amount is not None else ""
    async with DB.transaction():
        changed = await (
            WorkOrder.update(
                {WorkOrder.external_cost: data.amount, WorkOrder.external_cost_note: note}
            )
            .where((WorkOrder.id == order.id) & WorkOrder.state.is_in(list(COST_STATES)))
            .returning(WorkOrder.id)
        )
        if not changed:  # moved on (closed, cancelled) since it was read
            raise TransitionNotAllowed(state="changed", to="cost")
        await entry(order.id, "cost", actor=caller, text=note, amount=data.amount)
        await audited(
            caller,
            "workorder.external_cost",
            order,
            amount=[order.external_cost, data.amount],
            note=note,
        )
    return await detail(caller, order_id, store)
