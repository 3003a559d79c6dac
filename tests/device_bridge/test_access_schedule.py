"""Access decisions by time: validity periods, weekly windows, holidays, the site's time zone.

A real credential cache on disk and a real AccessControl, with the clock set by the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from device_bridge import protocol as p
from device_bridge.access import AccessControl
from device_bridge.access_cache import CredentialCache
from tests.device_bridge.fake_platform import Issuer

SHANGHAI = ZoneInfo("Asia/Shanghai")
ALL_DAYS = 0b1111111
MONDAY = 0b0000001
OFFICE = p.Window(days=ALL_DAYS, start=8 * 60, end=18 * 60)
NIGHT_FROM_MONDAY = p.Window(days=MONDAY, start=22 * 60, end=6 * 60)


def at(text: str, zone: ZoneInfo = SHANGHAI) -> float:
    """Unix time of a local time, e.g. "2026-11-25 09:00" (a Wednesday)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


class Site:
    """An AccessControl over a real cache, with a settable clock; records what it would emit."""

    def __init__(self, cache: CredentialCache) -> None:
        self.now = at("2026-11-25 09:00")
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.actions: list[tuple[str, str, dict[str, Any]]] = []
        self.control = AccessControl(
            cache,
            record=self._record,
            execute=self._execute,
            kinds={"gate": "door_controller"}.get,
            clock=lambda: self.now,
        )

    async def _record(self, kind: str, device: str, data: dict[str, Any]) -> int:
        self.events.append((kind, device, data))
        return len(self.events)

    async def _execute(self, device: str, action: str, args: dict[str, Any]) -> p.CommandResult:
        self.actions.append((device, action, args))
        return p.CommandResult(id="x", status="ok")

    async def reason(self, when: str) -> str:
        """Present the card at the gate at local time `when`; the refusal ("" when granted)."""
        self.now = at(when)
        decision = await self.control.present("gate", "card", "42")
        return decision.reason


@pytest.fixture
async def cache(tmp_path: Path) -> AsyncIterator[CredentialCache]:
    """An empty credential cache on disk."""
    opened = await CredentialCache.open(tmp_path / "credentials.sqlite3")
    yield opened
    await opened.close()


async def site_with(
    cache: CredentialCache, issuer: Issuer, **fields: Any
) -> tuple[Site, p.CredentialEntry]:
    """A site whose cache holds one card ("42") at the gate, with these fields."""
    entry = p.CredentialEntry(
        id="c1", kind="card", doors=["gate"], digests=[issuer.digest("card", "42")], **fields
    )
    assert await cache.apply(issuer.frame([entry], full=True))
    return Site(cache), entry


@pytest.mark.req("ACC-06")
class TestValidity:
    async def test_from_and_until(self, cache: CredentialCache) -> None:
        site, _ = await site_with(
            cache,
            Issuer(),
            valid_from=at("2026-11-25 08:00"),
            valid_until=at("2026-11-25 20:00"),
        )
        assert await site.reason("2026-11-25 07:59") == "not_yet_valid"
        assert await site.reason("2026-11-25 08:00") == ""
        assert await site.reason("2026-11-25 19:59") == ""
        assert await site.reason("2026-11-25 20:00") == "expired"
        assert [e[0] for e in site.events] == [
            "access.denied",
            "access.granted",
            "access.granted",
            "access.denied",
        ]
        denied = {"result": "denied", "light": "red", "beeps": 3}
        assert site.actions == [
            ("gate", "indicate", {**denied, "reason": "not_yet_valid"}),  # shown at the reader
            ("gate", "open", {}),
            ("gate", "open", {}),
            ("gate", "indicate", {**denied, "reason": "expired"}),
        ]


@pytest.mark.req("ACC-06")
class TestSchedule:
    async def test_weekly_window_in_the_sites_time_zone(self, cache: CredentialCache) -> None:
        site, _ = await site_with(cache, Issuer(), schedule=[OFFICE])
        assert await site.reason("2026-11-25 07:59") == "out_of_schedule"
        assert await site.reason("2026-11-25 08:00") == ""
        assert await site.reason("2026-11-25 17:59") == ""
        assert await site.reason("2026-11-25 18:00") == "out_of_schedule"

    async def test_the_same_instant_elsewhere(self, cache: CredentialCache) -> None:
        # 09:00 in Chengdu is 01:00 UTC: a UTC site's office window is closed then.
        site, _ = await site_with(cache, Issuer(timezone="UTC"), schedule=[OFFICE])
        assert await site.reason("2026-11-25 09:00") == "out_of_schedule"
        assert await site.reason("2026-11-25 17:00") == ""  # 09:00 UTC

    async def test_holidays_close_the_schedule(self, cache: CredentialCache) -> None:
        site, _ = await site_with(
            cache, Issuer(), schedule=[OFFICE], holidays=["2026-11-25", "2026-12-31"]
        )
        assert await site.reason("2026-11-25 10:00") == "out_of_schedule"
        assert await site.reason("2026-11-26 10:00") == ""

    async def test_a_window_across_midnight_belongs_to_its_first_day(
        self, cache: CredentialCache
    ) -> None:
        site, _ = await site_with(cache, Issuer(), schedule=[NIGHT_FROM_MONDAY])
        assert await site.reason("2026-11-23 21:59") == "out_of_schedule"  # Monday
        assert await site.reason("2026-11-23 23:00") == ""
        assert await site.reason("2026-11-24 05:59") == ""  # Tuesday morning: Monday's night
        assert await site.reason("2026-11-24 06:00") == "out_of_schedule"
        assert await site.reason("2026-11-24 23:00") == "out_of_schedule"  # Tuesday night

    async def test_no_schedule_passes_at_any_time(self, cache: CredentialCache) -> None:
        site, _ = await site_with(cache, Issuer(), holidays=["2026-11-25"])
        assert await site.reason("2026-11-25 03:00") == ""


@pytest.mark.req("ACC-06")
class TestCacheFile:
    async def test_a_reopened_cache_holds_the_set_and_the_passes(self, tmp_path: Path) -> None:
        issuer = Issuer()
        path = tmp_path / "credentials.sqlite3"
        cache = await CredentialCache.open(path)
        entries = [
            p.CredentialEntry(
                id=f"c{i}", kind="card", doors=["gate"], digests=[issuer.digest("card", str(i))]
            )
            for i in range(1000)
        ]
        entries[7].uses = 3
        assert await cache.apply(issuer.frame(entries, full=True))
        assert await cache.apply(issuer.frame([], removals=["c1"]))
        site = Site(cache)
        assert (await site.control.present("gate", "card", "7")).granted
        await cache.close()
        assert path.stat().st_mode & 0o777 == 0o600  # it holds the digest key

        again = await CredentialCache.open(path)
        try:
            assert (again.version, len(again)) == (2, 999)
            held = again.by_id("c7")
            assert held is not None and held.uses == 2
            assert again.state.key == issuer.key and again.state.timezone == SHANGHAI
            assert again.revoked(digest=issuer.digest("card", "1")) == "c1"
            revoked = await Site(again).control.present("gate", "card", "1")
            assert (revoked.reason, revoked.credential) == ("revoked", "c1")
        finally:
            await again.close()

    async def test_passes_counted_while_a_set_is_written_count_once(self, tmp_path: Path) -> None:
        issuer = Issuer()
        path = tmp_path / "credentials.sqlite3"
        cache = await CredentialCache.open(path)
        entry = p.CredentialEntry(
            id="c1", kind="card", doors=["gate"], digests=[issuer.digest("card", "42")], uses=5
        )
        assert await cache.apply(issuer.frame([entry], full=True))
        control = Site(cache).control
        before = await control.decide("gate", "card", "42")  # counted, its event not yet recorded
        # A set the platform made before it saw either pass, applied while a second one happens.
        applying = asyncio.create_task(cache.apply(issuer.frame([entry], full=True), acked=0))
        await asyncio.sleep(0)  # the apply is writing the file now
        during = await control.decide("gate", "card", "42")
        assert await applying
        held = cache.by_id("c1")
        assert held is not None and held.uses == 3
        assert before._use is not None and during._use is not None
        await cache.record(before._use, 1)
        await cache.record(during._use, 2)
        assert held.uses == 3
        await cache.close()

        again = await CredentialCache.open(path)
        try:
            reopened = again.by_id("c1")
            assert reopened is not None and reopened.uses == 3
            # Both events unacked: a set still saying 5 leaves 3; once acked, 5 is the truth.
            assert await again.apply(issuer.frame([entry], full=True), acked=0)
            assert again.by_id("c1").uses == 3  # type: ignore[union-attr]
            assert await again.apply(issuer.frame([entry], full=True), acked=2)
            assert again.by_id("c1").uses == 5  # type: ignore[union-attr]
        finally:
            await again.close()
