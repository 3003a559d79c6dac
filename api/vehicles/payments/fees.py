"""What a temporary car owes: one pure function of the stay and the car park's tariff.

The tariff (fen, integers; stored on the car park): `free_minutes`, `hourly_fen`,
`daily_cap_fen` (0: no cap). The rules, as car parks in the province post them:

- a stay of at most `free_minutes` (whole minutes, a started minute counts) costs nothing;
- a longer stay is charged from its entry, per started hour, on each calendar day of the site
  (wall-clock midnight in the site's time zone) separately: a day's part costs
  `ceil(minutes / 60) × hourly_fen`, at most `daily_cap_fen`;
- so a stay across midnight starts a new hour at midnight (23:30–00:30 is two started hours,
  one on each day), and a day of 23 or 25 hours (a zone with daylight saving) is one day.

No I/O, no clock: the caller gives both times (aware) and the zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Tariff:
    """A car park's prices for temporary cars, in fen (0.01 yuan)."""

    free_minutes: int = 0
    hourly_fen: int = 0
    daily_cap_fen: int = 0  # 0: no cap


def _minutes(start: datetime, end: datetime) -> int:
    """Whole minutes between two instants, a started minute counted (in UTC: Python subtracts
    two times of one zone by the wall clock, which is wrong across a daylight-saving change)."""
    seconds = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
    return max(int(-(-seconds // 60)), 0)


def _days(entered: datetime, left: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The stay cut at the site's midnights: (start, end) per calendar day."""
    parts = []
    start = entered
    while True:
        local = start.astimezone(zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
        midnight = midnight.astimezone(UTC)
        if midnight >= left:
            parts.append((start, left))
            return parts
        parts.append((start, midnight))
        start = midnight


def fee(entered: datetime, left: datetime, tariff: Tariff, zone: ZoneInfo) -> int:
    """Fen owed for a stay from `entered` to `left` (aware datetimes); 0 within the free minutes
    or when `left` is not after `entered`."""
    if entered.tzinfo is None or left.tzinfo is None:
        raise ValueError("times need a time zone")
    if left <= entered or _minutes(entered, left) <= tariff.free_minutes or not tariff.hourly_fen:
        return 0
    total = 0
    for start, end in _days(entered, left, zone):
        hours = -(-_minutes(start, end) // 60)
        day = hours * tariff.hourly_fen
        if tariff.daily_cap_fen:
            day = min(day, tariff.daily_cap_fen)
        total += day
    return total
