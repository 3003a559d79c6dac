"""Wire shapes of the resident registry. Identifiers go out masked, except through a reveal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.paging import Page

Category = Literal["permanent", "floating", "tenant"]  # 常住 / 流动 / 租户 (standard 7.3.5)
Relation = Literal["owner", "member", "tenant"]
RevealField = Literal["phone", "id_number"]
PersonName = Annotated[str, Meta(min_length=1, max_length=50)]
# Length bounds only: the service checks the values, and category against relation (on PATCH that
# depends on the stored row), answering 400 invalid_phone, invalid_id_number or invalid_relation.
Phone = Annotated[str, Meta(min_length=1, max_length=32, examples=["13812345678"])]
IdNumber = Annotated[str, Meta(min_length=1, max_length=32)]


class PersonCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A person to register in a community, optionally in one of its households."""

    community_id: UUID
    household_id: UUID | None = None
    category: Category
    relation: Relation = "member"
    name: PersonName
    id_number: IdNumber
    phone: Phone
    moved_in_on: date | None = None
    lease_ends_on: date | None = None  # a tenant's: the platform moves them out after it


class PersonUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to a registration. Setting moved_out_on moves the person out (the record stays)."""

    household_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    category: Category | msgspec.UnsetType = msgspec.UNSET
    relation: Relation | msgspec.UnsetType = msgspec.UNSET
    name: PersonName | msgspec.UnsetType = msgspec.UNSET
    id_number: IdNumber | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType = msgspec.UNSET
    moved_in_on: date | msgspec.UnsetType | None = msgspec.UNSET
    moved_out_on: date | msgspec.UnsetType | None = msgspec.UNSET
    lease_ends_on: date | msgspec.UnsetType | None = msgspec.UNSET


class PersonRead(msgspec.Struct, kw_only=True):
    """A registered person; phone and ID number masked (138****5678, 5101**********1234)."""

    id: UUID
    community_id: UUID
    household_id: UUID | None
    household_label: str | None
    category: Category
    relation: Relation
    name: str
    phone: str
    id_number: str
    moved_in_on: date | None
    moved_out_on: date | None
    lease_ends_on: date | None
    created_at: datetime
    updated_at: datetime


class PersonPage(Page, kw_only=True):
    """A page of persons."""

    items: list[PersonRead]


class MoveOut(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The day a person moved out; what their residence gave them ends now."""

    moved_out_on: date


class MoveOutRead(msgspec.Struct, kw_only=True):
    """The person moved out, and how many of each thing the move-out ended (credentials,
    vehicles, household_roles)."""

    person: PersonRead
    ended: dict[str, int]


class MoveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A person (without a household, or moved out) moves into a household of their community."""

    household_id: UUID
    moved_in_on: date
    relation: Relation | None = None
    category: Category | None = None
    lease_ends_on: date | None = None


class RevealRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which identifiers to show in full, and why; the purpose goes to the audit log."""

    fields: Annotated[list[RevealField], Meta(min_length=1, max_length=2)]
    purpose: Annotated[str, Meta(min_length=4, max_length=200)]

    def __post_init__(self) -> None:
        """A purpose of blanks is no purpose."""
        self.purpose = self.purpose.strip()
        if len(self.purpose) < 4:
            raise ValueError("purpose must state at least 4 characters")


class PersonReveal(msgspec.Struct, kw_only=True):
    """The identifiers asked for, in full; the ones not asked for are null."""

    id: UUID
    phone: str | None = None
    id_number: str | None = None
