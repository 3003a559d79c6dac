"""Repair requests from an asset's QR label, without login (/report/<label code>, OPS-21).

Anyone who finds an asset broken scans its label, reads the asset's name and place (nothing
personal), and files a description, a phone to call back and up to 3 photos. The request waits as
`pending` until a property manager of the community approves it (it becomes a `repair` work order
of the asset, its photos the order's request photos) or rejects it with a reason; both audited.

What a stranger can learn is bounded on purpose. An unknown, retired or malformed label code
answers the same `404 not_found`, after spending the address's budget, so codes cannot be probed
faster than the budget allows. Filing is budgeted per client address and per label in Redis
(every api process shares the counts), on top of the per-minute limit of the public router. The
phone is stored encrypted with a blind index; if it is a resident's of the community, the order
is theirs (their household's 报事报修 list shows it, and they rate it). Either way the answer is
the same: a tracking code, shown once, whose hash alone is kept. A report of an asset with an
earlier open one is kept all the same; only the manager sees the link (duplicates.py).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from uuid import UUID, uuid4

import msgspec
from redis.asyncio import Redis

from api.accounts.tables import RoleAssignment
from api.alarms.roster import recipients
from api.audit.service import record
from api.communities.tables import Community
from api.core.auth import Caller, Role, Scope, require_staff
from api.core.crypto import FieldCipher, mask_phone, normalize_phone, valid_phone
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.core.ratelimit import spend
from api.core.storage import ObjectStore
from api.devices.ledger.assets import LABEL_ALPHABET, LABEL_LENGTH, asset_code, find_by_label
from api.people.service import InvalidPhone
from api.people.tables import Person
from api.piccolo_conf import DB
from api.push.schemas import PushMessage
from api.push.service import DISPATCH, notify
from api.workorders.catalogue import SLA
from api.workorders.duplicates import Report, possible_duplicates
from api.workorders.errors import NotPending
from api.workorders.orders import announce_new, audited, entry, now, save_photo, tell
from api.workorders.rows import order_row
from api.workorders.schemas import (
    DuplicateRef,
    LabelRequestApprove,
    LabelRequestPage,
    LabelRequestRead,
    ReportCreate,
    ReportFiled,
    ReportPage,
    ReportTrack,
    RequestStatus,
    WorkOrderPhotoRead,
    WorkOrderPhotoUpload,
)
from api.workorders.tables import LabelRequest, WorkOrder, WorkOrderPhoto

PHONE_CONTEXT = "label_requests.phone"
REPORTS_PER_ADDRESS = (5, 3600)  # requests one client address may file per window (s)
REPORTS_PER_LABEL = (10, 3600)  # requests one label may take per window (s)
TRACK_PATH = "/track/"

_COLUMNS = (
    *LabelRequest.all_columns(),
    LabelRequest.device.name.as_alias("asset_name"),
    LabelRequest.device.asset_no.as_alias("asset_no"),
    LabelRequest.decided_by.display_name.as_alias("decided_by_name"),
)


def _hash(tracking_code: str) -> str:
    return hashlib.sha256(tracking_code.encode()).hexdigest()


def _well_formed(label_code: str) -> bool:
    return len(label_code) == LABEL_LENGTH and all(c in LABEL_ALPHABET for c in label_code)


class LabelRequests:
    """The public side and the managers' review; one instance per request (the cipher, Redis
    for the budgets, the object store for photos)."""

    def __init__(self, cipher: FieldCipher, redis: Redis, store: ObjectStore) -> None:
        self.cipher, self.redis, self.store = cipher, redis, store

    # --- the public side -------------------------------------------------------------------

    async def page(self, label_code: str) -> ReportPage:
        """The asset's name, code and place, and its community's name."""
        asset = await find_by_label(label_code) if _well_formed(label_code) else None
        if asset is None:
            raise NotFound()
        community = await Community.select(Community.name).where(Community.id == asset.community_id)
        return ReportPage(
            asset_name=asset.name,
            asset_code=asset.asset_code,
            location=asset.location,
            community_name=community[0]["name"] if community else "",
        )

    async def file(
        self, label_code: str, data: ReportCreate, effects: Effects, *, ip: str | None
    ) -> ReportFiled:
        """Check the budgets, the phone and the photos, and keep the request as pending."""
        await spend(self.redis, f"anju:report:budget:address:{ip}", *REPORTS_PER_ADDRESS)
        asset = await find_by_label(label_code) if _well_formed(label_code) else None
        if asset is None:
            raise NotFound()
        await spend(self.redis, f"anju:report:budget:label:{label_code}", *REPORTS_PER_LABEL)
        if not valid_phone(data.phone):
            raise InvalidPhone(field="phone")
        phone = normalize_phone(data.phone)
        index = self.cipher.blind_index(phone, kind="phone")
        household, account = await _resident(asset.community_id, index)
        tracking_code = secrets.token_urlsafe(12)
        request = LabelRequest(
            id=uuid4(),
            community=asset.community_id,
            device=asset.id,
            location=asset.location[:300],
            description=data.description.strip(),
            phone=self.cipher.encrypt(phone, context=PHONE_CONTEXT),
            phone_index=index,
            household=household,
            account=account,
            tracking_hash=_hash(tracking_code),
            created_at=now(),
        )
        saved: list[tuple[tuple[UUID, str], WorkOrderPhotoUpload]] = []
        try:
            for photo in data.photos:
                saved.append((await save_photo(self.store, request, photo), photo))
            request.photos = msgspec.json.encode(
                [
                    {"id": str(i), "key": k, "content_type": p.content_type, "size": len(p.data)}
                    for (i, k), p in saved
                ]
            ).decode()
            async with DB.transaction():
                await request.save()
                await record(
                    "workorder.request_filed",
                    actor_name="label",
                    target_type="label_request",
                    target_id=request.id,
                    community_id=asset.community_id,
                    ip=ip,
                    details={"device": str(asset.id), "photos": len(saved)},
                )
                managers = await recipients(asset.community_id, ("property_manager",))
                if managers:
                    message = PushMessage(
                        title=f"【扫码报修】{asset.name}"[:120],
                        body=request.description[:100],
                        url="/label-requests",
                        tag=f"label-request-{request.id}",
                        data={"label_request_id": str(request.id)},
                    )
                    effects.after(DISPATCH, *await notify(sorted(managers), message))
        except BaseException:
            for (_, key), _photo in saved:
                await self.store.delete(key)  # nothing half-written: no photo without its request
            raise
        return ReportFiled(
            status="pending", tracking_code=tracking_code, track_path=TRACK_PATH + tracking_code
        )

    @staticmethod
    async def track(tracking_code: str) -> ReportTrack:
        """Where the request stands, by its tracking code (nothing personal, no names)."""
        row = (
            await LabelRequest.select(*_COLUMNS)
            .output(load_json=True)
            .where(LabelRequest.tracking_hash == _hash(tracking_code))
            .first()
        )
        if row is None:
            raise NotFound()
        order = await order_row(row["work_order"]) if row["work_order"] else None
        return ReportTrack(
            status=row["status"],
            reason=row["reason"],
            asset_name=row["asset_name"] or "",
            location=row["location"],
            created_at=row["created_at"],
            decided_at=row["decided_at"],
            order_state=order.state if order else None,  # type: ignore[arg-type]
            done_at=order.done_at if order else None,
            closed_at=order.closed_at if order else None,
        )

    # --- the managers' side ----------------------------------------------------------------

    async def search(
        self,
        caller: Caller,
        *,
        page: int,
        page_size: int,
        community_id: UUID | None = None,
        status: RequestStatus | None = "pending",
    ) -> LabelRequestPage:
        """Requests of the caller's communities, oldest first (the queue to work through)."""
        where = Scope.of(caller, "workorder.manage").where(LabelRequest.community)
        rows, total = await paged(
            LabelRequest.select(*_COLUMNS).output(load_json=True).order_by(LabelRequest.created_at),
            where,
            equals(LabelRequest.community, community_id),
            equals(LabelRequest.status, status),
            page=page,
            page_size=page_size,
        )
        found = await possible_duplicates(_pending(rows))
        items = [await self._read(row, found.get(row["id"], [])) for row in rows]
        return LabelRequestPage(items=items, total=total, page=page, page_size=page_size)

    async def get(self, caller: Caller, request_id: UUID) -> LabelRequestRead:
        """One request in scope, with the earlier open reports of its asset while pending."""
        row = await self._row(caller, request_id)
        found = await possible_duplicates(_pending([row]))
        return await self._read(row, found.get(row["id"], []))

    async def approve(
        self, caller: Caller, request_id: UUID, data: LabelRequestApprove, effects: Effects
    ) -> LabelRequestRead:
        """A `repair` order of the asset from the request, with its photos; the requester's
        when the phone was a resident's. Of two decisions at once, one applies."""
        row = await self._row(caller, request_id)
        if row["status"] != "pending":
            raise NotPending()
        at = now()
        title = data.title.strip() or f"{row['asset_name'] or ''}报修"
        order = WorkOrder(
            id=uuid4(),
            community=row["community"],
            kind="repair",
            priority=data.priority,
            state="new",
            title=title[:200],
            description=row["description"],
            device=row["device"],
            household=row["household"],
            requested_by=row["account"],
            created_at=at,
            due_at=at + SLA[data.priority],
            last_seen_at=None,
        )
        async with DB.transaction():
            await order.save()
            if not await self._decide(caller, row, "approved", work_order=order.id):
                raise NotPending()  # another decision came first: the order is rolled back
            for photo in row["photos"]:
                await WorkOrderPhoto(
                    id=UUID(photo["id"]),
                    work_order=order.id,
                    stage="request",
                    key=photo["key"],
                    content_type=photo["content_type"],
                    size=photo["size"],
                    uploaded_by=None,
                    at=row["created_at"],
                ).save()
            await entry(
                order.id,
                "created",
                actor=caller,
                to_state="new",
                text=row["description"][:500],
                label_request=str(request_id),
            )
            created = await order_row(order.id)
            assert created is not None
            await audited(
                caller,
                "workorder.created",
                created,
                kind="repair",
                photos=len(row["photos"]),
                label_request=str(request_id),
            )
            await record(
                "workorder.request_approved",
                actor=caller,
                target_type="label_request",
                target_id=request_id,
                community_id=row["community"],
                details={"work_order": str(order.id), "priority": data.priority},
            )
            await announce_new(order, effects, but=caller.account_id)
            if row["account"] is not None:
                await tell({row["account"]}, order, "报修已受理", effects)
        return await self.get(caller, request_id)

    async def reject(
        self, caller: Caller, request_id: UUID, reason: str, *, duplicate: bool = False
    ) -> LabelRequestRead:
        """Refuse the request with a reason (the tracking page shows it); nothing is opened.
        As a duplicate, the audit entry names the earlier open reports it duplicates."""
        row = await self._row(caller, request_id)
        if row["status"] != "pending":
            raise NotPending()
        of = (await possible_duplicates(_pending([row])))[row["id"]] if duplicate else []
        details: dict[str, Any] = {"reason": reason}
        if duplicate:
            details["duplicate_of"] = [{"kind": d.kind, "id": str(d.id)} for d in of]
        async with DB.transaction():
            if not await self._decide(caller, row, "rejected", reason=reason):
                raise NotPending()
            await record(
                "workorder.request_rejected",
                actor=caller,
                target_type="label_request",
                target_id=request_id,
                community_id=row["community"],
                details=details,
            )
        return await self.get(caller, request_id)

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    async def _row(caller: Caller, request_id: UUID) -> dict[str, Any]:
        row = (
            await LabelRequest.select(*_COLUMNS)
            .output(load_json=True)
            .where(LabelRequest.id == request_id)
            .first()
        )
        if row is None:
            raise NotFound()
        require_staff(caller, "workorder.manage", row["community"])
        return row

    @staticmethod
    async def _decide(
        caller: Caller,
        row: dict[str, Any],
        status: RequestStatus,
        *,
        work_order: UUID | None = None,
        reason: str = "",
    ) -> bool:
        """Decide a pending request; False when another decision came first."""
        decided = (
            await LabelRequest.update(
                {
                    LabelRequest.status: status,
                    LabelRequest.reason: reason,
                    LabelRequest.work_order: work_order,
                    LabelRequest.decided_by: caller.account_id,
                    LabelRequest.decided_at: now(),
                }
            )
            .where((LabelRequest.id == row["id"]) & (LabelRequest.status == "pending"))
            .returning(LabelRequest.id)
        )
        return bool(decided)

    async def _read(self, row: dict[str, Any], duplicates: list[DuplicateRef]) -> LabelRequestRead:
        phone = self.cipher.decrypt(row["phone"], context=PHONE_CONTEXT)
        return LabelRequestRead(
            id=row["id"],
            community_id=row["community"],
            device_id=row["device"],
            asset_name=row["asset_name"] or "",
            asset_code=asset_code(row["asset_no"]) if row["asset_no"] else "",
            location=row["location"],
            description=row["description"],
            phone=mask_phone(phone),
            from_resident=row["household"] is not None,
            photos=[
                WorkOrderPhotoRead(
                    id=UUID(p["id"]),
                    stage="request",
                    url=await self.store.presigned_url(p["key"], expires_in=600),
                    at=row["created_at"],
                )
                for p in row["photos"]
            ],
            status=row["status"],
            reason=row["reason"],
            work_order_id=row["work_order"],
            decided_by_name=row["decided_by_name"],
            decided_at=row["decided_at"],
            created_at=row["created_at"],
            possible_duplicates=duplicates,
        )


def _pending(rows: list[dict[str, Any]]) -> list[Report]:
    """The pending requests among the rows, as reports to check for duplicates."""
    return [
        Report(id=r["id"], community=r["community"], device=r["device"], created_at=r["created_at"])
        for r in rows
        if r["status"] == "pending"
    ]


async def _resident(community_id: UUID, phone_index: str) -> tuple[UUID | None, UUID | None]:
    """The household and the resident account of the person of the community with this phone
    (the registry's blind index), or Nones."""
    person = (
        await Person.select(Person.id, Person.household)
        .where(
            (Person.community == community_id)
            & (Person.phone_index == phone_index)
            & Person.moved_out_on.is_null()
            & Person.household.is_not_null()
        )
        .first()
    )
    if person is None:
        return None, None
    account = (
        await RoleAssignment.select(RoleAssignment.account)
        .where(
            (RoleAssignment.role == Role.RESIDENT)
            & (RoleAssignment.household == person["household"])
            & (RoleAssignment.account._.person == person["id"])
            & RoleAssignment.account._.is_active.eq(True)
        )
        .first()
    )
    return person["household"], account["account"] if account else None
