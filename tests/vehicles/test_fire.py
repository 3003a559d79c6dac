"""A fire lifts every arm (VEH-18), at the edge too: the community's fail-safe fire rule
(`unlock`, which reaches barriers as well as doors) is run by the site's bridge itself, so with the
platform unreachable the car park's barriers go up and stay up until told to come down."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from api.alarms.tables import BridgeRules
from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.devices.tables import Bridge
from device_bridge.settings import BridgeSettings
from tests.device_bridge.helpers import running as running_alone
from tests.device_bridge.test_rules import unreachable_url
from tests.fixtures import AsRole
from tests.helpers import World, eventually, released, running

BARRIERS = ["barrier-carpark", "barrier-carpark-exit"]


@pytest.mark.req("VEH-18", partial=True)
async def test_a_fire_at_the_site_lifts_every_barrier_and_holds_it_with_the_link_down(
    as_role: AsRole, site_settings: BridgeSettings, world: World
) -> None:
    async with running(site_settings) as bridge:
        bridge_id = (
            await Bridge.select(Bridge.id).where(Bridge.community == world.a.community).first()
        )["id"]
        manager = await as_role(Role.PROPERTY_MANAGER)
        made = await manager.post(
            "/api/v1/linkage-rules",
            json={
                "community_id": str(world.a.community),
                "name": "火警：开门抬杆疏散",
                "alarm_type": "fire",
                "failsafe": True,
                "actions": [{"kind": "unlock"}],
            },
        )
        assert made.status_code == 201, made.text

        async def applied() -> bool:
            row = await BridgeRules.select().where(BridgeRules.bridge == bridge_id).first()
            return bool(row and row["applied_version"] == row["sent_version"])

        await eventually(applied)
        [rule] = bridge.rules.rules
        targets = {a.device for a in rule.then if a.action == "unlock"}
        assert set(BARRIERS) <= targets  # the bridge holds the barriers as the rule's targets
    # The platform is away: the bridge runs the rule it holds.
    alone = msgspec.structs.replace(site_settings, platform_url=unreachable_url())
    async with running_alone(alone, barrier_open_s=0.05) as offline:
        assert not offline.link.authenticated.is_set()
        sim = offline.sim
        assert sim is not None
        await eventually(lambda: offline.rules.rules)
        await sim.trigger("smoke-1-1", "sensor.alarm", {"kind": "smoke", "value": 4.2})
        await eventually(
            lambda: all(sim.fleet.devices[b].state["barrier"] == "open" for b in BARRIERS)
        )
        assert all(sim.fleet.devices[b].state["held"] for b in BARRIERS)
        await offline.vehicles.read("lpr-carpark-exit", {"plate": "川A12345"})  # a car leaving
        await asyncio.sleep(0.2)  # the sim lowers an arm lifted for one car after 0.05 s
        # Held: neither that nor any timer brings an arm down.
        for barrier in BARRIERS:
            result = await offline.execute_local(barrier, "status", {})
            assert result.status == "ok" and result.data["barrier"] == "open", result


@pytest.mark.req("VEH-18", partial=True)
async def test_the_end_of_the_emergency_brings_every_held_arm_down_and_back_to_normal(
    as_role: AsRole, site_settings: BridgeSettings, world: World
) -> None:
    async with running_alone(site_settings, barrier_open_s=0.05) as bridge:
        await asyncio.wait_for(bridge.link.authenticated.wait(), 10)
        manager = await as_role(Role.PROPERTY_MANAGER)
        made = await manager.post(
            "/api/v1/linkage-rules",
            json={
                "community_id": str(world.a.community),
                "name": "火警：开门抬杆疏散",
                "alarm_type": "fire",
                "failsafe": True,
                "actions": [{"kind": "unlock"}],
            },
        )
        assert made.status_code == 201, made.text
        await eventually(lambda: bridge.rules.source == "platform" and bridge.rules.rules)
        sim = bridge.sim
        assert sim is not None
        await sim.trigger("smoke-1-1", "sensor.alarm", {"kind": "smoke", "value": 4.2})
        await eventually(lambda: all(sim.fleet.devices[b].state["held"] for b in BARRIERS))

        guard = await as_role(Role.GUARD)
        body = {"community_id": str(world.a.community), "reason": "火警解除，恢复道闸"}
        r = await guard.post("/api/v1/access/emergency-release/end", json=body)
        assert r.status_code == 200, r.text
        assert (r.json()["barriers"], r.json()["failed"]) == (2, [])
        for barrier in BARRIERS:
            state = sim.fleet.devices[barrier].state
            assert (state["barrier"], state["held"]) == ("closed", False)
        # Normal again at the edge: a car let out lifts the exit arm, and it comes down by itself.
        decision = await bridge.vehicles.read("lpr-carpark-exit", {"plate": "川A12345"})
        assert decision.outcome == "granted"
        await eventually(
            lambda: sim.fleet.devices["barrier-carpark-exit"].state["barrier"] == "closed"
        )
        [ended] = (
            await AuditEntry.select()
            .where(
                (AuditEntry.action == "access.emergency_release.end")
                & (AuditEntry.community_id == world.a.community)
            )
            .output(load_json=True)
        )
        assert (ended["details"]["barriers"], ended["purpose"]) == (2, "火警解除，恢复道闸")
    # The bridge away: the end cannot reach the arms; the answer names them (they stay up).
    await released(
        bridge_id=(
            await Bridge.select(Bridge.id).where(Bridge.community == world.a.community).first()
        )["id"]
    )
    r = await guard.post("/api/v1/access/emergency-release/end", json=body)
    assert r.status_code == 200, r.text
    assert {"地库入口 道闸", "地库出口 道闸"} <= set(r.json()["failed"])
