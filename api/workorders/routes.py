"""The work-order API: open, list and read orders; assign, move, log time, add photos, rate;
the fault archive per asset; the staff an order may be given to."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from api.core.auth import Caller, client_ip
from api.core.effects import Effects
from api.core.paging import PageNumber, PageSize
from api.core.ratelimit import address_rate_limit
from api.workorders import costs, orders, parts, plans, progress
from api.workorders.catalogue import Kind, Priority
from api.workorders.catalogue import State as OrderState
from api.workorders.label_requests import LabelRequests
from api.workorders.schemas import (
    AssetCosts,
    ExternalCostSet,
    LabelRequestApprove,
    LabelRequestPage,
    LabelRequestRead,
    LabelRequestReject,
    MaintenancePlanCreate,
    MaintenancePlanExecution,
    MaintenancePlanPage,
    MaintenancePlanPreview,
    MaintenancePlanRead,
    MaintenancePlanUpdate,
    MaintenanceStaffRead,
    PartsReturnCreate,
    PartsUsedCreate,
    ReportCreate,
    ReportFiled,
    ReportPage,
    ReportTrack,
    RequestStatus,
    WorkOrderAssign,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderMove,
    WorkOrderPage,
    WorkOrderPhotoCreate,
    WorkOrderRating,
    WorkOrderTime,
)


class WorkOrderController(Controller):
    """Work orders (工单): faults, repair requests, complaints, maintenance."""

    path = "/api/v1/workorders"
    tags = ["workorders"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_order(
        self, caller: Caller, effects: Effects, state: State, data: WorkOrderCreate
    ) -> WorkOrderDetail:
        """Open an order; a resident's repair or complaint request of their household."""
        return await orders.create(caller, data, state.objects, effects)

    @get("/")
    async def list_orders(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        order_state: Annotated[OrderState | None, Parameter(query="state")] = None,
        priority: Priority | None = None,
        kind: Kind | None = None,
        device_id: UUID | None = None,
        mine: bool = False,
        active: bool = False,
    ) -> WorkOrderPage:
        """Orders in scope, soonest due first (`mine`: assigned to me; `active`: not ended)."""
        return await orders.list_orders(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            state=order_state,
            priority=priority,
            kind=kind,
            device_id=device_id,
            mine=mine,
            active=active,
        )

    @get("/faults")
    async def fault_archive(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        device_id: UUID | None = None,
    ) -> WorkOrderPage:
        """The fault archive: orders done with their cause and report, per asset, newest first."""
        return await orders.fault_archive(
            caller, page=page, page_size=page_size, community_id=community_id, device_id=device_id
        )

    @get("/asset-costs/{asset_id:uuid}")
    async def asset_costs(
        self, caller: Caller, asset_id: UUID, page: PageNumber = 1, page_size: PageSize = 50
    ) -> AssetCosts:
        """An asset's costs (fen): purchase, maintenance to date, and its orders with theirs."""
        return await costs.asset_costs(caller, asset_id, page=page, page_size=page_size)

    @get("/staff")
    async def staff(self, caller: Caller, community_id: UUID) -> list[MaintenanceStaffRead]:
        """The community's maintenance staff, to assign orders to (managers)."""
        return await orders.staff(caller, community_id)

    @get("/{order_id:uuid}")
    async def get_order(self, caller: Caller, state: State, order_id: UUID) -> WorkOrderDetail:
        """One order with its history, photos and time log."""
        return await orders.detail(caller, order_id, state.objects)

    @post("/{order_id:uuid}/assign", status_code=HTTP_200_OK)
    async def assign(
        self, caller: Caller, effects: Effects, state: State, order_id: UUID, data: WorkOrderAssign
    ) -> WorkOrderDetail:
        """Give the order to maintenance staff (managers) or take a new one (maintenance)."""
        return await progress.assign(caller, order_id, data, state.objects, effects)

    @post("/{order_id:uuid}/moves", status_code=HTTP_200_OK)
    async def move(
        self, caller: Caller, effects: Effects, state: State, order_id: UUID, data: WorkOrderMove
    ) -> WorkOrderDetail:
        """Move the order to another state (409 `transition_not_allowed` when it may not)."""
        return await progress.move(caller, order_id, data, state.objects, effects)

    @post("/{order_id:uuid}/time", status_code=HTTP_200_OK)
    async def log_time(
        self, caller: Caller, state: State, order_id: UUID, data: WorkOrderTime
    ) -> WorkOrderDetail:
        """Start or stop the assignee's time on the order."""
        return await progress.log_time(caller, order_id, data, state.objects)

    @post("/{order_id:uuid}/photos", status_code=HTTP_201_CREATED)
    async def add_photo(
        self, caller: Caller, state: State, order_id: UUID, data: WorkOrderPhotoCreate
    ) -> WorkOrderDetail:
        """A photo before or after the work (JPEG, PNG or WebP, at most 700 kB)."""
        return await progress.add_photo(caller, order_id, data, state.objects)

    @post("/{order_id:uuid}/rating", status_code=HTTP_200_OK)
    async def rate(
        self, caller: Caller, state: State, order_id: UUID, data: WorkOrderRating
    ) -> WorkOrderDetail:
        """The requester rates their done request (1-5 stars), once."""
        return await progress.rate(caller, order_id, data, state.objects)

    @post("/{order_id:uuid}/parts", status_code=HTTP_201_CREATED)
    async def add_parts(
        self, caller: Caller, state: State, order_id: UUID, data: PartsUsedCreate
    ) -> WorkOrderDetail:
        """Spare parts used on the order, taken out of its community's stock, all or none
        (409 `insufficient_stock` when any is short: nothing is taken)."""
        return await parts.add(caller, order_id, data, state.objects)

    @post("/{order_id:uuid}/parts/returns", status_code=HTTP_201_CREATED)
    async def return_parts(
        self, caller: Caller, state: State, order_id: UUID, data: PartsReturnCreate
    ) -> WorkOrderDetail:
        """Parts the order took and did not use, back to stock, all or none (409
        `return_exceeds_taken` for more than it took net of earlier returns: nothing is
        returned); the order's parts cost goes down by their price when taken."""
        return await parts.give_back(caller, order_id, data, state.objects)

    @post("/{order_id:uuid}/external-cost", status_code=HTTP_200_OK)
    async def set_external_cost(
        self, caller: Caller, state: State, order_id: UUID, data: ExternalCostSet
    ) -> WorkOrderDetail:
        """Set or clear the order's external cost (fen, with a note): its assignee or a manager,
        while it is in progress, waiting or done (409 `transition_not_allowed` otherwise)."""
        return await costs.set_external_cost(caller, order_id, data, state.objects)


def provide_label_requests(state: State) -> LabelRequests:
    """The label requests' service, with the cipher, Redis (the budgets) and the object store."""
    return LabelRequests(state.cipher, state.redis, state.objects)


_DEPENDENCIES = {"requests": Provide(provide_label_requests, sync_to_thread=False)}
_NO_STORE = CacheControlHeader(no_store=True)
REPORT_MAX_BODY = 3_000_000  # three photos of 700 kB in base64, and the words


def report_rate_limit(per_minute: int) -> RateLimitConfig:
    """Requests per minute per client address on the public report calls (a bucket of their
    own); the service keeps its own, longer budgets per address and per label."""
    return address_rate_limit(per_minute, "report")


class PublicReportController(Controller):
    """The page a QR label opens (/report/<label code>) and the tracking page: no login."""

    path = "/api/v1/public"
    tags = ["workorders"]
    dependencies = _DEPENDENCIES

    @get("/report/{label_code:str}", cache_control=_NO_STORE)
    async def report_page(self, label_code: str, requests: LabelRequests) -> ReportPage:
        """The asset's name and place; the same 404 for any code that names no asset."""
        return await requests.page(label_code)

    @post(
        "/report/{label_code:str}/requests",
        status_code=HTTP_202_ACCEPTED,
        cache_control=_NO_STORE,
        request_max_body_size=REPORT_MAX_BODY,
    )
    async def file_request(
        self,
        request: Request,
        label_code: str,
        requests: LabelRequests,
        effects: Effects,
        data: ReportCreate,
    ) -> ReportFiled:
        """File a repair request (a description, a phone, up to 3 photos); it waits for a
        manager. 429 too_many_requests when the address or the label spent its budget."""
        return await requests.file(label_code, data, effects, ip=client_ip(request))

    @get("/track/{tracking_code:str}", cache_control=_NO_STORE)
    async def track(self, tracking_code: str, requests: LabelRequests) -> ReportTrack:
        """Where a request stands, by the code shown when it was filed."""
        return await requests.track(tracking_code)


class LabelRequestController(Controller):
    """The managers' queue of repair requests filed from QR labels."""

    path = "/api/v1/label-requests"
    tags = ["workorders"]
    dependencies = _DEPENDENCIES

    @get("/")
    async def list_requests(
        self,
        caller: Caller,
        requests: LabelRequests,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        status: RequestStatus | None = "pending",
    ) -> LabelRequestPage:
        """Requests of the caller's communities, oldest first (pending unless asked)."""
        return await requests.search(
            caller, page=page, page_size=page_size, community_id=community_id, status=status
        )

    @get("/{label_request_id:uuid}")
    async def get_request(
        self, caller: Caller, requests: LabelRequests, label_request_id: UUID
    ) -> LabelRequestRead:
        """One request with its photos (the phone masked)."""
        return await requests.get(caller, label_request_id)

    @post("/{label_request_id:uuid}/approve", status_code=HTTP_200_OK)
    async def approve(
        self,
        caller: Caller,
        requests: LabelRequests,
        effects: Effects,
        label_request_id: UUID,
        data: LabelRequestApprove,
    ) -> LabelRequestRead:
        """Approve: a repair order of the asset with the request's photos (409 not_pending
        when it was decided already)."""
        return await requests.approve(caller, label_request_id, data, effects)

    @post("/{label_request_id:uuid}/reject", status_code=HTTP_200_OK)
    async def reject(
        self,
        caller: Caller,
        requests: LabelRequests,
        label_request_id: UUID,
        data: LabelRequestReject,
    ) -> LabelRequestRead:
        """Reject with a reason, as a duplicate of the asset's earlier open reports with
        `duplicate`; nothing is opened."""
        return await requests.reject(
            caller, label_request_id, data.reason, duplicate=data.duplicate
        )


class MaintenancePlanController(Controller):
    """Preventive maintenance plans (保养计划): managers of the community."""

    path = "/api/v1/workorders/plans"
    tags = ["workorders"]

    @get("/")
    async def list_plans(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        asset_kind: str | None = None,
        paused: bool | None = None,
    ) -> MaintenancePlanPage:
        """The plans of the caller's communities, by name."""
        return await plans.list_plans(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            asset_kind=asset_kind,
            paused=paused,
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create_plan(self, caller: Caller, data: MaintenancePlanCreate) -> MaintenancePlanRead:
        """Draw up a plan; its orders within the horizon are generated at once."""
        return await plans.create_plan(caller, data)

    @get("/{maintenance_plan_id:uuid}")
    async def get_plan(self, caller: Caller, maintenance_plan_id: UUID) -> MaintenancePlanRead:
        """One plan."""
        return await plans.get_plan(caller, maintenance_plan_id)

    @patch("/{maintenance_plan_id:uuid}")
    async def update_plan(
        self, caller: Caller, maintenance_plan_id: UUID, data: MaintenancePlanUpdate
    ) -> MaintenancePlanRead:
        """Change a plan (not its schedule); orders generated from now on carry the change."""
        return await plans.update_plan(caller, maintenance_plan_id, data)

    @post("/{maintenance_plan_id:uuid}/pause", status_code=HTTP_200_OK)
    async def pause(self, caller: Caller, maintenance_plan_id: UUID) -> MaintenancePlanRead:
        """Stop generating orders (those made stay)."""
        return await plans.set_paused(caller, maintenance_plan_id, paused=True)

    @post("/{maintenance_plan_id:uuid}/resume", status_code=HTTP_200_OK)
    async def resume(self, caller: Caller, maintenance_plan_id: UUID) -> MaintenancePlanRead:
        """Generate again, the horizon at once."""
        return await plans.set_paused(caller, maintenance_plan_id, paused=False)

    @delete("/{maintenance_plan_id:uuid}")
    async def delete_plan(self, caller: Caller, maintenance_plan_id: UUID) -> None:
        """Delete a plan; its orders nobody started are cancelled."""
        await plans.delete_plan(caller, maintenance_plan_id)

    @get("/{maintenance_plan_id:uuid}/preview")
    async def preview(
        self,
        caller: Caller,
        maintenance_plan_id: UUID,
        days: Annotated[int, Parameter(ge=1, le=366)] = 30,
    ) -> MaintenancePlanPreview:
        """How many orders generating the plan `days` ahead would make now."""
        return await plans.preview_plan(caller, maintenance_plan_id, days)

    @get("/{maintenance_plan_id:uuid}/execution")
    async def execution(
        self,
        caller: Caller,
        maintenance_plan_id: UUID,
        since: date | None = None,
        until: date | None = None,
    ) -> MaintenancePlanExecution:
        """How the plan is carried out: its orders due in the period (site dates, default the
        30 days to today) done on time, done late, overdue, open and cancelled."""
        return await plans.execution(caller, maintenance_plan_id, since=since, until=until)


WORKORDER_CONTROLLERS = [WorkOrderController, LabelRequestController, MaintenancePlanController]
