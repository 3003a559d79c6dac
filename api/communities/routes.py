"""Jurisdictions, communities, buildings, units and households."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.datastructures import State
from litestar.di import Provide

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
from api.communities.service import PlaceService
from api.core.auth import Caller
from api.core.paging import PageNumber, PageSize


def provide_places(state: State) -> PlaceService:
    """The places service, told who lives in a household (api/app.py wires it)."""
    return PlaceService(
        household_in_use=state.get("household_in_use"),
        community_in_use=state.get("community_in_use"),
    )


_DEPENDENCIES = {"places": Provide(provide_places, sync_to_thread=False)}


class JurisdictionController(Controller):
    """Police jurisdictions: the communities a station's officers may see."""

    path = "/api/v1/jurisdictions"
    tags = ("places",)
    dependencies = _DEPENDENCIES

    @get("/")
    async def list_jurisdictions(
        self, caller: Caller, places: PlaceService, page: PageNumber = 1, page_size: PageSize = 50
    ) -> JurisdictionPage:
        """Every jurisdiction for the system administrator; police see their own."""
        return await places.list_jurisdictions(caller, page=page, page_size=page_size)

    @post("/")
    async def create_jurisdiction(
        self, caller: Caller, places: PlaceService, data: JurisdictionCreate
    ) -> JurisdictionRead:
        """Create a jurisdiction (system administrator)."""
        return await places.create_jurisdiction(caller, data)


class CommunityController(Controller):
    """Communities and their buildings."""

    path = "/api/v1/communities"
    tags = ("places",)
    dependencies = _DEPENDENCIES

    @get("/")
    async def list_communities(
        self,
        caller: Caller,
        places: PlaceService,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        q: str | None = None,
        include_retired: bool = False,
    ) -> CommunityPage:
        """Communities in the caller's scope, filtered by a name fragment or a code prefix."""
        return await places.list_communities(
            caller, page=page, page_size=page_size, q=q, include_retired=include_retired
        )

    @post("/")
    async def create_community(
        self, caller: Caller, places: PlaceService, data: CommunityCreate
    ) -> CommunityRead:
        """Create a community (system administrator)."""
        return await places.create_community(caller, data)

    @get("/{community_id:uuid}")
    async def get_community(
        self, caller: Caller, places: PlaceService, community_id: UUID
    ) -> CommunityRead:
        """One community."""
        return await places.get_community(caller, community_id)

    @patch("/{community_id:uuid}")
    async def update_community(
        self, caller: Caller, places: PlaceService, community_id: UUID, data: CommunityUpdate
    ) -> CommunityRead:
        """Rename a community, change its address or its jurisdiction."""
        return await places.update_community(caller, community_id, data)

    @post("/{community_id:uuid}/retire", status_code=200)
    async def retire_community(
        self, caller: Caller, places: PlaceService, community_id: UUID
    ) -> CommunityRead:
        """Retire a community whose buildings are retired and bridges revoked (system
        administrator; 409 `place_in_use`)."""
        return await places.retire_community(caller, community_id)

    @post("/{community_id:uuid}/restore", status_code=200)
    async def restore_community(
        self, caller: Caller, places: PlaceService, community_id: UUID
    ) -> CommunityRead:
        """Bring a retired community back."""
        return await places.retire_community(caller, community_id, retire=False)

    @get("/{community_id:uuid}/buildings")
    async def list_buildings(
        self,
        caller: Caller,
        places: PlaceService,
        community_id: UUID,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        include_retired: bool = False,
    ) -> BuildingPage:
        """The community's buildings (the retired ones too with `include_retired`)."""
        return await places.list_buildings(
            caller, community_id, page=page, page_size=page_size, include_retired=include_retired
        )

    @post("/{community_id:uuid}/buildings")
    async def create_building(
        self, caller: Caller, places: PlaceService, community_id: UUID, data: BuildingCreate
    ) -> BuildingRead:
        """Add a building; its code is derived from the community code and the number."""
        return await places.create_building(caller, community_id, data)


class BuildingController(Controller):
    """A building and its units."""

    path = "/api/v1/buildings"
    tags = ("places",)
    dependencies = _DEPENDENCIES

    @get("/{building_id:uuid}")
    async def get_building(
        self, caller: Caller, places: PlaceService, building_id: UUID
    ) -> BuildingRead:
        """One building."""
        return await places.get_building(caller, building_id)

    @patch("/{building_id:uuid}")
    async def update_building(
        self, caller: Caller, places: PlaceService, building_id: UUID, data: BuildingUpdate
    ) -> BuildingRead:
        """Rename a building or change its number of floors."""
        return await places.update_building(caller, building_id, data)

    @post("/{building_id:uuid}/retire", status_code=200)
    async def retire_building(
        self, caller: Caller, places: PlaceService, building_id: UUID
    ) -> BuildingRead:
        """Retire a building whose units and households are retired (409 `place_in_use`)."""
        return await places.retire_building(caller, building_id)

    @post("/{building_id:uuid}/restore", status_code=200)
    async def restore_building(
        self, caller: Caller, places: PlaceService, building_id: UUID
    ) -> BuildingRead:
        """Bring a retired building back."""
        return await places.retire_building(caller, building_id, retire=False)

    @get("/{building_id:uuid}/units")
    async def list_units(
        self,
        caller: Caller,
        places: PlaceService,
        building_id: UUID,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        include_retired: bool = False,
    ) -> UnitPage:
        """The building's units (the retired ones too with `include_retired`)."""
        return await places.list_units(
            caller, building_id, page=page, page_size=page_size, include_retired=include_retired
        )

    @post("/{building_id:uuid}/units")
    async def create_unit(
        self, caller: Caller, places: PlaceService, building_id: UUID, data: UnitCreate
    ) -> UnitRead:
        """Add a unit; its code is derived from the building code and the number."""
        return await places.create_unit(caller, building_id, data)


class UnitController(Controller):
    """A unit and its households."""

    path = "/api/v1/units"
    tags = ("places",)
    dependencies = _DEPENDENCIES

    @get("/{unit_id:uuid}")
    async def get_unit(self, caller: Caller, places: PlaceService, unit_id: UUID) -> UnitRead:
        """One unit."""
        return await places.get_unit(caller, unit_id)

    @post("/{unit_id:uuid}/retire", status_code=200)
    async def retire_unit(self, caller: Caller, places: PlaceService, unit_id: UUID) -> UnitRead:
        """Retire a unit whose households are retired (409 `place_in_use`)."""
        return await places.retire_unit(caller, unit_id)

    @post("/{unit_id:uuid}/restore", status_code=200)
    async def restore_unit(self, caller: Caller, places: PlaceService, unit_id: UUID) -> UnitRead:
        """Bring a retired unit back (409 `parent_retired` in a retired building)."""
        return await places.retire_unit(caller, unit_id, retire=False)

    @get("/{unit_id:uuid}/households")
    async def list_unit_households(
        self,
        caller: Caller,
        places: PlaceService,
        unit_id: UUID,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        include_retired: bool = False,
    ) -> HouseholdPage:
        """The unit's households (a resident sees only their own)."""
        return await places.list_unit_households(
            caller, unit_id, page=page, page_size=page_size, include_retired=include_retired
        )

    @post("/{unit_id:uuid}/households")
    async def create_household(
        self, caller: Caller, places: PlaceService, unit_id: UUID, data: HouseholdCreate
    ) -> HouseholdRead:
        """Add a household; its code is derived from the unit code and the room."""
        return await places.create_household(caller, unit_id, data)


class HouseholdController(Controller):
    """Households across buildings."""

    path = "/api/v1/households"
    tags = ("places",)
    dependencies = _DEPENDENCIES

    @get("/")
    async def list_households(
        self,
        caller: Caller,
        places: PlaceService,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        building_id: UUID | None = None,
        q: str | None = None,
        include_retired: bool = False,
    ) -> HouseholdPage:
        """Households in scope, filtered by community, building, and a room or code fragment."""
        return await places.list_households(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            building_id=building_id,
            q=q,
            include_retired=include_retired,
        )

    @get("/{household_id:uuid}")
    async def get_household(
        self, caller: Caller, places: PlaceService, household_id: UUID
    ) -> HouseholdRead:
        """One household."""
        return await places.get_household(caller, household_id)

    @patch("/{household_id:uuid}")
    async def update_household(
        self, caller: Caller, places: PlaceService, household_id: UUID, data: HouseholdUpdate
    ) -> HouseholdRead:
        """Mark a household owned, rented or vacant."""
        return await places.update_household(caller, household_id, data)

    @post("/{household_id:uuid}/retire", status_code=200)
    async def retire_household(
        self, caller: Caller, places: PlaceService, household_id: UUID
    ) -> HouseholdRead:
        """Retire a household nobody lives in (409 `place_in_use`)."""
        return await places.retire_household(caller, household_id)

    @post("/{household_id:uuid}/restore", status_code=200)
    async def restore_household(
        self, caller: Caller, places: PlaceService, household_id: UUID
    ) -> HouseholdRead:
        """Bring a retired household back (409 `parent_retired` in a retired unit)."""
        return await places.retire_household(caller, household_id, retire=False)


COMMUNITY_CONTROLLERS: list[type[Controller]] = [
    JurisdictionController,
    CommunityController,
    BuildingController,
    UnitController,
    HouseholdController,
]
