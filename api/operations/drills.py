"""Drill and training records (应急演练 / 培训): what was held when and where, which emergency plan
it exercised, who took part (staff accounts of the community), what it covered, how it was
judged, and its photos and files in the object store.

Managers record and edit them; staff of the community read them. Attachments are checked by
their first bytes (JPEG, PNG, WebP, PDF), at most 700 kB each and `MAX_ATTACHMENTS` per drill.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from api.alarms.tables import EmergencyPlan
from api.audit.service import record as audit
from api.core.auth import Caller, Scope, require_staff, staff_communities, staff_community
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.core.query import like
from api.core.storage import ObjectStore, RetentionClass, is_image
from api.operations.errors import (
    InvalidAttachment,
    TooManyAttachments,
    UnknownPlan,
    UnknownStaff,
)
from api.operations.records import staff_of
from api.operations.schemas import (
    AttachmentRead,
    AttachmentUpload,
    DrillCreate,
    DrillDetail,
    DrillPage,
    DrillRead,
    DrillUpdate,
    ParticipantRead,
)
from api.operations.tables import Drill, DrillAttachment, DrillParticipant
from api.piccolo_conf import DB

MAX_ATTACHMENTS = 20
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
COLUMNS = (
    *Drill.all_columns(),
    Drill.plan.title.as_alias("plan_title"),
    Drill.recorded_by.display_name.as_alias("recorded_by_name"),
)


def now() -> datetime:
    return datetime.now(UTC)


def is_file(content_type: str, data: bytes) -> bool:
    """Whether the bytes are of the type claimed (an image, or a PDF)."""
    if content_type == "application/pdf":
        return data[:5] == b"%PDF-"
    return is_image(content_type, data)


async def _participants(drill_ids: list[UUID]) -> dict[UUID, list[ParticipantRead]]:
    found: dict[UUID, list[ParticipantRead]] = {d: [] for d in drill_ids}
    if drill_ids:
        rows = await (
            DrillParticipant.select(
                DrillParticipant.drill,
                DrillParticipant.account,
                DrillParticipant.account.display_name.as_alias("name"),
            )
            .where(DrillParticipant.drill.is_in(drill_ids))
            .order_by(DrillParticipant.id)
        )
        for r in rows:
            found[r["drill"]].append(ParticipantRead(id=r["account"], name=r["name"]))
    return found


def _read(row: dict[str, Any], participants: list[ParticipantRead]) -> DrillRead:
    return DrillRead(
        id=row["id"],
        community_id=row["community"],
        kind=row["kind"],
        title=row["title"],
        held_at=row["held_at"],
        location=row["location"],
        plan_id=row["plan"],
        plan_title=row["plan_title"],
        content=row["content"],
        evaluation=row["evaluation"],
        recorded_by_name=row["recorded_by_name"],
        participants=participants,
        created_at=row["created_at"],
    )


async def _in_scope(caller: Caller, drill_id: UUID) -> dict[str, Any]:
    scope = Scope.of(caller, "drill.read")
    row = await Drill.select(*COLUMNS).where(Drill.id == drill_id).first()
    if row is None or not scope.staff_in(row["community"]):
        raise NotFound()
    return row


async def _check_participants(community: UUID, ids: list[UUID]) -> list[UUID]:
    staff = await staff_of(community)
    for account in ids:
        if account not in staff:
            raise UnknownStaff(field="participant_ids", account_id=str(account))
    return list(dict.fromkeys(ids))  # each once, in the order given


async def _audited(caller: Caller, action: str, drill_id: UUID, community: UUID, **kw: Any) -> None:
    await audit(
        action,
        actor=caller,
        target_type="drill",
        target_id=drill_id,
        community_id=community,
        details=kw or None,
    )


async def create(caller: Caller, data: DrillCreate, store: ObjectStore) -> DrillDetail:
    """Record a drill or training held in the community (managers)."""
    community = staff_community(caller, "drill.write", data.community_id)
    if data.plan_id is not None and not await EmergencyPlan.exists().where(
        (EmergencyPlan.id == data.plan_id) & (EmergencyPlan.community == community)
    ):
        raise UnknownPlan(field="plan_id")
    participants = await _check_participants(community, data.participant_ids)
    drill_id = uuid4()
    at = now()
    async with DB.transaction():
        await Drill(
            id=drill_id,
            community=community,
            kind=data.kind,
            title=data.title,
            held_at=data.held_at,
            location=data.location,
            plan=data.plan_id,
            content=data.content,
            evaluation=data.evaluation,
            recorded_by=caller.account_id,
            created_at=at,
            updated_at=at,
        ).save()
        if participants:
            await DrillParticipant.insert(
                *(DrillParticipant(drill=drill_id, account=a) for a in participants)
            )
        await _audited(
            caller,
            "drill.created",
            drill_id,
            community,
            kind=data.kind,
            participants=len(participants),
        )
    return await detail(caller, drill_id, store)


async def update(
    caller: Caller, drill_id: UUID, data: DrillUpdate, store: ObjectStore
) -> DrillDetail:
    """Edit a drill: its evaluation afterwards, its participants (replaced whole)."""
    row = await _in_scope(caller, drill_id)
    require_staff(caller, "drill.write", row["community"])
    fields = msgspec.structs.asdict(data)
    changes: dict[Any, Any] = {
        getattr(Drill, name): value
        for name, value in fields.items()
        if name != "participant_ids" and value is not msgspec.UNSET
    }
    changes[Drill.updated_at] = now()
    participants = (
        None
        if data.participant_ids is msgspec.UNSET
        else await _check_participants(row["community"], data.participant_ids)
    )
    async with DB.transaction():
        await Drill.update(changes).where(Drill.id == drill_id)
        if participants is not None:
            await DrillParticipant.delete().where(DrillParticipant.drill == drill_id)
            if participants:
                await DrillParticipant.insert(
                    *(DrillParticipant(drill=drill_id, account=a) for a in participants)
                )
        changed = sorted(k for k, v in fields.items() if v is not msgspec.UNSET)
        await _audited(caller, "drill.updated", drill_id, row["community"], fields=changed)
    return await detail(caller, drill_id, store)


async def add_attachment(
    caller: Caller, drill_id: UUID, data: AttachmentUpload, store: ObjectStore
) -> DrillDetail:
    """A photo or file of the drill, checked by its bytes, into the object store (6 months)."""
    row = await _in_scope(caller, drill_id)
    require_staff(caller, "drill.write", row["community"])
    if not is_file(data.content_type, data.data):
        raise InvalidAttachment(field="data")
    if await DrillAttachment.count().where(DrillAttachment.drill == drill_id) >= MAX_ATTACHMENTS:
        raise TooManyAttachments()
    attachment_id = uuid4()
    key = f"drills/{row['community']}/{drill_id}/{attachment_id}.{EXTENSIONS[data.content_type]}"
    await store.put(
        key, data.data, content_type=data.content_type, retention=RetentionClass.RECORD_6M
    )
    try:
        async with DB.transaction():
            await DrillAttachment(
                id=attachment_id,
                drill=drill_id,
                name=data.name,
                key=key,
                content_type=data.content_type,
                size=len(data.data),
                uploaded_by=caller.account_id,
                at=now(),
            ).save()
            await _audited(
                caller,
                "drill.attachment_added",
                drill_id,
                row["community"],
                content_type=data.content_type,
                size=len(data.data),
            )
    except BaseException:
        await store.delete(key)  # nothing half-written: no file without its row
        raise
    return await detail(caller, drill_id, store)


async def detail(caller: Caller, drill_id: UUID, store: ObjectStore) -> DrillDetail:
    """One drill with its participants and attachments (10-minute URLs)."""
    row = await _in_scope(caller, drill_id)
    files = await (
        DrillAttachment.select()
        .where(DrillAttachment.drill == drill_id)
        .order_by(DrillAttachment.at)
    )
    base = _read(row, (await _participants([drill_id]))[drill_id])
    return DrillDetail(
        **msgspec.structs.asdict(base),
        attachments=[
            AttachmentRead(
                id=f["id"],
                name=f["name"],
                content_type=f["content_type"],
                size=f["size"],
                url=await store.presigned_url(f["key"], expires_in=600),
                at=f["at"],
            )
            for f in files
        ],
    )


async def list_drills(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: str | None = None,
    mine: bool = False,
) -> DrillPage:
    """Drills and training of the caller's communities, latest held first (`since`/`until` on
    when it was held; `q` in the title, content and evaluation; `mine`: I took part)."""
    text = like(q) if q else None
    rows, total = await paged(
        Drill.select(*COLUMNS).order_by(Drill.held_at, ascending=False).order_by(Drill.id),
        staff_communities(caller, "drill.read", Drill.community, community_id),
        equals(Drill.kind, kind),
        Drill.held_at >= since if since else None,
        Drill.held_at < until if until else None,
        (Drill.title.ilike(text) | Drill.content.ilike(text) | Drill.evaluation.ilike(text))
        if text
        else None,
        Drill.id.is_in(
            DrillParticipant.select(DrillParticipant.drill).where(
                DrillParticipant.account == caller.account_id
            )
        )
        if mine
        else None,
        page=page,
        page_size=page_size,
    )
    people = await _participants([r["id"] for r in rows])
    return DrillPage(
        items=[_read(r, people[r["id"]]) for r in rows], total=total, page=page, page_size=page_size
    )
