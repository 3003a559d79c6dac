"""Zones arming and disarming by themselves: weekly schedules (布撤防 by schedule), applied by
the minute cron in the site's wall-clock time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from api.alarms.catalogue import SITE_TIMEZONE
from api.alarms.errors import CannotDisarm
from api.alarms.schemas_config import ScheduleCreate, ScheduleRead
from api.alarms.tables import ZoneSchedule
from api.alarms.zones import (
    announce,
    read_zone,
    set_armed,
    tell_detectors,
    zone_in_scope,
    zone_row,
)
from api.audit.service import record
from api.core.auth import Caller, require_staff
from api.core.effects import Effects
from api.core.errors import NotFound
from api.devices.bus import CommandBus
from api.piccolo_conf import DB

log = structlog.get_logger()

SCHEDULE_WINDOW = timedelta(seconds=120)  # a scheduled change this recent is still applied


def _now() -> datetime:
    return datetime.now(UTC)


def _schedule_read(row: dict[str, Any]) -> ScheduleRead:
    return ScheduleRead(
        id=row["id"],
        zone_id=row["zone"],
        weekdays=list(row["weekdays"]),
        arm_at=row["arm_at"],
        disarm_at=row["disarm_at"],
    )


async def add_schedule(caller: Caller, zone_id: UUID, data: ScheduleCreate) -> ScheduleRead:
    """Arm and disarm a zone by itself on weekdays (site wall-clock time)."""
    row = await zone_in_scope(caller, zone_id, "alarm.configure")
    require_staff(caller, "alarm.configure", row.community)
    if row.kind == "household_sos":
        raise CannotDisarm()
    async with DB.transaction():
        schedule = ZoneSchedule(
            zone=zone_id,
            weekdays=sorted(data.weekdays),
            arm_at=data.arm_at,
            disarm_at=data.disarm_at,
        )
        await schedule.save()
        await record(
            "zone.schedule.created",
            actor=caller,
            target_type="zone",
            target_id=zone_id,
            community_id=row.community,
            details={"schedule": str(schedule.id)},
        )
    found = (
        await ZoneSchedule.select()
        .where(ZoneSchedule.id == schedule.id)
        .output(load_json=True)
        .first()
    )
    assert found is not None
    return _schedule_read(found)


async def list_schedules(caller: Caller, zone_id: UUID) -> list[ScheduleRead]:
    """A zone's schedules."""
    await zone_in_scope(caller, zone_id, "alarm.read")
    rows = (
        await ZoneSchedule.select()
        .where(ZoneSchedule.zone == zone_id)
        .order_by(ZoneSchedule.arm_at)
        .output(load_json=True)
    )
    return [_schedule_read(r) for r in rows]


async def delete_schedule(caller: Caller, zone_id: UUID, schedule_id: UUID) -> None:
    """Remove a schedule."""
    row = await zone_in_scope(caller, zone_id, "alarm.configure")
    require_staff(caller, "alarm.configure", row.community)
    async with DB.transaction():
        deleted = (
            await ZoneSchedule.delete()
            .where((ZoneSchedule.id == schedule_id) & (ZoneSchedule.zone == zone_id))
            .returning(ZoneSchedule.id)
        )
        if not deleted:
            raise NotFound()
        await record(
            "zone.schedule.deleted",
            actor=caller,
            target_type="zone",
            target_id=zone_id,
            community_id=row.community,
            details={"schedule": str(schedule_id)},
        )


def scheduled_changes(
    schedule: dict[str, Any], now: datetime, window: timedelta = SCHEDULE_WINDOW
) -> list[tuple[datetime, bool]]:
    """The schedule's arm (True) / disarm (False) instants in (now - window, now], oldest first.

    A window starts on one of the weekdays at `arm_at` and ends at the next `disarm_at` (the
    following day when that is earlier in the day).
    """
    local = now.astimezone(SITE_TIMEZONE)
    found = []
    for back in (2, 1, 0):
        day = (local - timedelta(days=back)).date()
        if day.weekday() not in schedule["weekdays"]:
            continue
        arm_at = datetime.combine(day, schedule["arm_at"], SITE_TIMEZONE)
        disarm_day = day if schedule["disarm_at"] > schedule["arm_at"] else day + timedelta(1)
        disarm_at = datetime.combine(disarm_day, schedule["disarm_at"], SITE_TIMEZONE)
        found += [(arm_at, True), (disarm_at, False)]
    return sorted((t, a) for t, a in found if now - window < t <= now)


async def apply_schedules(bus: CommandBus, *, now: datetime | None = None) -> Effects:
    """Arm and disarm zones whose scheduled time has just come (the minute cron).

    A scheduled change applies once: only if the zone has not changed state since that moment
    (so a second run in the same minute, or a guard's later change by hand, is left alone).
    """
    now = now or _now()
    effects = Effects()
    schedules = await ZoneSchedule.select().output(load_json=True)
    for schedule in schedules:
        for at, armed in scheduled_changes(schedule, now):
            row = await zone_row(schedule["zone"])
            if row is None or row.kind == "household_sos":
                break
            changed = row.state_changed_at
            if changed is not None and changed >= at:
                continue
            async with DB.transaction():
                row = await set_armed(row, armed, caller=None, by="schedule")
            await tell_detectors(bus, row, armed, None)
            announce(await read_zone(row), effects)
            log.info("zone.schedule.applied", zone_id=str(row.id), armed=armed)
    return effects
