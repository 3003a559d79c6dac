"""The resident registry: persons, masked; full identifiers only through an audited reveal."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK

from api.core.auth import Caller
from api.core.effects import Effects
from api.core.paging import PageNumber, PageSize
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
from api.people.service import PersonService


def provide_people(state: State) -> PersonService:
    """The person registry service, with the personal-data cipher."""
    return PersonService(state.cipher, on_moved_out=state.get("on_moved_out"))


class PersonController(Controller):
    """Register, find, change and move out persons; reveal identifiers under a stated purpose."""

    path = "/api/v1/persons"
    tags = ("persons",)
    dependencies = {"people": Provide(provide_people, sync_to_thread=False)}

    @get("/")
    async def list_persons(
        self,
        caller: Caller,
        people: PersonService,
        page: PageNumber = 1,
        page_size: PageSize = 50,
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
        """Persons in scope (residents: their household); phone and ID number match exactly;
        by building, unit, relation, and moved out (true) or living there (false)."""
        return await people.search(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            household_id=household_id,
            category=category,
            phone=phone,
            id_number=id_number,
            q=q,
            building_id=building_id,
            unit_id=unit_id,
            relation=relation,
            moved_out=moved_out,
        )

    @post("/")
    async def create_person(
        self, caller: Caller, people: PersonService, data: PersonCreate
    ) -> PersonRead:
        """Register a person in a community (property manager)."""
        return await people.create(caller, data)

    @get("/{person_id:uuid}")
    async def get_person(
        self, caller: Caller, people: PersonService, person_id: UUID
    ) -> PersonRead:
        """One person, phone and ID number masked."""
        return await people.get(caller, person_id)

    @patch("/{person_id:uuid}")
    async def update_person(
        self,
        caller: Caller,
        people: PersonService,
        effects: Effects,
        person_id: UUID,
        data: PersonUpdate,
    ) -> PersonRead:
        """Change a registration, or move the person out (moved_out_on: their credentials end)."""
        return await people.update(caller, person_id, data, effects)

    @post("/{person_id:uuid}/move-out", status_code=HTTP_200_OK)
    async def move_out(
        self,
        caller: Caller,
        people: PersonService,
        effects: Effects,
        person_id: UUID,
        data: MoveOut,
    ) -> MoveOutRead:
        """Move a person out in one step: credentials, plates and household roles end with it."""
        return await people.move_out(caller, person_id, data, effects)

    @post("/{person_id:uuid}/move-in", status_code=HTTP_200_OK)
    async def move_in(
        self, caller: Caller, people: PersonService, person_id: UUID, data: MoveIn
    ) -> PersonRead:
        """Move a person (without a household, or moved out) into a household."""
        return await people.move_in(caller, person_id, data)

    @post("/{person_id:uuid}/reveal", status_code=HTTP_200_OK)
    async def reveal_person(
        self, caller: Caller, people: PersonService, person_id: UUID, data: RevealRequest
    ) -> PersonReveal:
        """Phone and/or ID number in full, for a stated purpose; every reveal is audited."""
        return await people.reveal(caller, person_id, data)
