"""Anomalies that mark a scan without refusing it: what a supervisor should look at twice.

Pure functions, no queries. Each names a way a round can be faked or a phone can be wrong:

- `clock_skew`: the phone's clock is more than `MAX_SKEW` from the server's when it sends;
- `round_too_fast`: the scan completes a round whose points were all scanned within seconds
  (less than `MIN_LEG` per leg on average): labels photographed and scanned from one spot;
- `impossible_speed`: from the guard's previous point of the round to this one faster than
  `MAX_SPEED` (only where both points have coordinates);
- `two_phones`: another phone scanned the same point within `TWO_PHONES_WINDOW`: a shared code;
- `repeat`: the point was scanned in this round already;
- `note_missing`, `photo_missing`: the point asks for a note or a photo and the scan has none.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

MAX_SKEW = timedelta(minutes=2)
MIN_LEG = timedelta(seconds=10)
MAX_SPEED = 8.0  # metres per second: a running guard, not a bicycle
TWO_PHONES_WINDOW = timedelta(seconds=60)
EARTH_RADIUS = 6_371_000.0  # metres


def clock_skewed(skew: timedelta) -> bool:
    """The phone's clock is too far from the server's."""
    return abs(skew) > MAX_SKEW


def too_fast(times: list[datetime]) -> bool:
    """All points of a round (these scan times, the whole round) within seconds."""
    if len(times) < 2:
        return False
    return max(times) - min(times) < MIN_LEG * (len(times) - 1)


def distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS * math.asin(math.sqrt(h))


def impossible_speed(
    a: tuple[float, float] | None,
    a_at: datetime,
    b: tuple[float, float] | None,
    b_at: datetime,
) -> bool:
    """Walking from a to b in the time between is faster than anyone patrols; unknown without
    coordinates (False)."""
    if a is None or b is None:
        return False
    metres = distance(a, b)
    seconds = abs((b_at - a_at).total_seconds())
    return metres > MAX_SPEED * max(seconds, 1.0)
