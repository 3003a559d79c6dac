"""Alarm records are kept 6 months (SOS a year), never less; then they go with their photos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from litestar import Litestar

from api.alarms import service
from api.alarms.catalogue import keep_days
from api.alarms.reads import alarm_row
from api.alarms.tables import Alarm, AlarmEntry
from api.core.storage import ObjectNotFound
from tests.helpers import JPEG, World, raise_alarm
from tests.jobs import Jobs


async def aged(world: World, alarm_type: str, days: int, state: str = "resolved") -> UUID:
    alarm = await raise_alarm(world.a.community, alarm_type)
    await Alarm.update(
        {Alarm.raised_at: datetime.now(UTC) - timedelta(days=days), Alarm.state: state}
    ).where(Alarm.id == alarm)
    return alarm


@pytest.mark.req("ALM-10")
@pytest.mark.req("ALM-21")
@pytest.mark.req("DATA-18", "DATA-28", partial=True)
class TestRetention:
    def test_configuration_may_lengthen_never_shorten(self) -> None:
        assert keep_days("6m") == 184 and keep_days("1y") == 366
        assert keep_days("6m", 30) == 184
        assert keep_days("1y", 400) == 400

    async def test_purge_honours_the_periods(self, app: Litestar, world: World, jobs: Jobs) -> None:
        old = await aged(world, "perimeter", 185)
        row = await alarm_row(old)
        assert row is not None
        await service.attach_media(
            app.state.objects, row, JPEG, content_type="image/jpeg", source="upload"
        )
        [media] = (
            await AlarmEntry.select()
            .where((AlarmEntry.alarm == old) & (AlarmEntry.kind == "media"))
            .output(load_json=True)
        )
        young = await aged(world, "perimeter", 180)
        still_open = await aged(world, "perimeter", 200, state="acknowledged")
        sos_half_year = await aged(world, "sos", 185)
        sos_old = await aged(world, "sos", 367)
        await service.purge_expired(app.state.objects)
        left = {r["id"] for r in await Alarm.select(Alarm.id)}
        assert old not in left and sos_old not in left
        assert {young, still_open, sos_half_year} <= left
        assert await AlarmEntry.count().where(AlarmEntry.alarm == old) == 0
        with pytest.raises(ObjectNotFound):
            await app.state.objects.get(media["data"]["key"])
        # Configured longer: kept.
        longer = await aged(world, "perimeter", 190)
        await service.purge_expired(app.state.objects, configured_days={"6m": 200})
        assert await Alarm.exists().where(Alarm.id == longer)
