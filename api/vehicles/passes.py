"""Pass records: every plate read at a lane and what was decided (VEH-11), read in scope.

Residents read their household's cars' passes, guards and managers their community's, police
their jurisdiction's. A search by plate (exact, or fuzzy: every plate one edit away, through the
blind indexes — api/vehicles/identifiers.py) needs `vehicle_pass.search` and is audited each
time, with the masked plate and what was found, never the plate itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from api.audit.service import record
from api.core.auth import Caller, Scope
from api.core.crypto import FieldCipher
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.vehicles import identifiers
from api.vehicles.schemas import Decision, Direction, PassRecordPage, PassRecordRead
from api.vehicles.tables import Lane, PassRecord


async def lane_names(rows: list[dict[str, Any]]) -> dict[UUID, str]:
    """The names of the lanes the records name (one query)."""
    ids = list({r["lane"] for r in rows if r["lane"] is not None})
    if not ids:
        return {}
    return {
        r["id"]: r["name"] for r in await Lane.select(Lane.id, Lane.name).where(Lane.id.is_in(ids))
    }


def pass_read(row: dict[str, Any], names: dict[UUID, str] | None = None) -> PassRecordRead:
    """A pass record as the API shows it (plate masked), with its lane's name when given."""
    return PassRecordRead(
        id=row["id"],
        community_id=row["community"],
        lane_id=row["lane"],
        car_park_id=row["car_park"],
        vehicle_id=row["vehicle"],
        at=row["at"],
        direction=row["direction"],
        plate=row["plate_masked"],
        colour=row["colour"],
        vehicle_type=row["vehicle_type"],
        confidence=row["confidence"],
        decision=row["decision"],
        reason=row["reason"],
        image=row["image"],
        decided_by=row["decided_by"],
        note=row["note"],
        resolves=row["resolves"],
        lane_name=(names or {}).get(row["lane"], ""),
        visitor_pass_id=row["visitor_pass"],
        fee_fen=row["fee_fen"],
        paid_fen=row["paid_fen"],
        payment_ref=row["payment_ref"],
        parking_order_id=row["parking_order"],
        unplated=row["ticket"] is not None,
    )


async def list_passes(
    caller: Caller,
    cipher: FieldCipher,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    vehicle_id: UUID | None = None,
    lane_id: UUID | None = None,
    direction: Direction | None = None,
    decision: Decision | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    plate: str | None = None,
    fuzzy: bool = False,
) -> PassRecordPage:
    """Pass records newest first, filtered; a plate search is audited."""
    scope = Scope.of(caller, "vehicle_pass.read")
    if community_id is not None:
        scope.check_member(community_id)
    where = scope.where(PassRecord.community, PassRecord.household)
    by_plate = None
    if plate is not None:
        searcher = Scope.held(caller, "vehicle_pass.search")
        if searcher is None:
            raise NotFound()
        indexes = identifiers.search_indexes(cipher, plate, fuzzy=fuzzy)
        by_plate = PassRecord.plate_index.is_in(indexes)
        where = searcher.where(PassRecord.community)
    rows, total = await paged(
        PassRecord.select().order_by(PassRecord.at, ascending=False),
        where,
        equals(PassRecord.community, community_id),
        equals(PassRecord.vehicle, vehicle_id),
        equals(PassRecord.lane, lane_id),
        equals(PassRecord.direction, direction),
        equals(PassRecord.decision, decision),
        None if since is None else PassRecord.at >= since,
        None if until is None else PassRecord.at < until,
        by_plate,
        page=page,
        page_size=page_size,
    )
    if plate is not None:
        await record(
            "vehicle_pass.searched",
            actor=caller,
            target_type="vehicle_pass",
            community_id=community_id,
            details={
                "plate": identifiers.mask(identifiers.clean(plate)[0]),
                "fuzzy": fuzzy,
                "found": total,
                "community_id": str(community_id or ""),
            },
        )
    names = await lane_names(rows)
    return PassRecordPage(
        items=[pass_read(r, names) for r in rows], total=total, page=page, page_size=page_size
    )


async def get_pass(caller: Caller, record_id: UUID) -> PassRecordRead:
    """One pass record in scope, else 404."""
    where = Scope.of(caller, "vehicle_pass.read").where(PassRecord.community, PassRecord.household)
    row = (
        await PassRecord.select().where(where, PassRecord.id == record_id).first()
        if where is not None
        else None
    )
    if row is None:
        raise NotFound()
    return pass_read(row, await lane_names([row]))
