"""Wire shapes of jurisdictions, communities, buildings, units and households."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.paging import Page

Name = Annotated[str, Meta(min_length=1, max_length=100)]
Address = Annotated[str, Meta(min_length=1, max_length=200)]
JurisdictionCode = Annotated[
    str, Meta(pattern=r"^\d{12}$", description="Police organisation code of the station.")
]
CommunityCode = Annotated[
    str,
    Meta(
        pattern=r"^\d{15}$",
        description="GB/T 31000-style: 12-digit statistical division code of the residents' "
        "committee + 3-digit sequence.",
        examples=["510104001001001"],
    ),
]
BuildingNumber = Annotated[
    str, Meta(pattern=r"^[1-9]\d{0,2}$", description="Building number as posted, 1-999.")
]
UnitNumber = Annotated[str, Meta(pattern=r"^[1-9]\d?$", description="Unit number, 1-99.")]
Room = Annotated[
    str,
    Meta(pattern=r"^\d{4}$", description="Floor (2 digits) + room (2 digits): '0302'."),
]
Housing = Literal["owned", "rented", "vacant"]


class JurisdictionCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A police station's area."""

    name: Name
    code: JurisdictionCode


class JurisdictionRead(msgspec.Struct, kw_only=True):
    """A police station's area."""

    id: UUID
    name: str
    code: str
    created_at: datetime


class JurisdictionPage(Page, kw_only=True):
    """A page of jurisdictions."""

    items: list[JurisdictionRead]


class CommunityCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new residential community; its code never changes (the building codes derive from it)."""

    code: CommunityCode
    name: Name
    address: Address
    jurisdiction_id: UUID | None = None


class CommunityUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields a system administrator may change; the code is not one of them."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    address: Address | msgspec.UnsetType = msgspec.UNSET
    jurisdiction_id: UUID | msgspec.UnsetType | None = msgspec.UNSET


class CommunityRead(msgspec.Struct, kw_only=True):
    """A residential community (小区)."""

    id: UUID
    code: str
    name: str
    address: str
    jurisdiction_id: UUID | None
    created_at: datetime
    retired_at: datetime | None = None


class CommunityPage(Page, kw_only=True):
    """A page of communities."""

    items: list[CommunityRead]


class BuildingCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A building; its code is the community code + the 3-digit building number."""

    number: BuildingNumber
    floors: Annotated[int, Meta(ge=1, le=200)]
    name: Annotated[str, Meta(min_length=1, max_length=50)] | None = None


class BuildingUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields a manager may change; the number (and so the code) is not one of them."""

    name: Annotated[str, Meta(min_length=1, max_length=50)] | msgspec.UnsetType = msgspec.UNSET
    floors: Annotated[int, Meta(ge=1, le=200)] | msgspec.UnsetType = msgspec.UNSET


class BuildingRead(msgspec.Struct, kw_only=True):
    """A residential building (楼栋)."""

    id: UUID
    community_id: UUID
    number: str
    name: str
    code: str
    floors: int
    created_at: datetime
    retired_at: datetime | None = None


class BuildingPage(Page, kw_only=True):
    """A page of buildings."""

    items: list[BuildingRead]


class UnitCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A unit; its code is the building code + the 2-digit unit number."""

    number: UnitNumber


class UnitRead(msgspec.Struct, kw_only=True):
    """A unit (单元) of a building."""

    id: UUID
    community_id: UUID
    building_id: UUID
    number: str
    code: str
    created_at: datetime
    retired_at: datetime | None = None


class UnitPage(Page, kw_only=True):
    """A page of units."""

    items: list[UnitRead]


class HouseholdCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A dwelling; its code is the unit code + the 4-digit room."""

    room: Room
    housing: Housing = "owned"


class HouseholdUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What changes about a dwelling; its room (and so its code) does not."""

    housing: Housing


class HouseholdRead(msgspec.Struct, kw_only=True):
    """A dwelling (户/房屋)."""

    id: UUID
    community_id: UUID
    building_id: UUID
    unit_id: UUID
    room: str
    code: str
    housing: Housing
    label: str  # "3栋2单元0302"
    created_at: datetime
    retired_at: datetime | None = None


class HouseholdPage(Page, kw_only=True):
    """A page of households."""

    items: list[HouseholdRead]
