"""What a temporary car owes (api/vehicles/payments/fees.py), table-driven: the free minutes and
their boundary, started hours, the daily cap, stays over several days cut at the site's midnight
(Asia/Shanghai), a zone with daylight saving, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.vehicles.payments.fees import Tariff, fee

SITE = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
TARIFF = Tariff(free_minutes=15, hourly_fen=500, daily_cap_fen=3000)  # 15 min free, 5 ¥/h, 30 ¥/day


def at(day: int, hour: int, minute: int = 0, second: int = 0, zone: ZoneInfo = SITE) -> datetime:
    """A wall-clock time at the site in December 2026."""
    return datetime(2026, 12, day, hour, minute, second, tzinfo=zone)


CASES = [
    # (why, entered, left, tariff, fen)
    ("no time at all", at(3, 10), at(3, 10), TARIFF, 0),
    ("left before it entered", at(3, 10), at(3, 9), TARIFF, 0),
    ("within the free minutes", at(3, 10), at(3, 10, 14), TARIFF, 0),
    ("exactly the free minutes", at(3, 10), at(3, 10, 15), TARIFF, 0),
    ("a second past them starts the 16th minute", at(3, 10), at(3, 10, 15, 1), TARIFF, 500),
    ("past the free minutes, charged from entry", at(3, 10), at(3, 10, 16), TARIFF, 500),
    ("exactly an hour", at(3, 10), at(3, 11), TARIFF, 500),
    ("a started second hour", at(3, 10), at(3, 11, 0, 1), TARIFF, 1000),
    ("five started hours", at(3, 10), at(3, 14, 30), TARIFF, 2500),
    ("six hours reach the cap", at(3, 10), at(3, 16), TARIFF, 3000),
    ("the cap holds for the rest of the day", at(3, 8), at(3, 23, 59), TARIFF, 3000),
    ("across midnight: an hour started on each day", at(3, 23, 30), at(4, 0, 30), TARIFF, 1000),
    ("two full days and a bit", at(3, 9), at(5, 1), TARIFF, 3000 + 3000 + 500),
    ("a week from midnight to midnight", at(1, 0), at(8, 0), TARIFF, 7 * 3000),
    ("no cap", at(3, 8), at(3, 20), Tariff(hourly_fen=500), 12 * 500),
    ("free parking", at(3, 8), at(5, 20), Tariff(free_minutes=0, hourly_fen=0), 0),
    (
        "no free minutes: one minute costs an hour",
        at(3, 8),
        at(3, 8, 1),
        Tariff(hourly_fen=300),
        300,
    ),
    (
        "a cap below the hourly price",
        at(3, 8),
        at(3, 9),
        Tariff(hourly_fen=500, daily_cap_fen=200),
        200,
    ),
    (
        "the times' own zones do not matter, the site's midnight does",
        datetime(2026, 12, 3, 15, 30, tzinfo=UTC),  # 23:30 at the site
        datetime(2026, 12, 3, 16, 30, tzinfo=UTC),  # 00:30 the next day at the site
        TARIFF,
        1000,
    ),
]


@pytest.mark.req("VEH-05", partial=True)
@pytest.mark.parametrize(
    ("why", "entered", "left", "tariff", "fen"), CASES, ids=[c[0] for c in CASES]
)
def test_a_stay_costs_what_the_tariff_says(
    why: str, entered: datetime, left: datetime, tariff: Tariff, fen: int
) -> None:
    assert fee(entered, left, tariff, SITE) == fen, why


def test_a_day_of_23_hours_in_a_zone_with_daylight_saving_is_one_capped_day() -> None:
    # 29 March 2026: Berlin's clocks go from 02:00 to 03:00; the day has 23 hours.
    entered = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    left = datetime(2026, 3, 30, 0, 0, tzinfo=BERLIN)
    assert left.astimezone(UTC) - entered.astimezone(UTC) == timedelta(hours=23)
    assert fee(entered, left, Tariff(hourly_fen=100), BERLIN) == 23 * 100
    assert fee(entered, left, TARIFF, BERLIN) == 3000
    # the same stay cut at Shanghai's midnight is 17 h on one day there and 6 h on the next
    capped = Tariff(hourly_fen=100, daily_cap_fen=1000)
    assert fee(entered, left, capped, BERLIN) == 1000
    assert fee(entered, left, capped, SITE) == 1000 + 600


def test_times_without_a_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        fee(datetime(2026, 12, 3, 10), at(3, 11), TARIFF, SITE)
