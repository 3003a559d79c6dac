"""A site's bridge away past the grace raises one alarm for the site; its return closes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from api.alarms.tables import Alarm, AlarmEntry
from api.devices.tables import DeviceEvent
from api.settings import Settings
from tests.alarms.conftest import DEVICES
from tests.devices.peer import ScriptedBridge
from tests.helpers import eventually
from tests.jobs import Jobs
from tests.plugins.site import LinkBridge
from workers.tasks.alarms import sweep_lost_links

GRACE = 60


async def site_alarms(site: ScriptedBridge) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await Alarm.select(Alarm.id, Alarm.state, Alarm.source_device, Alarm.location)
        .where((Alarm.type == "device_offline") & Alarm.event.is_in(await outages(site)))
        .output(load_json=True)
    )
    return rows


async def outages(site: ScriptedBridge) -> list[int]:
    rows = await DeviceEvent.select(DeviceEvent.id).where(
        (DeviceEvent.bridge == site.bridge.id) & (DeviceEvent.kind == "device.offline")
    )
    return [r["id"] for r in rows] or [-1]


@pytest.mark.req("OPS-24", "ICM-19", partial=True)
async def test_a_bridge_away_past_the_grace_raises_one_alarm_for_the_site_closed_on_its_return(
    site: ScriptedBridge, scripted_bridge: LinkBridge, settings: Settings, jobs: Jobs
) -> None:
    worker = {
        "settings": msgspec.structs.replace(settings, bridge_offline_grace_s=GRACE),
        "redis": jobs.pool,
    }

    async def sweep() -> None:
        await sweep_lost_links(worker)

    await site.close()
    await sweep()
    assert await site_alarms(site) == []  # within the grace: a restart is nobody's emergency

    await DeviceEvent.update(
        {DeviceEvent.at: datetime.now(UTC) - timedelta(seconds=GRACE + 1)}
    ).where((DeviceEvent.bridge == site.bridge.id) & (DeviceEvent.kind == "device.offline"))
    await sweep()
    await sweep()
    [alarm] = await site_alarms(site)  # one for the site, not one per device behind it
    assert len(DEVICES) > 1
    assert (alarm["state"], alarm["source_device"]) == ("new", None)
    assert alarm["location"]["bridge"] == str(site.bridge.id)

    await scripted_bridge(site.bridge, DEVICES)

    async def closed() -> bool:
        return [a["state"] for a in await site_alarms(site)] == ["resolved"]

    await eventually(closed)
    entries = await AlarmEntry.select(AlarmEntry.kind).where(AlarmEntry.alarm == alarm["id"])
    assert entries[-1]["kind"] == "resolved"
    await sweep()
    assert len(await site_alarms(site)) == 1  # back online: nothing new
