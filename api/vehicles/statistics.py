"""Pass-record statistics of one community (VEH-13, DATA-29): each figure one aggregate query.

Days and hours are the site's wall clock (`SITE_TIMEZONE`). Entries and exits count the granted
passes (a car that went through); classes, decisions and lanes count every read. Occupancy at
the end of each day is worked back from the car parks' count now: the count minus the net moves
(granted entries that took a space, less granted exits — the rule `recording.py` moves the count
by) after that day. The live count never goes below zero, so a missed exit read makes the
history an estimate; it is clamped at zero too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from api.alarms.catalogue import SITE_TIMEZONE
from api.core.auth import Caller, staff_community
from api.core.errors import InvalidInput, NotFound
from api.vehicles.schemas import (
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
    busiest ten), and occupancy at the end of each day; staff of the community (police: name
    one of the jurisdiction's)."""
    community = staff_community(caller, "vehicle_pass.stats", community_id)
    now = now or datetime.now(UTC)
    until = until or now
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise InvalidInput("The range must start before it ends.", field="since")
    if until - since > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"At most {MAX_DAYS} days at once.", field="since")
    if car_park_id is not None and not await CarPark.exists().where(
        (CarPark.id == car_park_id) & (CarPark.community == community)
    ):
        raise NotFound()
    tz = SITE_TIMEZONE.key
    first = since.astimezone(SITE_TIMEZONE).date()
    last = (until - timedelta(microseconds=1)).astimezone(SITE_TIMEZONE).date()
    # the filter every query shares: {community} {since} {until} [{car_park}]
    scope_sql = "p.community = {} AND p.at >= {} AND p.at < {}"
    scope_args: list[Any] = [community, since, until]
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
    occupancy = await _occupancy(community, car_park_id, since, first, last, tz)
    return PassStatistics(
        community_id=community,
        since=since,
        until=until,
        total=totals[0]["n"],
        days=[msgspec.convert(r, DayCount) for r in days],
        hours=[msgspec.convert(r, HourCount) for r in hours],
        classes=[msgspec.convert(r, KeyCount) for r in classes],
        decisions=[msgspec.convert(r, KeyCount) for r in decisions],
        lanes=[msgspec.convert(r, LaneCount) for r in lanes],
        occupancy=[msgspec.convert(r, OccupancyPoint) for r in occupancy],
    )


async def _occupancy(
    community: UUID, car_park_id: UUID | None, since: datetime, first: Any, last: Any, tz: str
) -> list[dict[str, Any]]:
    """Cars inside at the end of each day: the count now less the net moves after the day."""
    parks_sql = "c.community = {} AND c.id IN (SELECT car_park FROM vehicle_lanes)"
    moves_sql = "p.community = {} AND p.at >= {} AND p.car_park IS NOT NULL"
    parks_args: list[Any] = [community]
    moves_args: list[Any] = [community, since]
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
