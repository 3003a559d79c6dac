"""The work-order API's bodies: orders, their history, photos, time log, rating."""

from __future__ import annotations

from datetime import datetime
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


class WorkOrderDetail(WorkOrderRead, kw_only=True):
    """One order with its history, photos and time log (`minutes`: the stopped entries' sum)."""

    history: list[WorkOrderEntryRead]
    photos: list[WorkOrderPhotoRead]
    time: list[WorkOrderTimeRead]
    minutes: int
    working: bool  # the caller's time on it is running
    parts: list[WorkOrderPartRead]  # spare parts taken out of stock for it


class WorkOrderAssign(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Give the order to a maintenance staff member (maintenance may take a new one themselves)."""

    assignee_id: UUID
    note: Note = ""


class WorkOrderMove(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Move the order: `waiting` says what for; `done` carries the closing report."""

    to: Move
    note: Note = ""
    waiting_for: WaitingFor = ""
    cause: Text = ""
    report: Text = ""


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


class WorkOrderPartRead(msgspec.Struct, kw_only=True):
    """Parts taken out of stock for the order (one stock movement)."""

    part_id: UUID
    code: str
    name: str
    unit: str
    quantity: int
    actor_name: str | None
    at: datetime


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


class LabelRequestPage(Page, kw_only=True):
    """A page of requests from labels."""

    items: list[LabelRequestRead]


class LabelRequestApprove(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Approve: the order's title (default: the asset's name and 报修) and priority."""

    title: Annotated[str, Meta(max_length=200)] = ""
    priority: Priority = "normal"


class LabelRequestReject(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Reject, saying why (the requester reads it on the tracking page)."""

    reason: Annotated[str, Meta(min_length=1, max_length=200)]
