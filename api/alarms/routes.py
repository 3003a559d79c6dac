"""Alarms on the board, their handling, and SOS from residents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.alarms import plans, reads, service, sos
from api.alarms.catalogue import AlarmType
from api.alarms.catalogue import State as AlarmState
from api.alarms.device_faults import DeviceFaultController
from api.alarms.routes_config import (
    DutyShiftController,
    PlanController,
    RuleController,
    ZoneController,
)
from api.alarms.schemas import (
    AlarmCounts,
    AlarmDetail,
    AlarmPage,
    AssignBody,
    ChecklistStep,
    DispatchBody,
    MediaCreate,
    NoteCreate,
    PlanStats,
    SosCreate,
    SosRead,
    TransitionBody,
)
from api.core.auth import Caller
from api.core.effects import Effects
from api.core.paging import PageNumber, PageSize


class AlarmController(Controller):
    """The alarm board: list, detail, and every step of handling an alarm."""

    path = "/api/v1/alarms"
    tags = ["alarms"]

    @get("/")
    async def list_alarms(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        alarm_state: Annotated[AlarmState | None, Parameter(query="state")] = None,
        alarm_type: Annotated[AlarmType | None, Parameter(query="type")] = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AlarmPage:
        """Alarms newest first: guards, managers and police their communities', residents their
        household's."""
        return await reads.list_alarms(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            state=alarm_state,
            alarm_type=alarm_type,
            since=since,
            until=until,
        )

    @get("/counts")
    async def count_alarms(
        self,
        caller: Caller,
        community_id: UUID | None = None,
        alarm_type: Annotated[AlarmType | None, Parameter(query="type")] = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AlarmCounts:
        """How many alarms of each state the list would hold for the same filters (the board's
        chips, in one request)."""
        return await reads.count_alarms(
            caller, community_id=community_id, alarm_type=alarm_type, since=since, until=until
        )

    @get("/plan-stats")
    async def plan_stats(
        self,
        caller: Caller,
        community_id: UUID,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[PlanStats]:
        """How each emergency plan was used: alarms, steps done, median time to acknowledge and
        to close (default: the last 30 days)."""
        return await plans.plan_stats(caller, community_id=community_id, since=since, until=until)

    @get("/{alarm_id:uuid}")
    async def get_alarm(self, caller: Caller, state: State, alarm_id: UUID) -> AlarmDetail:
        """One alarm with its timeline, plan checklist and photos (presigned URLs)."""
        return await reads.detail(caller, alarm_id, state.objects)

    async def _transition(
        self,
        caller: Caller,
        effects: Effects,
        state: State,
        alarm_id: UUID,
        to: str,
        data: TransitionBody | None,
    ) -> AlarmDetail:
        await service.transition(caller, alarm_id, to, effects, note=data.note if data else "")
        return await reads.detail(caller, alarm_id, state.objects)

    @post("/{alarm_id:uuid}/acknowledge", status_code=HTTP_200_OK)
    async def acknowledge(
        self,
        caller: Caller,
        effects: Effects,
        state: State,
        alarm_id: UUID,
        data: TransitionBody | None = None,
    ) -> AlarmDetail:
        """new → acknowledged; the resident of an SOS hears who acknowledged it."""
        return await self._transition(caller, effects, state, alarm_id, "acknowledged", data)

    @post("/{alarm_id:uuid}/dispatch", status_code=HTTP_200_OK)
    async def dispatch(
        self,
        caller: Caller,
        effects: Effects,
        state: State,
        alarm_id: UUID,
        data: DispatchBody | None = None,
    ) -> AlarmDetail:
        """acknowledged → dispatched, optionally to someone (who is notified)."""
        await service.dispatch(caller, alarm_id, data or DispatchBody(), effects)
        return await reads.detail(caller, alarm_id, state.objects)

    @post("/{alarm_id:uuid}/resolve", status_code=HTTP_200_OK)
    async def resolve(
        self,
        caller: Caller,
        effects: Effects,
        state: State,
        alarm_id: UUID,
        data: TransitionBody | None = None,
    ) -> AlarmDetail:
        """acknowledged or dispatched → resolved (closing twice is 409)."""
        return await self._transition(caller, effects, state, alarm_id, "resolved", data)

    @post("/{alarm_id:uuid}/false-alarm", status_code=HTTP_200_OK)
    async def false_alarm(
        self,
        caller: Caller,
        effects: Effects,
        state: State,
        alarm_id: UUID,
        data: TransitionBody | None = None,
    ) -> AlarmDetail:
        """acknowledged or dispatched → false_alarm."""
        return await self._transition(caller, effects, state, alarm_id, "false_alarm", data)

    @post("/{alarm_id:uuid}/assign", status_code=HTTP_200_OK)
    async def assign(
        self,
        caller: Caller,
        effects: Effects,
        state: State,
        alarm_id: UUID,
        data: AssignBody,
    ) -> AlarmDetail:
        """Hand the alarm to a guard or manager of its community (who is notified)."""
        await service.assign(caller, alarm_id, data.account_id, effects)
        return await reads.detail(caller, alarm_id, state.objects)

    @post("/{alarm_id:uuid}/notes", status_code=HTTP_201_CREATED)
    async def add_note(
        self,
        caller: Caller,
        effects: Effects,
        state: State,
        alarm_id: UUID,
        data: NoteCreate,
    ) -> AlarmDetail:
        """A note on the alarm's timeline."""
        await service.add_note(caller, alarm_id, data.text, effects)
        return await reads.detail(caller, alarm_id, state.objects)

    @post("/{alarm_id:uuid}/media", status_code=HTTP_201_CREATED)
    async def add_media(
        self,
        caller: Caller,
        effects: Effects,
        state: State,
        alarm_id: UUID,
        data: MediaCreate,
    ) -> AlarmDetail:
        """A photo of the scene (JPEG, PNG or WebP, base64), kept as long as the alarm."""
        await service.upload_media(caller, state.objects, alarm_id, data, effects)
        return await reads.detail(caller, alarm_id, state.objects)

    @post("/{alarm_id:uuid}/steps/{index:int}", status_code=HTTP_200_OK)
    async def tick_step(
        self, caller: Caller, effects: Effects, alarm_id: UUID, index: int
    ) -> list[ChecklistStep]:
        """Mark a step of the alarm's emergency plan done (timestamped, with who)."""
        return await plans.tick_step(caller, alarm_id, index, effects)


class SosController(Controller):
    """A resident's call for help (一键求助)."""

    path = "/api/v1/sos"
    tags = ["alarms"]

    @post("/", status_code=HTTP_201_CREATED)
    async def raise_sos(self, caller: Caller, effects: Effects, data: SosCreate) -> SosRead:
        """Call for help: every on-duty guard and the property managers are told at once. A second
        press while the first is open joins it."""
        alarm_id = await sos.raise_sos(caller, data, effects)
        return await sos.sos_read(caller, alarm_id)

    @get("/{alarm_id:uuid}")
    async def get_sos(self, caller: Caller, alarm_id: UUID) -> SosRead:
        """The resident's SOS: its state, who acknowledged it and when."""
        return await sos.sos_read(caller, alarm_id)


ALARM_CONTROLLERS = [
    AlarmController,
    SosController,
    ZoneController,
    PlanController,
    RuleController,
    DutyShiftController,
    DeviceFaultController,
]
