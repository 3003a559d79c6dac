"""The O&M records API's bodies: records with their kind's own fields, history and links; duty
handovers; drills and training with participants and attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from api.core.paging import Page
from api.operations.catalogue import Kind, LinkType, Outcome, Risk, Severity

Title = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=4000)]
Needed = Annotated[str, Meta(min_length=1, max_length=4000)]
Note = Annotated[str, Meta(max_length=500)]
Category = Annotated[str, Meta(max_length=40)]
StateName = Annotated[str, Meta(min_length=1, max_length=16)]


# -- the kinds' own fields -------------------------------------------------------------------------


class IncidentDetails(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind", tag="incident"
):
    """事件: what it affects (areas, services), how it was resolved, the evaluation of the
    resolution and the closing summary report (8.1.6, 8.5.6)."""

    impact: Text = ""
    resolution: Text = ""
    evaluation: Text = ""
    summary: Text = ""


class ProblemDetails(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind", tag="problem"
):
    """问题: the root cause and workaround (a known error, the knowledge base's entry), the
    solution and its evaluation (8.1.7)."""

    root_cause: Text = ""
    workaround: Text = ""
    solution: Text = ""
    evaluation: Text = ""


class ChangeDetails(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind", tag="change"
):
    """变更: its scope, risk and rollback plan up front; how the implementation went and the
    review of it afterwards (8.1.8)."""

    scope: Needed
    risk: Risk
    rollback_plan: Needed
    planned_at: datetime | None = None
    outcome: Outcome = ""
    implementation: Text = ""
    review: Text = ""


class ReleaseDetails(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind", tag="release"
):
    """发布: what version, the release plan, the recorded result and its analysis (8.1.10)."""

    version: Annotated[str, Meta(min_length=1, max_length=60)]
    plan: Needed
    planned_at: datetime | None = None
    result: Text = ""
    analysis: Text = ""


class DefectDetails(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind", tag="defect"
):
    """缺陷: where it is and what it affects, the fix, the evaluation and the improvement plan
    (8.1.11)."""

    component: Annotated[str, Meta(max_length=120)] = ""
    impact: Text = ""
    fix: Text = ""
    analysis: Text = ""
    improvement_plan: Text = ""


Details = IncidentDetails | ProblemDetails | ChangeDetails | ReleaseDetails | DefectDetails
DETAILS: dict[str, type[Details]] = {
    "incident": IncidentDetails,
    "problem": ProblemDetails,
    "change": ChangeDetails,
    "release": ReleaseDetails,
    "defect": DefectDetails,
}


def kind_of(details: Details) -> str:
    """The record kind the details belong to (their tag)."""
    return str(type(details).__struct_config__.tag)


# -- records ---------------------------------------------------------------------------------------


class LinkCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Link a record to an alarm, a work order or another record of its community."""

    target_type: LinkType
    target_id: UUID


class OpsRecordCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new record; its kind is its details' `kind`. Staff of one community may leave
    `community_id` out."""

    title: Title
    details: Details
    description: Text = ""
    severity: Severity = "minor"
    category: Category = ""
    community_id: UUID | None = None
    owner_id: UUID | None = None
    links: Annotated[list[LinkCreate], Meta(max_length=20)] = []


class OpsRecordUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Edit a record that is not final; `details` replaces the kind's fields whole."""

    title: Title | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    severity: Severity | UnsetType = UNSET
    category: Category | UnsetType = UNSET
    owner_id: UUID | UnsetType | None = UNSET
    details: Details | UnsetType = UNSET


class OpsRecordMove(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Move a record to another state of its kind; `details` (whole) fills what the move needs."""

    to: StateName
    note: Note = ""
    details: Details | None = None


class LinkRead(msgspec.Struct, kw_only=True):
    """A linked alarm, work order or record, with its label and state."""

    target_type: LinkType
    target_id: UUID
    label: str
    state: str


class OpsRecordRead(msgspec.Struct, kw_only=True):
    """A record as a list shows it; `moves`: the states the caller may move it to now."""

    id: UUID
    community_id: UUID
    kind: Kind
    state: str
    severity: Severity
    category: str
    title: str
    description: str
    details: Details
    reported_by_id: UUID | None
    reported_by_name: str | None
    owner_id: UUID | None
    owner_name: str | None
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    moves: list[str]


class OpsRecordPage(Page, kw_only=True):
    """A page of records."""

    items: list[OpsRecordRead]


class OpsEntryRead(msgspec.Struct, kw_only=True):
    """One line of a record's history."""

    at: datetime
    kind: str
    actor_name: str | None
    from_state: str
    to_state: str
    text: str


class OpsRecordDetail(OpsRecordRead, kw_only=True):
    """One record with its history and links."""

    history: list[OpsEntryRead]
    links: list[LinkRead]
    linked_from: list[LinkRead]  # records that link to this one (a problem's, to its incident)


class StaffRead(msgspec.Struct, kw_only=True):
    """A staff member of a community (owner, participant, incoming guard)."""

    id: UUID
    name: str
    role: str


# -- duty handovers --------------------------------------------------------------------------------


class HandoverCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The outgoing guard's handover to the incoming one. `shift_id`: the caller's shift it ends
    (left out: the caller's shift running now, if any)."""

    to_account_id: UUID
    community_id: UUID | None = None
    shift_id: UUID | None = None
    open_items: Text = ""
    notes: Text = ""
    keys_equipment: Text = ""


class HandoverAck(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The incoming guard's acknowledgement (a remark, if anything is not as written)."""

    note: Note = ""


class HandoverRead(msgspec.Struct, kw_only=True):
    """A handover; `state` is pending until the incoming guard acknowledges it."""

    id: UUID
    community_id: UUID
    state: Literal["pending", "acknowledged"]
    shift_id: UUID | None
    shift_starts_at: datetime | None
    shift_ends_at: datetime | None
    to_shift_id: UUID | None
    from_account_id: UUID | None
    from_name: str | None
    to_account_id: UUID | None
    to_name: str | None
    open_items: str
    notes: str
    keys_equipment: str
    created_at: datetime
    acknowledged_at: datetime | None
    ack_note: str


class HandoverPage(Page, kw_only=True):
    """A page of handovers."""

    items: list[HandoverRead]


# -- drills and training ---------------------------------------------------------------------------

DrillKind = Literal["fire_drill", "emergency_plan_drill", "training"]
AttachmentType = Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]


class AttachmentUpload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A photo or file: `data` is base64 in JSON (at most 700 kB; checked by its bytes)."""

    name: Annotated[str, Meta(min_length=1, max_length=120)]
    content_type: AttachmentType
    data: Annotated[bytes, Meta(min_length=8, max_length=700_000)]


class DrillCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A drill or training held: when, where, what, who took part (staff accounts)."""

    kind: DrillKind
    title: Title
    held_at: datetime
    content: Needed
    community_id: UUID | None = None
    location: Annotated[str, Meta(max_length=200)] = ""
    plan_id: UUID | None = None
    evaluation: Text = ""
    participant_ids: Annotated[list[UUID], Meta(max_length=200)] = []


class DrillUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Edit a drill (the evaluation is often written afterwards); participants replace whole."""

    title: Title | UnsetType = UNSET
    held_at: datetime | UnsetType = UNSET
    location: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    content: Needed | UnsetType = UNSET
    evaluation: Text | UnsetType = UNSET
    participant_ids: Annotated[list[UUID], Meta(max_length=200)] | UnsetType = UNSET


class ParticipantRead(msgspec.Struct, kw_only=True):
    """A participant of a drill."""

    id: UUID
    name: str


class AttachmentRead(msgspec.Struct, kw_only=True):
    """An attachment with a short-lived URL."""

    id: UUID
    name: str
    content_type: str
    size: int
    url: str
    at: datetime


class DrillRead(msgspec.Struct, kw_only=True):
    """A drill or training as a list shows it."""

    id: UUID
    community_id: UUID
    kind: DrillKind
    title: str
    held_at: datetime
    location: str
    plan_id: UUID | None
    plan_title: str | None
    content: str
    evaluation: str
    recorded_by_name: str | None
    participants: list[ParticipantRead]
    created_at: datetime


class DrillPage(Page, kw_only=True):
    """A page of drills."""

    items: list[DrillRead]


class DrillDetail(DrillRead, kw_only=True):
    """One drill with its attachments."""

    attachments: list[AttachmentRead]
