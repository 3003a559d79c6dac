"""Visitor passes: book, list, revoke, share, reveal, expire.

A pass is a row here plus one credential in api/access (kind `code`: its keypad codes, and the QR
tokens naming it), created when the pass becomes active and revoked when it ends; the bridges
decide on it, offline too. The visitor's phone and ID number are encrypted beside blind indexes and
go out masked, except through an audited reveal. Walk-ins and consent live in `desk.py`, what a
pass does at the gates in `arrivals.py`, the visitor's own page in `public.py`.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from uuid import UUID

import structlog

from api.access import credentials
from api.access.tables import AccessRecord
from api.audit.service import record, reveal
from api.communities.service import household_label
from api.core.auth import Caller, Scope, require_staff
from api.core.crypto import (
    FieldCipher,
    mask_phone,
)
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.core.query import like
from api.piccolo_conf import DB
from api.visitors.passes import (
    CONTEXTS,
    LIVE,
    MAX_WINDOW,
    PASS_COLUMNS,
    SITE_TZ,
    START_GRACE,
    TOKEN_BYTES,
    HouseholdRequired,
    InvalidWindow,
    PassNotActive,
    PassNotLive,
    activate,
    building_points,
    choose_places,
    clean_id,
    clean_phone,
    clean_plate,
    doors_of,
    end_pass,
    gate_points,
    household_row,
    identifiers,
    ids_of,
    json_list,
    locked,
    mask_document,
    now,
    place_names,
    resident_households,
    scope,
    token_hash,
)
from api.visitors.schemas import (
    BookingPlaces,
    DoorRef,
    PassAccessRecord,
    PassStatus,
    PlaceRef,
    RevealRequest,
    ShareRead,
    VisitorPassCreate,
    VisitorPassDetail,
    VisitorPassPage,
    VisitorPassRead,
    VisitorReveal,
)
from api.visitors.tables import VisitorPass

log = structlog.get_logger()


class VisitorService:
    """Visitor passes in the caller's scope; identifiers masked unless revealed."""

    def __init__(self, cipher: FieldCipher, public_url: str) -> None:
        self.cipher = cipher
        self.public_url = public_url.rstrip("/")

    # -- booking ---------------------------------------------------------------------------------

    async def places(self, caller: Caller, household_id: UUID | None) -> BookingPlaces:
        """The gates a resident may name when booking for one of their households, and the doors
        of its building; desk staff see the same for a household of their community."""
        mine = resident_households(caller) if Scope.held(caller, "visitor.book") is not None else []
        if household_id is None and len(mine) == 1:
            household_id = mine[0]
        if household_id is None:
            raise HouseholdRequired(field="household_id") if mine else NotFound()
        household = await household_row(household_id)
        if household is None:
            raise NotFound()
        if household_id not in mine:
            require_staff(caller, "visitor.desk", household["community"])
        community_id = household["community"]
        gates = await doors_of(await gate_points(community_id))
        inside = await doors_of(await building_points(community_id, [household["building"]]))
        return BookingPlaces(
            household_id=household_id,
            building_id=household["building"],
            gates=[DoorRef(**g) for g in gates],
            building_doors=[DoorRef(**d) for d in sorted(inside, key=lambda d: d["name"])],
        )

    async def book(
        self, caller: Caller, data: VisitorPassCreate, effects: Effects
    ) -> VisitorPassRead:
        """Book a visitor for one of the caller's own households; the pass is active at once."""
        Scope.of(caller, "visitor.book")
        mine = resident_households(caller)
        if data.household_id is not None:
            if data.household_id not in mine:
                raise NotFound()
            household_id = data.household_id
        elif len(mine) == 1:
            household_id = mine[0]
        elif not mine:
            raise NotFound()
        else:
            raise HouseholdRequired(field="household_id")
        household = await household_row(household_id)
        if household is None:
            raise NotFound()
        current = now()
        if (
            data.valid_until <= current
            or data.valid_from < current - START_GRACE
            or data.valid_until - data.valid_from > MAX_WINDOW
        ):
            raise InvalidWindow(field="valid_until")
        phone = clean_phone(data.visitor_phone)
        id_number = (
            clean_id(data.id_type, data.id_number) if data.id_type and data.id_number else None
        )
        plate = clean_plate(data.plate)
        points, buildings, floors = await choose_places(
            household, data.points, data.buildings, data.floors
        )
        visitor = VisitorPass(
            community=household["community"],
            household=household_id,
            booked_by=caller.account_id,
            created_by=caller.account_id,
            walk_in=False,
            visitor_name=data.visitor_name.strip(),
            purpose=data.purpose.strip(),
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            entries_allowed=data.entries,
            points=[str(p) for p in points],
            buildings=[str(b) for b in buildings],
            floors=floors,
            plate=plate,
            status="active",
            phone_key_allowed=data.phone_key_allowed,
            **identifiers(self.cipher, phone, data.id_type, id_number),
        )
        async with DB.transaction():
            await visitor.save()
            row = await locked(visitor.id)
            assert row is not None
            await activate(row, by=caller.account_id)
            await record(
                "visitor_pass.created",
                actor=caller,
                target_type="visitor_pass",
                target_id=visitor.id,
                community_id=household["community"],
                details={
                    "household_id": str(household_id),
                    "entries": data.entries,
                    "valid_from": data.valid_from.isoformat(),
                    "valid_until": data.valid_until.isoformat(),
                    "plate": bool(plate),
                    "phone_key_allowed": data.phone_key_allowed,
                },
            )
        credentials.after_commit(effects, household["community"])
        return await self.get(caller, visitor.id)

    # -- reads -----------------------------------------------------------------------------------

    async def search(
        self,
        caller: Caller,
        *,
        page: int,
        page_size: int,
        status: PassStatus | None = None,
        on: date | None = None,
        household_id: UUID | None = None,
        community_id: UUID | None = None,
        walk_in: bool | None = None,
        inside: bool | None = None,
        phone: str | None = None,
        q: str | None = None,
    ) -> VisitorPassPage:
        """A page of passes in scope, newest first; `on` keeps those whose window touches that day
        (site time); phone matches exactly through the blind index."""
        Scope.of(caller, "visitor.read")
        on_day = None
        if on:
            start = datetime.combine(on, time(), SITE_TZ)
            on_day = (VisitorPass.valid_from < start + timedelta(days=1)) & (
                VisitorPass.valid_until > start
            )
        rows, total = await paged(
            VisitorPass.select(*PASS_COLUMNS)
            .order_by(VisitorPass.created_at, ascending=False)
            .order_by(VisitorPass.id)
            .output(load_json=True),
            scope(caller, "visitor.read"),
            VisitorPass.status == status if status else None,
            on_day,
            equals(VisitorPass.household, household_id),
            equals(VisitorPass.community, community_id),
            equals(VisitorPass.walk_in, walk_in),
            equals(VisitorPass.inside, inside),
            VisitorPass.phone_index == self.cipher.blind_index(phone, kind="phone")
            if phone
            else None,
            VisitorPass.visitor_name.ilike(like(q)) if q else None,
            page=page,
            page_size=page_size,
        )
        names = await place_names(rows)
        return VisitorPassPage(
            items=[self.read(r, names) for r in rows], total=total, page=page, page_size=page_size
        )

    async def row(self, caller: Caller, pass_id: UUID, permission: str) -> dict[str, Any]:
        """One pass the caller reaches with the permission, or 404."""
        Scope.of(caller, permission)
        where = scope(caller, permission)
        row = None
        if where is not None:
            row = (
                await VisitorPass.select(*PASS_COLUMNS)
                .where(where & (VisitorPass.id == pass_id))
                .output(load_json=True)
                .first()
            )
        if row is None:
            raise NotFound()
        return cast(dict[str, Any], row)

    async def get(self, caller: Caller, pass_id: UUID) -> VisitorPassRead:
        """One pass in scope, masked."""
        row = await self.row(caller, pass_id, "visitor.read")
        return self.read(row, await place_names([row]))

    async def detail(self, caller: Caller, pass_id: UUID) -> VisitorPassDetail:
        """One pass with the visitor's access records, newest first."""
        row = await self.row(caller, pass_id, "visitor.read")
        records = (
            await AccessRecord.select(
                AccessRecord.id,
                AccessRecord.at,
                AccessRecord.device._.name.as_alias("door"),
                AccessRecord.direction,
                AccessRecord.method,
                AccessRecord.result,
                AccessRecord.reason,
            )
            .where(AccessRecord.visitor_pass == pass_id)
            .order_by(AccessRecord.at, ascending=False)
            .limit(200)
        )
        read = self.read(row, await place_names([row]))
        return VisitorPassDetail(
            **{f: getattr(read, f) for f in read.__struct_fields__},
            access_records=[PassAccessRecord(**r) for r in records],
        )

    def read(self, row: dict[str, Any], names: dict[UUID, str]) -> VisitorPassRead:
        """The wire shape of a row: phone and ID number masked."""
        phone = self.cipher.decrypt(row["phone"], context=CONTEXTS["phone"])
        id_number = (
            mask_document(
                row["id_type"],
                self.cipher.decrypt(row["id_number"], context=CONTEXTS["id_number"]),
            )
            if row["id_number"]
            else None
        )
        return VisitorPassRead(
            id=row["id"],
            community_id=row["community"],
            household_id=row["household"],
            household_label=household_label(
                row["building_number"], row["unit_number"], row["room"]
            ),
            visitor_name=row["visitor_name"],
            visitor_phone=mask_phone(phone),
            id_type=row["id_type"],
            id_number=id_number,
            purpose=row["purpose"],
            valid_from=row["valid_from"],
            valid_until=row["valid_until"],
            entries_allowed=row["entries_allowed"],
            entries_used=row["entries_used"],
            entries_left=max(row["entries_allowed"] - row["entries_used"], 0),
            points=[PlaceRef(id=p, name=names.get(p, "")) for p in ids_of(row["points"])],
            buildings=[PlaceRef(id=b, name=names.get(b, "")) for b in ids_of(row["buildings"])],
            floors=json_list(row["floors"]),
            plate=row["plate"],
            status=row["status"],
            walk_in=row["walk_in"],
            shared=row["share_token_hash"] is not None,
            phone_key_allowed=row["phone_key_allowed"],
            phone_key_registered=row["phone_key"] is not None,
            booked_by=row["booked_by"],
            created_by=row["created_by"],
            consent_by=row["consent_by"],
            consent_at=row["consent_at"],
            arrived_at=row["arrived_at"],
            last_entry_at=row["last_entry_at"],
            inside=row["inside"],
            revoked_at=row["revoked_at"],
            created_at=row["created_at"],
        )

    # -- revoke, share, reveal -------------------------------------------------------------------

    async def _writable(self, caller: Caller, pass_id: UUID) -> dict[str, Any]:
        """A pass the caller may change: their household's (residents) or their community's desk."""
        for permission in ("visitor.book", "visitor.desk"):
            if caller.holds(permission):
                try:
                    return await self.row(caller, pass_id, permission)
                except NotFound:
                    continue
        raise NotFound()

    async def revoke(
        self, caller: Caller, pass_id: UUID, effects: Effects, *, reason: str = ""
    ) -> VisitorPassRead:
        """End a pass at once: its QR and keypad code stop working at every reader (a used-up
        pass's too, which still opens the doors inside)."""
        found = await self._writable(caller, pass_id)
        async with DB.transaction():
            row = await locked(pass_id)
            if row is None or row["status"] not in (*LIVE, "used_up"):
                raise PassNotLive(status=row["status"] if row else None)
            await end_pass(row, "revoked", by=caller.account_id, reason=reason or "revoked")
            await record(
                "visitor_pass.revoked",
                actor=caller,
                target_type="visitor_pass",
                target_id=pass_id,
                community_id=found["community"],
                details={"reason": reason[:200], "was": row["status"]},
            )
        credentials.after_commit(effects, found["community"])
        return await self.get(caller, pass_id)

    async def share(self, caller: Caller, pass_id: UUID) -> ShareRead:
        """A fresh link for the visitor; the previous link of the pass stops working."""
        found = await self._writable(caller, pass_id)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        async with DB.transaction():
            row = await locked(pass_id)
            if row is None or row["status"] != "active" or row["valid_until"] <= now():
                raise PassNotActive()
            await VisitorPass.update(
                {VisitorPass.share_token_hash: token_hash(token), VisitorPass.updated_at: now()}
            ).where(VisitorPass.id == pass_id)
            await record(
                "visitor_pass.shared",
                actor=caller,
                target_type="visitor_pass",
                target_id=pass_id,
                community_id=found["community"],
                details={"replaced": row["share_token_hash"] is not None},
            )
        return ShareRead(url=f"{self.public_url}/pass/{token}", token=token)

    async def reveal(self, caller: Caller, pass_id: UUID, data: RevealRequest) -> VisitorReveal:
        """The visitor's phone and/or ID number in full, for a stated purpose; always audited."""
        fields = sorted(set(data.fields))
        where = scope(caller, "visitor.reveal") if caller.holds("visitor.reveal") else None
        row = None
        if where is not None:
            row = (
                await VisitorPass.select(
                    VisitorPass.community, VisitorPass.phone, VisitorPass.id_number
                )
                .where(where & (VisitorPass.id == pass_id))
                .first()
            )
        values = await reveal(
            caller,
            "visitor_pass",
            pass_id,
            row,
            fields,
            data.purpose,
            lambda f, stored: self.cipher.decrypt(stored, context=CONTEXTS[f]) if stored else None,
        )
        return VisitorReveal(
            id=pass_id, phone=values.get("phone"), id_number=values.get("id_number")
        )


# --- expiry ------------------------------------------------------------------------------------


async def expire_due(effects: Effects, *, limit: int = 500) -> list[UUID]:
    """End passes whose window is over (live ones become expired, used-up ones stay so; their
    credential is revoked); their ids.

    Safe to run from several workers at once: rows are claimed with SKIP LOCKED.
    """
    ended: list[UUID] = []
    async with DB.transaction():
        rows = await VisitorPass.raw(
            "SELECT * FROM visitor_passes WHERE valid_until <= {}"
            " AND (status IN ('pending_consent', 'active') OR (status = 'used_up' AND credential"
            " IN (SELECT id FROM credentials WHERE status = 'active')))"
            " ORDER BY valid_until LIMIT {} FOR UPDATE SKIP LOCKED",
            now(),
            limit,
        )
        for row in rows:
            final: PassStatus = "used_up" if row["status"] == "used_up" else "expired"
            await end_pass(row, final, by=None, reason="visitor pass expired")
            await record(
                "visitor_pass.expired",
                target_type="visitor_pass",
                target_id=row["id"],
                community_id=row["community"],
                details={"was": row["status"], "entries_used": row["entries_used"]},
            )
            credentials.after_commit(effects, row["community"])
            ended.append(row["id"])
    return ended


async def seed_demo_pass(cipher: FieldCipher, *, household_id: UUID, account_id: UUID) -> UUID:
    """The demo's visitor pass: booked by the demo resident for a week, two entries; its id.

    Inside the caller's transaction. The demo seeds before its site first connects, when no
    access point exists yet: the pass names no gate until the bridge's inventory brings them,
    when it gets every gate and its building's doors (`passes.follow_new_doors`).
    """
    household = await household_row(household_id)
    assert household is not None
    points, buildings, floors = await choose_places(household, None, None, None)
    start = now()
    visitor = VisitorPass(
        community=household["community"],
        household=household_id,
        booked_by=account_id,
        created_by=account_id,
        visitor_name="周晓燕",
        purpose="探亲",
        valid_from=start,
        valid_until=start + MAX_WINDOW,
        entries_allowed=2,
        points=[str(p) for p in points],
        buildings=[str(b) for b in buildings],
        floors=floors,
        plate="川A8D123",
        status="active",
        phone=cipher.encrypt("13600001234", context=CONTEXTS["phone"]),
        phone_index=cipher.blind_index("13600001234", kind="phone"),
    )
    await visitor.save()
    row = await locked(visitor.id)
    assert row is not None
    await activate(row, by=account_id)
    await record(
        "visitor_pass.created",
        actor_name="anju demo",
        target_type="visitor_pass",
        target_id=visitor.id,
        community_id=household["community"],
        details={"household_id": str(household_id), "entries": 2, "demo": True},
    )
    return visitor.id
