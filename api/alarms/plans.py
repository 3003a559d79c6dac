"""Emergency plans (预案): editing them, attaching the most specific one to an alarm, ticking its
steps, and how they were used (standard 6.2.10, B5.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from api.alarms.catalogue import CLOSED_STATES
from api.alarms.errors import AlarmClosed, InvalidStep, NoPlan, StepDone, UnknownZone
from api.alarms.reads import BOARD, checklist, entries, in_scope
from api.alarms.rows import AlarmRow
from api.alarms.schemas import ChecklistStep, PlanStats
from api.alarms.schemas_config import PlanCreate, PlanPage, PlanRead, PlanUpdate
from api.alarms.tables import Alarm, AlarmEntry, EmergencyPlan, IntrusionZone
from api.audit.service import record
from api.core.auth import Caller, Scope, require_staff
from api.core.effects import Effects
from api.core.errors import InvalidInput, NotFound
from api.core.paging import equals, paged_page
from api.piccolo_conf import DB

STATS_DEFAULT_PERIOD = timedelta(days=30)


def _now() -> datetime:
    return datetime.now(UTC)


def _read(row: dict[str, Any]) -> PlanRead:
    return PlanRead(
        id=row["id"],
        community_id=row["community"],
        alarm_type=row["alarm_type"],
        zone_id=row["zone"],
        title=row["title"],
        steps=list(row["steps"] or []),
        updated_at=row["updated_at"],
    )


async def zone_of_community(zone_id: UUID | None, community_id: UUID) -> None:
    """InvalidInput (400 unknown_zone) unless the zone is one of the community's."""
    if zone_id is not None and not await IntrusionZone.exists().where(
        (IntrusionZone.id == zone_id) & (IntrusionZone.community == community_id)
    ):
        raise UnknownZone(field="zone_id")


async def plan_for(
    community_id: UUID, alarm_type: str, zone_id: UUID | None
) -> dict[str, Any] | None:
    """The most specific plan for an alarm: the zone's own, else the community's for the type."""
    rows = (
        await EmergencyPlan.select()
        .where(
            (EmergencyPlan.community == community_id)
            & (EmergencyPlan.alarm_type == alarm_type)
            & (
                EmergencyPlan.zone.is_null()
                if zone_id is None
                else (EmergencyPlan.zone.is_null() | (EmergencyPlan.zone == zone_id))
            )
        )
        .order_by(EmergencyPlan.updated_at, ascending=False)
        .output(load_json=True)
    )
    rows.sort(key=lambda r: r["zone"] is None)  # stable: the zone's plans first, newest first
    return rows[0] if rows else None


async def _plan(caller: Caller, plan_id: UUID, permission: str) -> dict[str, Any]:
    row = (
        await EmergencyPlan.select()
        .where(EmergencyPlan.id == plan_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound()
    require_staff(caller, permission, row["community"])
    return row


async def create_plan(caller: Caller, data: PlanCreate) -> PlanRead:
    """A new plan (property managers)."""
    require_staff(caller, "alarm.configure", data.community_id)
    await zone_of_community(data.zone_id, data.community_id)
    async with DB.transaction():
        plan = EmergencyPlan(
            community=data.community_id,
            alarm_type=data.alarm_type,
            zone=data.zone_id,
            title=data.title,
            steps=data.steps,
            updated_at=_now(),
        )
        await plan.save()
        await record(
            "plan.created",
            actor=caller,
            target_type="emergency_plan",
            target_id=plan.id,
            community_id=data.community_id,
            details={"alarm_type": data.alarm_type},
        )
    return await get_plan(caller, plan.id)


async def get_plan(caller: Caller, plan_id: UUID) -> PlanRead:
    """One plan (staff and police of the community)."""
    return _read(await _plan(caller, plan_id, "alarm.read"))


async def list_plans(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    alarm_type: str | None = None,
) -> PlanPage:
    """Plans of the caller's communities (residents have none to see)."""
    return await paged_page(
        PlanPage,
        _read,
        EmergencyPlan.select()
        .order_by(EmergencyPlan.alarm_type)
        .order_by(EmergencyPlan.title)
        .output(load_json=True),
        Scope.of(caller, "alarm.read").where(EmergencyPlan.community),  # staff-only rows
        equals(EmergencyPlan.community, community_id),
        EmergencyPlan.alarm_type == alarm_type if alarm_type else None,
        page=page,
        page_size=page_size,
    )


async def update_plan(caller: Caller, plan_id: UUID, data: PlanUpdate) -> PlanRead:
    """Change a plan's title or steps; alarms raised already keep theirs."""
    row = await _plan(caller, plan_id, "alarm.configure")
    changes: dict[Any, Any] = {
        getattr(EmergencyPlan, f): v
        for f in ("title", "steps")
        if (v := getattr(data, f)) is not msgspec.UNSET
    }
    async with DB.transaction():
        await EmergencyPlan.update({**changes, EmergencyPlan.updated_at: _now()}).where(
            EmergencyPlan.id == plan_id
        )
        await record(
            "plan.updated",
            actor=caller,
            target_type="emergency_plan",
            target_id=plan_id,
            community_id=row["community"],
            details={"fields": sorted(c._meta.name for c in changes)},
        )
    return await get_plan(caller, plan_id)


async def delete_plan(caller: Caller, plan_id: UUID) -> None:
    """Delete a plan; alarms keep the steps they were raised with."""
    row = await _plan(caller, plan_id, "alarm.configure")
    async with DB.transaction():
        await EmergencyPlan.delete().where(EmergencyPlan.id == plan_id)
        await record(
            "plan.deleted",
            actor=caller,
            target_type="emergency_plan",
            target_id=plan_id,
            community_id=row["community"],
        )


async def tick_step(
    caller: Caller, alarm_id: UUID, index: int, effects: Effects
) -> list[ChecklistStep]:
    """Mark one step of the alarm's plan done, with when and by whom."""
    await in_scope(caller, alarm_id, "alarm.handle")
    async with DB.transaction():
        # Lock the alarm: two guards ticking the same step at once tick it once.
        await Alarm.raw("SELECT id FROM alarms WHERE id = {} FOR UPDATE", alarm_id)
        found = await Alarm.select().where(Alarm.id == alarm_id).output(load_json=True).first()
        assert found is not None
        row = msgspec.convert(found, AlarmRow)
        steps = row.plan_steps or []
        if not steps:
            raise NoPlan()
        if not 0 <= index < len(steps):
            raise InvalidStep(f"Step {index} does not exist; the plan has {len(steps)} steps.")
        if row.state in CLOSED_STATES:
            raise AlarmClosed()
        timeline = await entries(alarm_id)
        if any(e.kind == "step" and e.data.get("index") == index for e in timeline):
            raise StepDone()
        await AlarmEntry(
            alarm=alarm_id,
            at=_now(),
            kind="step",
            actor=caller.account_id,
            text=steps[index],
            data={"index": index},
        ).save()
        await record(
            "alarm.step_done",
            actor=caller,
            target_type="alarm",
            target_id=alarm_id,
            community_id=row.community,
            details={"index": index},
        )
    effects.after(BOARD, alarm_id)
    return checklist(row, await entries(alarm_id))


_STATS = """
SELECT p.id, p.title, p.alarm_type, p.zone,
       count(a.id) AS alarms,
       sum(jsonb_array_length(a.plan_steps)) AS steps_total,
       sum((SELECT count(DISTINCT e.data->>'index') FROM alarm_timeline e
            WHERE e.alarm = a.id AND e.kind = 'step')) AS steps_done,
       percentile_cont(0.5) WITHIN GROUP
           (ORDER BY extract(epoch FROM a.acknowledged_at - a.raised_at)) AS ack,
       percentile_cont(0.5) WITHIN GROUP
           (ORDER BY extract(epoch FROM a.resolved_at - a.raised_at)) AS res
FROM emergency_plans p
LEFT JOIN alarms a ON a.plan = p.id AND a.raised_at >= {} AND a.raised_at < {}
WHERE p.community = {}
GROUP BY p.id
ORDER BY p.alarm_type, p.title
"""


async def plan_stats(
    caller: Caller,
    *,
    community_id: UUID,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[PlanStats]:
    """Per plan: alarms it was attached to, steps done, median seconds to acknowledge and close."""
    require_staff(caller, "alarm.stats", community_id)
    until = until or _now()
    since = since or until - STATS_DEFAULT_PERIOD
    if since >= until:
        raise InvalidInput("since must be before until.", field="since")
    rows = await EmergencyPlan.raw(_STATS, since, until, community_id)
    return [
        PlanStats(
            plan_id=r["id"],
            title=r["title"],
            alarm_type=r["alarm_type"],
            zone_id=r["zone"],
            alarms=r["alarms"],
            steps_completed_pct=(
                round(100 * float(r["steps_done"]) / float(r["steps_total"]), 1)
                if r["steps_total"]
                else None
            ),
            median_acknowledge_s=float(r["ack"]) if r["ack"] is not None else None,
            median_resolve_s=float(r["res"]) if r["res"] is not None else None,
        )
        for r in rows
    ]
