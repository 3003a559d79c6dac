"""The resident registry: register, find, change, move out, and reveal under a stated purpose.

Phone and ID numbers are stored encrypted (the column name is the cipher context) beside a blind
index; look-ups by phone or ID number go through the index and never decrypt rows to compare them.
Decryption happens only to mask the rows of the page being answered, or for an audited reveal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from api.people.schemas import (
    Category,
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


async def _check_household(household_id: UUID, community_id: UUID) -> None:
    if not await Household.exists().where(
        (Household.id == household_id) & (Household.community == community_id)
    ):
        raise InvalidInput("No such household in this community.", field="household_id")


MovedOut = Callable[[UUID, Caller, Effects], Awaitable[object]]
"""What else a move-out does, inside its transaction (api/app.py wires access's revocation)."""


class PersonService:
    """Persons, filtered by the caller's scope; identifiers masked unless revealed."""

    def __init__(self, cipher: FieldCipher, *, on_moved_out: MovedOut | None = None) -> None:
        self.cipher = cipher
        self.on_moved_out = on_moved_out

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
    ) -> PersonPage:
        """A page of persons in scope; phone and ID number match exactly through the blind index."""
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
        self, caller: Caller, person_id: UUID, data: PersonUpdate, effects: Effects | None = None
    ) -> PersonRead:
        """Change a registration; a move-out date ends residence but keeps the record (REG-06)
        and, through `on_moved_out`, ends the person's credentials at every reader."""
        current = (
            await Person.select(
                Person.community,
                Person.category,
                Person.relation,
                Person.moved_in_on,
                Person.moved_out_on,
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
        changes: dict[Any, Any] = {}
        for column, value in (
            (Person.category, data.category),
            (Person.relation, data.relation),
            (Person.name, data.name),
            (Person.household, data.household_id),
            (Person.moved_in_on, data.moved_in_on),
            (Person.moved_out_on, data.moved_out_on),
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
            return await self.get(caller, person_id)
        moving_out = isinstance(data.moved_out_on, date) and current["moved_out_on"] is None
        fields = sorted(c._meta.name for c in changes if not c._meta.name.endswith("_index"))
        async with DB.transaction():
            if id_index is not None:
                await self._claim_id_number(community_id, id_index, exclude=person_id)
            await Person.update({**changes, Person.updated_at: _now()}).where(
                Person.id == person_id
            )
            # Field names only: the audit log never holds the personal values themselves.
            await record(
                "person.moved_out" if moving_out else "person.updated",
                actor=caller,
                target_type="person",
                target_id=person_id,
                community_id=community_id,
                details={"fields": fields},
            )
            if moving_out and self.on_moved_out is not None and effects is not None:
                await self.on_moved_out(person_id, caller, effects)
        return await self.get(caller, person_id)

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
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
