"""Pass-record statistics of one community (VEH-13, DATA-29): each figure one aggregate query.

Days and hours are the site's wall clock (`SITE_TIMEZONE`). Entries and exits count the granted
passes (a car that went through); classes, decisions and lanes count every read. Occupancy at
the end of each day is worked back from the car parks' count now: the count minus the net moves
(granted entries that took a space, less granted exits — the rule `recording.py` moves the count
by) after that day. The live count never goes below zero, so a missed exit read makes the
history an estimate; it is clamped at zero too.

A caller names one community, or none for all of theirs (police: their jurisdiction's; a
manager of one community: that one). A read reached through a jurisdiction (the police's) is
audited as `vehicle_pass.stats_read` with its communities and range: police reads of the
platform's records are always on the log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from api.alarms.catalogue import SITE_TIMEZONE
from api.audit.service import record
from api.core.auth import PERMISSIONS, Caller, Scope, staff_community
from api.core.errors import InvalidInput, NotFound
from api.vehicles.schemas import (
    CarParkOccupancy,
    DayCount,
    HourCount,
    KeyCount,
    LaneCount,
    OccupancyPoint,
    PassStatistics,
)
from api.vehicles.tables import CarPark, PassRecord

DEFAULT_DAYS = 7
MAX_DAYS = 366
TOP_LANES = 10
PERMISSION = "vehicle_pass.stats"


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    return list(await PassRecord.raw(sql, *args))


async def pass_statistics(
    caller: Caller,
    *,
    community_id: UUID | None,
    car_park_id: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> PassStatistics:
    """Entries and exits per day and per hour, reads by vehicle class, decision and lane (the
    busiest ten), occupancy at the end of each day and each car park's count now; staff of the
    community (police: one of the jurisdiction's, or all of it, audited)."""
    communities = _communities(caller, community_id)
    now = now or datetime.now(UTC)
    until = until or now
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise InvalidInput("The range must start before it ends.", field="since")
    if until - since > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"At most {MAX_DAYS} days at once.", field="since")
    if car_park_id is not None and not await CarPark.exists().where(
        (CarPark.id == car_park_id) & CarPark.community.is_in(communities)
    ):
        raise NotFound()
    if _through_jurisdiction(caller):
        await record(
            "vehicle_pass.stats_read",
            actor=caller,
            target_type="vehicle_pass",
            community_id=communities[0] if len(communities) == 1 else None,
            details={
                "communities": [str(c) for c in communities],
                "car_park_id": str(car_park_id or ""),
                "since": since.isoformat(),
                "until": until.isoformat(),
            },
        )
    tz = SITE_TIMEZONE.key
    first = since.astimezone(SITE_TIMEZONE).date()
    last = (until - timedelta(microseconds=1)).astimezone(SITE_TIMEZONE).date()
    # the filter every query shares: {communities} {since} {until} [{car_park}]
    scope_sql = "p.community = ANY({}::uuid[]) AND p.at >= {} AND p.at < {}"
    scope_args: list[Any] = [communities, since, until]
    if car_park_id is not None:
        scope_sql += " AND p.car_park = {}"
        scope_args.append(car_park_id)

    count_sql = f"SELECT count(*) AS n FROM vehicle_passes p WHERE {scope_sql}"  # noqa: S608
    totals = await _rows(count_sql, *scope_args)
    days = await _rows(
        f"""
        WITH d AS (SELECT generate_series({{}}::date, {{}}::date, interval '1 day')::date AS day),
        c AS (
            SELECT (p.at AT TIME ZONE {{}})::date AS day,
                   count(*) FILTER (WHERE p.direction = 'in') AS entries,
                   count(*) FILTER (WHERE p.direction = 'out') AS exits
            FROM vehicle_passes p WHERE {scope_sql} AND p.decision = 'granted' GROUP BY 1
        )
        SELECT d.day, COALESCE(c.entries, 0) AS entries, COALESCE(c.exits, 0) AS exits
        FROM d LEFT JOIN c USING (day) ORDER BY d.day
        """,  # noqa: S608 (constant fragments; values are bound parameters)
        first,
        last,
        tz,
        *scope_args,
    )
    hours = await _rows(
        f"""
        WITH h AS (SELECT generate_series(0, 23) AS hour),
        c AS (
            SELECT extract(hour FROM p.at AT TIME ZONE {{}})::int AS hour,
                   count(*) FILTER (WHERE p.direction = 'in') AS entries,
                   count(*) FILTER (WHERE p.direction = 'out') AS exits
            FROM vehicle_passes p WHERE {scope_sql} AND p.decision = 'granted' GROUP BY 1
        )
        SELECT h.hour, COALESCE(c.entries, 0) AS entries, COALESCE(c.exits, 0) AS exits
        FROM h LEFT JOIN c USING (hour) ORDER BY h.hour
        """,  # noqa: S608 (constant fragments; values are bound parameters)
        tz,
        *scope_args,
    )
    classes = await _rows(
        f"""
        SELECT COALESCE(v.vehicle_class, 'unregistered') AS key, count(*) AS count
        FROM vehicle_passes p LEFT JOIN vehicles v ON v.id = p.vehicle
        WHERE {scope_sql} GROUP BY 1 ORDER BY 2 DESC, 1
        """,  # noqa: S608 (constant fragments; values are bound parameters)
        *scope_args,
    )
    decisions = await _rows(
        f"""
        SELECT p.decision AS key, count(*) AS count FROM vehicle_passes p
        WHERE {scope_sql} GROUP BY 1 ORDER BY 2 DESC, 1
        """,  # noqa: S608 (constant fragments; values are bound parameters)
        *scope_args,
    )
    lanes = await _rows(
        f"""
        SELECT l.id AS lane_id, l.name AS lane_name, count(*) AS count
        FROM vehicle_passes p JOIN vehicle_lanes l ON l.id = p.lane
        WHERE {scope_sql} GROUP BY l.id, l.name ORDER BY 3 DESC, 2 LIMIT {TOP_LANES}
        """,  # noqa: S608 (constant fragments; values are bound parameters)
        *scope_args,
    )
    occupancy = await _occupancy(communities, car_park_id, since, first, last, tz)
    parks = await _car_parks(communities, car_park_id)
    return PassStatistics(
        community_id=communities[0] if community_id is not None else None,
        community_ids=communities,
        since=since,
        until=until,
        total=totals[0]["n"],
        days=[msgspec.convert(r, DayCount) for r in days],
        hours=[msgspec.convert(r, HourCount) for r in hours],
        classes=[msgspec.convert(r, KeyCount) for r in classes],
        decisions=[msgspec.convert(r, KeyCount) for r in decisions],
        lanes=[msgspec.convert(r, LaneCount) for r in lanes],
        occupancy=[msgspec.convert(r, OccupancyPoint) for r in occupancy],
        car_parks=[msgspec.convert(r, CarParkOccupancy) for r in parks],
    )


def _communities(caller: Caller, community_id: UUID | None) -> list[UUID]:
    """The communities counted: the one named (404 unless the caller is staff there), else all
    the caller's (400 for a caller of every community, who must name one)."""
    if community_id is not None:
        return [staff_community(caller, PERMISSION, community_id)]
    scope = Scope.of(caller, PERMISSION)
    if scope.everywhere or not scope.communities:
        raise InvalidInput("Name the community.", field="community_id")
    return sorted(scope.communities)


def _through_jurisdiction(caller: Caller) -> bool:
    """Whether the caller holds the statistics through a jurisdiction (the police)."""
    roles = PERMISSIONS[PERMISSION]
    return any(a.jurisdiction_id is not None and a.role in roles for a in caller.assignments)


async def _car_parks(communities: list[UUID], car_park_id: UUID | None) -> list[dict[str, Any]]:
    """The car parks with lanes (those the occupancy history sums) and their counts now."""
    sql = "c.community = ANY({}::uuid[]) AND c.id IN (SELECT car_park FROM vehicle_lanes)"
    args: list[Any] = [communities]
    if car_park_id is not None:
        sql += " AND c.id = {}"
        args.append(car_park_id)
    return await _rows(
        f"""
        SELECT c.id AS car_park_id, c.community AS community_id, c.name, c.capacity, c.occupied
        FROM car_parks c WHERE {sql} ORDER BY c.community, c.name, c.id
        """,  # noqa: S608 (constant fragments; values are bound parameters)
        *args,
    )


async def _occupancy(
    communities: list[UUID],
    car_park_id: UUID | None,
    since: datetime,
    first: Any,
    last: Any,
    tz: str,
) -> list[dict[str, Any]]:
    """Cars inside at the end of each day: the count now less the net moves after the day."""
    parks_sql = "c.community = ANY({}::uuid[]) AND c.id IN (SELECT car_park FROM vehicle_lanes)"
    moves_sql = "p.community = ANY({}::uuid[]) AND p.at >= {} AND p.car_park IS NOT NULL"
    parks_args: list[Any] = [communities]
    moves_args: list[Any] = [communities, since]
    if car_park_id is not None:
        parks_sql += " AND c.id = {}"
        moves_sql += " AND p.car_park = {}"
        parks_args.append(car_park_id)
        moves_args.append(car_park_id)
    return await _rows(
        f"""
        WITH d AS (SELECT generate_series({{}}::date, {{}}::date, interval '1 day')::date AS day),
        m AS (
            SELECT (p.at AT TIME ZONE {{}})::date AS day,
                   sum(CASE WHEN p.direction = 'in' THEN 1 ELSE -1 END) AS net
            FROM vehicle_passes p
            WHERE {moves_sql} AND p.decision = 'granted' AND p.reason <> 'already_inside'
            GROUP BY 1
        ),
        now AS (SELECT COALESCE(sum(c.occupied), 0) AS n FROM car_parks c WHERE {parks_sql})
        SELECT d.day,
               GREATEST((SELECT n FROM now)
                        - COALESCE((SELECT sum(m.net) FROM m WHERE m.day > d.day), 0), 0)::int
               AS occupied
        FROM d ORDER BY d.day
        """,  # noqa: S608 (constant fragments; values are bound parameters)
        first,
        last,
        tz,
        *moves_args,
        *parks_args,
    )
