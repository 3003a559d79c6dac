"""The visitor desk: walk-in visitors registered by a guard, the household's consent, who is inside.

A walk-in pass starts in `pending_consent` with no credential: the household's members get a push
and a live `visitor.consent_requested` event; the first member to answer decides. Approval makes
the pass active (QR and keypad code created); a refusal declines it. Either way the desks of the
community see `visitor.consent` on its live channel.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from api.access import credentials
from api.audit.service import record
from api.communities.service import household_label
from api.core.auth import Caller, Scope, require_staff
from api.core.crypto import FieldCipher, mask_phone
from api.core.effects import Effects
from api.core.errors import Conflict, NotFound
from api.core.paging import equals, paged
from api.core.realtime import community_channel, user_channel
from api.piccolo_conf import DB
from api.push.schemas import PushMessage
from api.push.service import DISPATCH, notify
from api.visitors.passes import (
    CONTEXTS,
    InvalidWindow,
    activate,
    choose_places,
    clean_id,
    clean_phone,
    clean_plate,
    end_pass,
    household_members,
    household_row,
    identifiers,
    locked,
    now,
    resident_households,
)
from api.visitors.schemas import InsidePage, InsideRead, WalkInCreate
from api.visitors.tables import VisitorPass

WALK_IN_DEFAULT = timedelta(hours=4)
WALK_IN_MAX = timedelta(hours=24)  # a walk-in pass lasts the day at most
CONSENT_TTL = 900  # seconds a consent push is worth delivering
OVERSTAY = timedelta(hours=12)  # how long after its pass ended a visitor may still show inside


class NotPending(Conflict):
    """The pass was answered already (or revoked meanwhile)."""

    code = "visitor_pass_not_pending"
    message = "This visitor has been answered already."


def consent_message(pass_id: UUID, visitor_name: str, purpose: str) -> PushMessage:
    """The push asking a household to let a walk-in visitor in."""
    return PushMessage(
        title="访客登记待确认",
        body=f"{visitor_name}（{purpose}）在门岗登记来访，请确认是否同意进入。",
        url=f"/visitors/{pass_id}",
        tag=f"visitor-consent-{pass_id}",
        urgency="high",
        ttl=CONSENT_TTL,
        data={"type": "visitor.consent_requested", "pass_id": str(pass_id)},
    )


async def register_walk_in(
    caller: Caller, cipher: FieldCipher, data: WalkInCreate, effects: Effects
) -> UUID:
    """A guard registers a visitor whose ID was checked; the household is asked to consent."""
    household = await household_row(data.household_id)
    if household is None:
        raise NotFound()
    require_staff(caller, "visitor.desk", household["community"])
    current = now()
    until = data.valid_until or current + WALK_IN_DEFAULT
    if until <= current or until - current > WALK_IN_MAX:
        raise InvalidWindow(
            "A walk-in pass ends in the future, within 24 hours.", field="valid_until"
        )
    phone = clean_phone(data.visitor_phone)
    id_number = clean_id(data.id_type, data.id_number)
    plate = clean_plate(data.plate)
    points, buildings, floors = await choose_places(household, data.points, data.buildings, None)
    name = data.visitor_name.strip()
    visitor = VisitorPass(
        community=household["community"],
        household=data.household_id,
        created_by=caller.account_id,
        walk_in=True,
        visitor_name=name,
        purpose=data.purpose,
        valid_from=current,
        valid_until=until,
        entries_allowed=data.entries,
        points=[str(p) for p in points],
        buildings=[str(b) for b in buildings],
        floors=floors,
        plate=plate,
        status="pending_consent",
        **identifiers(cipher, phone, data.id_type, id_number),
    )
    members = await household_members(data.household_id)
    async with DB.transaction():
        await visitor.save()
        await record(
            "visitor_pass.walk_in_registered",
            actor=caller,
            target_type="visitor_pass",
            target_id=visitor.id,
            community_id=household["community"],
            details={
                "household_id": str(data.household_id),
                "id_type": data.id_type,
                "entries": data.entries,
                "members_asked": len(members),
            },
        )
        effects.after(
            DISPATCH, *await notify(members, consent_message(visitor.id, name, data.purpose))
        )
    event = {
        "type": "visitor.consent_requested",
        "pass_id": str(visitor.id),
        "visitor_name": name,
        "purpose": data.purpose,
        "household_id": str(data.household_id),
        "at": current.isoformat(),
    }
    effects.send(event, *[user_channel(m) for m in members])
    return visitor.id


async def consent(caller: Caller, pass_id: UUID, *, approve: bool, effects: Effects) -> None:
    """A member of the visited household lets the walk-in visitor in, or not."""
    Scope.of(caller, "visitor.book")
    async with DB.transaction():
        found = await locked(pass_id)
        if found is None or found["household"] not in resident_households(caller):
            raise NotFound()
        row = found
        if row["status"] != "pending_consent":
            raise NotPending(status=row["status"])
        if approve and row["valid_until"] <= now():
            raise NotPending("The visitor's pass has expired meanwhile.", status="expired")
        changes: dict[Any, Any] = {
            VisitorPass.consent_by: caller.account_id,
            VisitorPass.consent_at: now(),
        }
        await VisitorPass.update(changes).where(VisitorPass.id == pass_id)
        if approve:
            await activate(row, by=caller.account_id)
            credentials.after_commit(effects, row["community"])
        else:
            await end_pass(row, "declined", by=caller.account_id, reason="household declined")
        await record(
            "visitor_pass.consent_given" if approve else "visitor_pass.consent_refused",
            actor=caller,
            target_type="visitor_pass",
            target_id=pass_id,
            community_id=row["community"],
        )
    event = {
        "type": "visitor.consent",
        "pass_id": str(pass_id),
        "approved": approve,
        "household_id": str(row["household"]),
        "at": now().isoformat(),
    }
    effects.send(event, community_channel(row["community"]))
    # The household's other phones drop their consent prompt.
    others = [m for m in await household_members(row["household"]) if m != caller.account_id]
    effects.send(event, *[user_channel(m) for m in others])


async def inside_now(
    caller: Caller,
    cipher: FieldCipher,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
) -> InsidePage:
    """Visitors who entered at a gate and have not been seen leaving, longest inside first.

    A visitor whose pass ended more than OVERSTAY ago drops off the list (exits without a read).
    """
    rows, total = await paged(
        VisitorPass.select(
            VisitorPass.id,
            VisitorPass.visitor_name,
            VisitorPass.phone,
            VisitorPass.household,
            VisitorPass.walk_in,
            VisitorPass.plate,
            VisitorPass.last_entry_at,
            VisitorPass.household._.building._.number.as_alias("building_number"),
            VisitorPass.household._.unit._.number.as_alias("unit_number"),
            VisitorPass.household._.room.as_alias("room"),
        ).order_by(VisitorPass.last_entry_at),
        Scope.of(caller, "visitor.desk").where(VisitorPass.community),
        VisitorPass.inside.eq(True),
        # No exit seen for long after the pass ended: many gates let people out without a read.
        VisitorPass.valid_until > now() - OVERSTAY,
        equals(VisitorPass.community, community_id),
        page=page,
        page_size=page_size,
    )
    doors = await _last_doors([r["id"] for r in rows])
    return InsidePage(
        items=[
            InsideRead(
                pass_id=r["id"],
                visitor_name=r["visitor_name"],
                visitor_phone=mask_phone(cipher.decrypt(r["phone"], context=CONTEXTS["phone"])),
                household_id=r["household"],
                household_label=household_label(r["building_number"], r["unit_number"], r["room"]),
                walk_in=r["walk_in"],
                plate=r["plate"],
                since=r["last_entry_at"],
                door=doors.get(r["id"]),
            )
            for r in rows
        ],
        total=total,
        page=page,
        page_size=page_size,
    )


async def _last_doors(pass_ids: list[UUID]) -> dict[UUID, str]:
    """The door of each pass's latest granted entry."""
    if not pass_ids:
        return {}
    rows = await VisitorPass.raw(
        "SELECT DISTINCT ON (r.visitor_pass) r.visitor_pass, d.name FROM access_records r"
        " JOIN devices d ON d.id = r.device WHERE r.visitor_pass = ANY({}::uuid[])"
        " AND r.result = 'granted' AND r.direction = 'in'"
        " ORDER BY r.visitor_pass, r.at DESC",
        pass_ids,
    )
    return {r["visitor_pass"]: r["name"] for r in rows}
