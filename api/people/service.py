"""The resident registry: register, find, change, move out, and reveal under a stated purpose.

Phone and ID numbers are stored encrypted (the column name is the cipher context) beside a blind
index; look-ups by phone or ID number go through the index and never decrypt rows to compare them.
Decryption happens only to mask the rows of the page being answered, or for an audited reveal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import msgspec

from api.audit.service import record, reveal
from api.communities.service import household_label
from api.communities.tables import Community, Household
from api.core.auth import Caller, Scope, require_staff
from api.core.crypto import (
    FieldCipher,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
    valid_id_number,
    valid_phone,
)
from api.core.effects import Effects
from api.core.errors import Conflict, InvalidInput, NotFound
from api.core.paging import equals, paged_page
from api.core.query import like
from api.people.moves import MoveOutHooks, MovingOut, end_residence, still_living
from api.people.schemas import (
    Category,
    MoveIn,
    MoveOut,
    MoveOutRead,
    PersonCreate,
    PersonPage,
    PersonRead,
    PersonReveal,
    PersonUpdate,
    Relation,
    RevealRequest,
)
from api.people.tables import Person
from api.piccolo_conf import DB

CONTEXTS = {"phone": "persons.phone", "id_number": "persons.id_number"}
LEASE_ENDED = "lease ended"


class InvalidPhone(InvalidInput):
    """Not a mainland mobile number."""

    code = "invalid_phone"
    message = "The phone number is not a valid mainland mobile number."


class InvalidIdNumber(InvalidInput):
    """Not an 18-character resident ID with a valid birth date and check digit."""

    code = "invalid_id_number"
    message = "The ID number is not a valid resident ID number."


class InvalidRelation(InvalidInput):
    """Category and relation contradict each other."""

    code = "invalid_relation"
    message = "An owner cannot be registered in the tenant category."


class InvalidLease(InvalidInput):
    """A lease end for someone who is not a tenant."""

    code = "invalid_lease"
    message = "Only a tenant has a lease end date."


class InvalidDates(InvalidInput):
    """Moved out before moving in."""

    code = "invalid_dates"
    message = "The move-out date is before the move-in date."


class DuplicatePerson(Conflict):
    """The ID number is already registered in the community."""

    code = "duplicate_id_number"
    message = "A person with this ID number is already registered in this community."


_COLUMNS = (
    *Person.all_columns(),
    Person.household._.building._.number.as_alias("building_number"),
    Person.household._.unit._.number.as_alias("unit_number"),
    Person.household._.room.as_alias("room"),
)


def _now() -> datetime:
    return datetime.now(UTC)


def _scope(caller: Caller, permission: str) -> Any | None:
    """Persons the caller may reach with the permission (a resident: their household's)."""
    return Scope.of(caller, permission).where(Person.community, Person.household)


def _check_relation(category: Category, relation: Relation) -> None:
    if relation == "owner" and category == "tenant":
        raise InvalidRelation(field="relation")


def _check_dates(moved_in_on: date | None, moved_out_on: date | None) -> None:
    if moved_in_on and moved_out_on and moved_out_on < moved_in_on:
        raise InvalidDates(field="moved_out_on")


def _check_lease(
    category: Category, relation: Relation, lease_ends_on: date | None, moved_in_on: date | None
) -> None:
    """A lease end belongs to a tenant (by category or relation), and does not end before the
    move-in."""
    if lease_ends_on is None:
        return
    if category != "tenant" and relation != "tenant":
        raise InvalidLease(field="lease_ends_on")
    if moved_in_on and lease_ends_on < moved_in_on:
        raise InvalidDates(field="lease_ends_on")


async def _check_household(household_id: UUID, community_id: UUID) -> None:
    if not await Household.exists().where(
        (Household.id == household_id) & (Household.community == community_id)
    ):
        raise InvalidInput("No such household in this community.", field="household_id")


class AlreadyMovedOut(Conflict):
    """A move-out of someone who moved out already."""

    code = "already_moved_out"
    message = "The person has moved out already."


class StillResident(Conflict):
    """A move-in of someone who still lives in a household: they move out of it first."""

    code = "still_resident"
    message = "The person still lives in a household; move them out of it first."


class PersonService:
    """Persons, filtered by the caller's scope; identifiers masked unless revealed."""

    def __init__(self, cipher: FieldCipher, *, on_moved_out: MoveOutHooks | None = None) -> None:
        self.cipher = cipher
        self.on_moved_out: MoveOutHooks = on_moved_out or {}

    async def search(
        self,
        caller: Caller,
        *,
        page: int,
        page_size: int,
        community_id: UUID | None = None,
        household_id: UUID | None = None,
        category: Category | None = None,
        phone: str | None = None,
        id_number: str | None = None,
        q: str | None = None,
        building_id: UUID | None = None,
        unit_id: UUID | None = None,
        relation: Relation | None = None,
        moved_out: bool | None = None,
    ) -> PersonPage:
        """A page of persons in scope; phone and ID number match exactly through the blind index.
        `moved_out` true lists only those who moved out, false only those still living there."""
        blind = self.cipher.blind_index
        return await paged_page(
            PersonPage,
            self._read,
            Person.select(*_COLUMNS).order_by(Person.created_at, Person.id),
            _scope(caller, "person.read"),
            equals(Person.community, community_id),
            equals(Person.household, household_id),
            Person.category == category if category else None,
            Person.phone_index == blind(phone, kind="phone") if phone else None,
            Person.id_number_index == blind(id_number, kind="id_number") if id_number else None,
            Person.name.ilike(like(q)) if q else None,
            equals(Person.household._.building, building_id),
            equals(Person.household._.unit, unit_id),
            equals(Person.relation, relation),
            None
            if moved_out is None
            else Person.moved_out_on.is_not_null()
            if moved_out
            else Person.moved_out_on.is_null(),
            page=page,
            page_size=page_size,
        )

    async def get(self, caller: Caller, person_id: UUID) -> PersonRead:
        """One person in scope, masked."""
        where = _scope(caller, "person.read")
        row = None
        if where is not None:
            row = await Person.select(*_COLUMNS).where(where & (Person.id == person_id)).first()
        if row is None:
            raise NotFound()
        return self._read(row)

    async def create(self, caller: Caller, data: PersonCreate) -> PersonRead:
        """Register a person; the ID number may be registered once per community."""
        require_staff(caller, "person.write", data.community_id)
        if not await Community.exists().where(Community.id == data.community_id):
            raise NotFound()
        _check_relation(data.category, data.relation)
        _check_lease(data.category, data.relation, data.lease_ends_on, data.moved_in_on)
        phone, id_number = self._phone(data.phone), self._id_number(data.id_number)
        if data.household_id:
            await _check_household(data.household_id, data.community_id)
        id_index = self.cipher.blind_index(id_number, kind="id_number")
        person = Person(
            community=data.community_id,
            household=data.household_id,
            category=data.category,
            relation=data.relation,
            name=data.name,
            id_number=self.cipher.encrypt(id_number, context=CONTEXTS["id_number"]),
            id_number_index=id_index,
            phone=self.cipher.encrypt(phone, context=CONTEXTS["phone"]),
            phone_index=self.cipher.blind_index(phone, kind="phone"),
            moved_in_on=data.moved_in_on,
            lease_ends_on=data.lease_ends_on,
        )
        async with DB.transaction():
            await self._claim_id_number(data.community_id, id_index, exclude=None)
            await person.save()
            await record(
                "person.created",
                actor=caller,
                target_type="person",
                target_id=person.id,
                community_id=data.community_id,
                details={"category": data.category, "relation": data.relation},
            )
        return await self.get(caller, person.id)

    async def update(
        self, caller: Caller, person_id: UUID, data: PersonUpdate, effects: Effects
    ) -> PersonRead:
        """Change a registration; a move-out date ends residence but keeps the record (REG-06)
        and ends what residence gave (`move_out`)."""
        person, _ = await self._change(caller, person_id, data, effects)
        return person

    async def move_out(
        self, caller: Caller, person_id: UUID, data: MoveOut, effects: Effects
    ) -> MoveOutRead:
        """Move a person out in one step: the date, and through the hooks wired in api/app.py
        their credentials at every reader, their plates, their household roles; one audit entry
        (`person.moved_out`) counts what ended."""
        current = await self.get(caller, person_id)
        if current.moved_out_on is not None:
            require_staff(caller, "person.write", current.community_id)
            raise AlreadyMovedOut()
        person, ended = await self._change(
            caller, person_id, PersonUpdate(moved_out_on=data.moved_out_on), effects
        )
        return MoveOutRead(person=person, ended=ended or {})

    async def move_in(self, caller: Caller, person_id: UUID, data: MoveIn) -> PersonRead:
        """A person moves into a household of their community: a person without one, or who has
        moved out (the record is kept, REG-06). Audited as `person.moved_in`."""
        current = await self.get(caller, person_id)
        community_id = current.community_id
        require_staff(caller, "person.write", community_id)
        if current.household_id is not None and current.moved_out_on is None:
            raise StillResident(field="household_id")
        await _check_household(data.household_id, community_id)
        relation = data.relation or current.relation
        category = data.category or current.category
        _check_relation(category, relation)
        _check_lease(category, relation, data.lease_ends_on, data.moved_in_on)
        async with DB.transaction():
            await Person.update(
                {
                    Person.household: data.household_id,
                    Person.lease_ends_on: data.lease_ends_on,
                    Person.moved_in_on: data.moved_in_on,
                    Person.moved_out_on: None,
                    Person.relation: relation,
                    Person.category: category,
                    Person.updated_at: _now(),
                }
            ).where(Person.id == person_id)
            await record(
                "person.moved_in",
                actor=caller,
                target_type="person",
                target_id=person_id,
                community_id=community_id,
                details={"household_id": str(data.household_id), "relation": relation},
            )
        return await self.get(caller, person_id)

    async def _change(
        self, caller: Caller, person_id: UUID, data: PersonUpdate, effects: Effects
    ) -> tuple[PersonRead, dict[str, int] | None]:
        """Apply a change; with a first move-out date, end the residence (what ended, by hook)."""
        current = (
            await Person.select(
                Person.community,
                Person.household,
                Person.category,
                Person.relation,
                Person.moved_in_on,
                Person.moved_out_on,
                Person.lease_ends_on,
            )
            .where(Person.id == person_id)
            .first()
        )
        if current is None:
            raise NotFound()
        community_id = current["community"]
        require_staff(caller, "person.write", community_id)

        def pick(value: Any, column: str) -> Any:
            return current[column] if value is msgspec.UNSET else value

        _check_relation(pick(data.category, "category"), pick(data.relation, "relation"))
        _check_dates(pick(data.moved_in_on, "moved_in_on"), pick(data.moved_out_on, "moved_out_on"))
        _check_lease(
            pick(data.category, "category"),
            pick(data.relation, "relation"),
            pick(data.lease_ends_on, "lease_ends_on"),
            pick(data.moved_in_on, "moved_in_on"),
        )
        changes: dict[Any, Any] = {}
        for column, value in (
            (Person.category, data.category),
            (Person.relation, data.relation),
            (Person.name, data.name),
            (Person.household, data.household_id),
            (Person.moved_in_on, data.moved_in_on),
            (Person.moved_out_on, data.moved_out_on),
            (Person.lease_ends_on, data.lease_ends_on),
        ):
            if value is not msgspec.UNSET:
                changes[column] = value
        if isinstance(data.household_id, UUID):
            await _check_household(data.household_id, community_id)
        if data.phone is not msgspec.UNSET:
            phone = self._phone(data.phone)
            changes[Person.phone] = self.cipher.encrypt(phone, context=CONTEXTS["phone"])
            changes[Person.phone_index] = self.cipher.blind_index(phone, kind="phone")
        id_index = None
        if data.id_number is not msgspec.UNSET:
            id_number = self._id_number(data.id_number)
            id_index = self.cipher.blind_index(id_number, kind="id_number")
            changes[Person.id_number] = self.cipher.encrypt(
                id_number, context=CONTEXTS["id_number"]
            )
            changes[Person.id_number_index] = id_index
        if not changes:
            return await self.get(caller, person_id), None
        moving_out = isinstance(data.moved_out_on, date) and current["moved_out_on"] is None
        fields = sorted(c._meta.name for c in changes if not c._meta.name.endswith("_index"))
        ended: dict[str, int] | None = None
        async with DB.transaction():
            if id_index is not None:
                await self._claim_id_number(community_id, id_index, exclude=person_id)
            await Person.update({**changes, Person.updated_at: _now()}).where(
                Person.id == person_id
            )
            details: dict[str, Any] = {"fields": fields}  # names only, never the values
            if moving_out:
                ended, last = await self._end_residence(current, person_id, caller, effects)
                details |= {"ended": ended, "last_resident": last}
            await record(
                "person.moved_out" if moving_out else "person.updated",
                actor=caller,
                target_type="person",
                target_id=person_id,
                community_id=community_id,
                details=details,
            )
        return await self.get(caller, person_id), ended

    async def expire_leases(self, effects: Effects, *, today: date, limit: int = 200) -> list[UUID]:
        """Move out the tenants whose lease ended before `today` (on their lease's last day),
        as a manager's move-out does, by the platform (no caller; audited with the reason
        "lease ended"). Idempotent: a tenant moved out is not due again; rows are claimed with
        SKIP LOCKED, so two workers never move one tenant out twice. The ids moved out."""
        moved: list[UUID] = []
        async with DB.transaction():
            rows = await Person.raw(
                "SELECT id, community, household, lease_ends_on FROM persons"
                " WHERE lease_ends_on < {} AND moved_out_on IS NULL"
                " ORDER BY lease_ends_on, id LIMIT {} FOR UPDATE SKIP LOCKED",
                today,
                limit,
            )
            for row in rows:
                await Person.update(
                    {Person.moved_out_on: row["lease_ends_on"], Person.updated_at: _now()}
                ).where(Person.id == row["id"])
                ended, last = await self._end_residence(
                    row, row["id"], None, effects, reason=LEASE_ENDED
                )
                await record(
                    "person.moved_out",
                    actor_name="platform",
                    target_type="person",
                    target_id=row["id"],
                    community_id=row["community"],
                    purpose=LEASE_ENDED,
                    details={"fields": ["moved_out_on"], "ended": ended, "last_resident": last},
                )
                moved.append(row["id"])
        return moved

    async def _end_residence(
        self,
        current: dict[str, Any],
        person_id: UUID,
        caller: Caller | None,
        effects: Effects,
        *,
        reason: str = "moved out",
    ) -> tuple[dict[str, int], bool]:
        """Run the move-out hooks for the household the person leaves (inside the transaction);
        what each ended, and whether they were its last resident."""
        household_id = current["household"]
        moving = MovingOut(
            person_id=person_id,
            community_id=current["community"],
            household_id=household_id,
            last_resident=household_id is not None
            and not await still_living(household_id, besides=person_id),
            reason=reason,
        )
        return await end_residence(self.on_moved_out, moving, caller, effects), moving.last_resident

    async def reveal(self, caller: Caller, person_id: UUID, data: RevealRequest) -> PersonReveal:
        """The identifiers in full, for a caller holding person.reveal there; always audited."""
        fields = sorted(set(data.fields))
        where = _scope(caller, "person.reveal")
        row = None
        if where is not None:
            row = (
                await Person.select(Person.community, Person.phone, Person.id_number)
                .where(where & (Person.id == person_id))
                .first()
            )
        values = await reveal(
            caller,
            "person",
            person_id,
            row,
            fields,
            data.purpose,
            lambda f, stored: self.cipher.decrypt(stored, context=CONTEXTS[f]),
        )
        return PersonReveal(
            id=person_id, phone=values.get("phone"), id_number=values.get("id_number")
        )

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _phone(value: str) -> str:
        if not valid_phone(value):
            raise InvalidPhone(field="phone")
        return normalize_phone(value)

    @staticmethod
    def _id_number(value: str) -> str:
        if not valid_id_number(value):
            raise InvalidIdNumber(field="id_number")
        return normalize_id_number(value)

    @staticmethod
    async def _claim_id_number(community_id: UUID, id_index: str, *, exclude: UUID | None) -> None:
        """Refuse an ID number already registered in the community; call inside the transaction.

        There is no unique index on (community, id_number_index), so a transaction-scoped advisory
        lock on the pair serialises two registrations of the same person racing each other.
        """
        await Person.raw(
            "SELECT pg_advisory_xact_lock(hashtextextended({}, 0))",
            f"persons:{community_id}:{id_index}",
        )
        where = (Person.community == community_id) & (Person.id_number_index == id_index)
        if exclude is not None:
            where &= Person.id != exclude
        existing = await Person.select(Person.id).where(where).first()
        if existing is not None:
            raise DuplicatePerson(field="id_number", person_id=str(existing["id"]))

    def _read(self, row: dict[str, Any]) -> PersonRead:
        phone = self.cipher.decrypt(row["phone"], context=CONTEXTS["phone"])
        id_number = self.cipher.decrypt(row["id_number"], context=CONTEXTS["id_number"])
        label = (
            household_label(row["building_number"], row["unit_number"], row["room"])
            if row["household"]
            else None
        )
        return PersonRead(
            id=row["id"],
            community_id=row["community"],
            household_id=row["household"],
            household_label=label,
            category=row["category"],
            relation=row["relation"],
            name=row["name"],
            phone=mask_phone(phone),
            id_number=mask_id_number(id_number),
            moved_in_on=row["moved_in_on"],
            moved_out_on=row["moved_out_on"],
            lease_ends_on=row["lease_ends_on"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
