"""When rounds begin: a plan's day and night windows and their frequencies, in site time.

Pure functions, no queries. By day (from `day_starts` to `night_starts`) a round begins every
`day_every` minutes, counted from `day_starts`; by night (from `night_starts` to the next
`day_starts`) every `night_every` minutes, counted from `night_starts` — so the night can be
patrolled more often than the day (standard 7.3.1). A round's id is derived from its plan and start,
so making the same rounds twice makes them once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from uuid import UUID

from api.alarms.catalogue import SITE_TIMEZONE

EARLY = timedelta(minutes=5)  # a round may be started this long before it begins


def _at(day: date, when: time) -> datetime:
    return datetime.combine(day, when, tzinfo=SITE_TIMEZONE)


def _slots(start: datetime, end: datetime, every: int) -> Iterator[datetime]:
    step = timedelta(minutes=every)
    at = start
    while at < end:
        yield at
        at += step


def round_starts(
    *,
    day_starts: time,
    night_starts: time,
    day_every: int,
    night_every: int,
    since: datetime,
    until: datetime,
) -> list[datetime]:
    """Every round start in [since, until), in order (aware datetimes in site time)."""
    first = since.astimezone(SITE_TIMEZONE).date() - timedelta(days=1)
    last = until.astimezone(SITE_TIMEZONE).date()
    starts: list[datetime] = []
    day = first
    while day <= last:
        day_from = _at(day, day_starts)
        night_from = _at(day, night_starts)
        if night_from <= day_from:  # the "night" begins before the day on the clock
            night_from += timedelta(days=1)
        next_day = _at(day + timedelta(days=1), day_starts)
        starts += _slots(day_from, night_from, day_every)
        starts += _slots(night_from, next_day, night_every)
        day += timedelta(days=1)
    return sorted(s for s in set(starts) if since <= s < until)


def round_id(plan_id: UUID, starts_at: datetime) -> UUID:
    """The id of a plan's round beginning at that instant: the same however often it is made."""
    return uuid.uuid5(plan_id, starts_at.astimezone(SITE_TIMEZONE).isoformat())


def status(
    now: datetime, starts_at: datetime, due_at: datetime, closes_at: datetime, ended: bool
) -> str:
    """upcoming, open (may be walked), overdue (late but still counts), ended."""
    if ended or now >= closes_at:
        return "ended"
    if now < starts_at - EARLY:
        return "upcoming"
    return "open" if now < due_at else "overdue"
