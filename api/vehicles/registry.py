"""The vehicle registry: entry, authorisation, change, cancellation, extension (VEH-07), blacklist.

Residents enter their household's cars (class resident or tenant; they wait for the manager's
authorisation) and may cancel them; managers enter any class for their community, authorise,
change, cancel and extend; a blacklisted vehicle (VEH-23) needs a reason and is active at once.
Every step is one transaction with its audit entry; the plate is stored encrypted beside its
blind index (api/vehicles/identifiers.py) and leaves only masked. A plate is in the registry
once per community while not cancelled.

The bridges decide at the barriers from the access credential sync (api/access/sync.py), not a
sync of their own: every step re-issues the vehicle's one credential — kind `plate` while it is
active, `plate_block` while blacklisted, none otherwise — and marks the community in the
request's `Effects`, so its bridges get the delta after commit. A blacklist entry first revokes
any other active credential of the plate (a visitor's), so the block is what the bridges hold.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from piccolo.querystring import QueryString

from api.access import credentials
from api.access.credentials import index_of
from api.access.tables import Credential
from api.audit.service import entries_of, record
from api.core.auth import Caller, Scope, require_staff
from api.core.crypto import FieldCipher
from api.core.effects import Effects
from api.core.errors import InvalidInput, NotFound
from api.core.paging import equals, paged
from api.people.tables import Person
from api.piccolo_conf import DB
from api.vehicles import identifiers
from api.vehicles.errors import (
    DuplicateVehicle,
    HouseholdRequired,
    InvalidLifecycleStep,
    InvalidValidity,
    VehicleClassNotAllowed,
)
from api.vehicles.schemas import (
    AuthoriseBody,
    CancelBody,
    ExtendBody,
    VehicleClass,
    VehicleCreate,
    VehicleHistoryEntry,
    VehiclePage,
    VehicleRead,
    VehicleStatus,
    VehicleUpdate,
)
from api.vehicles.tables import Vehicle
from api.visitors.passes import household_row, resident_households

RESIDENT_CLASSES: tuple[VehicleClass, ...] = ("resident", "tenant")


class ReasonRequired(InvalidInput):
    """A blacklisted vehicle names why."""

    code = "reason_required"
    message = "Say why the vehicle is blacklisted."


def read(row: dict[str, Any]) -> VehicleRead:
    """A row as the API shows it (plate masked)."""
    return VehicleRead(
        id=row["id"],
        community_id=row["community"],
        household_id=row["household"],
        person_id=row["person"],
        plate=row["plate_masked"],
        plate_class=row["plate_class"],
        colour=row["colour"],
        vehicle_type=row["vehicle_type"],
        vehicle_class=row["vehicle_class"],
        status=row["status"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        reason=row["reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _window(valid_from: datetime | None, valid_until: datetime | None) -> None:
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise InvalidValidity(field="valid_until")


def _set_fields(data: msgspec.Struct) -> list[str]:
    return [f for f in data.__struct_fields__ if getattr(data, f) is not msgspec.UNSET]


def _plate_lock(community_id: UUID, plate_index: str) -> QueryString:
    # Held to commit: two entries of one plate cannot both pass the duplicate check.
    return QueryString(
        "SELECT pg_advisory_xact_lock(hashtext({}))", f"{community_id}:{plate_index}"
    )


async def _locked(vehicle_id: UUID) -> dict[str, Any] | None:
    rows = await Vehicle.raw("SELECT * FROM vehicles WHERE id = {} FOR UPDATE", vehicle_id)
    return rows[0] if rows else None


class VehicleService:
    """The registry in the caller's scope; plates masked."""

    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher

    # -- reads -----------------------------------------------------------------------------------

    async def search(
        self,
        caller: Caller,
        *,
        page: int,
        page_size: int,
        community_id: UUID | None = None,
        household_id: UUID | None = None,
        vehicle_class: VehicleClass | None = None,
        status: VehicleStatus | None = None,
        plate: str | None = None,
        expires_before: datetime | None = None,
    ) -> VehiclePage:
        """Vehicles newest first: a resident's household's, a community's for staff;
        `expires_before`: those whose validity ends before then (the ones to extend)."""
        scope = Scope.of(caller, "vehicle.read")
        if community_id is not None:
            scope.check_member(community_id)
        where = scope.where(Vehicle.community, Vehicle.household)
        by_plate = None
        if plate is not None:
            by_plate = Vehicle.plate_index == identifiers.index(
                self.cipher, identifiers.clean(plate)[0]
            )
        rows, total = await paged(
            Vehicle.select().order_by(Vehicle.created_at, ascending=False),
            where,
            equals(Vehicle.community, community_id),
            equals(Vehicle.household, household_id),
            equals(Vehicle.vehicle_class, vehicle_class),
            equals(Vehicle.status, status),
            by_plate,
            None if expires_before is None else Vehicle.valid_until < expires_before,
            page=page,
            page_size=page_size,
        )
        return VehiclePage(
            items=[read(r) for r in rows], total=total, page=page, page_size=page_size
        )

    async def get(self, caller: Caller, vehicle_id: UUID) -> VehicleRead:
        """One vehicle in scope, else 404."""
        where = Scope.of(caller, "vehicle.read").where(Vehicle.community, Vehicle.household)
        row = (
            await Vehicle.select().where(where, Vehicle.id == vehicle_id).first()
            if where is not None
            else None
        )
        if row is None:
            raise NotFound()
        return read(row)

    async def history(self, caller: Caller, vehicle_id: UUID) -> list[VehicleHistoryEntry]:
        """A vehicle's lifecycle from the audit log, oldest first: for the staff who read it."""
        vehicle = await self.get(caller, vehicle_id)
        if not Scope.of(caller, "vehicle.read").staff_in(vehicle.community_id):
            raise NotFound()  # a resident reads the car, not who did what to it
        return [
            VehicleHistoryEntry(
                at=e.at,
                action=e.action,
                actor_name=e.actor_name,
                actor_role=e.actor_role,
                purpose=e.purpose,
                details=e.details,
            )
            for e in await entries_of("vehicle", vehicle_id)
        ]

    # -- entry -----------------------------------------------------------------------------------

    async def register(self, caller: Caller, data: VehicleCreate, effects: Effects) -> VehicleRead:
        """Enter a vehicle: a resident's for their household, or a manager's for the community."""
        mine = resident_households(caller) if Scope.held(caller, "vehicle.register") else []
        household_id = data.household_id
        if household_id is None and data.community_id is None:
            if len(mine) > 1:
                raise HouseholdRequired(field="household_id")
            household_id = mine[0] if mine else None
        community_id = data.community_id
        if household_id is not None:
            household = await household_row(household_id)
            if household is None:
                raise NotFound()
            if community_id is not None and community_id != household["community"]:
                raise NotFound()
            community_id = household["community"]
        if community_id is None:
            raise NotFound()
        by_resident = household_id is not None and household_id in mine
        if not by_resident:
            require_staff(caller, "vehicle.manage", community_id)
        elif data.vehicle_class not in RESIDENT_CLASSES:
            raise VehicleClassNotAllowed(field="vehicle_class")
        if data.vehicle_class == "blacklisted" and not data.reason.strip():
            raise ReasonRequired(field="reason")
        _window(data.valid_from, data.valid_until)
        await self._check_person(
            data.person_id, community_id, household_id if by_resident else None
        )
        plate, plate_class = identifiers.clean(data.plate)
        now = datetime.now(UTC)
        vehicle = Vehicle(
            id=uuid4(),
            community=community_id,
            household=household_id,
            person=data.person_id,
            plate_class=plate_class,
            colour=data.colour,
            vehicle_type=data.vehicle_type,
            vehicle_class=data.vehicle_class,
            status="active" if data.vehicle_class == "blacklisted" else "registered",
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            reason=data.reason.strip(),
            created_by=caller.account_id,
            created_at=now,
            updated_at=now,
            **msgspec.structs.asdict(identifiers.stored(self.cipher, plate)),
        )
        async with DB.transaction():
            await DB.run_querystring(_plate_lock(community_id, vehicle.plate_index))
            if await Vehicle.exists().where(
                (Vehicle.community == community_id)
                & (Vehicle.plate_index == vehicle.plate_index)
                & (Vehicle.status != "cancelled")
            ):
                raise DuplicateVehicle(field="plate")
            await vehicle.save()
            await record(
                "vehicle.blacklisted"
                if data.vehicle_class == "blacklisted"
                else "vehicle.registered",
                actor=caller,
                target_type="vehicle",
                target_id=vehicle.id,
                community_id=community_id,
                purpose=vehicle.reason or None,
                details={
                    "plate": vehicle.plate_masked,
                    "class": data.vehicle_class,
                    "household_id": str(household_id) if household_id else None,
                },
            )
            await self._reissue(vehicle.id, caller, effects)
        return await self.get_any(vehicle.id)

    async def _check_person(
        self, person_id: UUID | None, community_id: UUID, household_id: UUID | None
    ) -> None:
        if person_id is None:
            return
        where: Any = (Person.id == person_id) & (Person.community == community_id)
        if household_id is not None:
            where &= Person.household == household_id
        if not await Person.exists().where(where):
            raise NotFound()

    async def get_any(self, vehicle_id: UUID) -> VehicleRead:
        """A vehicle the caller has just written (already checked)."""
        row = await Vehicle.select().where(Vehicle.id == vehicle_id).first()
        if row is None:
            raise NotFound()
        return read(row)

    # -- lifecycle -------------------------------------------------------------------------------

    async def authorise(
        self, caller: Caller, vehicle_id: UUID, data: AuthoriseBody, effects: Effects
    ) -> VehicleRead:
        """A registered vehicle becomes active for its window (the manager's)."""
        _window(data.valid_from, data.valid_until)
        async with DB.transaction():
            row = await self._managed(caller, vehicle_id)
            if row["status"] != "registered":
                raise InvalidLifecycleStep()
            await self._update(
                row,
                caller,
                "vehicle.authorised",
                {
                    Vehicle.status: "active",
                    Vehicle.valid_from: data.valid_from,
                    Vehicle.valid_until: data.valid_until,
                },
                effects,
            )
        return await self.get_any(vehicle_id)

    async def change(
        self, caller: Caller, vehicle_id: UUID, data: VehicleUpdate, effects: Effects
    ) -> VehicleRead:
        """Colour, type, class, driver or reason of a vehicle not cancelled (the manager's)."""
        async with DB.transaction():
            row = await self._managed(caller, vehicle_id)
            if row["status"] == "cancelled":
                raise InvalidLifecycleStep()
            values: dict[Any, Any] = {}
            for field, column in (
                ("colour", Vehicle.colour),
                ("vehicle_type", Vehicle.vehicle_type),
                ("vehicle_class", Vehicle.vehicle_class),
                ("person_id", Vehicle.person),
                ("reason", Vehicle.reason),
            ):
                value = getattr(data, field)
                if value is not msgspec.UNSET:
                    values[column] = value.strip() if isinstance(value, str) else value
            if isinstance(data.person_id, UUID):
                await self._check_person(data.person_id, row["community"], None)
            cls = values.get(Vehicle.vehicle_class, row["vehicle_class"])
            if cls == "blacklisted":
                if not values.get(Vehicle.reason, row["reason"]):
                    raise ReasonRequired(field="reason")
                values[Vehicle.status] = "active"
            await self._update(
                row,
                caller,
                "vehicle.changed",
                values,
                effects,
                details={"fields": _set_fields(data)},
            )
        return await self.get_any(vehicle_id)

    async def cancel(
        self, caller: Caller, vehicle_id: UUID, data: CancelBody, effects: Effects
    ) -> VehicleRead:
        """The vehicle leaves the registry: by a manager, or by a resident for their household."""
        async with DB.transaction():
            row = await _locked(vehicle_id)
            mine = resident_households(caller) if Scope.held(caller, "vehicle.register") else []
            manager = Scope.held(caller, "vehicle.manage")
            if row is None or not (
                row["household"] in mine
                or (manager is not None and manager.staff_in(row["community"]))
            ):
                raise NotFound()
            if row["status"] == "cancelled":
                raise InvalidLifecycleStep()
            await self._update(
                row,
                caller,
                "vehicle.unblacklisted"
                if row["vehicle_class"] == "blacklisted"
                else "vehicle.cancelled",
                {Vehicle.status: "cancelled", Vehicle.reason: data.reason.strip()},
                effects,
                purpose=data.reason.strip(),
            )
        return await self.get_any(vehicle_id)

    async def extend(
        self, caller: Caller, vehicle_id: UUID, data: ExtendBody, effects: Effects
    ) -> VehicleRead:
        """An active vehicle's window ends later (the manager's)."""
        async with DB.transaction():
            row = await self._managed(caller, vehicle_id)
            if row["status"] != "active":
                raise InvalidLifecycleStep()
            until = row["valid_until"]
            if until is None or data.valid_until <= until or data.valid_until <= datetime.now(UTC):
                raise InvalidValidity(field="valid_until")
            await self._update(
                row,
                caller,
                "vehicle.extended",
                {Vehicle.valid_until: data.valid_until},
                effects,
                details={"from": until.isoformat(), "to": data.valid_until.isoformat()},
            )
        return await self.get_any(vehicle_id)

    async def _managed(self, caller: Caller, vehicle_id: UUID) -> dict[str, Any]:
        """The vehicle locked, when the caller manages its community; else 404."""
        scope = Scope.of(caller, "vehicle.manage")
        row = await _locked(vehicle_id)
        if row is None or not scope.staff_in(row["community"]):
            raise NotFound()
        return row

    async def _update(
        self,
        row: dict[str, Any],
        caller: Caller,
        action: str,
        values: dict[Any, Any],
        effects: Effects,
        *,
        purpose: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        await Vehicle.update({**values, Vehicle.updated_at: datetime.now(UTC)}).where(
            Vehicle.id == row["id"]
        )
        await self._reissue(row["id"], caller, effects)
        await record(
            action,
            actor=caller,
            target_type="vehicle",
            target_id=row["id"],
            community_id=row["community"],
            purpose=purpose,
            details={"plate": row["plate_masked"], **(details or {})},
        )

    async def _reissue(self, vehicle_id: UUID, caller: Caller, effects: Effects) -> None:
        """The vehicle's credential as its row now says (inside the caller's transaction)."""
        row = await Vehicle.select().where(Vehicle.id == vehicle_id).first()
        assert row is not None
        if row["credential"] is not None:
            await credentials.revoke_credentials(
                [row["credential"]], reason="vehicle changed", by=caller.account_id
            )
        credential = None
        if row["status"] == "active":
            plate = self.cipher.decrypt(row["plate"], context=identifiers.CONTEXT)
            blocked = row["vehicle_class"] == "blacklisted"
            if blocked:  # a visitor's plate credential gives way to the block
                others = await Credential.select(Credential.id).where(
                    (Credential.community == row["community"])
                    & (Credential.value_index == index_of("plate", plate))
                    & (Credential.status == "active")
                )
                await credentials.revoke_credentials(
                    [o["id"] for o in others], reason="blacklisted", by=caller.account_id
                )
            credential = await credentials.create_credential(
                community_id=row["community"],
                kind="plate_block" if blocked else "plate",
                person_id=row["person"],
                household_id=row["household"],
                value=plate,
                valid_from=row["valid_from"],
                valid_until=row["valid_until"],
                created_by=caller.account_id,
            )
        await Vehicle.update({Vehicle.credential: credential}).where(Vehicle.id == vehicle_id)
        credentials.after_commit(effects, row["community"])
