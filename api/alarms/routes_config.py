"""Setting alarms up: zones and their arming, emergency plans, linkage rules, the duty roster."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.alarms import plans, roster, rules, schedules, zones
from api.alarms.catalogue import AlarmType, ZoneKind
from api.alarms.schemas_config import (
    ArmResult,
    GuardRead,
    OnDutyRead,
    PlanCreate,
    PlanPage,
    PlanRead,
    PlanUpdate,
    RuleCreate,
    RulePage,
    RuleRead,
    RuleUpdate,
    ScheduleCreate,
    ScheduleRead,
    ShiftCreate,
    ShiftPage,
    ShiftRead,
    ZoneCreate,
    ZonePage,
    ZoneRead,
    ZoneUpdate,
)
from api.core.auth import Caller
from api.core.effects import Effects
from api.core.paging import PageNumber, PageSize
from api.devices.bus import CommandBus
from api.devices.routes import provide_bus


class ZoneController(Controller):
    """Protection zones: configuration (managers), arming and disarming, schedules."""

    path = "/api/v1/zones"
    tags = ["alarms"]
    dependencies = {"bus": Provide(provide_bus, sync_to_thread=False)}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_zone(self, caller: Caller, effects: Effects, data: ZoneCreate) -> ZoneRead:
        """A zone of the community or of a household (property managers)."""
        return await zones.create_zone(caller, data, effects)

    @get("/")
    async def list_zones(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        kind: ZoneKind | None = None,
    ) -> ZonePage:
        """Zones in scope; residents see their household's."""
        return await zones.list_zones(
            caller, page=page, page_size=page_size, community_id=community_id, kind=kind
        )

    @get("/{zone_id:uuid}")
    async def get_zone(self, caller: Caller, zone_id: UUID) -> ZoneRead:
        """One zone and its state."""
        return await zones.get_zone(caller, zone_id)

    @patch("/{zone_id:uuid}")
    async def update_zone(
        self, caller: Caller, effects: Effects, zone_id: UUID, data: ZoneUpdate
    ) -> ZoneRead:
        """Rename a zone or change its entry delay or devices."""
        return await zones.update_zone(caller, zone_id, data, effects)

    @delete("/{zone_id:uuid}")
    async def delete_zone(self, caller: Caller, effects: Effects, zone_id: UUID) -> None:
        """Delete a zone no plan or rule uses (409 otherwise); its alarms stay on record."""
        await zones.delete_zone(caller, zone_id, effects)

    @post("/{zone_id:uuid}/arm", status_code=HTTP_200_OK)
    async def arm(
        self, caller: Caller, effects: Effects, bus: CommandBus, zone_id: UUID
    ) -> ArmResult:
        """Arm (布防) a zone; its detectors are told too."""
        return await zones.arm(caller, bus, zone_id, True, effects)

    @post("/{zone_id:uuid}/disarm", status_code=HTTP_200_OK)
    async def disarm(
        self, caller: Caller, effects: Effects, bus: CommandBus, zone_id: UUID
    ) -> ArmResult:
        """Disarm (撤防) a zone; household SOS zones never disarm (409)."""
        return await zones.arm(caller, bus, zone_id, False, effects)

    @post("/{zone_id:uuid}/schedules", status_code=HTTP_201_CREATED)
    async def add_schedule(
        self, caller: Caller, zone_id: UUID, data: ScheduleCreate
    ) -> ScheduleRead:
        """Arm and disarm the zone by itself on weekdays (site wall-clock time)."""
        return await schedules.add_schedule(caller, zone_id, data)

    @get("/{zone_id:uuid}/schedules")
    async def list_schedules(self, caller: Caller, zone_id: UUID) -> list[ScheduleRead]:
        """The zone's schedules."""
        return await schedules.list_schedules(caller, zone_id)

    @delete("/{zone_id:uuid}/schedules/{schedule_id:uuid}")
    async def delete_schedule(self, caller: Caller, zone_id: UUID, schedule_id: UUID) -> None:
        """Remove a schedule."""
        await schedules.delete_schedule(caller, zone_id, schedule_id)


class PlanController(Controller):
    """Emergency plans (预案)."""

    path = "/api/v1/plans"
    tags = ["alarms"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_plan(self, caller: Caller, data: PlanCreate) -> PlanRead:
        """A plan for an alarm type, in every zone or in one (property managers)."""
        return await plans.create_plan(caller, data)

    @get("/")
    async def list_plans(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        alarm_type: AlarmType | None = None,
    ) -> PlanPage:
        """Plans of the caller's communities."""
        return await plans.list_plans(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            alarm_type=alarm_type,
        )

    @get("/{plan_id:uuid}")
    async def get_plan(self, caller: Caller, plan_id: UUID) -> PlanRead:
        """One plan."""
        return await plans.get_plan(caller, plan_id)

    @patch("/{plan_id:uuid}")
    async def update_plan(self, caller: Caller, plan_id: UUID, data: PlanUpdate) -> PlanRead:
        """Change a plan's title or steps (alarms raised already keep theirs)."""
        return await plans.update_plan(caller, plan_id, data)

    @delete("/{plan_id:uuid}")
    async def delete_plan(self, caller: Caller, plan_id: UUID) -> None:
        """Delete a plan."""
        await plans.delete_plan(caller, plan_id)


class RuleController(Controller):
    """Linkage rules (报警联动)."""

    path = "/api/v1/linkage-rules"
    tags = ["alarms"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_rule(self, caller: Caller, effects: Effects, data: RuleCreate) -> RuleRead:
        """A rule; fail-safe rules are pushed to the community's bridges at once."""
        return await rules.create_rule(caller, data, effects)

    @get("/")
    async def list_rules(
        self,
        caller: Caller,
        community_id: UUID | None = None,
        page: PageNumber = 1,
        page_size: PageSize = 50,
    ) -> RulePage:
        """A community's rules; without `community_id`, those of every community the caller
        configures."""
        return await rules.list_rules(
            caller, community_id=community_id, page=page, page_size=page_size
        )

    @get("/{rule_id:uuid}")
    async def get_rule(self, caller: Caller, rule_id: UUID) -> RuleRead:
        """One rule."""
        return await rules.get_rule(caller, rule_id)

    @patch("/{rule_id:uuid}")
    async def update_rule(
        self, caller: Caller, effects: Effects, rule_id: UUID, data: RuleUpdate
    ) -> RuleRead:
        """Change a rule."""
        return await rules.update_rule(caller, rule_id, data, effects)

    @delete("/{rule_id:uuid}")
    async def delete_rule(self, caller: Caller, effects: Effects, rule_id: UUID) -> None:
        """Delete a rule."""
        await rules.delete_rule(caller, rule_id, effects)


class DutyShiftController(Controller):
    """The guards' duty roster."""

    path = "/api/v1/duty-shifts"
    tags = ["alarms"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_shift(self, caller: Caller, data: ShiftCreate) -> ShiftRead:
        """Roster a guard of the community (property managers)."""
        return await roster.create_shift(caller, data)

    @get("/")
    async def list_shifts(
        self,
        caller: Caller,
        community_id: UUID | None = None,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ShiftPage:
        """Shifts overlapping the period, earliest first: of one community, or without
        `community_id` of every community the caller rosters."""
        return await roster.list_shifts(
            caller,
            community_id=community_id,
            page=page,
            page_size=page_size,
            since=since,
            until=until,
        )

    @get("/on-duty")
    async def on_duty(self, caller: Caller, community_id: UUID) -> list[OnDutyRead]:
        """Guards on duty now; every guard of the community when nobody is rostered for now."""
        return await roster.who_is_on_duty(caller, community_id)

    @get("/guards")
    async def list_guards(self, caller: Caller, community_id: UUID) -> list[GuardRead]:
        """The community's guards a property manager may roster."""
        return await roster.rosterable_guards(caller, community_id)

    @delete("/{shift_id:uuid}")
    async def delete_shift(self, caller: Caller, shift_id: UUID) -> None:
        """Take a shift off the roster."""
        await roster.delete_shift(caller, shift_id)
