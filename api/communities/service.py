"""Places: jurisdictions, communities, buildings, units and households, coded per GB/T 31000.

Codes are derived, never typed: a building's code is its community's 15-digit code + the 3-digit
building number, a unit's the building code + 2 digits, a household's the unit code + the 4-digit
room ("0302"). Uniqueness is left to the database's unique indexes, so two concurrent creations of
the same place end in one row and one 409, not two rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from asyncpg.exceptions import UniqueViolationError
from piccolo.table import Table

from api.audit.service import record
from api.communities.schemas import (
    BuildingCreate,
    BuildingPage,
    BuildingRead,
    BuildingUpdate,
    CommunityCreate,
    CommunityPage,
    CommunityRead,
    CommunityUpdate,
    HouseholdCreate,
    HouseholdPage,
    HouseholdRead,
    HouseholdUpdate,
    JurisdictionCreate,
    JurisdictionPage,
    JurisdictionRead,
    UnitCreate,
    UnitPage,
    UnitRead,
)
from api.communities.tables import Building, Community, Household, Jurisdiction, Unit
from api.core.auth import Caller, Scope, require_staff
from api.core.errors import Conflict, InvalidInput, NotFound
from api.core.paging import equals, paged_page
from api.core.query import like
from api.piccolo_conf import DB

# First two digits of GB/T 2260 administrative division codes (provinces and equivalents).
_PROVINCE_RANGES = ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (71, 71), (81, 82))
PROVINCES = frozenset(str(n) for low, high in _PROVINCE_RANGES for n in range(low, high + 1))


class InvalidCommunityCode(InvalidInput):
    """Fifteen digits, but not a plausible residents' committee code + sequence."""

    code = "invalid_community_code"
    message = "The community code is not a plausible GB/T 31000 code."


class InvalidRoom(InvalidInput):
    """The room's floor is not a floor of the building."""

    code = "invalid_room"
    message = "The room's floor (its first two digits) is not a floor of this building."


class FloorsInUse(InvalidInput):
    """A building cannot lose the floors its households are on."""

    code = "floors_in_use"
    message = "Households are registered on floors above this number."


class DuplicateCode(Conflict):
    """A place with the same code already exists."""

    code = "duplicate_code"
    message = "A place with this code already exists."


class PlaceInUse(Conflict):
    """A place with people or places still in it is not retired."""

    code = "place_in_use"
    message = "Residents live here, or it still holds places in use: retire those first."


class ParentRetired(Conflict):
    """Nothing is added to, or restored in, a retired community, building or unit."""

    code = "parent_retired"
    message = "The community, building or unit is retired: restore it first."


# Whether a household is lived in (people's and accounts' answer), or a community still has a
# bridge (devices'): wired in api/app.py, as places sit below those domains.
InUse = Callable[[UUID], Awaitable[bool]]


def check_community_code(code: str) -> None:
    """Raise InvalidCommunityCode unless every level of the code is filled in.

    Layout: province (2) · prefecture (2) · county (2) · township (3) · residents' committee (3) ·
    sequence (3). A community lies in a county, so none of county, township, committee or sequence
    may be all zeros.
    """
    province, county = code[:2], code[4:6]
    township, committee, sequence = code[6:9], code[9:12], code[12:15]
    if province not in PROVINCES:
        raise InvalidCommunityCode("The first two digits are not a province code.", field="code")
    if county == "00" or "000" in (township, committee, sequence):
        raise InvalidCommunityCode(field="code")


def household_label(building: str, unit: str, room: str) -> str:
    """'3栋2单元0302'."""
    return f"{building}栋{unit}单元{room}"


def _jurisdiction(row: dict[str, Any]) -> JurisdictionRead:
    return JurisdictionRead(
        id=row["id"], name=row["name"], code=row["code"], created_at=row["created_at"]
    )


def _community(row: dict[str, Any]) -> CommunityRead:
    return CommunityRead(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        address=row["address"],
        jurisdiction_id=row["jurisdiction"],
        created_at=row["created_at"],
        retired_at=row["retired_at"],
    )


def _building(row: dict[str, Any]) -> BuildingRead:
    return BuildingRead(
        id=row["id"],
        community_id=row["community"],
        number=row["number"],
        name=row["name"],
        code=row["code"],
        floors=row["floors"],
        created_at=row["created_at"],
        retired_at=row["retired_at"],
    )


def _unit(row: dict[str, Any]) -> UnitRead:
    return UnitRead(
        id=row["id"],
        community_id=row["community"],
        building_id=row["building"],
        number=row["number"],
        code=row["code"],
        created_at=row["created_at"],
        retired_at=row["retired_at"],
    )


def _household(row: dict[str, Any]) -> HouseholdRead:
    return HouseholdRead(
        id=row["id"],
        community_id=row["community"],
        building_id=row["building"],
        unit_id=row["unit"],
        room=row["room"],
        code=row["code"],
        housing=row["housing"],
        label=household_label(row["building_number"], row["unit_number"], row["room"]),
        created_at=row["created_at"],
        retired_at=row["retired_at"],
    )


_HOUSEHOLD_COLUMNS = (
    *Household.all_columns(),
    Household.building._.number.as_alias("building_number"),
    Household.unit._.number.as_alias("unit_number"),
)


class PlaceService:
    """Jurisdictions, communities and the places inside them, filtered by the caller's scope.

    Buildings, units and households are retired, never deleted (their codes stay in records and
    audit): a retired place is kept with `retired_at`, hidden from lists unless asked for, and
    takes no new units or households until restored. A household is retired only when nobody
    lives there (`household_in_use`), a unit when its households are, a building its units, a
    community its buildings and bridges (`community_in_use`).
    """

    def __init__(
        self, household_in_use: InUse | None = None, community_in_use: InUse | None = None
    ) -> None:
        self._household_in_use = household_in_use
        self._community_in_use = community_in_use

    # -- jurisdictions -------------------------------------------------------------------------

    async def list_jurisdictions(
        self, caller: Caller, *, page: int, page_size: int
    ) -> JurisdictionPage:
        """All jurisdictions for a global administrator; for police, their own."""
        where: Any = Jurisdiction.id.is_not_null()
        if not Scope.of(caller, "community.read").everywhere:
            own = [a.jurisdiction_id for a in caller.assignments if a.jurisdiction_id]
            where = Jurisdiction.id.is_in(own) if own else None
        return await paged_page(
            JurisdictionPage,
            _jurisdiction,
            Jurisdiction.select().order_by(Jurisdiction.code),
            where,
            page=page,
            page_size=page_size,
        )

    async def create_jurisdiction(
        self, caller: Caller, data: JurisdictionCreate
    ) -> JurisdictionRead:
        """A new police jurisdiction (system administrator)."""
        Scope.of(caller, "community.write")
        jurisdiction = Jurisdiction(name=data.name, code=data.code)
        try:
            async with DB.transaction():
                await jurisdiction.save()
                await record(
                    "jurisdiction.created",
                    actor=caller,
                    target_type="jurisdiction",
                    target_id=jurisdiction.id,
                    details={"code": data.code},
                )
        except UniqueViolationError as err:
            raise DuplicateCode("A jurisdiction with this code exists.", field="code") from err
        row = await Jurisdiction.select().where(Jurisdiction.id == jurisdiction.id).first()
        assert row is not None
        return _jurisdiction(row)

    # -- communities ---------------------------------------------------------------------------

    async def list_communities(
        self,
        caller: Caller,
        *,
        page: int,
        page_size: int,
        q: str | None = None,
        include_retired: bool = False,
    ) -> CommunityPage:
        """Communities in scope, filtered by a name fragment or a code prefix (retired ones only
        when asked)."""
        return await paged_page(
            CommunityPage,
            _community,
            Community.select().order_by(Community.code),
            Scope.of(caller, "community.read").where_member(Community.id),
            Community.name.ilike(like(q)) | Community.code.like(like(q, prefix=True))
            if q
            else None,
            None if include_retired else Community.retired_at.is_null(),
            page=page,
            page_size=page_size,
        )

    async def get_community(self, caller: Caller, community_id: UUID) -> CommunityRead:
        """One community in scope."""
        Scope.of(caller, "community.read").check_member(community_id)
        row = await Community.select().where(Community.id == community_id).first()
        if row is None:
            raise NotFound()
        return _community(row)

    async def create_community(self, caller: Caller, data: CommunityCreate) -> CommunityRead:
        """A new community (system administrator); the code is checked for plausibility."""
        Scope.of(caller, "community.write")
        check_community_code(data.code)
        await self._check_jurisdiction(data.jurisdiction_id)
        community = Community(
            code=data.code, name=data.name, address=data.address, jurisdiction=data.jurisdiction_id
        )
        try:
            async with DB.transaction():
                await community.save()
                await record(
                    "community.created",
                    actor=caller,
                    target_type="community",
                    target_id=community.id,
                    community_id=community.id,
                    details={"code": data.code},
                )
        except UniqueViolationError as err:
            raise DuplicateCode("A community with this code exists.", field="code") from err
        return await self.get_community(caller, community.id)

    async def update_community(
        self, caller: Caller, community_id: UUID, data: CommunityUpdate
    ) -> CommunityRead:
        """Rename, re-address, or move a community to another jurisdiction."""
        require_staff(caller, "community.write", community_id)
        await self.get_community(caller, community_id)
        changes: dict[Any, Any] = {}
        if data.name is not msgspec.UNSET:
            changes[Community.name] = data.name
        if data.address is not msgspec.UNSET:
            changes[Community.address] = data.address
        if data.jurisdiction_id is not msgspec.UNSET:
            await self._check_jurisdiction(data.jurisdiction_id)
            changes[Community.jurisdiction] = data.jurisdiction_id
        if changes:
            details: dict[str, Any] = {"fields": sorted(c._meta.name for c in changes)}
            if data.jurisdiction_id is not msgspec.UNSET:
                # Moving a community changes which police see it: keep the new value on record.
                new = data.jurisdiction_id
                details["jurisdiction_id"] = str(new) if new else None
            async with DB.transaction():
                await Community.update(changes).where(Community.id == community_id)
                await record(
                    "community.updated",
                    actor=caller,
                    target_type="community",
                    target_id=community_id,
                    community_id=community_id,
                    details=details,
                )
        return await self.get_community(caller, community_id)

    @staticmethod
    async def _check_jurisdiction(jurisdiction_id: UUID | None) -> None:
        if jurisdiction_id is None:
            return
        if not await Jurisdiction.exists().where(Jurisdiction.id == jurisdiction_id):
            raise InvalidInput("No such jurisdiction.", field="jurisdiction_id")

    # -- buildings -----------------------------------------------------------------------------

    async def list_buildings(
        self,
        caller: Caller,
        community_id: UUID,
        *,
        page: int,
        page_size: int,
        include_retired: bool = False,
    ) -> BuildingPage:
        """The buildings of a community in scope, by number (retired ones only when asked)."""
        await self.get_community(caller, community_id)
        # Numbers are text ("3", "12"): order by the zero-padded code so 3 comes before 12.
        return await paged_page(
            BuildingPage,
            _building,
            Building.select().order_by(Building.code),
            Building.community == community_id,
            None if include_retired else Building.retired_at.is_null(),
            page=page,
            page_size=page_size,
        )

    async def get_building(self, caller: Caller, building_id: UUID) -> BuildingRead:
        """One building in scope."""
        row = await Building.select().where(Building.id == building_id).first()
        if row is None:
            raise NotFound()
        Scope.of(caller, "community.read").check_member(row["community"])
        return _building(row)

    async def create_building(
        self, caller: Caller, community_id: UUID, data: BuildingCreate
    ) -> BuildingRead:
        """A new building; code = community code + 3-digit number."""
        require_staff(caller, "building.write", community_id)
        community = (
            await Community.select(Community.code).where(Community.id == community_id).first()
        )
        if community is None:
            raise NotFound()
        building = Building(
            community=community_id,
            number=data.number,
            name=data.name or f"{data.number}栋",
            code=community["code"] + data.number.zfill(3),
            floors=data.floors,
        )
        try:
            async with DB.transaction():
                await _open_for_new(Community, community_id)
                await building.save()
                await record(
                    "building.created",
                    actor=caller,
                    target_type="building",
                    target_id=building.id,
                    community_id=community_id,
                    details={"code": building.code},
                )
        except UniqueViolationError as err:
            raise DuplicateCode(
                "The community already has a building with this number.", field="number"
            ) from err
        return await self.get_building(caller, building.id)

    async def update_building(
        self, caller: Caller, building_id: UUID, data: BuildingUpdate
    ) -> BuildingRead:
        """Rename a building or change its floors (never below a floor with a household)."""
        building = await self.get_building(caller, building_id)
        require_staff(caller, "building.write", building.community_id)
        changes: dict[Any, Any] = {}
        if data.name is not msgspec.UNSET:
            changes[Building.name] = data.name
        if data.floors is not msgspec.UNSET:
            rooms = await Household.select(Household.room).where(Household.building == building_id)
            if any(int(row["room"][:2]) > data.floors for row in rooms):
                raise FloorsInUse(field="floors")
            changes[Building.floors] = data.floors
        if changes:
            async with DB.transaction():
                await Building.update(changes).where(Building.id == building_id)
                await record(
                    "building.updated",
                    actor=caller,
                    target_type="building",
                    target_id=building_id,
                    community_id=building.community_id,
                    details={"fields": sorted(c._meta.name for c in changes)},
                )
        return await self.get_building(caller, building_id)

    # -- units ---------------------------------------------------------------------------------

    async def list_units(
        self,
        caller: Caller,
        building_id: UUID,
        *,
        page: int,
        page_size: int,
        include_retired: bool = False,
    ) -> UnitPage:
        """The units of a building in scope, by number (retired ones only when asked)."""
        await self.get_building(caller, building_id)
        return await paged_page(
            UnitPage,
            _unit,
            Unit.select().order_by(Unit.code),
            Unit.building == building_id,
            None if include_retired else Unit.retired_at.is_null(),
            page=page,
            page_size=page_size,
        )

    async def get_unit(self, caller: Caller, unit_id: UUID) -> UnitRead:
        """One unit in scope."""
        row = await Unit.select().where(Unit.id == unit_id).first()
        if row is None:
            raise NotFound()
        Scope.of(caller, "community.read").check_member(row["community"])
        return _unit(row)

    async def create_unit(self, caller: Caller, building_id: UUID, data: UnitCreate) -> UnitRead:
        """A new unit; code = building code + 2-digit number."""
        building = (
            await Building.select(Building.community, Building.code)
            .where(Building.id == building_id)
            .first()
        )
        if building is None:
            raise NotFound()
        require_staff(caller, "building.write", building["community"])
        unit = Unit(
            community=building["community"],
            building=building_id,
            number=data.number,
            code=building["code"] + data.number.zfill(2),
        )
        try:
            async with DB.transaction():
                await _open_for_new(Building, building_id)
                await unit.save()
                await record(
                    "unit.created",
                    actor=caller,
                    target_type="unit",
                    target_id=unit.id,
                    community_id=building["community"],
                    details={"code": unit.code},
                )
        except UniqueViolationError as err:
            raise DuplicateCode(
                "The building already has a unit with this number.", field="number"
            ) from err
        return await self.get_unit(caller, unit.id)

    # -- households ----------------------------------------------------------------------------

    async def list_households(
        self,
        caller: Caller,
        *,
        page: int,
        page_size: int,
        community_id: UUID | None = None,
        building_id: UUID | None = None,
        unit_id: UUID | None = None,
        q: str | None = None,
        include_retired: bool = False,
    ) -> HouseholdPage:
        """Households in scope (a resident: their own), filtered by place and room or code;
        retired ones only when asked."""
        return await paged_page(
            HouseholdPage,
            _household,
            Household.select(*_HOUSEHOLD_COLUMNS).order_by(Household.code),
            self._household_scope(caller),
            equals(Household.community, community_id),
            equals(Household.building, building_id),
            equals(Household.unit, unit_id),
            Household.room.like(like(q)) | Household.code.like(like(q, prefix=True)) if q else None,
            None if include_retired else Household.retired_at.is_null(),
            page=page,
            page_size=page_size,
        )

    async def list_unit_households(
        self,
        caller: Caller,
        unit_id: UUID,
        *,
        page: int,
        page_size: int,
        include_retired: bool = False,
    ) -> HouseholdPage:
        """The households of a unit in scope."""
        await self.get_unit(caller, unit_id)
        return await self.list_households(
            caller,
            page=page,
            page_size=page_size,
            unit_id=unit_id,
            include_retired=include_retired,
        )

    async def get_household(self, caller: Caller, household_id: UUID) -> HouseholdRead:
        """One household in scope."""
        where = self._household_scope(caller)
        if where is None:
            raise NotFound()
        row = (
            await Household.select(*_HOUSEHOLD_COLUMNS)
            .where(where & (Household.id == household_id))
            .first()
        )
        if row is None:
            raise NotFound()
        return _household(row)

    async def create_household(
        self, caller: Caller, unit_id: UUID, data: HouseholdCreate
    ) -> HouseholdRead:
        """A new household; code = unit code + 4-digit room, whose floor must be in the building."""
        unit = (
            await Unit.select(
                Unit.community, Unit.building, Unit.code, Unit.building._.floors.as_alias("floors")
            )
            .where(Unit.id == unit_id)
            .first()
        )
        if unit is None:
            raise NotFound()
        require_staff(caller, "household.write", unit["community"])
        if not 1 <= int(data.room[:2]) <= unit["floors"] or data.room[2:] == "00":
            raise InvalidRoom(field="room", floors=unit["floors"])
        household = Household(
            community=unit["community"],
            building=unit["building"],
            unit=unit_id,
            room=data.room,
            code=unit["code"] + data.room,
            housing=data.housing,
        )
        try:
            async with DB.transaction():
                await _open_for_new(Unit, unit_id)
                await household.save()
                await record(
                    "household.created",
                    actor=caller,
                    target_type="household",
                    target_id=household.id,
                    community_id=unit["community"],
                    details={"code": household.code, "housing": data.housing},
                )
        except UniqueViolationError as err:
            raise DuplicateCode("The unit already has this room.", field="room") from err
        return await self.get_household(caller, household.id)

    async def update_household(
        self, caller: Caller, household_id: UUID, data: HouseholdUpdate
    ) -> HouseholdRead:
        """Record whether a dwelling is owned, rented or vacant (standard 7.3.5)."""
        household = await self.get_household(caller, household_id)
        require_staff(caller, "household.write", household.community_id)
        if data.housing != household.housing:
            async with DB.transaction():
                await Household.update({Household.housing: data.housing}).where(
                    Household.id == household_id
                )
                await record(
                    "household.updated",
                    actor=caller,
                    target_type="household",
                    target_id=household_id,
                    community_id=household.community_id,
                    details={"housing": data.housing},
                )
        return await self.get_household(caller, household_id)

    # -- retiring and restoring -------------------------------------------------------------------

    async def retire_community(
        self, caller: Caller, community_id: UUID, *, retire: bool = True
    ) -> CommunityRead:
        """Retire a community whose buildings are retired and bridges revoked (or restore it)."""
        await self._set_retired(caller, Community, community_id, retire=retire)
        return await self.get_community(caller, community_id)

    async def retire_building(
        self, caller: Caller, building_id: UUID, *, retire: bool = True
    ) -> BuildingRead:
        """Retire a building whose units and households are all retired (or restore it)."""
        await self._set_retired(caller, Building, building_id, retire=retire)
        return await self.get_building(caller, building_id)

    async def retire_unit(self, caller: Caller, unit_id: UUID, *, retire: bool = True) -> UnitRead:
        """Retire a unit whose households are all retired (or restore it, in a live building)."""
        await self._set_retired(caller, Unit, unit_id, retire=retire)
        return await self.get_unit(caller, unit_id)

    async def retire_household(
        self, caller: Caller, household_id: UUID, *, retire: bool = True
    ) -> HouseholdRead:
        """Retire a household nobody lives in (or restore it, in a live unit)."""
        await self._set_retired(caller, Household, household_id, retire=retire)
        return await self.get_household(caller, household_id)

    async def _set_retired(
        self,
        caller: Caller,
        table: type[Community] | type[Building] | type[Unit] | type[Household],
        place_id: UUID,
        *,
        retire: bool,
    ) -> None:
        """Set or clear `retired_at` under a row lock, audited; nothing when already so."""
        kind = _KINDS[table]
        async with DB.transaction():
            row = await table.select().where(table.id == place_id).lock_rows("UPDATE").first()
            if row is None:
                raise NotFound()
            community_id = row["id"] if table is Community else row["community"]
            permission = {Community: "community.write", Household: "household.write"}
            require_staff(caller, permission.get(table, "building.write"), community_id)
            if (row["retired_at"] is not None) == retire:
                return
            if retire:
                await self._check_empty(table, place_id)
            elif table is Building:
                await _open_for_new(Community, row["community"])
            elif table is Unit:
                await _open_for_new(Building, row["building"])
            elif table is Household:
                await _open_for_new(Unit, row["unit"])
            await table.update({table.retired_at: datetime.now(UTC) if retire else None}).where(
                table.id == place_id
            )
            await record(
                f"{kind}.{'retired' if retire else 'restored'}",
                actor=caller,
                target_type=kind,
                target_id=place_id,
                community_id=community_id,
                details={"code": row["code"]},
            )

    async def _check_empty(
        self,
        table: type[Community] | type[Building] | type[Unit] | type[Household],
        place_id: UUID,
    ) -> None:
        """PlaceInUse while anyone lives in the household, the unit or building still holds a
        place that is not retired, or the community a building or a bridge."""
        if table is Community:
            live = Building.exists().where(
                (Building.community == place_id) & Building.retired_at.is_null()
            )
            if await live or (self._community_in_use and await self._community_in_use(place_id)):
                raise PlaceInUse()
            return
        if table is Household:
            if self._household_in_use and await self._household_in_use(place_id):
                raise PlaceInUse()
            return
        column = Household.unit if table is Unit else Household.building
        live = Household.exists().where((column == place_id) & Household.retired_at.is_null())
        if await live:
            raise PlaceInUse()
        if table is Building and await Unit.exists().where(
            (Unit.building == place_id) & Unit.retired_at.is_null()
        ):
            raise PlaceInUse()

    @staticmethod
    def _household_scope(caller: Caller) -> Any | None:
        """Households the caller may read; None when none."""
        return Scope.of(caller, "household.read").where(Household.community, Household.id)


_KINDS: dict[type[Table], str] = {
    Community: "community",
    Building: "building",
    Unit: "unit",
    Household: "household",
}


async def _open_for_new(
    table: type[Community] | type[Building] | type[Unit], place_id: UUID
) -> None:
    """Lock the community, building or unit for the rest of the transaction; ParentRetired when
    retired."""
    row = (
        await table.select(table.retired_at).where(table.id == place_id).lock_rows("UPDATE").first()
    )
    if row and row["retired_at"] is not None:
        raise ParentRetired()
