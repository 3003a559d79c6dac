"""O&M records (运维记录): incidents, problems, changes, releases and defects in one table, each
kind moved through its own states (catalogue.STATES), its own fields checked by its Struct.

Scope: staff of the community (guards, maintenance, managers) read and file its records; another
community's ids are 404. A move is a conditional `UPDATE … WHERE state = <the state read>`: of
two moves at once one applies, the other is `409 transition_not_allowed`, so the history never
forks. Every write appends to the record's history and to the audit log in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from piccolo.columns.combination import Combinable

from api.accounts.tables import RoleAssignment
from api.alarms.tables import Alarm
from api.audit.service import record as audit
from api.core.auth import Caller, Role, Scope, staff_communities, staff_community
from api.core.errors import Forbidden, NotFound
from api.core.paging import equals, paged
from api.core.query import like
from api.operations.catalogue import (
    FINAL_STATES,
    STATES,
    allowed,
    is_manager_move,
    missing,
    opening_state,
)
from api.operations.errors import (
    FieldsRequired,
    KindMismatch,
    RecordFinal,
    TransitionNotAllowed,
    UnknownLinkTarget,
    UnknownStaff,
)
from api.operations.schemas import (
    DETAILS,
    Details,
    LinkCreate,
    LinkRead,
    OpsEntryRead,
    OpsRecordCreate,
    OpsRecordDetail,
    OpsRecordMove,
    OpsRecordPage,
    OpsRecordRead,
    OpsRecordUpdate,
    StaffRead,
    kind_of,
)
from api.operations.tables import OpsRecord, OpsRecordEntry, OpsRecordLink
from api.piccolo_conf import DB
from api.workorders.tables import WorkOrder

STAFF_ROLES = (Role.GUARD, Role.MAINTENANCE, Role.PROPERTY_MANAGER)


def now() -> datetime:
    return datetime.now(UTC)


class OpsRecordRow(msgspec.Struct, frozen=True, kw_only=True):
    """An `OpsRecord` row with its reporter's and owner's names."""

    id: UUID
    community: UUID
    kind: str
    state: str
    severity: str
    category: str
    title: str
    description: str
    details: dict[str, Any]
    reported_by: UUID | None
    reported_by_name: str | None
    owner: UUID | None
    owner_name: str | None
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None


COLUMNS = (
    OpsRecord.id,
    OpsRecord.community,
    OpsRecord.kind,
    OpsRecord.state,
    OpsRecord.severity,
    OpsRecord.category,
    OpsRecord.title,
    OpsRecord.description,
    OpsRecord.details,
    OpsRecord.reported_by,
    OpsRecord.reported_by.display_name.as_alias("reported_by_name"),
    OpsRecord.owner,
    OpsRecord.owner.display_name.as_alias("owner_name"),
    OpsRecord.created_at,
    OpsRecord.updated_at,
    OpsRecord.ended_at,
)


async def _row(ops_record_id: UUID) -> OpsRecordRow | None:
    row = (
        await OpsRecord.select(*COLUMNS).where(OpsRecord.id == ops_record_id).output(load_json=True)
    )
    return msgspec.convert(row[0], OpsRecordRow) if row else None


def _details(kind: str, raw: dict[str, Any]) -> Details:
    return msgspec.convert(raw, DETAILS[kind])


def _search_text(title: str, description: str, category: str, details: Details) -> str:
    values = [str(v) for v in msgspec.to_builtins(details).values() if v not in (None, "")]
    return "\n".join([title, description, category, *values])


def _moves(caller: Caller, row: OpsRecordRow) -> list[str]:
    """The states the caller may move the record to now."""
    write = Scope.held(caller, "ops.write")
    if write is None or not write.staff_in(row.community):
        return []
    approve = Scope.held(caller, "ops.approve")
    manager = approve is not None and approve.staff_in(row.community)
    return [
        to
        for to in STATES[row.kind][1]
        if allowed(row.kind, row.state, to) and (manager or not is_manager_move(row.kind, to))
    ]


def _read(caller: Caller, row: OpsRecordRow) -> OpsRecordRead:
    return OpsRecordRead(
        id=row.id,
        community_id=row.community,
        kind=row.kind,  # type: ignore[arg-type]  # a Kind: written from the Struct's tag
        state=row.state,
        severity=row.severity,  # type: ignore[arg-type]
        category=row.category,
        title=row.title,
        description=row.description,
        details=_details(row.kind, row.details),
        reported_by_id=row.reported_by,
        reported_by_name=row.reported_by_name,
        owner_id=row.owner,
        owner_name=row.owner_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ended_at=row.ended_at,
        moves=_moves(caller, row),
    )


async def in_scope(caller: Caller, ops_record_id: UUID) -> OpsRecordRow:
    """The record if the caller is staff of its community; NotFound otherwise."""
    scope = Scope.of(caller, "ops.read")
    row = await _row(ops_record_id)
    if row is None or not scope.staff_in(row.community):
        raise NotFound()
    return row


def _writes(caller: Caller, row: OpsRecordRow) -> None:
    """The caller may write records of the row's community (read scope was checked before)."""
    scope = Scope.held(caller, "ops.write")
    if scope is None or not scope.staff_in(row.community):
        raise Forbidden()


async def staff_of(community_id: UUID) -> dict[UUID, StaffRead]:
    """The community's active staff (guards, maintenance, managers), by account id."""
    rows = await RoleAssignment.select(
        RoleAssignment.account,
        RoleAssignment.role,
        RoleAssignment.account.display_name.as_alias("name"),
    ).where(
        RoleAssignment.role.is_in([r.value for r in STAFF_ROLES])
        & (RoleAssignment.community == community_id)
        & RoleAssignment.account._.is_active.eq(True)
    )
    return {r["account"]: StaffRead(id=r["account"], name=r["name"], role=r["role"]) for r in rows}


async def staff(caller: Caller, community_id: UUID | None) -> list[StaffRead]:
    """Who a record may be given to, or took part in a drill: the community's staff."""
    community = staff_community(caller, "ops.read", community_id)
    return sorted((await staff_of(community)).values(), key=lambda s: (s.role, s.name))


async def _entry(
    ops_record_id: UUID,
    kind: str,
    caller: Caller,
    *,
    from_state: str = "",
    to_state: str = "",
    text: str = "",
    **data: Any,
) -> None:
    await OpsRecordEntry(
        record=ops_record_id,
        at=now(),
        kind=kind,
        actor=caller.account_id,
        from_state=from_state,
        to_state=to_state,
        text=text,
        data=data,
    ).save()


async def _audited(caller: Caller, action: str, row: OpsRecordRow, **details: Any) -> None:
    await audit(
        action,
        actor=caller,
        target_type="ops_record",
        target_id=row.id,
        community_id=row.community,
        details={"kind": row.kind, **details},
    )


async def _check_owner(community: UUID, owner: UUID | None) -> None:
    if owner is not None and owner not in await staff_of(community):
        raise UnknownStaff(field="owner_id", account_id=str(owner))


async def _check_link(community: UUID, link: LinkCreate, ops_record_id: UUID) -> None:
    table: Any = {"alarm": Alarm, "work_order": WorkOrder, "record": OpsRecord}[link.target_type]
    if link.target_type == "record" and link.target_id == ops_record_id:
        raise UnknownLinkTarget(field="target_id")
    if not await table.exists().where(
        (table.id == link.target_id) & (table.community == community)
    ):
        raise UnknownLinkTarget(field="target_id")


async def _add_link(row: OpsRecordRow, link: LinkCreate, caller: Caller) -> bool:
    """Link the record (inside the caller's transaction); False when the link was there."""
    added = await OpsRecordLink.raw(
        "INSERT INTO ops_record_links (record, target_type, target, created_at) "
        "VALUES ({}, {}, {}, {}) ON CONFLICT (record, target_type, target) DO NOTHING "
        "RETURNING id",
        row.id,
        link.target_type,
        link.target_id,
        now(),
    )
    if added:
        await _entry(row.id, "linked", caller, text=link.target_type, target=str(link.target_id))
        await _audited(
            caller,
            "ops_record.linked",
            row,
            target_type=link.target_type,
            target=str(link.target_id),
        )
    return bool(added)


# -- writing ---------------------------------------------------------------------------------------


async def create(caller: Caller, data: OpsRecordCreate) -> OpsRecordDetail:
    """File a record of the details' kind in its opening state."""
    community = staff_community(caller, "ops.write", data.community_id)
    await _check_owner(community, data.owner_id)
    ops_record_id = uuid4()
    for link in data.links:
        await _check_link(community, link, ops_record_id)
    kind = kind_of(data.details)
    at = now()
    async with DB.transaction():
        await OpsRecord(
            id=ops_record_id,
            community=community,
            kind=kind,
            state=opening_state(kind),
            severity=data.severity,
            category=data.category,
            title=data.title,
            description=data.description,
            details=msgspec.to_builtins(data.details),
            search_text=_search_text(data.title, data.description, data.category, data.details),
            reported_by=caller.account_id,
            owner=data.owner_id,
            created_at=at,
            updated_at=at,
        ).save()
        row = await _row(ops_record_id)
        assert row is not None
        await _entry(ops_record_id, "created", caller, to_state=row.state, text=data.title)
        await _audited(caller, "ops_record.created", row, severity=data.severity)
        for link in data.links:
            await _add_link(row, link, caller)
    return await detail(caller, ops_record_id)


async def update(caller: Caller, ops_record_id: UUID, data: OpsRecordUpdate) -> OpsRecordDetail:
    """Edit a record's fields (not once it is final)."""
    row = await in_scope(caller, ops_record_id)
    _writes(caller, row)
    if row.state in FINAL_STATES:
        raise RecordFinal(state=row.state)
    changes: dict[Any, Any] = {}
    fields = msgspec.structs.asdict(data)
    for name, column in (
        ("title", OpsRecord.title),
        ("description", OpsRecord.description),
        ("severity", OpsRecord.severity),
        ("category", OpsRecord.category),
        ("owner_id", OpsRecord.owner),
    ):
        if fields[name] is not msgspec.UNSET:
            changes[column] = fields[name]
    if data.owner_id is not msgspec.UNSET:
        await _check_owner(row.community, data.owner_id)
    details = _details(row.kind, row.details)
    if data.details is not msgspec.UNSET:
        if kind_of(data.details) != row.kind:
            raise KindMismatch(field="details")
        details = data.details
        changes[OpsRecord.details] = msgspec.to_builtins(details)
    title = data.title if data.title is not msgspec.UNSET else row.title
    description = data.description if data.description is not msgspec.UNSET else row.description
    category = data.category if data.category is not msgspec.UNSET else row.category
    changes[OpsRecord.search_text] = _search_text(title, description, category, details)
    changes[OpsRecord.updated_at] = now()
    async with DB.transaction():
        updated = (
            await OpsRecord.update(changes)
            .where((OpsRecord.id == ops_record_id) & OpsRecord.state.not_in(list(FINAL_STATES)))
            .returning(OpsRecord.id)
        )
        if not updated:
            raise RecordFinal()
        changed = sorted(k for k, v in fields.items() if v is not msgspec.UNSET)
        await _entry(ops_record_id, "updated", caller, text=", ".join(changed), fields=changed)
        await _audited(caller, "ops_record.updated", row, fields=changed)
    return await detail(caller, ops_record_id)


async def move(caller: Caller, ops_record_id: UUID, data: OpsRecordMove) -> OpsRecordDetail:
    """Move the record to another state of its kind; the move's details fill what it needs."""
    row = await in_scope(caller, ops_record_id)
    _writes(caller, row)
    to = data.to
    if to not in STATES[row.kind][1] or not allowed(row.kind, row.state, to):
        raise TransitionNotAllowed(state=row.state, to=to)
    if is_manager_move(row.kind, to):
        approve = Scope.held(caller, "ops.approve")
        if approve is None or not approve.staff_in(row.community):
            raise Forbidden()
    details = _details(row.kind, row.details)
    if data.details is not None:
        if kind_of(data.details) != row.kind:
            raise KindMismatch(field="details")
        details = data.details
    raw = msgspec.to_builtins(details)
    if lacking := missing(row.kind, to, raw):
        raise FieldsRequired(field="details", fields=lacking)
    at = now()
    changes: dict[Any, Any] = {
        OpsRecord.state: to,
        OpsRecord.details: raw,
        OpsRecord.search_text: _search_text(row.title, row.description, row.category, details),
        OpsRecord.updated_at: at,
        OpsRecord.ended_at: at if to in FINAL_STATES else None,
    }
    async with DB.transaction():
        moved = (
            await OpsRecord.update(changes)
            .where((OpsRecord.id == ops_record_id) & (OpsRecord.state == row.state))
            .returning(OpsRecord.id)
        )
        if not moved:
            current = await _row(ops_record_id)
            raise TransitionNotAllowed(state=current.state if current else None, to=to)
        await _entry(
            ops_record_id, "moved", caller, from_state=row.state, to_state=to, text=data.note
        )
        await _audited(caller, "ops_record.moved", row, state=row.state, to=to)
    return await detail(caller, ops_record_id)


async def link(caller: Caller, ops_record_id: UUID, data: LinkCreate) -> OpsRecordDetail:
    """Link the record to an alarm, a work order or another record of its community."""
    row = await in_scope(caller, ops_record_id)
    _writes(caller, row)
    await _check_link(row.community, data, ops_record_id)
    async with DB.transaction():
        await _add_link(row, data, caller)
    return await detail(caller, ops_record_id)


# -- reading ---------------------------------------------------------------------------------------


async def list_records(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    kind: str | None = None,
    state: str | None = None,
    severity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: str | None = None,
    mine: bool = False,
    open_only: bool = False,
) -> OpsRecordPage:
    """Records of the caller's communities, newest first, filtered (`since`/`until` on the
    creation time; `q` in the title, description and the kind's fields; `mine`: owned by me;
    `open_only`: not final)."""
    where: Combinable | None = staff_communities(
        caller, "ops.read", OpsRecord.community, community_id
    )
    rows, total = await paged(
        OpsRecord.select(*COLUMNS)
        .order_by(OpsRecord.created_at, ascending=False)
        .order_by(OpsRecord.id)
        .output(load_json=True),
        where,
        equals(OpsRecord.kind, kind),
        equals(OpsRecord.state, state),
        equals(OpsRecord.severity, severity),
        OpsRecord.created_at >= since if since else None,
        OpsRecord.created_at < until if until else None,
        OpsRecord.search_text.ilike(like(q)) if q else None,
        (OpsRecord.owner == caller.account_id) if mine else None,
        OpsRecord.state.not_in(list(FINAL_STATES)) if open_only else None,
        page=page,
        page_size=page_size,
    )
    return OpsRecordPage(
        items=[_read(caller, msgspec.convert(r, OpsRecordRow)) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


async def _labels(links: list[dict[str, Any]]) -> list[LinkRead]:
    """Each link with its target's label and state (targets since deleted are left out)."""
    wanted: dict[str, list[UUID]] = {}
    for link in links:
        wanted.setdefault(link["target_type"], []).append(link["target"])
    found: dict[tuple[str, UUID], tuple[str, str]] = {}
    if ids := wanted.get("alarm"):
        for a in await Alarm.select(Alarm.id, Alarm.type, Alarm.state).where(Alarm.id.is_in(ids)):
            found["alarm", a["id"]] = (a["type"], a["state"])
    if ids := wanted.get("work_order"):
        for w in await WorkOrder.select(WorkOrder.id, WorkOrder.title, WorkOrder.state).where(
            WorkOrder.id.is_in(ids)
        ):
            found["work_order", w["id"]] = (w["title"], w["state"])
    if ids := wanted.get("record"):
        for r in await OpsRecord.select(OpsRecord.id, OpsRecord.title, OpsRecord.state).where(
            OpsRecord.id.is_in(ids)
        ):
            found["record", r["id"]] = (r["title"], r["state"])
    return [
        LinkRead(
            target_type=link["target_type"],
            target_id=link["target"],
            label=found[link["target_type"], link["target"]][0],
            state=found[link["target_type"], link["target"]][1],
        )
        for link in links
        if (link["target_type"], link["target"]) in found
    ]


async def detail(caller: Caller, ops_record_id: UUID) -> OpsRecordDetail:
    """One record with its history, its links and the records linking to it."""
    row = await in_scope(caller, ops_record_id)
    history = await (
        OpsRecordEntry.select(
            *OpsRecordEntry.all_columns(), OpsRecordEntry.actor.display_name.as_alias("actor_name")
        )
        .where(OpsRecordEntry.record == ops_record_id)
        .order_by(OpsRecordEntry.id)
    )
    links = await (
        OpsRecordLink.select(OpsRecordLink.target_type, OpsRecordLink.target)
        .where(OpsRecordLink.record == ops_record_id)
        .order_by(OpsRecordLink.id)
    )
    back = await (
        OpsRecordLink.select(OpsRecordLink.record.as_alias("target"))
        .where((OpsRecordLink.target_type == "record") & (OpsRecordLink.target == ops_record_id))
        .order_by(OpsRecordLink.id)
    )
    return OpsRecordDetail(
        **msgspec.structs.asdict(_read(caller, row)),
        history=[
            OpsEntryRead(
                at=h["at"],
                kind=h["kind"],
                actor_name=h["actor_name"],
                from_state=h["from_state"],
                to_state=h["to_state"],
                text=h["text"],
            )
            for h in history
        ],
        links=await _labels(links),
        linked_from=await _labels([{"target_type": "record", "target": b["target"]} for b in back]),
    )
