"""Opening work orders and reading them: the list (by due time), one order with its history,
photos and time log, the fault archive of an asset, and the staff an order may be given to.

Scope: staff of a community (managers, guards, maintenance) read all its orders; a resident reads
the requests of their household (theirs and their family's), nothing else. Out of scope is 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from piccolo.columns.combination import Combinable

from api.accounts.tables import Account, RoleAssignment
from api.alarms.roster import recipients
from api.audit.service import record
from api.core.auth import Caller, Role, Scope
from api.core.effects import Effects
from api.core.errors import InvalidInput, NotFound
from api.core.paging import equals, paged_page
from api.core.storage import ObjectStore, RetentionClass, is_image
from api.devices.tables import Device, StockMovement
from api.piccolo_conf import DB
from api.push.schemas import PushMessage
from api.push.service import DISPATCH, notify
from api.workorders.catalogue import ENDED_STATES, OPEN_STATES, SLA
from api.workorders.duplicates import order_report, possible_duplicates
from api.workorders.errors import InvalidPhoto, InvalidSignature, KindNotAllowed, UnknownDevice
from api.workorders.rows import COLUMNS, WorkOrderRow, order_row
from api.workorders.schemas import (
    DuplicateRef,
    MaintenanceStaffRead,
    SignatureUpload,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderEntryRead,
    WorkOrderPage,
    WorkOrderPartRead,
    WorkOrderPhotoRead,
    WorkOrderPhotoUpload,
    WorkOrderRead,
    WorkOrderTimeRead,
)
from api.workorders.tables import (
    LabelRequest,
    WorkLog,
    WorkOrder,
    WorkOrderEntry,
    WorkOrderPhoto,
)

RESIDENT_KINDS = frozenset({"repair", "complaint"})
MAX_PHOTOS = 12
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def now() -> datetime:
    return datetime.now(UTC)


# -- shared by the modules -------------------------------------------------------------------------


def can_see(scope: Scope, order: WorkOrderRow) -> bool:
    """Staff of its community, or a resident of the household that asked."""
    return scope.allows(order.community, order.household)


async def in_scope(caller: Caller, order_id: UUID) -> WorkOrderRow:
    """The order if the caller may read it; NotFound otherwise."""
    scope = Scope.of(caller, "workorder.read")
    order = await order_row(order_id)
    if order is None or not can_see(scope, order):
        raise NotFound()
    return order


async def entry(
    order_id: UUID,
    kind: str,
    *,
    actor: Caller | None = None,
    from_state: str = "",
    to_state: str = "",
    text: str = "",
    **data: Any,
) -> None:
    """Append a line to the order's history (inside the caller's transaction)."""
    await WorkOrderEntry(
        work_order=order_id,
        at=now(),
        kind=kind,
        actor=actor.account_id if actor else None,
        from_state=from_state,
        to_state=to_state,
        text=text,
        data=data,
    ).save()


async def audited(caller: Caller | None, action: str, order: WorkOrderRow, **details: Any) -> None:
    """Record a work-order write in the audit log (inside the caller's transaction)."""
    await record(
        action,
        actor=caller,
        actor_name=None if caller else "device",
        target_type="work_order",
        target_id=order.id,
        community_id=order.community,
        details=details or None,
    )


async def tell(
    accounts: set[UUID], order: WorkOrderRow | WorkOrder, title: str, effects: Effects
) -> None:
    """Push to the accounts about the order (rows now, delivery after commit)."""
    if not accounts:
        return
    message = PushMessage(
        title=f"【{title}】{order.title}"[:120],
        body=f"截止 {order.due_at.astimezone(UTC):%m-%d %H:%M} UTC · {order.priority}",
        url=f"/workorders/{order.id}",
        tag=f"workorder-{order.id}",
        urgency="high" if order.priority in ("urgent", "high") else "normal",
        data={"work_order_id": str(order.id)},
    )
    effects.after(DISPATCH, *await notify(sorted(accounts), message))


async def announce_new(order: WorkOrder, effects: Effects, *, but: UUID | None = None) -> None:
    """A new order: the community's managers and maintenance staff hear of it."""
    staff = await recipients(order.community, ("property_manager", "maintenance"))
    if but is not None:
        staff.discard(but)
    await tell(staff, order, "新工单", effects)


async def save_photo(
    store: ObjectStore, order: WorkOrderRow | WorkOrder | LabelRequest, photo: WorkOrderPhotoUpload
) -> tuple[UUID, str]:
    """Check the photo's bytes and put it in the object store under the order's prefix (a
    request from a label keeps its own id, which its photos keep on approval); id and key."""
    if not is_image(photo.content_type, photo.data):
        raise InvalidPhoto(field="photo")
    photo_id = uuid4()
    key = f"workorders/{order.community}/{order.id}/{photo_id}.{EXTENSIONS[photo.content_type]}"
    await store.put(
        key, photo.data, content_type=photo.content_type, retention=RetentionClass.RECORD_6M
    )
    return photo_id, key


async def save_signature(
    store: ObjectStore, order: WorkOrderRow, signature: SignatureUpload
) -> str:
    """Check the signature is a PNG and put it in the object store (kept as the order's photos
    are); its key."""
    if not is_image(signature.content_type, signature.data):
        raise InvalidSignature(field="signature")
    key = f"workorders/{order.community}/{order.id}/signature-{uuid4()}.png"
    await store.put(
        key, signature.data, content_type="image/png", retention=RetentionClass.RECORD_6M
    )
    return key


def read(order: WorkOrderRow, at: datetime | None = None) -> WorkOrderRead:
    """The API's view of an order."""
    fields = {f: getattr(order, f) for f in WorkOrderRow.__struct_fields__}
    for column, field in (
        ("community", "community_id"),
        ("device", "device_id"),
        ("previous", "previous_id"),
        ("household", "household_id"),
        ("assignee", "assignee_id"),
        ("plan", "plan_id"),
    ):
        fields[field] = fields.pop(column)
    fields["signed"] = fields.pop("signature_key") is not None
    fields["overdue"] = order.state in OPEN_STATES and (at or now()) > order.due_at
    return msgspec.convert(fields, WorkOrderRead, from_attributes=True)


def _row(row: dict[str, Any]) -> WorkOrderRead:
    return read(msgspec.convert(row, WorkOrderRow))


# -- opening an order ------------------------------------------------------------------------------


def _home(caller: Caller, scope: Scope, community_id: UUID | None) -> tuple[UUID, UUID]:
    """A resident's community and household for their request."""
    homes = [
        (a.community_id, a.household_id)
        for a in caller.assignments
        if a.role == Role.RESIDENT and a.community_id and a.household_id
    ]
    for community, household in homes:
        if community_id in (None, community) and household in scope.households:
            return community, household
    raise NotFound()


async def create(
    caller: Caller, data: WorkOrderCreate, store: ObjectStore, effects: Effects
) -> WorkOrderDetail:
    """Open an order (residents: a repair or complaint request of their household)."""
    scope = Scope.of(caller, "workorder.create")
    household: UUID | None = None
    priority = data.priority
    if data.community_id is not None and scope.staff_in(data.community_id):
        community = data.community_id
    elif data.community_id is None and len(scope.communities) == 1 and not scope.households:
        community = next(iter(scope.communities))
    elif scope.households:
        if data.kind not in RESIDENT_KINDS:
            raise KindNotAllowed(field="kind")
        community, household = _home(caller, scope, data.community_id)
        priority = "normal"  # a manager sets it when assigning
    elif data.community_id is None:
        raise InvalidInput("Name the community.", field="community_id")
    else:
        raise NotFound()
    if data.device_id is not None and not await Device.exists().where(
        (Device.id == data.device_id) & (Device.community == community)
    ):
        raise UnknownDevice(field="device_id")
    at = now()
    order = WorkOrder(
        id=uuid4(),
        community=community,
        kind=data.kind,
        priority=priority,
        state="new",
        title=data.title,
        description=data.description,
        device=data.device_id,
        household=household,
        requested_by=caller.account_id,
        created_at=at,
        due_at=at + SLA[priority],
        last_seen_at=None,
    )
    saved = [await save_photo(store, order, p) for p in data.photos]
    try:
        async with DB.transaction():
            await order.save()
            for (photo_id, key), photo in zip(saved, data.photos, strict=True):
                await WorkOrderPhoto(
                    id=photo_id,
                    work_order=order.id,
                    stage="request",
                    key=key,
                    content_type=photo.content_type,
                    size=len(photo.data),
                    uploaded_by=caller.account_id,
                    at=at,
                ).save()
            await entry(
                order.id, "created", actor=caller, to_state="new", text=data.description[:500]
            )
            row = await order_row(order.id)
            assert row is not None
            await audited(caller, "workorder.created", row, kind=data.kind, photos=len(saved))
            await announce_new(order, effects, but=caller.account_id)
    except BaseException:
        for _, key in saved:
            await store.delete(key)  # nothing half-written: no photo without its order
        raise
    return await detail(caller, order.id, store)


# -- reading ---------------------------------------------------------------------------------------


def _where(caller: Caller) -> Combinable | None:
    return Scope.of(caller, "workorder.read").where(WorkOrder.community, WorkOrder.household)


async def list_orders(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    state: str | None = None,
    priority: str | None = None,
    kind: str | None = None,
    device_id: UUID | None = None,
    mine: bool = False,
    active: bool = False,
) -> WorkOrderPage:
    """Orders in scope, soonest due first. `mine`: assigned to the caller (or, for a resident,
    theirs anyway); `active`: not closed or cancelled."""
    return await paged_page(
        WorkOrderPage,
        _row,
        WorkOrder.select(*COLUMNS)
        .order_by(WorkOrder.due_at)
        .order_by(WorkOrder.id)
        .output(load_json=True),
        _where(caller),
        equals(WorkOrder.community, community_id),
        equals(WorkOrder.state, state),
        equals(WorkOrder.priority, priority),
        equals(WorkOrder.kind, kind),
        equals(WorkOrder.device, device_id),
        (WorkOrder.assignee == caller.account_id) if mine else None,
        WorkOrder.state.not_in(list(ENDED_STATES)) if active else None,
        page=page,
        page_size=page_size,
    )


async def fault_archive(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    device_id: UUID | None = None,
) -> WorkOrderPage:
    """The fault archive (OPS-23): orders done with a closing report, per asset, newest first."""
    where = Scope.of(caller, "workorder.read")
    return await paged_page(
        WorkOrderPage,
        _row,
        WorkOrder.select(*COLUMNS)
        .order_by(WorkOrder.done_at, ascending=False)
        .output(load_json=True),
        where.where(WorkOrder.community),  # staff only: residents have no archive
        WorkOrder.done_at.is_not_null() & (WorkOrder.cause != ""),
        WorkOrder.state.is_in(["done", "closed"]),
        equals(WorkOrder.community, community_id),
        equals(WorkOrder.device, device_id),
        page=page,
        page_size=page_size,
    )


async def detail(caller: Caller, order_id: UUID, store: ObjectStore) -> WorkOrderDetail:
    """One order with its history, photos (short-lived URLs) and time log."""
    order = await in_scope(caller, order_id)
    history = await (
        WorkOrderEntry.select(
            *WorkOrderEntry.all_columns(), WorkOrderEntry.actor.display_name.as_alias("actor_name")
        )
        .where(WorkOrderEntry.work_order == order_id)
        .order_by(WorkOrderEntry.id)
    )
    photos = await (
        WorkOrderPhoto.select()
        .where(WorkOrderPhoto.work_order == order_id)
        .order_by(WorkOrderPhoto.at)
    )
    time = await (
        WorkLog.select(
            *WorkLog.all_columns(), WorkLog.account.display_name.as_alias("account_name")
        )
        .where(WorkLog.work_order == order_id)
        .order_by(WorkLog.started_at)
    )
    minutes = sum(
        (t["stopped_at"] - t["started_at"]).total_seconds() for t in time if t["stopped_at"]
    )
    return WorkOrderDetail(
        **msgspec.structs.asdict(read(order)),
        history=[
            WorkOrderEntryRead(
                at=h["at"],
                kind=h["kind"],
                actor_name=h["actor_name"],
                from_state=h["from_state"],
                to_state=h["to_state"],
                text=h["text"],
            )
            for h in history
        ],
        photos=[
            WorkOrderPhotoRead(
                id=p["id"],
                stage=p["stage"],
                url=await store.presigned_url(p["key"], expires_in=600),
                at=p["at"],
            )
            for p in photos
        ],
        time=[
            WorkOrderTimeRead(
                account_name=t["account_name"],
                started_at=t["started_at"],
                stopped_at=t["stopped_at"],
            )
            for t in time
        ],
        minutes=round(minutes / 60),
        working=any(t["account"] == caller.account_id and t["stopped_at"] is None for t in time),
        parts=await parts_used(order),
        signature_url=(
            await store.presigned_url(order.signature_key, expires_in=600)
            if order.signature_key
            else None
        ),
        possible_duplicates=await _duplicates(caller, order),
    )


async def _duplicates(caller: Caller, order: WorkOrderRow) -> list[DuplicateRef]:
    """A resident's request of an asset not taken yet (`new`), to a manager of its community:
    the earlier open reports of that asset. Nobody else sees them (the requester neither)."""
    if order.state != "new" or order.household is None or order.device is None:
        return []
    managing = Scope.held(caller, "workorder.manage")
    if managing is None or not managing.staff_in(order.community):
        return []
    report = await order_report(order.id, order.community, order.device, order.created_at)
    return (await possible_duplicates([report]))[order.id]


async def parts_used(order: WorkOrderRow) -> list[WorkOrderPartRead]:
    """The spare parts taken out of stock for the order and returned from it (its stock
    movements), in order; their quantities and costs add up to what the order holds."""
    rows = await (
        StockMovement.select(
            StockMovement.part,
            StockMovement.part.code.as_alias("code"),
            StockMovement.part.name.as_alias("name"),
            StockMovement.part.unit.as_alias("unit"),
            StockMovement.kind,
            StockMovement.quantity,
            StockMovement.unit_cost,
            StockMovement.actor,
            StockMovement.at,
        )
        .where(
            (StockMovement.work_order == order.id)
            & (StockMovement.community == order.community)
            & StockMovement.kind.is_in(["out", "return"])
        )
        .order_by(StockMovement.at)
    )
    actors = list({r["actor"] for r in rows if r["actor"]})
    names = {
        a["id"]: a["display_name"]
        for a in (
            await Account.select(Account.id, Account.display_name).where(Account.id.is_in(actors))
            if actors
            else []
        )
    }
    return [
        WorkOrderPartRead(
            part_id=r["part"],
            code=r["code"],
            name=r["name"],
            unit=r["unit"],
            kind="used" if r["kind"] == "out" else "returned",
            quantity=-r["quantity"],
            unit_cost=r["unit_cost"],
            cost=None if r["unit_cost"] is None else -r["quantity"] * r["unit_cost"],
            actor_name=names.get(r["actor"]),
            at=r["at"],
        )
        for r in rows
    ]


async def maintenance_staff(community_id: UUID) -> dict[UUID, str]:
    """The active maintenance staff of a community, by account id."""
    rows = await RoleAssignment.select(
        RoleAssignment.account, RoleAssignment.account.display_name.as_alias("name")
    ).where(
        (RoleAssignment.role == Role.MAINTENANCE)
        & (RoleAssignment.community == community_id)
        & RoleAssignment.account._.is_active.eq(True)
    )
    return {r["account"]: r["name"] for r in rows}


async def staff(caller: Caller, community_id: UUID) -> list[MaintenanceStaffRead]:
    """Who an order of the community may be given to (managers)."""
    if not Scope.of(caller, "workorder.manage").staff_in(community_id):
        raise NotFound()
    found = await maintenance_staff(community_id)
    return sorted(
        (MaintenanceStaffRead(id=k, name=v) for k, v in found.items()), key=lambda s: s.name
    )
