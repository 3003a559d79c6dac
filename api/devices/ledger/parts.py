"""Spare parts and their stock (OPS-15).

A part's stock changes only through a movement: `in` (received), `out` (taken for a use),
`return` (given back from a use, at the price it was taken at) and `adjust` (set to a count).
Each movement is one guarded UPDATE of the stock (`stock >= n` in its WHERE for a take-out) and
one row in `spare_part_movements` in the same transaction, so two concurrent take-outs of the last
item cannot both succeed and the stock never goes below zero (a
CHECK on the table holds the same line under any other writer).

`take_parts` is the one entry for taking parts out for a use, `return_parts` for giving them back;
work orders call both with their id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from asyncpg.exceptions import UniqueViolationError

from api.audit.service import record
from api.core.auth import Caller, Scope, require_staff
from api.core.errors import NotFound
from api.core.paging import equals, paged_page
from api.core.query import like
from api.devices.ledger.errors import DuplicatePartCode, InsufficientStock, ReturnExceedsTaken
from api.devices.ledger.schemas import (
    MovementCreate,
    MovementPage,
    MovementRead,
    PartCreate,
    PartPage,
    PartRead,
    PartUpdate,
    TakeItem,
    TakeRequest,
)
from api.devices.tables import Device, SparePart, StockMovement
from api.piccolo_conf import DB


def _now() -> datetime:
    return datetime.now(UTC)


def _part(row: dict[str, Any]) -> PartRead:
    return PartRead(
        id=row["id"],
        community_id=row["community"],
        code=row["code"],
        name=row["name"],
        category=row["category"],
        unit=row["unit"],
        stock=row["stock"],
        min_stock=row["min_stock"],
        low=row["stock"] <= row["min_stock"],
        place=row["place"],
        unit_cost=row["unit_cost"],
        created_at=row["created_at"],
    )


def _movement(row: dict[str, Any]) -> MovementRead:
    return MovementRead(
        id=row["id"],
        part_id=row["part"],
        kind=row["kind"],
        quantity=row["quantity"],
        stock_after=row["stock_after"],
        reason=row["reason"],
        device_id=row["device"],
        work_order_id=row["work_order"],
        unit_cost=row["unit_cost"],
        actor_id=row["actor"],
        at=row["at"],
    )


def _search(q: str) -> Any:
    pattern = like(q)
    return (
        SparePart.code.ilike(pattern)
        | SparePart.name.ilike(pattern)
        | SparePart.category.ilike(pattern)
    )


async def list_parts(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    low: bool | None = None,
    q: str | None = None,
) -> PartPage:
    """Spare parts in scope by code; `low`: at or under their minimum (or above it)."""
    low_is = SparePart.stock <= SparePart.min_stock  # type: ignore[operator]
    return await paged_page(
        PartPage,
        _part,
        SparePart.select().order_by(SparePart.code),
        Scope.of(caller, "ledger.read").where(SparePart.community),
        equals(SparePart.community, community_id),
        None if low is None else (low_is if low else SparePart.stock > SparePart.min_stock),  # type: ignore[operator]
        _search(q) if q else None,
        page=page,
        page_size=page_size,
    )


async def get_part(caller: Caller, part_id: UUID, permission: str = "ledger.read") -> PartRead:
    """One part in scope; NotFound outside it."""
    row = await SparePart.select().where(SparePart.id == part_id).first()
    if row is None:
        raise NotFound()
    require_staff(caller, permission, row["community"])
    return _part(row)


async def _move(
    community_id: UUID,
    part_id: UUID,
    kind: str,
    quantity: int,
    *,
    actor: Caller | None,
    reason: str,
    device_id: UUID | None = None,
    work_order_id: UUID | None = None,
    unit_cost: int | msgspec.UnsetType | None = msgspec.UNSET,
) -> MovementRead:
    """One movement inside the caller's transaction; InsufficientStock for an `out` above the
    stock (the guarded UPDATE changes no row) and NotFound for a part of another community.
    `unit_cost` prices the movement (a return, at its take's price); unset: the part's price."""
    of_part = (SparePart.id == part_id) & (SparePart.community == community_id)
    if kind == "adjust":
        locked = await SparePart.raw(
            "SELECT stock, unit_cost FROM spare_parts WHERE id = {} AND community = {} FOR UPDATE",
            part_id,
            community_id,
        )
        if not locked:
            raise NotFound()
        after, delta = quantity, quantity - locked[0]["stock"]
        price = locked[0]["unit_cost"]
        await SparePart.update({SparePart.stock: after}).where(of_part)
    else:
        delta = -quantity if kind == "out" else quantity
        guard = of_part if kind != "out" else of_part & (SparePart.stock >= quantity)
        rows = await (
            SparePart.update({SparePart.stock: SparePart.stock + delta})
            .where(guard)
            .returning(SparePart.stock, SparePart.unit_cost)
        )
        if not rows:
            if not await SparePart.exists().where(of_part):
                raise NotFound()
            raise InsufficientStock(part_id=str(part_id))
        after, price = rows[0]["stock"], rows[0]["unit_cost"]
    row = StockMovement(
        community=community_id,
        part=part_id,
        kind=kind,
        quantity=delta,
        stock_after=after,
        reason=reason,
        device=device_id,
        work_order=work_order_id,
        # the price of this movement, kept when the part's price changes
        unit_cost=price if isinstance(unit_cost, msgspec.UnsetType) else unit_cost,
        actor=actor.account_id if actor else None,
        at=_now(),
    )
    await row.save()
    await record(
        f"spare_part.{kind}",
        actor=actor,
        target_type="spare_part",
        target_id=part_id,
        community_id=community_id,
        details={
            "quantity": delta,
            "stock_after": after,
            **({"device": str(device_id)} if device_id else {}),
            **({"work_order": str(work_order_id)} if work_order_id else {}),
        },
    )
    return _movement(row.to_dict())


async def create_part(caller: Caller, data: PartCreate) -> PartRead:
    """A new part; an opening stock is recorded as a movement in."""
    require_staff(caller, "ledger.write", data.community_id)
    row = SparePart(
        community=data.community_id,
        code=data.code,
        name=data.name,
        category=data.category,
        unit=data.unit,
        stock=0,
        min_stock=data.min_stock,
        place=data.place,
        unit_cost=data.unit_cost,
    )
    try:
        async with DB.transaction():
            await row.save()
            await record(
                "spare_part.created",
                actor=caller,
                target_type="spare_part",
                target_id=row.id,
                community_id=data.community_id,
                details={"code": data.code},
            )
            if data.stock:
                await _move(
                    data.community_id, row.id, "in", data.stock, actor=caller, reason="opening"
                )
    except UniqueViolationError as err:
        raise DuplicatePartCode(field="code") from err
    return await get_part(caller, row.id)


async def update_part(caller: Caller, part_id: UUID, data: PartUpdate) -> PartRead:
    """A part's name, category, unit, minimum level or place."""
    part = await get_part(caller, part_id, "ledger.write")
    fields = ("name", "category", "unit", "min_stock", "place", "unit_cost")
    changes = {
        getattr(SparePart, f): v for f in fields if (v := getattr(data, f)) is not msgspec.UNSET
    }
    if changes:
        async with DB.transaction():
            await SparePart.update(changes).where(SparePart.id == part_id)
            await record(
                "spare_part.updated",
                actor=caller,
                target_type="spare_part",
                target_id=part_id,
                community_id=part.community_id,
                details={
                    "fields": sorted(c._meta.name for c in changes),
                    **(
                        {"unit_cost": [part.unit_cost, data.unit_cost]}
                        if data.unit_cost is not msgspec.UNSET
                        else {}
                    ),
                },
            )
    return await get_part(caller, part_id)


async def _check_device(community_id: UUID, device_id: UUID | None) -> None:
    if device_id is not None and not await Device.exists().where(
        (Device.id == device_id) & (Device.community == community_id)
    ):
        raise NotFound("No such asset in this community.", field="device_id")


async def move_stock(caller: Caller, part_id: UUID, data: MovementCreate) -> MovementRead:
    """One movement of a part's stock by hand: in, out or adjust to a count."""
    part = await get_part(caller, part_id, "ledger.write")
    await _check_device(part.community_id, data.device_id)
    async with DB.transaction():
        moved = await _move(
            part.community_id,
            part_id,
            data.kind,
            data.quantity,
            actor=caller,
            reason=data.reason,
            device_id=data.device_id,
        )
    return moved


async def take_parts(
    community_id: UUID,
    items: list[TakeItem],
    *,
    actor: Caller | None,
    reason: str = "",
    device_id: UUID | None = None,
    work_order_id: UUID | None = None,
) -> list[MovementRead]:
    """Take parts out of stock for one use, all or none: one `out` movement per item, each
    audited; InsufficientStock (409) when any item is short, NotFound when a part or the asset
    is not of the community. Runs in the caller's transaction when there is one (a work order
    closing with the parts it used), else in its own. The caller checks the permission; the
    route does (`ledger.write`), work orders check theirs.
    """
    await _check_device(community_id, device_id)
    # a fixed order of the rows locked, so two takes of the same parts never deadlock
    ordered = sorted(items, key=lambda i: str(i.part_id))
    async with DB.transaction():
        taken = [
            await _move(
                community_id,
                item.part_id,
                "out",
                item.quantity,
                actor=actor,
                reason=reason,
                device_id=device_id,
                work_order_id=work_order_id,
            )
            for item in ordered
        ]
    return taken


def _returnable(history: list[dict[str, Any]]) -> list[tuple[int, int | None]]:
    """What a use still holds of one part, as price layers (quantity, unit cost), oldest first:
    its movements replayed in order, a take pushing a layer, a return giving back the newest."""
    layers: list[list[Any]] = []
    for m in history:
        if m["kind"] == "out":
            layers.append([-m["quantity"], m["unit_cost"]])
            continue
        left = m["quantity"]
        while left and layers:
            given = min(left, layers[-1][0])
            layers[-1][0] -= given
            left -= given
            if not layers[-1][0]:
                layers.pop()
    return [(q, c) for q, c in layers]


async def return_parts(
    community_id: UUID,
    items: list[TakeItem],
    *,
    work_order_id: UUID,
    actor: Caller | None,
    reason: str = "",
    device_id: UUID | None = None,
) -> list[MovementRead]:
    """Give parts back to stock from one use (a work order), all or none: never more of a part
    than the use took net of its earlier returns (ReturnExceedsTaken, 409, nothing returned);
    NotFound for a part not of the community.

    Each part's row is locked (`FOR UPDATE`, parts in a fixed order) before its history is read,
    so two returns of one part serialize: the second reads the first's movement and can only
    give back what is left. The return is priced at the unit cost its units were taken at (the
    newest takes first, one `return` movement per price), so the use's parts cost goes down by
    exactly what it was charged for them. Runs in the caller's transaction when there is one.
    """
    ordered = sorted(items, key=lambda i: str(i.part_id))
    returned: list[MovementRead] = []
    async with DB.transaction():
        for item in ordered:
            locked = await SparePart.raw(
                "SELECT id FROM spare_parts WHERE id = {} AND community = {} FOR UPDATE",
                item.part_id,
                community_id,
            )
            if not locked:
                raise NotFound()
            history = await (
                StockMovement.select(
                    StockMovement.kind, StockMovement.quantity, StockMovement.unit_cost
                )
                .where(
                    (StockMovement.part == item.part_id)
                    & (StockMovement.community == community_id)
                    & (StockMovement.work_order == work_order_id)
                    & StockMovement.kind.is_in(["out", "return"])
                )
                .order_by(StockMovement.at)
                .order_by(StockMovement.id)
            )
            layers = _returnable(history)
            held = sum(q for q, _ in layers)
            if item.quantity > held:
                raise ReturnExceedsTaken(part_id=str(item.part_id), returnable=held)
            left = item.quantity
            for quantity, price in reversed(layers):  # the newest takes come back first
                if not left:
                    break
                given = min(left, quantity)
                left -= given
                returned.append(
                    await _move(
                        community_id,
                        item.part_id,
                        "return",
                        given,
                        actor=actor,
                        reason=reason,
                        device_id=device_id,
                        work_order_id=work_order_id,
                        unit_cost=price,
                    )
                )
    return returned


async def take(caller: Caller, data: TakeRequest) -> list[MovementRead]:
    """Take parts out for a use, over HTTP (maintenance staff and managers)."""
    require_staff(caller, "ledger.write", data.community_id)
    return await take_parts(
        data.community_id, data.items, actor=caller, reason=data.reason, device_id=data.device_id
    )


async def movements(caller: Caller, part_id: UUID, *, page: int, page_size: int) -> MovementPage:
    """A part's movements, newest first."""
    part = await get_part(caller, part_id)
    return await paged_page(
        MovementPage,
        _movement,
        StockMovement.select().order_by(StockMovement.at, ascending=False),
        StockMovement.part == part_id,
        StockMovement.community == part.community_id,
        page=page,
        page_size=page_size,
    )
