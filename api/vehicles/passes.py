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

import msgspec

from api.audit.service import record
from api.core.auth import Caller, Scope
from api.core.crypto import FieldCipher
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.core.storage import ObjectStore, StorageError
from api.vehicles import identifiers
from api.vehicles.schemas import Decision, Direction, PassClass, PassRecordPage, PassRecordRead
from api.vehicles.tables import Lane, PassRecord, Vehicle


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


class PassFilters(msgspec.Struct, kw_only=True, frozen=True):
    """The filters of a pass-record query, shared by the list, the CSV export and the print view.

    `vehicle_class` is the registry class of the record's vehicle, or `unregistered` for reads
    of plates the registry does not hold."""

    community_id: UUID | None = None
    vehicle_id: UUID | None = None
    lane_id: UUID | None = None
    car_park_id: UUID | None = None
    direction: Direction | None = None
    decision: Decision | None = None
    vehicle_class: PassClass | None = None
    since: datetime | None = None
    until: datetime | None = None
    plate: str | None = None
    fuzzy: bool = False

    def audited(self) -> dict[str, Any]:
        """The filters as the audit log keeps them: set ones only, the plate masked."""
        out = {k: str(v) for k, v in msgspec.structs.asdict(self).items() if v not in (None, False)}
        if self.plate is not None:
            out["plate"] = identifiers.mask(identifiers.clean(self.plate)[0])
            out["fuzzy"] = str(self.fuzzy).lower()
        return out


def pass_where(
    caller: Caller, cipher: FieldCipher, filters: PassFilters, *, permission: str
) -> list[Any] | None:
    """The conditions of a filtered pass-record query in the caller's scope for `permission`;
    None when nothing can be in scope. A plate search needs `vehicle_pass.search` as well and
    reaches whole communities only (never a resident's household alone)."""
    f = filters
    scope = Scope.of(caller, permission)
    if f.community_id is not None:
        scope.check_member(f.community_id)
    where = scope.where(PassRecord.community, PassRecord.household)
    by_plate = None
    if f.plate is not None:
        searcher = Scope.held(caller, "vehicle_pass.search")
        if searcher is None:
            raise NotFound()
        by_plate = PassRecord.plate_index.is_in(
            identifiers.search_indexes(cipher, f.plate, fuzzy=f.fuzzy)
        )
        where = searcher.where(PassRecord.community)
    if where is None:
        return None
    by_class = None
    if f.vehicle_class == "unregistered":
        by_class = PassRecord.vehicle.is_null()
    elif f.vehicle_class is not None:
        by_class = PassRecord.vehicle.is_in(
            Vehicle.select(Vehicle.id).where(Vehicle.vehicle_class == f.vehicle_class)
        )
    conditions = [
        where,
        equals(PassRecord.community, f.community_id),
        equals(PassRecord.vehicle, f.vehicle_id),
        equals(PassRecord.lane, f.lane_id),
        equals(PassRecord.car_park, f.car_park_id),
        equals(PassRecord.direction, f.direction),
        equals(PassRecord.decision, f.decision),
        None if f.since is None else PassRecord.at >= f.since,
        None if f.until is None else PassRecord.at < f.until,
        by_plate,
        by_class,
    ]
    return [c for c in conditions if c is not None]


async def list_passes(
    caller: Caller,
    cipher: FieldCipher,
    filters: PassFilters,
    *,
    page: int,
    page_size: int,
    objects: ObjectStore | None = None,
) -> PassRecordPage:
    """Pass records newest first, filtered; a plate search is audited (the plate masked, the
    other filters and how many were found). With `objects`, each snapshot gets a signed link."""
    where = pass_where(caller, cipher, filters, permission="vehicle_pass.read")
    rows, total = await paged(
        PassRecord.select().order_by(PassRecord.at, ascending=False),
        None if where is None else where[0],
        *(where or [])[1:],
        page=page,
        page_size=page_size,
    )
    if filters.plate is not None:
        await record(
            "vehicle_pass.searched",
            actor=caller,
            target_type="vehicle_pass",
            community_id=filters.community_id,
            details={
                **filters.audited(),
                "fuzzy": filters.fuzzy,
                "found": total,
                "community_id": str(filters.community_id or ""),
            },
        )
    names = await lane_names(rows)
    items = [pass_read(r, names) for r in rows]
    if objects is not None:
        for item in items:
            item.image_url = await image_url(objects, item.image)
    return PassRecordPage(items=items, total=total, page=page, page_size=page_size)


async def image_url(objects: ObjectStore, key: str) -> str | None:
    """A presigned link to a snapshot; none when there is none (or the key is no object's)."""
    if not key:
        return None
    try:
        return await objects.presigned_url(key)
    except (StorageError, ValueError):
        return None


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
