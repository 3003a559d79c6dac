"""With the real site bridge (device_bridge, in this process) and the platform: a resident's car
is let in and recorded once, with the household, and fills the car park; a cancelled car stops
opening through the ordinary credential sync; a blacklisted plate stays out and raises an alarm;
1,000 reads decided offline at two lanes arrive exactly once after the link returns.
"""

from __future__ import annotations

import random
import signal
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from api.alarms.tables import Alarm
from api.core.auth import Role
from api.vehicles.tables import CarPark, PassRecord
from device_bridge.drivers.sim import client as sim_client
from device_bridge.outbox import Outbox
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from device_bridge.vehicles import Lane
from tests.device_bridge.helpers import bridge_process
from tests.device_bridge.helpers import running as running_alone
from tests.device_bridge.test_rules import unreachable_url
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, eventually, running
from tests.vehicles.helpers import register

IN, OUT = "lpr-carpark", "lpr-carpark-exit"


@pytest.fixture(autouse=True)
def quick_barriers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sim barriers answer at once (their realistic 0.2-0.4 s would make 1,000 reads slow)."""
    monkeypatch.setitem(sim_client._LATENCY, ("barrier", "*"), (0.0, 0.001))


@pytest.fixture
async def manager(as_role: AsRole) -> ApiClient:
    return await as_role(Role.PROPERTY_MANAGER)


async def lanes(manager: ApiClient, bridge: Bridge, world: World) -> dict[str, Any]:
    """The car park and its two lanes the platform made from the demo site's inventory; the
    manager reads them."""

    async def made() -> dict[str, Any]:
        r = await manager.get(
            "/api/v1/vehicle-lanes", params={"community_id": str(world.a.community)}
        )
        found = {lane["name"]: lane for lane in r.json()["items"]}
        return found if len(found) == 2 else {}

    lanes = await eventually(made)  # the link makes them after the inventory
    assert {lanes["地库入口 车牌识别"]["direction"], lanes["地库出口 车牌识别"]["direction"]} == {
        "in",
        "out",
    }
    r = await manager.get(f"/api/v1/car-parks/{lanes['地库入口 车牌识别']['car_park_id']}")
    park = r.json()
    assert (park["name"], park["capacity"], park["occupied"]) == ("carpark", 30, 0)
    return dict(park)


def probe(bridge: Bridge, number: str) -> str:
    """The bridge's decision for a plate at a fresh lane (no debounce, nothing counted)."""
    lane = Lane(camera=uuid.uuid4().hex, barrier="barrier-carpark", car_park=uuid.uuid4().hex)
    return bridge.vehicles.decide(lane, number).reason


async def occupied(park: dict[str, Any]) -> int:
    row = await CarPark.select(CarPark.occupied).where(CarPark.id == park["id"]).first()
    assert row is not None
    return int(row["occupied"])


@pytest.mark.req("VEH-11", partial=True)
@pytest.mark.req("VEH-07", partial=True)
async def test_a_residents_car_is_let_in_recorded_once_and_a_cancelled_one_stops_opening(
    site_settings: BridgeSettings,
    manager: ApiClient,
    resident: ApiClient,
    world: World,
) -> None:
    async with running(site_settings) as bridge:
        park = await lanes(manager, bridge, world)
        car = await register(resident, plate="川A12345")
        await manager.post(f"/api/v1/vehicles/{car['id']}/authorise", json={})
        await eventually(lambda: probe(bridge, "川A12345") == "resident")
        assert bridge.sim is not None
        await bridge.sim.read_plate(IN, plate="川A12345")
        record = await eventually(
            lambda: PassRecord.select().where(PassRecord.vehicle == car["id"]).first()
        )
        assert (record["decision"], record["reason"], record["direction"]) == (
            "granted",
            "resident",
            "in",
        )
        assert record["household"] == world.a.households[0]
        assert await occupied(park) == 1
        r = await resident.get("/api/v1/vehicle-passes")
        assert [p["id"] for p in r.json()["items"]] == [str(record["id"])]
        await manager.post(f"/api/v1/vehicles/{car['id']}/cancel", json={"reason": "sold"})
        await eventually(lambda: probe(bridge, "川A12345") == "revoked")


@pytest.mark.req("VEH-23", partial=True)
async def test_a_blacklisted_plate_stays_out_and_raises_an_alarm(
    site_settings: BridgeSettings, manager: ApiClient, world: World
) -> None:
    async with running(site_settings) as bridge:
        await lanes(manager, bridge, world)
        await register(
            manager,
            plate="京A99999",
            vehicle_class="blacklisted",
            community_id=str(world.a.community),
            reason="冲卡",
        )
        await eventually(lambda: probe(bridge, "京A99999") == "blacklisted")
        assert bridge.sim is not None
        await bridge.sim.read_plate(IN, plate="京A99999")
        alarm = await eventually(
            lambda: (
                Alarm.select()
                .where(
                    (Alarm.community == world.a.community) & (Alarm.type == "vehicle_blacklisted")
                )
                .first()
            )
        )
        assert alarm["state"] == "new"
        [record] = await PassRecord.select().where(
            (PassRecord.reason == "blacklisted") & (PassRecord.community == world.a.community)
        )
        assert record["decision"] == "denied"
        assert bridge.sim.fleet.devices["barrier-carpark"].state["barrier"] == "closed"


def replay(records: list[dict[str, Any]]) -> int:
    """Entries − exits in the order read, never below zero: what the car park must show."""
    count = 0
    for r in records:
        if r["decision"] == "granted" and r["reason"] != "already_inside":
            count = max(count + (1 if r["direction"] == "in" else -1), 0)
    return count


@pytest.mark.req("VEH-11", partial=True)
@pytest.mark.req("VEH-23", partial=True)
async def test_a_thousand_reads_decided_offline_at_two_lanes_arrive_exactly_once(
    site_settings: BridgeSettings, manager: ApiClient, resident: ApiClient, world: World
) -> None:
    residents = ["川A11111", "川AD22222"]
    async with running(site_settings) as bridge:
        park = await lanes(manager, bridge, world)
        for number in residents:
            car = await register(resident, plate=number)
            await manager.post(f"/api/v1/vehicles/{car['id']}/authorise", json={})
        await register(
            manager,
            plate="京A99999",
            vehicle_class="blacklisted",
            community_id=str(world.a.community),
            reason="冲卡",
        )
        await eventually(lambda: probe(bridge, "京A99999") == "blacklisted")
        await eventually(lambda: all(probe(bridge, n) == "resident" for n in residents))
    alone = msgspec.structs.replace(site_settings, platform_url=unreachable_url())
    async with running_alone(alone, barrier_open_s=0.01) as offline:
        assert not offline.link.authenticated.is_set()
        offline.vehicles.debounce = 0
        sim = offline.sim
        assert sim is not None
        plan: list[tuple[str, str]] = []
        for i in range(250):
            plan += [
                (IN, residents[i % 2]),
                (OUT, residents[i % 2]),
                (IN, "京A99999" if i % 50 == 0 else f"川B{i:05d}"),
                (OUT, residents[(i + 1) % 2]),  # sometimes a car never seen coming in
            ]
        for camera, number in plan:
            await sim.read_plate(camera, plate=number)
        pending = [e for e in await offline.outbox.pending(limit=10_000) if e.kind == "plate.read"]
        assert len(pending) == 1000
        blocked = [e for e in pending if e.data["reason"] == "blacklisted"]
        assert len(blocked) == 5 and all(e.data["decision"] == "denied" for e in blocked)
    before = await PassRecord.count().where(PassRecord.community == world.a.community)
    async with running(site_settings) as back:
        await eventually(
            lambda: PassRecord.count().where(PassRecord.community == world.a.community),
            timeout=60,
        )

        async def all_arrived() -> bool:
            now = await PassRecord.count().where(PassRecord.community == world.a.community)
            return now - before == 1000 and not await back.outbox.pending(limit=1)

        await eventually(all_arrived, timeout=120, every=0.2)
    records = (
        await PassRecord.select()
        .where(PassRecord.community == world.a.community)
        .order_by(PassRecord.device_event)
    )
    offline_records = records[before:]
    assert len({r["device_event"] for r in offline_records}) == 1000  # each exactly once
    assert await occupied(park) == replay(records) >= 0
    alarms = await Alarm.count().where(
        (Alarm.community == world.a.community) & (Alarm.type == "vehicle_blacklisted")
    )
    assert alarms >= 1  # one alarm, the repeats joining it while it is open


async def test_a_visitors_car_is_let_in_and_the_host_sees_it_arrive(
    site_settings: BridgeSettings, manager: ApiClient, resident: ApiClient, world: World
) -> None:
    start = datetime.now(UTC)
    async with running(site_settings) as bridge:
        await lanes(manager, bridge, world)
        r = await resident.post(
            "/api/v1/visitor-passes",
            json={
                "visitor_name": "王小明",
                "visitor_phone": "13711111111",
                "valid_from": start.isoformat(),
                "valid_until": (start + timedelta(hours=2)).isoformat(),
                "plate": "川A8D123",
            },
        )
        assert r.status_code == 201, r.text
        visit = r.json()
        await eventually(lambda: probe(bridge, "川A8D123") == "visitor")
        assert bridge.sim is not None
        await bridge.sim.read_plate(IN, plate="川A8D123")
        record = await eventually(
            lambda: (
                PassRecord.select()
                .where(
                    (PassRecord.reason == "visitor") & (PassRecord.community == world.a.community)
                )
                .first()
            )
        )
        assert record["household"] == world.a.households[0] and record["decision"] == "granted"
        r = await resident.get("/api/v1/vehicle-passes")
        [seen] = r.json()["items"]
        assert (seen["plate"], seen["direction"]) == ("川A***23", "in")
        await resident.post(f"/api/v1/visitor-passes/{visit['id']}/revoke", json={})
        await eventually(lambda: probe(bridge, "川A8D123") == "revoked")


async def test_occupancy_equals_entries_minus_exits_after_a_sigkill_of_the_bridge_mid_traffic(
    site_settings: BridgeSettings, manager: ApiClient, world: World
) -> None:
    async with running(site_settings) as bridge:  # once linked: the platform makes the lanes
        park = await lanes(manager, bridge, world)
    rng = random.Random(4)
    traffic = []
    for n in range(2000):  # decided at the bridge, waiting in its outbox for the platform
        camera, direction = rng.choice([(IN, "in"), (OUT, "out")])
        decision, reason = rng.choice(
            [("granted", "resident"), ("granted", "exit"), ("held", "unknown")]
        )
        data = {"plate": f"川A{n:05d}", "direction": direction, "decision": decision}
        traffic.append(("plate.read", camera, None, {**data, "reason": reason}))
    async with await Outbox.open(site_settings.outbox_file) as outbox:
        await outbox.append_many(traffic)

    def records() -> Any:
        return PassRecord.count().where(PassRecord.car_park == park["id"])

    first = await bridge_process(site_settings, "--no-clock-sync", stderr=subprocess.DEVNULL)
    await eventually(lambda: _at_least(records(), 1), timeout=30, every=0.01)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    print(f"\nbridge killed with {await records()} of 2,000 reads recorded on the platform")
    second = await bridge_process(site_settings, "--no-clock-sync", stderr=subprocess.DEVNULL)
    try:
        await eventually(lambda: _at_least(records(), 2000), timeout=120, every=0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()
    rows = (
        await PassRecord.select()
        .where(PassRecord.car_park == park["id"])
        .order_by(PassRecord.device_event)
    )
    assert len(rows) == len({r["device_event"] for r in rows}) == 2000  # each read once
    assert await occupied(park) == replay(rows) >= 0


async def _at_least(count: Any, n: int) -> bool:
    return int(await count) >= n
