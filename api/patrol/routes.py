"""The patrol API: setting patrols up (areas, checkpoints, routes, plans), rounds, scans."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.response import Response, Stream
from litestar.status_codes import HTTP_201_CREATED

from api.core.auth import Caller
from api.core.effects import Effects
from api.core.paging import PageNumber, PageSize
from api.devices.ledger.labels import label_font
from api.patrol import compliance, labels, plans, points, rounds, scans, tour_runs, tours
from api.patrol.schemas import (
    CameraTourCreate,
    CameraTourPage,
    CameraTourRead,
    CameraTourUpdate,
    CheckpointCreate,
    CheckpointPage,
    CheckpointPhoto,
    CheckpointRead,
    CheckpointUpdate,
    CompliancePage,
    PatrolAreaCreate,
    PatrolAreaPage,
    PatrolAreaRead,
    PatrolAreaUpdate,
    PatrolGuard,
    PatrolPlanCreate,
    PatrolPlanPage,
    PatrolPlanRead,
    PatrolPlanUpdate,
    PatrolRouteCreate,
    PatrolRoutePage,
    PatrolRouteRead,
    PatrolRouteUpdate,
    RoundPage,
    RoundRead,
    ScanCreate,
    ScanPage,
    ScanRead,
    TourCheckCreate,
    TourRunPage,
    TourRunRead,
)


class PatrolAreaController(Controller):
    """Patrol areas (巡更区域): property managers set them up, guards read them."""

    path = "/api/v1/patrol/areas"
    tags = ["patrol"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_area(self, caller: Caller, data: PatrolAreaCreate) -> PatrolAreaRead:
        """A new area of a community."""
        return await points.create_area(caller, data)

    @get("/")
    async def list_areas(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
    ) -> PatrolAreaPage:
        """Areas in scope, by name."""
        return await points.list_areas(
            caller, page=page, page_size=page_size, community_id=community_id
        )

    @get("/{area_id:uuid}")
    async def get_area(self, caller: Caller, area_id: UUID) -> PatrolAreaRead:
        """One area."""
        return await points.get_area(caller, area_id)

    @patch("/{area_id:uuid}")
    async def update_area(
        self, caller: Caller, area_id: UUID, data: PatrolAreaUpdate
    ) -> PatrolAreaRead:
        """Rename an area or change its note."""
        return await points.update_area(caller, area_id, data)

    @delete("/{area_id:uuid}")
    async def delete_area(self, caller: Caller, area_id: UUID) -> None:
        """Delete an area without checkpoints (409 otherwise)."""
        await points.delete_area(caller, area_id)


class CheckpointController(Controller):
    """Checkpoints (巡更点) and their QR codes."""

    path = "/api/v1/patrol/checkpoints"
    tags = ["patrol"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_checkpoint(self, caller: Caller, data: CheckpointCreate) -> CheckpointRead:
        """A checkpoint in an area; the platform makes its QR code."""
        return await points.create_checkpoint(caller, data)

    @get("/")
    async def list_checkpoints(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        area_id: UUID | None = None,
    ) -> CheckpointPage:
        """Checkpoints in scope; codes only for property managers."""
        return await points.list_checkpoints(
            caller, page=page, page_size=page_size, community_id=community_id, area_id=area_id
        )

    @get("/labels", media_type="application/pdf")
    async def print_checkpoint_labels(
        self,
        caller: Caller,
        state: State,
        route_id: UUID | None = None,
        area_id: UUID | None = None,
    ) -> Response[bytes]:
        """A PDF sheet of the QR labels of a route's checkpoints (in walking order) or an area's
        (A4, 21 a page); managers only, audited."""
        name, pdf = await labels.label_sheet(
            caller,
            route_id=route_id,
            area_id=area_id,
            font=label_font(state.settings.label_font),
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @get("/{checkpoint_id:uuid}")
    async def get_checkpoint(self, caller: Caller, checkpoint_id: UUID) -> CheckpointRead:
        """One checkpoint."""
        return await points.get_checkpoint(caller, checkpoint_id)

    @patch("/{checkpoint_id:uuid}")
    async def update_checkpoint(
        self, caller: Caller, checkpoint_id: UUID, data: CheckpointUpdate
    ) -> CheckpointRead:
        """Change a checkpoint; `new_code` retires its old label."""
        return await points.update_checkpoint(caller, checkpoint_id, data)

    @delete("/{checkpoint_id:uuid}")
    async def delete_checkpoint(self, caller: Caller, checkpoint_id: UUID) -> None:
        """Delete a checkpoint no route uses (409 otherwise)."""
        await points.delete_checkpoint(caller, checkpoint_id)

    @put("/{checkpoint_id:uuid}/photo")
    async def set_checkpoint_photo(
        self, caller: Caller, state: State, checkpoint_id: UUID, data: CheckpointPhoto
    ) -> CheckpointRead:
        """The point's reference photo (what the guard looks for), replacing any before."""
        return await points.set_photo(caller, checkpoint_id, data, state.objects)

    @delete("/{checkpoint_id:uuid}/photo")
    async def remove_checkpoint_photo(
        self, caller: Caller, state: State, checkpoint_id: UUID
    ) -> None:
        """Remove the point's reference photo."""
        await points.set_photo(caller, checkpoint_id, None, state.objects)

    @get("/{checkpoint_id:uuid}/photo", media_type="image/jpeg")
    async def get_checkpoint_photo(
        self, caller: Caller, state: State, checkpoint_id: UUID
    ) -> Response[bytes]:
        """The point's reference photo; its address changes with each photo, so it is cached."""
        data, content_type = await points.read_photo(caller, checkpoint_id, state.objects)
        return Response(
            data,
            media_type=content_type,
            headers={"Cache-Control": "private, max-age=86400"},
        )


class PatrolRouteController(Controller):
    """Patrol routes: checkpoints in walking order."""

    path = "/api/v1/patrol/routes"
    tags = ["patrol"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_route(self, caller: Caller, data: PatrolRouteCreate) -> PatrolRouteRead:
        """A route through checkpoints of one community."""
        return await plans.create_route(caller, data)

    @get("/")
    async def list_routes(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
    ) -> PatrolRoutePage:
        """Routes in scope, by name."""
        return await plans.list_routes(
            caller, page=page, page_size=page_size, community_id=community_id
        )

    @get("/{patrol_route_id:uuid}")
    async def get_route(self, caller: Caller, patrol_route_id: UUID) -> PatrolRouteRead:
        """One route with its checkpoints."""
        return await plans.get_route(caller, patrol_route_id)

    @patch("/{patrol_route_id:uuid}")
    async def update_route(
        self, caller: Caller, patrol_route_id: UUID, data: PatrolRouteUpdate
    ) -> PatrolRouteRead:
        """Rename a route or change its checkpoints."""
        return await plans.update_route(caller, patrol_route_id, data)

    @delete("/{patrol_route_id:uuid}")
    async def delete_route(self, caller: Caller, patrol_route_id: UUID) -> None:
        """Delete a route no plan uses (409 otherwise)."""
        await plans.delete_route(caller, patrol_route_id)


class PatrolPlanController(Controller):
    """Patrol plans: when a route is walked by day and by night, and by whom."""

    path = "/api/v1/patrol/plans"
    tags = ["patrol"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_plan(
        self, caller: Caller, effects: Effects, data: PatrolPlanCreate
    ) -> PatrolPlanRead:
        """A plan; its rounds for the next day are made at once."""
        return await plans.create_plan(caller, data, effects)

    @get("/")
    async def list_plans(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
    ) -> PatrolPlanPage:
        """Plans in scope, by name."""
        return await plans.list_plans(
            caller, page=page, page_size=page_size, community_id=community_id
        )

    @get("/guards")
    async def list_guards(self, caller: Caller, community_id: UUID) -> list[PatrolGuard]:
        """The guards of a community a plan may name (property managers)."""
        return await plans.community_guards(caller, community_id)

    @get("/{patrol_plan_id:uuid}")
    async def get_plan(self, caller: Caller, patrol_plan_id: UUID) -> PatrolPlanRead:
        """One plan."""
        return await plans.get_plan(caller, patrol_plan_id)

    @patch("/{patrol_plan_id:uuid}")
    async def update_plan(
        self, caller: Caller, effects: Effects, patrol_plan_id: UUID, data: PatrolPlanUpdate
    ) -> PatrolPlanRead:
        """Change a plan; its rounds not yet begun are made again."""
        return await plans.update_plan(caller, patrol_plan_id, data, effects)

    @delete("/{patrol_plan_id:uuid}")
    async def delete_plan(self, caller: Caller, patrol_plan_id: UUID) -> None:
        """Delete a plan and its rounds not yet begun."""
        await plans.delete_plan(caller, patrol_plan_id)


class PatrolRoundController(Controller):
    """Patrol rounds: a guard's today, a supervisor's record."""

    path = "/api/v1/patrol/rounds"
    tags = ["patrol"]

    @get("/")
    async def list_rounds(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        mine: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> RoundPage:
        """Rounds in scope by start (`mine`: the caller's; `since`/`until`: not closed before,
        begun before)."""
        return await rounds.list_rounds(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            mine=mine,
            since=since,
            until=until,
        )

    @get("/{round_id:uuid}")
    async def get_round(self, caller: Caller, round_id: UUID) -> RoundRead:
        """One round: its checkpoints in order, which are done, the next one, its summary."""
        return await rounds.get_round(caller, round_id)


class PatrolScanController(Controller):
    """Scans of checkpoints: guards post them; staff read them, refused ones too."""

    path = "/api/v1/patrol/scans"
    tags = ["patrol"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_scan(
        self, caller: Caller, effects: Effects, state: State, data: ScanCreate
    ) -> ScanRead:
        """A scan from the guard's phone. Sent again with the same id it is stored once; one
        that does not count is `409 scan_refused` with `extra.reason`, and recorded."""
        return await scans.scan(caller, data, state.objects, effects)

    @get("/")
    async def list_scans(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        round_id: UUID | None = None,
        accepted: bool | None = None,
    ) -> ScanPage:
        """Scans in scope, newest first."""
        return await scans.list_scans(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            round_id=round_id,
            accepted=accepted,
        )

    @get("/{scan_id:uuid}")
    async def get_scan(self, caller: Caller, scan_id: UUID) -> ScanRead:
        """One scan, with both clocks and its flags."""
        return await scans.get_scan(caller, scan_id)


class CameraTourController(Controller):
    """Camera tours (视频巡查): managers set them up, guards read them."""

    path = "/api/v1/patrol/tours"
    tags = ["patrol"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_tour(self, caller: Caller, data: CameraTourCreate) -> CameraTourRead:
        """A tour of the community's cameras; its runs for the next day are made at once."""
        return await tours.create_tour(caller, data)

    @get("/")
    async def list_tours(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
    ) -> CameraTourPage:
        """Tours in scope, by name."""
        return await tours.list_tours(
            caller, page=page, page_size=page_size, community_id=community_id
        )

    @get("/{tour_id:uuid}")
    async def get_tour(self, caller: Caller, tour_id: UUID) -> CameraTourRead:
        """One tour with its cameras in order."""
        return await tours.get_tour(caller, tour_id)

    @patch("/{tour_id:uuid}")
    async def update_tour(
        self, caller: Caller, tour_id: UUID, data: CameraTourUpdate
    ) -> CameraTourRead:
        """Change or pause a tour; its runs not yet begun are made again."""
        return await tours.update_tour(caller, tour_id, data)

    @delete("/{tour_id:uuid}")
    async def delete_tour(self, caller: Caller, tour_id: UUID) -> None:
        """Delete a tour and its runs not yet begun."""
        await tours.delete_tour(caller, tour_id)


class TourRunController(Controller):
    """Tour runs: the control room's due camera tours, each camera confirmed or reported."""

    path = "/api/v1/patrol/tour-runs"
    tags = ["patrol"]

    @get("/")
    async def list_runs(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        tour_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> TourRunPage:
        """Runs in scope by start (`since`: not due before, `until`: begun before)."""
        return await tour_runs.list_runs(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            tour_id=tour_id,
            since=since,
            until=until,
        )

    @get("/{run_id:uuid}")
    async def get_run(self, caller: Caller, run_id: UUID) -> TourRunRead:
        """One run: its cameras in order, each one's verdict, the next to check."""
        return await tour_runs.get_run(caller, run_id)

    @post("/{run_id:uuid}/checks", status_code=HTTP_201_CREATED)
    async def check_camera(
        self, caller: Caller, effects: Effects, state: State, run_id: UUID, data: TourCheckCreate
    ) -> TourRunRead:
        """Confirm a camera normal or report a problem, with a snapshot of the live view whose
        picture quality the platform checks; a problem, reported or measured, raises an alarm
        (the snapshot kept on it) and a camera fault opens its work order."""
        return await tour_runs.check_camera(
            caller, run_id, data, state.objects, effects, camera_fault=state.camera_fault
        )


class ComplianceController(Controller):
    """Patrol compliance per guard or per route over a date range (managers)."""

    path = "/api/v1/patrol/compliance"
    tags = ["patrol"]

    @get("/")
    async def get_compliance(
        self,
        caller: Caller,
        community_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        by: compliance.By = "guard",
        key: str | None = None,
        page: PageNumber = 1,
        page_size: PageSize = 50,
    ) -> CompliancePage:
        """Rounds ended that began in [since, until) (default: the 30 days to now), per guard
        (`key`: an account id) or per route (`key`: its name): rounds due and completed, points
        missed and late, flagged scans, the rate."""
        return await compliance.compliance(
            caller,
            community_id=community_id,
            by=by,
            since=since,
            until=until,
            key=key,
            page=page,
            page_size=page_size,
        )

    @get("/csv", media_type="text/csv")
    async def export_compliance(
        self,
        caller: Caller,
        community_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        by: compliance.By = "guard",
    ) -> Stream:
        """Every row as CSV for Excel (UTF-8 with BOM, Chinese headers); audited."""
        rows = await compliance.export_csv(
            caller, community_id=community_id, by=by, since=since, until=until
        )
        return Stream(
            rows,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="patrol-compliance-{by}.csv"'},
        )


PATROL_CONTROLLERS = [
    PatrolAreaController,
    CheckpointController,
    PatrolRouteController,
    PatrolPlanController,
    PatrolRoundController,
    PatrolScanController,
    CameraTourController,
    TourRunController,
    ComplianceController,
]
