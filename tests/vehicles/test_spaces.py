"""The manager's temporary spaces reach the bridge (VEH-22): with the real site bridge and the
platform, a car park set to one temporary space shows "临时车位已满" at its entrance once a
visitor is in and refuses the next; restarted offline, the bridge still holds one space."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from api.vehicles.tables import PassRecord
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.device_bridge.helpers import running as running_alone
from tests.device_bridge.test_rules import unreachable_url
from tests.device_bridge.test_vehicles import Reader
from tests.helpers import ApiClient, World, eventually, running
from tests.vehicles.test_site import IN, lanes, manager, probe, quick_barriers

__all__ = ["manager", "quick_barriers"]  # the fixtures, from the site tests

DISPLAY = "display-carpark"
VISITORS = ("川A8D123", "川A7E456")


def standing(bridge: Bridge) -> tuple[list[str], str]:
    """The entrance display's standing text and colour."""
    assert bridge.sim is not None
    state = bridge.sim.fleet.devices[DISPLAY].state.get("standing") or {}
    return list(state.get("lines") or []), str(state.get("colour") or "")


async def visitor_pass(resident: ApiClient, plate: str) -> None:
    start = datetime.now(UTC)
    r = await resident.post(
        "/api/v1/visitor-passes",
        json={
            "visitor_name": "王小明",
            "visitor_phone": "13711111111",
            "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(hours=2)).isoformat(),
            "plate": plate,
        },
    )
    assert r.status_code == 201, r.text


async def decided(world: World, plate_reason: str) -> dict[str, Any] | None:
    row = (
        await PassRecord.select()
        .where((PassRecord.community == world.a.community) & (PassRecord.reason == plate_reason))
        .first()
    )
    return dict(row) if row else None


@pytest.mark.req("VEH-22")
async def test_the_managers_temporary_spaces_decide_full_at_the_bridge_offline_too(
    site_settings: BridgeSettings, manager: ApiClient, resident: ApiClient, world: World
) -> None:
    async with running(site_settings) as bridge:
        park = await lanes(manager, bridge, world)
        assert park["temporary_capacity"] == 30  # made from the site file's capacity
        for plate in VISITORS:
            await visitor_pass(resident, plate)
        await eventually(lambda: all(probe(bridge, n) == "visitor" for n in VISITORS))
        assert bridge.vehicles.lanes()[IN].capacity == 30

        r = await manager.patch(f"/api/v1/car-parks/{park['id']}", json={"temporary_capacity": 1})
        assert r.status_code == 200, r.text
        await eventually(lambda: bridge.vehicles.lanes()[IN].capacity == 1)
        await eventually(lambda: standing(bridge) == (["临时车位 余1"], "green"))

        assert bridge.sim is not None
        await bridge.sim.read_plate(IN, plate=VISITORS[0])
        let_in = await eventually(lambda: decided(world, "visitor"))
        assert let_in["decision"] == "granted"
        assert standing(bridge) == (["临时车位已满"], "red")
        await bridge.sim.read_plate(IN, plate=VISITORS[1])
        refused = await eventually(lambda: decided(world, "car_park_full"))
        assert refused["decision"] == "denied" and refused["plate_masked"] == "川A***56"

    alone = msgspec.structs.replace(site_settings, platform_url=unreachable_url())
    async with running_alone(alone) as offline:  # restarted with the platform away
        assert not offline.link.authenticated.is_set() and offline.sim is not None
        assert offline.sim.devices[IN].attrs["capacity"] == 30  # the site file's, not used
        assert offline.vehicles.lanes()[IN].capacity == 1
        offline.vehicles.debounce = 0
        read = Reader(offline)
        again = await read(IN, VISITORS[0])  # the restart kept it inside: not counted twice
        assert (again["decision"], again["reason"]) == ("granted", "already_inside")
        assert standing(offline) == (["临时车位已满"], "red")
        full = await read(IN, VISITORS[1])
        assert (full["decision"], full["reason"]) == ("denied", "car_park_full")
