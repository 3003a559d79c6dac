"""The duty handover log (交接班) on the duty roster (api/alarms/roster.py's `duty_shifts`).

The outgoing guard writes what the next one must know — open items, notes, keys and equipment
handed over — addressed to the incoming guard, who acknowledges it (once, with a remark if
anything is not as written). A handover names the outgoing guard's shift (their shift running
now when left out) and the incoming guard's shift that covers its end, so the log reads per
shift. Guards write and acknowledge; managers read. Another community's ids are 404.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

from api.accounts.tables import RoleAssignment
from api.alarms.tables import DutyShift
from api.audit.service import record as audit
from api.core.auth import Caller, Role, Scope, staff_communities, staff_community
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import paged_page
from api.operations.errors import (
    AlreadyAcknowledged,
    FieldsRequired,
    NotAGuard,
    NotIncoming,
    UnknownShift,
)
from api.operations.schemas import (
    HandoverAck,
    HandoverCreate,
    HandoverPage,
    HandoverRead,
    StaffRead,
)
from api.operations.tables import Handover
from api.piccolo_conf import DB
from api.push.schemas import PushMessage
from api.push.service import DISPATCH, notify

# How far ahead the incoming guard's shift may start and still be the one the handover opens.
NEXT_SHIFT_WITHIN = timedelta(hours=12)

COLUMNS = (
    *Handover.all_columns(),
    Handover.shift.starts_at.as_alias("shift_starts_at"),
    Handover.shift.ends_at.as_alias("shift_ends_at"),
    Handover.from_account.display_name.as_alias("from_name"),
    Handover.to_account.display_name.as_alias("to_name"),
)


def now() -> datetime:
    return datetime.now(UTC)


def _read(row: dict[str, Any]) -> HandoverRead:
    state: Literal["pending", "acknowledged"] = (
        "pending" if row["acknowledged_at"] is None else "acknowledged"
    )
    return HandoverRead(
        id=row["id"],
        community_id=row["community"],
        state=state,
        shift_id=row["shift"],
        shift_starts_at=row["shift_starts_at"],
        shift_ends_at=row["shift_ends_at"],
        to_shift_id=row["to_shift"],
        from_account_id=row["from_account"],
        from_name=row["from_name"],
        to_account_id=row["to_account"],
        to_name=row["to_name"],
        open_items=row["open_items"],
        notes=row["notes"],
        keys_equipment=row["keys_equipment"],
        created_at=row["created_at"],
        acknowledged_at=row["acknowledged_at"],
        ack_note=row["ack_note"],
    )


async def _one(handover_id: UUID) -> dict[str, Any] | None:
    return await Handover.select(*COLUMNS).where(Handover.id == handover_id).first()


async def guards_of(community_id: UUID) -> dict[UUID, str]:
    """The community's active guards, by account id."""
    rows = await RoleAssignment.select(
        RoleAssignment.account, RoleAssignment.account.display_name.as_alias("name")
    ).where(
        (RoleAssignment.role == Role.GUARD)
        & (RoleAssignment.community == community_id)
        & RoleAssignment.account._.is_active.eq(True)
    )
    return {r["account"]: r["name"] for r in rows}


async def incoming_guards(caller: Caller, community_id: UUID | None) -> list[StaffRead]:
    """The community's active guards by name, to hand over to (the caller among them: a screen
    leaves them out, the handover refuses them)."""
    community = staff_community(caller, "handover.write", community_id)
    guards = await guards_of(community)
    return sorted(
        (StaffRead(id=a, name=n, role=Role.GUARD.value) for a, n in guards.items()),
        key=lambda s: s.name,
    )


async def _outgoing_shift(caller: Caller, community: UUID, shift_id: UUID | None) -> Any:
    """The caller's shift the handover ends: the one named, or the one running now (or none)."""
    mine = (DutyShift.community == community) & (DutyShift.account == caller.account_id)
    if shift_id is not None:
        shift = await DutyShift.select().where(mine & (DutyShift.id == shift_id)).first()
        if shift is None:
            raise UnknownShift(field="shift_id")
        return shift
    at = now()
    return (
        await DutyShift.select()
        .where(mine & (DutyShift.starts_at <= at) & (DutyShift.ends_at > at))
        .order_by(DutyShift.starts_at, ascending=False)
        .first()
    )


async def _incoming_shift(community: UUID, account: UUID, at: datetime) -> UUID | None:
    """The incoming guard's shift covering `at`, or the first starting soon after it."""
    shift = (
        await DutyShift.select(DutyShift.id)
        .where(
            (DutyShift.community == community)
            & (DutyShift.account == account)
            & (DutyShift.ends_at > at)
            & (DutyShift.starts_at < at + NEXT_SHIFT_WITHIN)
        )
        .order_by(DutyShift.starts_at)
        .first()
    )
    return shift["id"] if shift else None


async def create(caller: Caller, data: HandoverCreate, effects: Effects) -> HandoverRead:
    """The outgoing guard hands over; the incoming guard is told by push."""
    community = staff_community(caller, "handover.write", data.community_id)
    if data.to_account_id == caller.account_id or data.to_account_id not in await guards_of(
        community
    ):
        raise NotAGuard(field="to_account_id")
    if not (data.open_items.strip() or data.notes.strip() or data.keys_equipment.strip()):
        raise FieldsRequired(field="notes", fields=["open_items", "notes", "keys_equipment"])
    shift = await _outgoing_shift(caller, community, data.shift_id)
    at = now()
    handover_id = uuid4()
    to_shift = await _incoming_shift(
        community, data.to_account_id, shift["ends_at"] if shift else at
    )
    async with DB.transaction():
        await Handover(
            id=handover_id,
            community=community,
            shift=shift["id"] if shift else None,
            to_shift=to_shift,
            from_account=caller.account_id,
            to_account=data.to_account_id,
            open_items=data.open_items,
            notes=data.notes,
            keys_equipment=data.keys_equipment,
            created_at=at,
        ).save()
        await audit(
            "handover.created",
            actor=caller,
            target_type="duty_handover",
            target_id=handover_id,
            community_id=community,
            details={"to_account_id": str(data.to_account_id)},
        )
        message = PushMessage(
            title="【交接班】请确认交接",
            body=(data.open_items or data.notes or data.keys_equipment)[:100],
            url="/handovers",
            tag=f"handover-{handover_id}",
            data={"handover_id": str(handover_id)},
        )
        effects.after(DISPATCH, *await notify([data.to_account_id], message))
    row = await _one(handover_id)
    assert row is not None
    return _read(row)


async def acknowledge(caller: Caller, handover_id: UUID, data: HandoverAck) -> HandoverRead:
    """The incoming guard acknowledges the handover, once."""
    scope = Scope.of(caller, "handover.read")
    row = await _one(handover_id)
    if row is None or not scope.staff_in(row["community"]):
        raise NotFound()
    if row["to_account"] != caller.account_id:
        raise NotIncoming()
    async with DB.transaction():
        done = (
            await Handover.update({Handover.acknowledged_at: now(), Handover.ack_note: data.note})
            .where((Handover.id == handover_id) & Handover.acknowledged_at.is_null())
            .returning(Handover.id)
        )
        if not done:
            raise AlreadyAcknowledged()
        await audit(
            "handover.acknowledged",
            actor=caller,
            target_type="duty_handover",
            target_id=handover_id,
            community_id=row["community"],
            details={"remark": bool(data.note)},
        )
    after = await _one(handover_id)
    assert after is not None
    return _read(after)


async def get(caller: Caller, handover_id: UUID) -> HandoverRead:
    """One handover of the caller's communities."""
    scope = Scope.of(caller, "handover.read")
    row = await _one(handover_id)
    if row is None or not scope.staff_in(row["community"]):
        raise NotFound()
    return _read(row)


async def list_handovers(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    shift_id: UUID | None = None,
    state: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    mine: bool = False,
) -> HandoverPage:
    """Handovers of the caller's communities, newest first: per shift (`shift_id`, the outgoing
    or incoming one), by state, in a time window; `mine`: written by or addressed to me."""
    return await paged_page(
        HandoverPage,
        _read,
        Handover.select(*COLUMNS)
        .order_by(Handover.created_at, ascending=False)
        .order_by(Handover.id),
        staff_communities(caller, "handover.read", Handover.community, community_id),
        ((Handover.shift == shift_id) | (Handover.to_shift == shift_id)) if shift_id else None,
        Handover.acknowledged_at.is_null() if state == "pending" else None,
        Handover.acknowledged_at.is_not_null() if state == "acknowledged" else None,
        Handover.created_at >= since if since else None,
        Handover.created_at < until if until else None,
        ((Handover.from_account == caller.account_id) | (Handover.to_account == caller.account_id))
        if mine
        else None,
        page=page,
        page_size=page_size,
    )
