"""Barrier alarms (VEH-12) with the real site bridge: a lift the barrier did not carry out, a
barrier up with no lift asked for, one held up past its lane's limit and a close it did not carry
out each reach the alarm board as their own alarm type; an ordinary grant raises none."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from api.alarms.tables import Alarm
from api.core.auth import Role
from device_bridge.drivers.sim import client as sim_client
from device_bridge.settings import BridgeSettings
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, eventually, running
from tests.vehicles.test_site import IN, lanes

BARRIER = "barrier-carpark"


@pytest.fixture(autouse=True)
def quick_barriers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sim_client._LATENCY, ("barrier", "*"), (0.0, 0.001))


@pytest.fixture
async def manager(as_role: AsRole) -> ApiClient:
    return await as_role(Role.PROPERTY_MANAGER)


async def alarms(world: World) -> list[dict[str, Any]]:
    return await Alarm.select(Alarm.type, Alarm.state).where(
        (Alarm.community == world.a.community) & Alarm.type.like("barrier_%")
    )


async def raised(world: World, kind: str) -> dict[str, Any]:
    async def found() -> Any:
        rows = [a for a in await alarms(world) if a["type"] == kind]
        return rows[0] if rows else None

    return dict(await eventually(found))


@pytest.mark.req("VEH-12", partial=True)
async def test_each_barrier_fault_raises_its_own_alarm_and_a_grant_raises_none(
    site_settings: BridgeSettings, manager: ApiClient, world: World, as_role: AsRole
) -> None:
    guard = await as_role(Role.GUARD)
    async with running(site_settings) as bridge:
        await lanes(manager, bridge, world)
        sim = bridge.sim
        assert sim is not None
        r = await guard.get("/api/v1/vehicle-lanes/console")
        entrance = next(s["lane"] for s in r.json() if s["lane"]["direction"] == "in")

        # An ordinary remote lift and close: no alarm.
        for action in ("open", "close"):
            r = await guard.post(
                f"/api/v1/vehicle-lanes/{entrance['id']}/barrier",
                json={"action": action, "reason": "测试"},
            )
            assert r.json()["command_status"] == "ok", r.text
        # Up with nobody asking (someone lifted the arm by hand): unauthorised.
        await sim.trigger(BARRIER, "barrier.opened", {})
        sim.fleet.devices[BARRIER].state["barrier"] = "open"
        alarm = await raised(world, "barrier_unauthorized")
        assert alarm["state"] == "new"
        # … and still up past the lane's limit (1 s here, set on the camera as a site file would):
        # held open.
        for device in bridge.inventory():
            if device.id == IN:
                device.attrs["open_limit"] = "1"
        await sim.trigger(BARRIER, "barrier.opened", {})
        await raised(world, "barrier_held_open")
        # The barrier is offline: a lift after a grant and a close both fail.
        await sim.set_fault(BARRIER, offline=True)
        for action in ("open", "close"):
            r = await guard.post(
                f"/api/v1/vehicle-lanes/{entrance['id']}/barrier",
                json={"action": action, "reason": "测试"},
            )
            assert r.json()["command_status"] != "ok", r.text
        await raised(world, "barrier_open_failed")
        await raised(world, "barrier_close_failed")
        types = sorted(a["type"] for a in await alarms(world))
        assert types == [
            "barrier_close_failed",
            "barrier_held_open",
            "barrier_open_failed",
            "barrier_unauthorized",
        ], msgspec.json.encode(types)
