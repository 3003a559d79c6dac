"""Fire at a real site bridge: it opens the doors itself; the platform does not do it again."""

from __future__ import annotations

import pytest

from api.alarms import linkage
from api.alarms.tables import Alarm, AlarmEntry, BridgeRules, LinkageRun
from api.core.auth import Role
from api.devices.tables import Bridge, DeviceCommand, DeviceEvent
from device_bridge.settings import BridgeSettings
from tests.fixtures import AsRole
from tests.helpers import World, eventually, running
from tests.jobs import Jobs

DOORS = [
    "gate-north",
    "gate-south",
    "door-1-1",
    "door-1-2",
    "door-2-1",
    "door-2-2",
    "door-3-1",
    "door-3-2",
]


@pytest.mark.req("FIRE-13")
@pytest.mark.req("LNK-07")
@pytest.mark.req("BRD-02", partial=True)
@pytest.mark.req("PLAT-18")
@pytest.mark.req("FIRE-02")
@pytest.mark.req("PLAT-01", partial=True)
async def test_fire_opens_every_door_at_the_bridge_and_the_platform_does_not_repeat_it(
    as_role: AsRole, site_settings: BridgeSettings, world: World, jobs: Jobs, monkeypatch
) -> None:
    monkeypatch.setattr(linkage, "FAILSAFE_GRACE", 1.0)
    async with running(site_settings) as bridge:
        bridge_id = (
            await Bridge.select(Bridge.id).where(Bridge.community == world.a.community).first()
        )["id"]
        manager = await as_role(Role.PROPERTY_MANAGER)
        made = await manager.post(
            "/api/v1/linkage-rules",
            json={
                "community_id": str(world.a.community),
                "name": "火警：开门疏散",
                "alarm_type": "fire",
                "failsafe": True,
                "actions": [{"kind": "unlock"}, {"kind": "broadcast", "text": "火警，请疏散"}],
            },
        )
        assert made.status_code == 201, made.text

        async def applied() -> bool:
            row = await BridgeRules.select().where(BridgeRules.bridge == bridge_id).first()
            return bool(row and row["applied_version"] == row["sent_version"])

        await eventually(applied)
        assert [r.id for r in bridge.rules.rules] == [made.json()["id"]]
        sim = bridge.sim
        assert sim is not None
        await sim.trigger("smoke-1-1", "sensor.alarm", {"kind": "smoke", "value": 4.2})

        async def fired() -> int:
            return await DeviceEvent.count().where(
                (DeviceEvent.bridge == bridge_id) & (DeviceEvent.kind == "rule.fired")
            )

        await eventually(fired)
        assert all(not sim.fleet.devices[d].state["locked"] for d in DOORS)
        [alarm] = await Alarm.select().where(
            (Alarm.community == world.a.community) & (Alarm.type == "fire")
        )
        await jobs.run()  # waits the grace for the bridge's report, then looks
        runs = await LinkageRun.select().where(LinkageRun.alarm == alarm["id"])
        assert sorted(r["status"] for r in runs) == ["ok", "ok"]
        entries = (
            await AlarmEntry.select()
            .where((AlarmEntry.alarm == alarm["id"]) & (AlarmEntry.kind == "linkage"))
            .output(load_json=True)
        )
        statuses = {d["status"] for e in entries for d in e["data"]["devices"]}
        assert statuses == {"done_by_bridge"}
        assert (
            await DeviceCommand.count().where(
                (DeviceCommand.community == world.a.community)
                & DeviceCommand.action.is_in(["unlock", "broadcast"])
            )
            == 0
        )
