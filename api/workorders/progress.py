"""Working an order: assignment, state moves (checked against catalogue.TRANSITIONS), the time
log, photos before and after, the closing report, and the requester's rating.

Every move is a conditional `UPDATE … WHERE state = <the state read>`: of two moves at once, one
applies and the other answers `409 transition_not_allowed`, so the history never forks. Each
move writes a history entry and an audit entry in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from api.core.auth import Caller, Scope
from api.core.effects import Effects
from api.core.errors import Forbidden
from api.core.storage import ObjectStore
from api.piccolo_conf import DB
from api.workorders.catalogue import OPEN_STATES, allowed, is_work_move
from api.workorders.errors import (
    NotAssignee,
    NotRatable,
    ReportRequired,
    SignatureRequired,
    TooManyPhotos,
    TransitionNotAllowed,
    UnknownAssignee,
    UnknownStep,
    WaitingForRequired,
    WorkAlreadyStarted,
    WorkNotStarted,
)
from api.workorders.orders import (
    MAX_PHOTOS,
    audited,
    detail,
    entry,
    in_scope,
    maintenance_staff,
    now,
    save_photo,
    save_signature,
    tell,
)
from api.workorders.rows import WorkOrderRow, order_row
from api.workorders.schemas import (
    WorkOrderAssign,
    WorkOrderDetail,
    WorkOrderMove,
    WorkOrderPhotoCreate,
    WorkOrderRating,
    WorkOrderTime,
)
from api.workorders.tables import WorkLog, WorkOrder, WorkOrderPhoto


async def _apply(order: WorkOrderRow, to: str, changes: dict[Any, Any]) -> WorkOrderRow:
    """Move the order from the state it was read in; 409 if it moved meanwhile or may not."""
    if not allowed(order.state, to):
        raise TransitionNotAllowed(state=order.state, to=to)
    moved = (
        await WorkOrder.update({WorkOrder.state: to, **changes})
        .where((WorkOrder.id == order.id) & (WorkOrder.state == order.state))
        .returning(WorkOrder.id)
    )
    if not moved:
        current = await order_row(order.id)
        raise TransitionNotAllowed(state=current.state if current else None, to=to)
    after = await order_row(order.id)
    assert after is not None
    return after


def works(caller: Caller, order: WorkOrderRow) -> None:
    """The caller is the order's assignee, as maintenance staff of its community."""
    if not Scope.of(caller, "workorder.read").staff_in(order.community):
        raise Forbidden()
    if order.assignee != caller.account_id:
        raise NotAssignee()


def manages(caller: Caller, order: WorkOrderRow) -> bool:
    scope = Scope.held(caller, "workorder.manage")
    return scope is not None and scope.staff_in(order.community)


async def assign(
    caller: Caller, order_id: UUID, data: WorkOrderAssign, store: ObjectStore, effects: Effects
) -> WorkOrderDetail:
    """Give the order to a maintenance staff member of its community (managers), or take a new
    one (maintenance, to themselves). The assignee is told by push."""
    order = await in_scope(caller, order_id)
    if not manages(caller, order):
        work = Scope.held(caller, "workorder.work")
        taking = data.assignee_id == caller.account_id and order.state == "new"
        if work is None or not work.staff_in(order.community) or not taking:
            raise Forbidden()
    if data.assignee_id not in await maintenance_staff(order.community):
        raise UnknownAssignee(field="assignee_id")
    async with DB.transaction():
        after = await _apply(order, "assigned", {WorkOrder.assignee: data.assignee_id})
        await entry(
            order.id,
            "assigned",
            actor=caller,
            from_state=order.state,
            to_state="assigned",
            text=data.note,
            assignee=str(data.assignee_id),
        )
        await audited(
            caller, "workorder.assigned", after, assignee=str(data.assignee_id), state=order.state
        )
        if data.assignee_id != caller.account_id:
            await tell({data.assignee_id}, after, "工单派给您", effects)
    return await detail(caller, order_id, store)


async def move(
    caller: Caller, order_id: UUID, data: WorkOrderMove, store: ObjectStore, effects: Effects
) -> WorkOrderDetail:
    """Move the order: the assignee starts, waits, resumes and finishes it (with the closing
    report); managers verify (close), send it back to work, or cancel; the requester may cancel
    a request nobody has taken yet."""
    order = await in_scope(caller, order_id)
    to = data.to
    if not allowed(order.state, to):
        raise TransitionNotAllowed(state=order.state, to=to)
    withdrawing = (
        to == "cancelled" and order.state == "new" and order.requested_by == caller.account_id
    )
    if is_work_move(order.state, to):
        works(caller, order)
    elif not (manages(caller, order) or withdrawing):
        raise Forbidden()
    at = now()
    changes: dict[Any, Any] = {WorkOrder.waiting_for: data.waiting_for if to == "waiting" else ""}
    if to == "waiting" and not data.waiting_for:
        raise WaitingForRequired(field="waiting_for")
    signature: str | None = None
    if to == "done":
        if not data.cause.strip() or not data.report.strip():
            raise ReportRequired(field="cause" if not data.cause.strip() else "report")
        if order.signature_required and data.signature is None:
            raise SignatureRequired(field="signature")
        if any(i >= len(order.checklist) for i in data.checked):
            raise UnknownStep(field="checked")
        changes.update(
            {
                WorkOrder.done_at: at,
                WorkOrder.cause: data.cause,
                WorkOrder.report: data.report,
                WorkOrder.checklist: [
                    {"step": s["step"], "done": i in data.checked}
                    for i, s in enumerate(order.checklist)
                ],
            }
        )
        if data.signature is not None:
            signature = await save_signature(store, order, data.signature)
            changes[WorkOrder.signature_key] = signature
    if to == "closed":
        changes[WorkOrder.closed_at] = at
    if to == "in_progress" and order.state == "done":
        changes[WorkOrder.done_at] = None  # not fixed: back to work
    try:
        await _moved(caller, order, to, data, changes, at, effects)
    except BaseException:
        if signature is not None:
            await store.delete(signature)  # nothing half-written: no signature without its move
        raise
    return await detail(caller, order_id, store)


async def _moved(
    caller: Caller,
    order: WorkOrderRow,
    to: str,
    data: WorkOrderMove,
    changes: dict[Any, Any],
    at: datetime,
    effects: Effects,
) -> None:
    """The move, its history, audit and pushes, in one transaction."""
    order_id = order.id
    async with DB.transaction():
        after = await _apply(order, to, changes)
        if to not in OPEN_STATES:  # done, closed or cancelled: nobody's time runs on it
            await WorkLog.update({WorkLog.stopped_at: at}).where(
                (WorkLog.work_order == order_id) & WorkLog.stopped_at.is_null()
            )
        await entry(
            order_id,
            "moved",
            actor=caller,
            from_state=order.state,
            to_state=to,
            text=data.note or (data.report if to == "done" else ""),
            waiting_for=data.waiting_for or None,
            signed=True if WorkOrder.signature_key in changes else None,
        )
        await audited(caller, "workorder.moved", after, state=order.state, to=to)
        if to in ("done", "closed", "cancelled") and order.requested_by not in (
            None,
            caller.account_id,
        ):
            title = {"done": "工单已完成", "closed": "工单已关闭", "cancelled": "工单已取消"}[to]
            assert order.requested_by is not None
            await tell({order.requested_by}, after, title, effects)
        if to == "in_progress" and order.state == "done" and order.assignee:
            await tell({order.assignee}, after, "工单退回重修", effects)


async def log_time(
    caller: Caller, order_id: UUID, data: WorkOrderTime, store: ObjectStore
) -> WorkOrderDetail:
    """Start or stop the assignee's time on the order (one running entry at most)."""
    order = await in_scope(caller, order_id)
    works(caller, order)
    async with DB.transaction():
        # the order's row is the lock: two starts at once make one entry
        await WorkOrder.raw("SELECT id FROM work_orders WHERE id = {} FOR UPDATE", order_id)
        running = await WorkLog.select(WorkLog.id).where(
            (WorkLog.work_order == order_id)
            & (WorkLog.account == caller.account_id)
            & WorkLog.stopped_at.is_null()
        )
        if data.action == "start":
            if order.state not in OPEN_STATES:
                raise TransitionNotAllowed(state=order.state, to="work")
            if running:
                raise WorkAlreadyStarted()
            await WorkLog(work_order=order_id, account=caller.account_id, started_at=now()).save()
        else:
            if not running:
                raise WorkNotStarted()
            await WorkLog.update({WorkLog.stopped_at: now()}).where(WorkLog.id == running[0]["id"])
        await entry(order_id, f"work_{data.action}", actor=caller)
        await audited(caller, f"workorder.work_{data.action}", order)
    return await detail(caller, order_id, store)


async def add_photo(
    caller: Caller, order_id: UUID, data: WorkOrderPhotoCreate, store: ObjectStore
) -> WorkOrderDetail:
    """A photo before or after the work, by the assignee (or a manager of the community)."""
    order = await in_scope(caller, order_id)
    if not manages(caller, order):
        works(caller, order)
    if order.state not in (*OPEN_STATES, "done"):
        raise TransitionNotAllowed(state=order.state, to="photo")
    if await WorkOrderPhoto.count().where(WorkOrderPhoto.work_order == order_id) >= MAX_PHOTOS:
        raise TooManyPhotos()
    photo_id, key = await save_photo(store, order, data)
    try:
        async with DB.transaction():
            await WorkOrderPhoto(
                id=photo_id,
                work_order=order_id,
                stage=data.stage,
                key=key,
                content_type=data.content_type,
                size=len(data.data),
                uploaded_by=caller.account_id,
                at=now(),
            ).save()
            await entry(order_id, "photo", actor=caller, text=data.stage, photo=str(photo_id))
            await audited(caller, "workorder.photo_added", order, stage=data.stage)
    except BaseException:
        await store.delete(key)
        raise
    return await detail(caller, order_id, store)


async def rate(
    caller: Caller, order_id: UUID, data: WorkOrderRating, store: ObjectStore
) -> WorkOrderDetail:
    """The requester rates their done (or closed) request, once."""
    order = await in_scope(caller, order_id)
    if order.requested_by != caller.account_id or Scope.held(caller, "workorder.rate") is None:
        raise Forbidden()
    async with DB.transaction():
        rated = (
            await WorkOrder.update({WorkOrder.rating: data.stars, WorkOrder.rating_note: data.note})
            .where(
                (WorkOrder.id == order_id)
                & WorkOrder.state.is_in(["done", "closed"])
                & WorkOrder.rating.is_null()
            )
            .returning(WorkOrder.id)
        )
        if not rated:
            raise NotRatable()
        await entry(order_id, "rated", actor=caller, text=data.note, stars=data.stars)
        await audited(caller, "workorder.rated", order, stars=data.stars)
    return await detail(caller, order_id, store)
