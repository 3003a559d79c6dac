"""Vehicles: the registry and its lifecycle, car parks and lanes, pass records."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, get, patch, post, put
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.core.auth import Caller
from api.core.effects import Effects
from api.core.openapi import raises
from api.core.paging import PageNumber, PageSize
from api.devices.bus import CommandBus
from api.devices.routes import provide_bus
from api.devices.service import BridgeUnavailable
from api.vehicles import console, parking, passes, records, statistics, thresholds, warnings
from api.vehicles.errors import (
    NightMinExceedsWindow,
    NightWindowEmpty,
    NotResolvable,
    ReasonRequired,
    ThresholdOutOfRange,
    WarningNotOpen,
)
from api.vehicles.passes import PassFilters
from api.vehicles.payments import tickets
from api.vehicles.payments.schemas import LaneQr, TariffBody
from api.vehicles.registry import VehicleService
from api.vehicles.schemas import (
    AuthoriseBody,
    BarrierControl,
    CancelBody,
    CarParkCreate,
    CarParkGuidance,
    CarParkPage,
    CarParkRead,
    CarParkUpdate,
    Decision,
    Direction,
    ExtendBody,
    LaneActionResult,
    LaneCreate,
    LanePage,
    LaneRead,
    LaneStatus,
    LaneUpdate,
    OccupancyCorrection,
    PassClass,
    PassRecordPage,
    PassRecordRead,
    PassResolve,
    PassStatistics,
    VehicleClass,
    VehicleCreate,
    VehicleHistoryEntry,
    VehiclePage,
    VehicleRead,
    VehicleStatus,
    VehicleUpdate,
    VehicleWarningPage,
    VehicleWarningRead,
    WarningDismiss,
    WarningKind,
    WarningSettingsBody,
    WarningSettingsRead,
    WarningStatus,
)


def provide_vehicles(state: State) -> VehicleService:
    """The registry, with the personal-data cipher."""
    return VehicleService(state.cipher)


class VehicleController(Controller):
    """The registry: residents' household cars, the community's for managers and guards."""

    path = "/api/v1/vehicles"
    tags = ["vehicles"]
    dependencies = {"vehicles": Provide(provide_vehicles, sync_to_thread=False)}

    @get("/")
    async def list_vehicles(
        self,
        caller: Caller,
        vehicles: VehicleService,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        household_id: UUID | None = None,
        vehicle_class: VehicleClass | None = None,
        status: VehicleStatus | None = None,
        plate: str | None = None,
        expires_before: datetime | None = None,
    ) -> VehiclePage:
        """Vehicles newest first (plates masked); `plate` finds one plate exactly (normalised:
        `川a·12345` finds 川A12345); `expires_before` those whose validity ends before then."""
        return await vehicles.search(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            household_id=household_id,
            vehicle_class=vehicle_class,
            status=status,
            plate=plate,
            expires_before=expires_before,
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def register_vehicle(
        self, caller: Caller, vehicles: VehicleService, effects: Effects, data: VehicleCreate
    ) -> VehicleRead:
        """Enter a vehicle (a resident's household car, or any class by the manager)."""
        return await vehicles.register(caller, data, effects)

    @get("/{vehicle_id:uuid}")
    async def get_vehicle(
        self, caller: Caller, vehicles: VehicleService, vehicle_id: UUID
    ) -> VehicleRead:
        """One vehicle."""
        return await vehicles.get(caller, vehicle_id)

    @get("/{vehicle_id:uuid}/history")
    async def vehicle_history(
        self, caller: Caller, vehicles: VehicleService, vehicle_id: UUID
    ) -> list[VehicleHistoryEntry]:
        """The vehicle's lifecycle (entry, authorisation, changes, cancellation, extensions,
        blacklisting) as audited, oldest first; staff of its community."""
        return await vehicles.history(caller, vehicle_id)

    @patch("/{vehicle_id:uuid}")
    async def change_vehicle(
        self,
        caller: Caller,
        vehicles: VehicleService,
        effects: Effects,
        vehicle_id: UUID,
        data: VehicleUpdate,
    ) -> VehicleRead:
        """Change a vehicle's colour, type, class, driver or reason (the manager's)."""
        return await vehicles.change(caller, vehicle_id, data, effects)

    @post("/{vehicle_id:uuid}/authorise", status_code=HTTP_200_OK)
    async def authorise_vehicle(
        self,
        caller: Caller,
        vehicles: VehicleService,
        effects: Effects,
        vehicle_id: UUID,
        data: AuthoriseBody,
    ) -> VehicleRead:
        """Authorise a registered vehicle for a window (the manager's)."""
        return await vehicles.authorise(caller, vehicle_id, data, effects)

    @post("/{vehicle_id:uuid}/cancel", status_code=HTTP_200_OK)
    async def cancel_vehicle(
        self,
        caller: Caller,
        vehicles: VehicleService,
        effects: Effects,
        vehicle_id: UUID,
        data: CancelBody,
    ) -> VehicleRead:
        """Take a vehicle out of the registry (the manager, or its household)."""
        return await vehicles.cancel(caller, vehicle_id, data, effects)

    @post("/{vehicle_id:uuid}/extend", status_code=HTTP_200_OK)
    async def extend_vehicle(
        self,
        caller: Caller,
        vehicles: VehicleService,
        effects: Effects,
        vehicle_id: UUID,
        data: ExtendBody,
    ) -> VehicleRead:
        """Move an active vehicle's end of validity later (the manager's)."""
        return await vehicles.extend(caller, vehicle_id, data, effects)


class CarParkController(Controller):
    """Car parks and zones with their free spaces."""

    path = "/api/v1/car-parks"
    tags = ["vehicles"]

    @get("/")
    async def list_car_parks(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
    ) -> CarParkPage:
        """Car parks and zones, with spaces taken and free."""
        return await parking.list_car_parks(
            caller, page=page, page_size=page_size, community_id=community_id
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create_car_park(self, caller: Caller, data: CarParkCreate) -> CarParkRead:
        """A car park, or a zone of one."""
        return await parking.create_car_park(caller, data)

    @get("/{car_park_id:uuid}")
    async def get_car_park(self, caller: Caller, car_park_id: UUID) -> CarParkRead:
        """One car park."""
        return await parking.get_car_park(caller, car_park_id)

    @patch("/{car_park_id:uuid}")
    async def update_car_park(
        self, caller: Caller, effects: Effects, car_park_id: UUID, data: CarParkUpdate
    ) -> CarParkRead:
        """A car park's name or spaces (audited)."""
        return await parking.update_car_park(caller, car_park_id, data, effects)

    @post("/{car_park_id:uuid}/occupancy", status_code=HTTP_200_OK)
    async def correct_occupancy(
        self, caller: Caller, effects: Effects, car_park_id: UUID, data: OccupancyCorrection
    ) -> CarParkRead:
        """Correct the counts by hand with a stated reason (audited; never negative)."""
        return await parking.correct_occupancy(caller, car_park_id, data, effects)

    @get("/{car_park_id:uuid}/guidance")
    async def car_park_guidance(self, caller: Caller, car_park_id: UUID) -> CarParkGuidance:
        """Space guidance (车位引导): the zones by free spaces and the one to direct a car to."""
        return await parking.guidance(caller, car_park_id)

    @put("/{car_park_id:uuid}/tariff")
    async def set_tariff(self, caller: Caller, car_park_id: UUID, data: TariffBody) -> CarParkRead:
        """The car park's prices for temporary cars, in fen (the manager's; audited)."""
        return await parking.set_tariff(caller, car_park_id, data)


class LaneController(Controller):
    """Lanes: a barrier, its plate camera, display and speaker, in or out of a car park."""

    path = "/api/v1/vehicle-lanes"
    tags = ["vehicles"]
    dependencies = {"bus": Provide(provide_bus, sync_to_thread=False)}

    @get("/")
    async def list_lanes(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        car_park_id: UUID | None = None,
    ) -> LanePage:
        """Lanes of the caller's communities."""
        return await parking.list_lanes(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            car_park_id=car_park_id,
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create_lane(self, caller: Caller, effects: Effects, data: LaneCreate) -> LaneRead:
        """A lane with devices of its car park's community."""
        return await parking.create_lane(caller, data, effects)

    @patch("/{lane_id:uuid}")
    async def update_lane(
        self, caller: Caller, effects: Effects, lane_id: UUID, data: LaneUpdate
    ) -> LaneRead:
        """Move a lane to another car park or zone, rename it, or make it fuzzy (audited)."""
        return await parking.update_lane(caller, lane_id, data, effects)

    @get("/console")
    async def lane_console(
        self, caller: Caller, state: State, community_id: UUID | None = None
    ) -> list[LaneStatus]:
        """The lane console (车道轮询): every lane of the caller's communities and its last read."""
        return await console.lanes(caller, state.objects, community_id)

    @get("/{lane_id:uuid}/qr")
    async def lane_qr(self, caller: Caller, state: State, lane_id: UUID) -> LaneQr:
        """The lane's public QR URL to print (unplated cars at an entrance, payment at an exit)."""
        return await tickets.lane_qr(caller, lane_id, state.settings.public_url)

    @post("/{lane_id:uuid}/qr", status_code=HTTP_200_OK)
    async def renew_lane_qr(self, caller: Caller, state: State, lane_id: UUID) -> LaneQr:
        """A new QR URL for the lane; the old one stops working (the manager's; audited)."""
        return await tickets.lane_qr(caller, lane_id, state.settings.public_url, renew=True)

    @post(
        "/{lane_id:uuid}/barrier",
        status_code=HTTP_200_OK,
        opt=raises(BridgeUnavailable),
    )
    async def control_barrier(
        self,
        caller: Caller,
        bus: CommandBus,
        effects: Effects,
        lane_id: UUID,
        data: BarrierControl,
    ) -> LaneActionResult:
        """Lift or close the lane's arm remotely with a stated reason (VEH-15); recorded as a
        pass record and audited, whether or not the barrier obeyed."""
        return await console.control_barrier(
            caller, bus, lane_id, action=data.action, reason=data.reason, effects=effects
        )


class PassRecordController(Controller):
    """Vehicle pass records: the household's, the community's, the jurisdiction's."""

    path = "/api/v1/vehicle-passes"
    tags = ["vehicles"]
    dependencies = {"bus": Provide(provide_bus, sync_to_thread=False)}

    @get("/")
    async def list_pass_records(
        self,
        caller: Caller,
        state: State,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        vehicle_id: UUID | None = None,
        lane_id: UUID | None = None,
        car_park_id: UUID | None = None,
        direction: Direction | None = None,
        decision: Decision | None = None,
        vehicle_class: PassClass | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        plate: str | None = None,
        fuzzy: bool = False,
    ) -> PassRecordPage:
        """Pass records newest first, each snapshot with a signed link; `plate` (with `fuzzy`:
        one character off) searches by plate, audited."""
        filters = PassFilters(
            community_id=community_id,
            vehicle_id=vehicle_id,
            lane_id=lane_id,
            car_park_id=car_park_id,
            direction=direction,
            decision=decision,
            vehicle_class=vehicle_class,
            since=since,
            until=until,
            plate=plate,
            fuzzy=fuzzy,
        )
        return await passes.list_passes(
            caller, state.cipher, filters, page=page, page_size=page_size, objects=state.objects
        )

    @get("/statistics")
    async def pass_statistics(
        self,
        caller: Caller,
        community_id: UUID | None = None,
        car_park_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> PassStatistics:
        """Entries and exits per day and hour, reads by class, decision and lane, occupancy per
        day, of one community over a range (default: the last 7 days, at most 366)."""
        return await statistics.pass_statistics(
            caller, community_id=community_id, car_park_id=car_park_id, since=since, until=until
        )

    @get("/{record_id:uuid}")
    async def get_pass_record(self, caller: Caller, record_id: UUID) -> PassRecordRead:
        """One pass record."""
        return await passes.get_pass(caller, record_id)

    @post(
        "/{record_id:uuid}/resolve",
        status_code=HTTP_200_OK,
        opt=raises(NotResolvable, BridgeUnavailable),
    )
    async def resolve_pass_record(
        self,
        caller: Caller,
        bus: CommandBus,
        effects: Effects,
        state: State,
        record_id: UUID,
        data: PassResolve,
    ) -> LaneActionResult:
        """A guard answers a held or refused read once: let in as temporary parking (the arm
        lifts), refuse, or correct the plate (decided again)."""
        return await console.resolve(caller, bus, state.cipher, record_id, data, effects)


class PassRecordExportController(Controller):
    """Vehicle pass records as CSV."""

    path = "/api/v1/vehicle-passes.csv"
    tags = ["vehicles"]

    @get("/", media_type="text/csv")
    async def export_pass_records(
        self,
        caller: Caller,
        state: State,
        community_id: UUID | None = None,
        vehicle_id: UUID | None = None,
        lane_id: UUID | None = None,
        car_park_id: UUID | None = None,
        direction: Direction | None = None,
        decision: Decision | None = None,
        vehicle_class: PassClass | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        plate: str | None = None,
        fuzzy: bool = False,
    ) -> Stream:
        """The filtered records as CSV for Excel (UTF-8 with BOM, Chinese headers, plates
        masked); audited."""
        filters = PassFilters(
            community_id=community_id,
            vehicle_id=vehicle_id,
            lane_id=lane_id,
            car_park_id=car_park_id,
            direction=direction,
            decision=decision,
            vehicle_class=vehicle_class,
            since=since,
            until=until,
            plate=plate,
            fuzzy=fuzzy,
        )
        body = await records.export_csv(caller, state.cipher, filters)
        return Stream(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="vehicle-passes.csv"'},
        )


class VehicleWarningController(Controller):
    """Long-stay and abnormal-entry warnings (VEH-04, ANA-06)."""

    path = "/api/v1/vehicle-warnings"
    tags = ["vehicles"]

    @get("/")
    async def list_vehicle_warnings(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        kind: WarningKind | None = None,
        status: WarningStatus | None = None,
    ) -> VehicleWarningPage:
        """Warnings of the caller's communities, newest first, each with its reason."""
        return await warnings.list_warnings(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            kind=kind,
            status=status,
        )

    @post(
        "/{warning_id:uuid}/dismiss",
        status_code=HTTP_200_OK,
        opt=raises(WarningNotOpen, ReasonRequired),
    )
    async def dismiss_vehicle_warning(
        self, caller: Caller, warning_id: UUID, data: WarningDismiss
    ) -> VehicleWarningRead:
        """Dismiss an open warning with a stated reason (audited)."""
        return await warnings.dismiss(caller, warning_id, data.reason)


class WarningSettingsController(Controller):
    """A community's thresholds for the warnings' scan (ANA-06): guards read, managers change."""

    path = "/api/v1/vehicle-warning-settings"
    tags = ["vehicles"]

    @get("/{community_id:uuid}")
    async def get_vehicle_warning_settings(
        self, caller: Caller, community_id: UUID
    ) -> WarningSettingsRead:
        """The community's thresholds (the defaults until a manager changes them)."""
        return await thresholds.get_settings(caller, community_id)

    @put(
        "/{community_id:uuid}",
        opt=raises(ThresholdOutOfRange, NightWindowEmpty, NightMinExceedsWindow),
    )
    async def set_vehicle_warning_settings(
        self, caller: Caller, community_id: UUID, data: WarningSettingsBody
    ) -> WarningSettingsRead:
        """Change the community's thresholds (audited from → to); the next scan uses them."""
        return await thresholds.set_settings(caller, community_id, data)


VEHICLE_CONTROLLERS = (
    VehicleController,
    CarParkController,
    LaneController,
    PassRecordController,
    PassRecordExportController,
    VehicleWarningController,
    WarningSettingsController,
)
