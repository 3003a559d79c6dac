"""The O&M records API: records (incidents, problems, changes, releases, defects) with their moves
and links; duty handovers and their acknowledgement; drills and training with attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.core.auth import Caller
from api.core.effects import Effects
from api.core.paging import PageNumber, PageSize
from api.operations import drills, handovers, records
from api.operations.catalogue import Kind, Severity
from api.operations.schemas import (
    AttachmentUpload,
    DrillCreate,
    DrillDetail,
    DrillKind,
    DrillPage,
    DrillUpdate,
    HandoverAck,
    HandoverCreate,
    HandoverPage,
    HandoverRead,
    LinkCreate,
    OpsRecordCreate,
    OpsRecordDetail,
    OpsRecordMove,
    OpsRecordPage,
    OpsRecordUpdate,
    StaffRead,
)

Query = Annotated[str | None, Parameter(max_length=100)]
StateFilter = Annotated[str | None, Parameter(query="state", max_length=16)]


class OpsRecordController(Controller):
    """O&M records (运维记录): incidents, problems, changes, releases and defects."""

    path = "/api/v1/operations/records"
    tags = ["operations"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_record(self, caller: Caller, data: OpsRecordCreate) -> OpsRecordDetail:
        """File a record; its kind is `details.kind`, it opens in the kind's first state."""
        return await records.create(caller, data)

    @get("/")
    async def list_records(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        kind: Kind | None = None,
        record_state: StateFilter = None,
        severity: Severity | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        q: Query = None,
        mine: bool = False,
        open_only: Annotated[bool, Parameter(query="open")] = False,
    ) -> OpsRecordPage:
        """Records of my communities, newest first; filters: kind, state, severity, created
        in [since, until), text `q`, `mine` (owned by me), `open` (not final)."""
        return await records.list_records(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            kind=kind,
            state=record_state,
            severity=severity,
            since=since,
            until=until,
            q=q,
            mine=mine,
            open_only=open_only,
        )

    @get("/staff")
    async def staff(self, caller: Caller, community_id: UUID | None = None) -> list[StaffRead]:
        """The community's staff: owners of records, participants of drills."""
        return await records.staff(caller, community_id)

    @get("/{ops_record_id:uuid}")
    async def get_record(self, caller: Caller, ops_record_id: UUID) -> OpsRecordDetail:
        """One record with its history and links."""
        return await records.detail(caller, ops_record_id)

    @patch("/{ops_record_id:uuid}")
    async def update_record(
        self, caller: Caller, ops_record_id: UUID, data: OpsRecordUpdate
    ) -> OpsRecordDetail:
        """Edit a record that is not final (409 `record_final` once it is)."""
        return await records.update(caller, ops_record_id, data)

    @post("/{ops_record_id:uuid}/moves", status_code=HTTP_200_OK)
    async def move(
        self, caller: Caller, ops_record_id: UUID, data: OpsRecordMove
    ) -> OpsRecordDetail:
        """Move the record (409 `transition_not_allowed`; 400 `fields_required`)."""
        return await records.move(caller, ops_record_id, data)

    @post("/{ops_record_id:uuid}/links", status_code=HTTP_200_OK)
    async def link(self, caller: Caller, ops_record_id: UUID, data: LinkCreate) -> OpsRecordDetail:
        """Link the record to an alarm, a work order or another record of its community."""
        return await records.link(caller, ops_record_id, data)


class HandoverController(Controller):
    """The duty handover log (交接班) on the duty roster."""

    path = "/api/v1/operations/handovers"
    tags = ["operations"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_handover(
        self, caller: Caller, effects: Effects, data: HandoverCreate
    ) -> HandoverRead:
        """The outgoing guard hands over to the incoming one (guards)."""
        return await handovers.create(caller, data, effects)

    @get("/")
    async def list_handovers(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        shift_id: UUID | None = None,
        handover_state: Annotated[
            Literal["pending", "acknowledged"] | None, Parameter(query="state")
        ] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        mine: bool = False,
    ) -> HandoverPage:
        """Handovers of my communities, newest first; per shift, state, time; `mine`."""
        return await handovers.list_handovers(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            shift_id=shift_id,
            state=handover_state,
            since=since,
            until=until,
            mine=mine,
        )

    @get("/guards")
    async def incoming_guards(
        self, caller: Caller, community_id: UUID | None = None
    ) -> list[StaffRead]:
        """The guards I may hand over to."""
        return await handovers.incoming_guards(caller, community_id)

    @get("/{handover_id:uuid}")
    async def get_handover(self, caller: Caller, handover_id: UUID) -> HandoverRead:
        """One handover."""
        return await handovers.get(caller, handover_id)

    @post("/{handover_id:uuid}/acknowledge", status_code=HTTP_200_OK)
    async def acknowledge(
        self, caller: Caller, handover_id: UUID, data: HandoverAck
    ) -> HandoverRead:
        """The incoming guard acknowledges (409 `not_incoming`, `already_acknowledged`)."""
        return await handovers.acknowledge(caller, handover_id, data)


class DrillController(Controller):
    """Drill and training records (应急演练 / 培训)."""

    path = "/api/v1/operations/drills"
    tags = ["operations"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_drill(self, caller: Caller, state: State, data: DrillCreate) -> DrillDetail:
        """Record a drill or training (managers)."""
        return await drills.create(caller, data, state.objects)

    @get("/")
    async def list_drills(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        kind: DrillKind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        q: Query = None,
        mine: bool = False,
    ) -> DrillPage:
        """Drills and training of my communities, latest first; `mine`: I took part."""
        return await drills.list_drills(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            kind=kind,
            since=since,
            until=until,
            q=q,
            mine=mine,
        )

    @get("/{drill_id:uuid}")
    async def get_drill(self, caller: Caller, state: State, drill_id: UUID) -> DrillDetail:
        """One drill with its participants and attachments."""
        return await drills.detail(caller, drill_id, state.objects)

    @patch("/{drill_id:uuid}")
    async def update_drill(
        self, caller: Caller, state: State, drill_id: UUID, data: DrillUpdate
    ) -> DrillDetail:
        """Edit a drill (its evaluation, its participants)."""
        return await drills.update(caller, drill_id, data, state.objects)

    @post("/{drill_id:uuid}/attachments", status_code=HTTP_201_CREATED)
    async def add_attachment(
        self, caller: Caller, state: State, drill_id: UUID, data: AttachmentUpload
    ) -> DrillDetail:
        """A photo or PDF of the drill (at most 700 kB; checked by its bytes)."""
        return await drills.add_attachment(caller, drill_id, data, state.objects)


OPERATIONS_CONTROLLERS = [OpsRecordController, HandoverController, DrillController]
