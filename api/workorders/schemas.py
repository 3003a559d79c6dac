"""The work-order API's bodies: orders, their history, photos, time log, rating."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.paging import Page
from api.workorders.catalogue import Fault, Kind, Priority, Stage, State, WaitingFor

Title = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=2000)]
Note = Annotated[str, Meta(max_length=500)]
Move = Literal["in_progress", "waiting", "done", "closed", "cancelled"]


class WorkOrderPhotoUpload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A photo from the phone: `data` is base64 in JSON (at most 700 kB; checked by its bytes)."""

    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    data: Annotated[bytes, Meta(min_length=8, max_length=700_000)]


class WorkOrderCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new order. Residents open `repair` or `complaint` requests for their own household
    (`community_id` may be left out: their home), at normal priority; staff name the community."""

    kind: Kind
    title: Title
    description: Text = ""
    community_id: UUID | None = None
    priority: Priority = "normal"
    device_id: UUID | None = None
    photos: Annotated[list[WorkOrderPhotoUpload], Meta(max_length=3)] = []


class ChecklistItem(msgspec.Struct, kw_only=True):
    """A step of a preventive order's checklist, ticked when the order is done."""

    step: str
    done: bool


class WorkOrderRead(msgspec.Struct, kw_only=True):
    """An order as a list shows it."""

    id: UUID
    community_id: UUID
    kind: Kind
    priority: Priority
    state: State
    waiting_for: WaitingFor
    title: str
    description: str
    device_id: UUID | None
    device_name: str | None
    fault: Fault | None
    repeats: int
    last_seen_at: datetime | None
    previous_id: UUID | None
    household_id: UUID | None
    requested_by: UUID | None
    assignee_id: UUID | None
    assignee_name: str | None
    created_at: datetime
    due_at: datetime
    overdue: bool
    escalated_at: datetime | None
    done_at: datetime | None
    closed_at: datetime | None
    cause: str
    report: str
    rating: int | None
    rating_note: str
    plan_id: UUID | None  # preventive: the plan it came from
    due_on: date | None  # preventive: the plan's due date
    checklist: list[ChecklistItem]
    signature_required: bool
    signed: bool
    cancel_reason: str  # the platform's reason when it cancelled the order (asset_retired, …)
    external_cost: int | None  # fen: a cost outside the parts (a contractor's bill)
    external_cost_note: str


class WorkOrderPage(Page, kw_only=True):
    """A page of orders."""

    items: list[WorkOrderRead]


class WorkOrderEntryRead(msgspec.Struct, kw_only=True):
    """One line of an order's history."""

    at: datetime
    kind: str
    actor_name: str | None
    from_state: str
    to_state: str
    text: str


class WorkOrderPhotoRead(msgspec.Struct, kw_only=True):
    """A photo of an order with a short-lived URL to show it."""

    id: UUID
    stage: Stage
    url: str
    at: datetime


class WorkOrderTimeRead(msgspec.Struct, kw_only=True):
    """A time-log entry; `stopped_at` null while it runs."""

    account_name: str | None
    started_at: datetime
    stopped_at: datetime | None


class DuplicateRef(msgspec.Struct, kw_only=True):
    """An earlier open report of the same asset: a request from a label still pending, or an
    order not done yet (api/workorders/duplicates.py)."""

    kind: Literal["label_request", "work_order"]
    id: UUID
    title: str  # the order's title, or the start of the request's description
    state: str  # `pending` for a request, the order's state
    created_at: datetime


class WorkOrderDetail(WorkOrderRead, kw_only=True):
    """One order with its history, photos and time log (`minutes`: the stopped entries' sum)."""

    history: list[WorkOrderEntryRead]
    photos: list[WorkOrderPhotoRead]
    time: list[WorkOrderTimeRead]
    minutes: int
    working: bool  # the caller's time on it is running
    parts: list[WorkOrderPartRead]  # spare parts taken out of stock for it
    signature_url: str | None  # the signature image (10-minute URL), once done with one
    # a resident's request not taken yet, to its managers: earlier open reports of its asset
    possible_duplicates: list[DuplicateRef] = []


class WorkOrderAssign(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Give the order to a maintenance staff member (maintenance may take a new one themselves)."""

    assignee_id: UUID
    note: Note = ""


class SignatureUpload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A signature drawn on the phone: a PNG, base64 in JSON (at most 200 kB; checked by its
    bytes)."""

    content_type: Literal["image/png"]
    data: Annotated[bytes, Meta(min_length=8, max_length=200_000)]


class WorkOrderMove(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Move the order: `waiting` says what for; `done` carries the closing report, the checklist
    steps done (their indexes) and, where the order requires one, the signature."""

    to: Move
    note: Note = ""
    waiting_for: WaitingFor = ""
    cause: Text = ""
    report: Text = ""
    checked: Annotated[list[Annotated[int, Meta(ge=0, lt=30)]], Meta(max_length=30)] = []
    signature: SignatureUpload | None = None


class WorkOrderTime(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Start or stop the caller's time on the order."""

    action: Literal["start", "stop"]


class WorkOrderPhotoCreate(WorkOrderPhotoUpload, kw_only=True, forbid_unknown_fields=True):
    """A photo before or after the work."""

    stage: Literal["before", "after"]


class WorkOrderRating(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The requester's rating of a done request."""

    stars: Annotated[int, Meta(ge=1, le=5)]
    note: Note = ""


class MaintenanceStaffRead(msgspec.Struct, kw_only=True):
    """A maintenance staff member an order may be given to."""

    id: UUID
    name: str


# -- parts used on an order ----------------------------------------------------------------------


class PartUsed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """So many of one spare part of the order's community."""

    part_id: UUID
    quantity: Annotated[int, Meta(ge=1, le=1000)]


class PartsUsedCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Parts used on the order, taken out of stock together: all or none."""

    items: Annotated[list[PartUsed], Meta(min_length=1, max_length=20)]
    note: Note = ""


class PartsReturnCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Parts the order took and did not use, back to stock together: all or none, never more
    of a part than the order took net of its earlier returns."""

    items: Annotated[list[PartUsed], Meta(min_length=1, max_length=20)]
    note: Note = ""


class WorkOrderPartRead(msgspec.Struct, kw_only=True):
    """Parts taken out of stock for the order, or returned from it (one stock movement)."""

    part_id: UUID
    code: str
    name: str
    unit: str
    kind: Literal["used", "returned"]
    quantity: int  # what the order holds by this movement: positive taken, negative returned
    unit_cost: int | None  # fen, the part's price when it was taken (kept when it changes)
    cost: int | None  # fen, quantity × unit_cost (negative for a return); None: no price
    actor_name: str | None
    at: datetime


class ExternalCostSet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The order's cost outside its parts (fen), e.g. a contractor's invoice; null clears it."""

    amount: Annotated[int, Meta(ge=0, le=2_000_000_000)] | None
    note: Annotated[str, Meta(max_length=200)] = ""


class AssetOrderCost(msgspec.Struct, kw_only=True):
    """One order of an asset and what it cost (fen): its parts at their price then, and its
    external cost."""

    id: UUID
    title: str
    kind: str
    state: str
    fault: str | None
    created_at: datetime
    done_at: datetime | None
    parts_cost: int
    external_cost: int
    cost: int
    unpriced_parts: int  # parts taken with no unit cost (not in parts_cost)


class AssetCosts(Page, kw_only=True):
    """An asset's costs (fen): its purchase, its maintenance to date (every order's parts and
    external costs, summed in SQL) and a page of its orders, newest first, with theirs."""

    asset_id: UUID
    purchase_cost: int | None
    parts_cost: int
    external_cost: int
    maintenance_cost: int
    items: list[AssetOrderCost]


# -- repair requests from QR labels --------------------------------------------------------------

RequestStatus = Literal["pending", "approved", "rejected"]
MAX_REPORT_PHOTOS = 3


class ReportPage(msgspec.Struct, kw_only=True):
    """What the public report page shows of a labelled asset: nothing personal."""

    asset_name: str
    asset_code: str
    location: str
    community_name: str
    max_photos: int = MAX_REPORT_PHOTOS


class ReportCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A repair request from the asset's label: what is wrong, a phone to call back, photos."""

    description: Annotated[str, Meta(min_length=1, max_length=1000)]
    phone: Annotated[str, Meta(min_length=5, max_length=20)]
    photos: Annotated[list[WorkOrderPhotoUpload], Meta(max_length=MAX_REPORT_PHOTOS)] = []


class ReportFiled(msgspec.Struct, kw_only=True):
    """Filed: the code (and the page) to follow the request by; shown once."""

    status: Literal["pending"]
    tracking_code: str
    track_path: str


class ReportTrack(msgspec.Struct, kw_only=True):
    """A request as its tracking code shows it: where it stands, nothing personal."""

    status: RequestStatus
    reason: str
    asset_name: str
    location: str
    created_at: datetime
    decided_at: datetime | None
    order_state: State | None
    done_at: datetime | None
    closed_at: datetime | None


class LabelRequestRead(msgspec.Struct, kw_only=True):
    """A request from a label, as a manager reviews it (the phone masked)."""

    id: UUID
    community_id: UUID
    device_id: UUID
    asset_name: str
    asset_code: str
    location: str
    description: str
    phone: str
    from_resident: bool
    photos: list[WorkOrderPhotoRead]
    status: RequestStatus
    reason: str
    work_order_id: UUID | None
    decided_by_name: str | None
    decided_at: datetime | None
    created_at: datetime
    # while pending: earlier open reports of the same asset (it may be a duplicate of them)
    possible_duplicates: list[DuplicateRef] = []


class LabelRequestPage(Page, kw_only=True):
    """A page of requests from labels."""

    items: list[LabelRequestRead]


class LabelRequestApprove(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Approve: the order's title (default: the asset's name and 报修) and priority."""

    title: Annotated[str, Meta(max_length=200)] = ""
    priority: Priority = "normal"


class LabelRequestReject(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Reject, saying why (the requester reads it on the tracking page); `duplicate`: as a
    duplicate of the earlier open reports of its asset (the audit entry names them)."""

    reason: Annotated[str, Meta(min_length=1, max_length=200)]
    duplicate: bool = False


# -- preventive maintenance plans ------------------------------------------------------------------

Frequency = Literal["daily", "weekly", "monthly", "quarterly", "yearly", "every_n_days"]
AssetKind = Annotated[str, Meta(min_length=1, max_length=24, pattern=r"^[a-z][a-z_]*$")]
Step = Annotated[str, Meta(min_length=1, max_length=200)]
Checklist = Annotated[list[Step], Meta(max_length=30)]
PlanName = Annotated[str, Meta(min_length=1, max_length=100)]
Horizon = Annotated[int, Meta(ge=1, le=366)]
IntervalDays = Annotated[int, Meta(ge=1, le=366)]


class MaintenancePlanRead(msgspec.Struct, kw_only=True):
    """A preventive maintenance plan (保养计划)."""

    id: UUID
    community_id: UUID
    name: str
    asset_kind: str
    frequency: Frequency
    interval_days: int | None
    starts_on: date
    due_time: time
    horizon_days: int
    priority: Priority
    assignee_id: UUID | None
    assignee_name: str | None
    checklist: list[str]
    signature_required: bool
    paused: bool
    description: str
    assets: int  # in-service assets of its kind in the community, now
    open_orders: int  # its orders not yet closed or cancelled
    created_at: datetime
    updated_at: datetime


class MaintenancePlanPage(Page, kw_only=True):
    """A page of plans."""

    items: list[MaintenancePlanRead]


class MaintenancePlanCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new plan: which assets (the community's in-service ones of `asset_kind`), how often
    (`interval_days` only with `every_n_days`), from which date, due at what wall-clock time, who
    does it by default (a maintenance staff member; none: the order waits to be taken), the steps,
    whether done needs a signature, and how many days ahead its orders are made."""

    community_id: UUID
    name: PlanName
    asset_kind: AssetKind
    frequency: Frequency
    interval_days: IntervalDays | None = None
    starts_on: date
    due_time: time | None = None  # none: 17:00
    horizon_days: Horizon = 30
    priority: Priority = "normal"
    assignee_id: UUID | None = None
    checklist: Checklist = []
    signature_required: bool = False
    description: Text = ""


class MaintenancePlanUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a plan. The schedule (frequency, interval, start, time) is fixed once orders may
    exist: a new schedule is a new plan. Changes reach the orders generated from now on."""

    name: PlanName | msgspec.UnsetType = msgspec.UNSET
    horizon_days: Horizon | msgspec.UnsetType = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    assignee_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    checklist: Checklist | msgspec.UnsetType = msgspec.UNSET
    signature_required: bool | msgspec.UnsetType = msgspec.UNSET
    description: Text | msgspec.UnsetType = msgspec.UNSET


class MaintenancePlanPreview(msgspec.Struct, kw_only=True):
    """What generating the plan `days` ahead would create now: how many orders, over how many
    assets, and the first and last due dates among them."""

    days: int
    orders: int
    assets: int
    first_due_on: date | None
    last_due_on: date | None


class MaintenancePlanExecution(msgspec.Struct, kw_only=True):
    """How a plan is being carried out: its orders due on `since`…`until` (site dates), as of
    now. `generated` = `done_on_time` + `done_late` + `overdue` + `open` + `cancelled`."""

    plan_id: UUID
    since: date
    until: date
    generated: int  # orders of the plan due in the period
    done_on_time: int  # done (or closed) at or before their due time
    done_late: int  # done (or closed) after it
    overdue: int  # not done, past their due time
    open: int  # not done, not due yet
    cancelled: int  # cancelled (plan deleted, asset retired, by hand)
    on_time_rate: float | None  # done on time / (generated − cancelled − open); none: nothing due
