"""The guard's lane console with the real site bridge (device_bridge, in this process): the arm
lifted and closed remotely with a stated reason, recorded and audited; an unknown read shown on
the console and live, then let in as temporary parking, refused, or its plate corrected and
decided again; another community's guard gets 404, bad input a 400 or 422.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar import Litestar

from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.core.storage import RetentionClass
from api.devices.tables import DeviceCommand
from api.push.tables import Notification
from api.vehicles.tables import CarPark, PassRecord
from api.visitors.tables import VisitorPass
from device_bridge.drivers.sim import client as sim_client
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.fixtures import AsRole
from tests.helpers import (
    ApiClient,
    World,
    assert_error,
    eventually,
    live_socket,
    next_event,
    running,
    subscribe,
)
from tests.vehicles.helpers import lane_devices, store_pass
from tests.vehicles.test_site import IN, lanes, probe
from tests.visitors.helpers import book

ENTRANCE = "地库入口 车牌识别"


@pytest.fixture(autouse=True)
def quick_barriers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sim barriers answer at once."""
    monkeypatch.setitem(sim_client._LATENCY, ("barrier", "*"), (0.0, 0.001))


@pytest.fixture
async def guard(as_role: AsRole) -> ApiClient:
    return await as_role(Role.GUARD)


@pytest.fixture
async def manager(as_role: AsRole) -> ApiClient:
    return await as_role(Role.PROPERTY_MANAGER)


async def entrance(guard: ApiClient, manager: ApiClient, bridge: Bridge, world: World) -> Any:
    """The console's entry for the car park's entrance lane."""
    await lanes(manager, bridge, world)
    r = await guard.get("/api/v1/vehicle-lanes/console")
    assert r.status_code == 200, r.text
    return next(s for s in r.json() if s["lane"]["name"] == ENTRANCE)


def arm(bridge: Bridge) -> str:
    assert bridge.sim is not None
    return str(bridge.sim.fleet.devices["barrier-carpark"].state["barrier"])


async def audits(action: str, world: World) -> list[dict[str, Any]]:
    """This test's audit entries of an action (the log outlives a test)."""
    return (
        await AuditEntry.select()
        .where((AuditEntry.action == action) & (AuditEntry.community_id == world.a.community))
        .output(load_json=True)
    )


async def held_read(guard: ApiClient, bridge: Bridge, plate: str, lane_id: str) -> Any:
    """The sim camera reads a plate nobody registered; the console shows it held."""
    assert bridge.sim is not None
    await bridge.sim.read_plate(IN, plate=plate, confidence=0.62)

    async def shown() -> Any:
        r = await guard.get("/api/v1/vehicle-lanes/console")
        last = next(s for s in r.json() if s["lane"]["id"] == lane_id)["last"]
        return last if last and last["reason"] == "unknown" else None

    return await eventually(shown)


@pytest.mark.req("VEH-15")
async def test_a_guard_lifts_and_closes_an_arm_remotely_with_a_reason_recorded_and_audited(
    site_settings: BridgeSettings, guard: ApiClient, manager: ApiClient, world: World
) -> None:
    async with running(site_settings) as bridge:
        lane = (await entrance(guard, manager, bridge, world))["lane"]
        assert arm(bridge) == "closed"
        r = await guard.post(
            f"/api/v1/vehicle-lanes/{lane['id']}/barrier",
            json={"action": "open", "reason": "救护车进入"},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["command_status"] == "ok"
        assert arm(bridge) == "open"
        opened = body["record"]
        assert (opened["decision"], opened["reason"], opened["note"]) == (
            "granted",
            "remote_open",
            "救护车进入",
        )
        assert opened["decided_by"] == str(world.a.users[Role.GUARD].id)
        assert opened["lane_id"] == lane["id"]
        command = await DeviceCommand.select().where(DeviceCommand.device == lane["barrier_id"])
        assert [(c["action"], c["status"]) for c in command] == [("open", "ok")]

        r = await guard.post(
            f"/api/v1/vehicle-lanes/{lane['id']}/barrier",
            json={"action": "close", "reason": "车辆已通过"},
        )
        assert r.status_code == 200, r.text
        assert arm(bridge) == "closed"
        assert (r.json()["record"]["decision"], r.json()["record"]["reason"]) == (
            "denied",
            "remote_close",
        )
        [lifted] = await audits("barrier.remote_open", world)
        [closed] = await audits("barrier.remote_close", world)
        assert (lifted["purpose"], lifted["outcome"], lifted["target_id"]) == (
            "救护车进入",
            "ok",
            lane["id"],
        )
        assert lifted["actor_id"] == world.a.users[Role.GUARD].id
        assert closed["purpose"] == "车辆已通过"
        # Both are pass records of the lane, and the console's last read is the close.
        r = await guard.get("/api/v1/vehicle-passes", params={"lane_id": lane["id"]})
        assert [p["reason"] for p in r.json()["items"]] == ["remote_close", "remote_open"]
        status = await entrance(guard, manager, bridge, world)
        assert status["last"]["reason"] == "remote_close"


async def test_the_console_and_the_arm_are_out_of_reach_of_another_community_and_residents(
    site_settings: BridgeSettings,
    guard: ApiClient,
    manager: ApiClient,
    resident: ApiClient,
    as_role: AsRole,
    world: World,
) -> None:
    async with running(site_settings) as bridge:
        status = await entrance(guard, manager, bridge, world)
        lane = status["lane"]
        record = await held_read(guard, bridge, "川A77777", lane["id"])
        other = await as_role(Role.GUARD, "b")
        police = await as_role(Role.POLICE)
        for caller in (other, resident, police):
            assert_error(
                await caller.post(
                    f"/api/v1/vehicle-lanes/{lane['id']}/barrier",
                    json={"action": "open", "reason": "x"},
                ),
                404,
                "not_found",
            )
            assert_error(
                await caller.post(
                    f"/api/v1/vehicle-passes/{record['id']}/resolve", json={"action": "admit"}
                ),
                404,
                "not_found",
            )
        r = await other.get("/api/v1/vehicle-lanes/console")
        assert r.status_code == 200 and r.json() == []
        assert_error(
            await other.get(
                "/api/v1/vehicle-lanes/console", params={"community_id": str(world.a.community)}
            ),
            404,
            "not_found",
        )
        assert_error(await resident.get("/api/v1/vehicle-lanes/console"), 404, "not_found")
        assert arm(bridge) == "closed"
        assert await audits("barrier.remote_open", world) == []
        assert await audits("vehicle_pass.admitted", world) == []


async def test_bad_input_at_the_console_is_a_4xx_and_moves_nothing(
    site_settings: BridgeSettings, guard: ApiClient, manager: ApiClient, world: World
) -> None:
    async with running(site_settings) as bridge:
        lane = (await entrance(guard, manager, bridge, world))["lane"]
        url = f"/api/v1/vehicle-lanes/{lane['id']}/barrier"
        assert_error(
            await guard.post(url, json={"action": "open", "reason": "   "}),
            400,
            "reason_required",
        )
        for body in (
            {"action": "open"},
            {"action": "wave", "reason": "x"},
            {"action": "open", "reason": ""},
        ):
            assert_error(await guard.post(url, json=body), 422, "invalid_body")
        record = await held_read(guard, bridge, "川A77777", lane["id"])
        resolve = f"/api/v1/vehicle-passes/{record['id']}/resolve"
        assert_error(await guard.post(resolve, json={"action": "correct"}), 400, "plate_required")
        assert_error(
            await guard.post(resolve, json={"action": "correct", "plate": "not a plate"}),
            400,
            "invalid_plate",
        )
        assert_error(await guard.post(resolve, json={"action": "ignore"}), 422, "invalid_body")
        assert arm(bridge) == "closed"
        assert await PassRecord.count().where(PassRecord.resolves.is_not_null()) == 0
        # A remote lift or close is no read to answer.
        r = await guard.post(url, json={"action": "close", "reason": "test"})
        mine = r.json()["record"]["id"]
        assert_error(
            await guard.post(f"/api/v1/vehicle-passes/{mine}/resolve", json={"action": "admit"}),
            409,
            "not_resolvable",
        )


@pytest.mark.req("VEH-15", partial=True)
async def test_an_unknown_read_shows_live_on_the_console_and_the_guard_lets_it_in_once(
    site_settings: BridgeSettings,
    guard: ApiClient,
    manager: ApiClient,
    world: World,
    live_url: str,
) -> None:
    async with (
        running(site_settings) as bridge,
        live_socket(live_url, world.a.users[Role.GUARD]) as ws,
    ):
        status = await entrance(guard, manager, bridge, world)
        lane = status["lane"]
        assert bridge.sim is not None
        await bridge.sim.read_plate(IN, plate="川A77777", confidence=0.62)
        event = await next_event(ws, lambda e: e.get("type") == "vehicle.pass", timeout=10)
        live = event["record"]
        assert (live["lane_id"], live["decision"], live["reason"], live["plate"]) == (
            lane["id"],
            "held",
            "unknown",
            "川A***77",
        )
        assert "77777" not in str(event)  # masked on the socket too
        assert arm(bridge) == "closed"
        r = await guard.post(
            f"/api/v1/vehicle-passes/{live['id']}/resolve",
            json={"action": "admit", "reason": "访客临时停车"},
        )
        assert r.status_code == 200, r.text
        admitted = r.json()["record"]
        assert (admitted["decision"], admitted["reason"], admitted["resolves"]) == (
            "granted",
            "temporary",
            live["id"],
        )
        assert admitted["plate"] == "川A***77"
        assert r.json()["command_status"] == "ok"
        assert arm(bridge) == "open"
        event = await next_event(
            ws, lambda e: e.get("type") == "vehicle.pass" and e["record"]["id"] == admitted["id"]
        )
        park = await CarPark.select(CarPark.occupied).where(CarPark.id == lane["car_park_id"])
        assert park[0]["occupied"] == 1  # temporary parking takes a space
        [entry] = await audits("vehicle_pass.admitted", world)
        assert entry["purpose"] == "访客临时停车"
        assert entry["details"]["resolves"] == live["id"]
        assert_error(
            await guard.post(
                f"/api/v1/vehicle-passes/{live['id']}/resolve", json={"action": "refuse"}
            ),
            409,
            "not_resolvable",
        )


@pytest.mark.req("VEH-15", partial=True)
async def test_a_corrected_plate_is_decided_again_and_a_refused_read_keeps_the_arm_down(
    site_settings: BridgeSettings,
    guard: ApiClient,
    manager: ApiClient,
    resident: ApiClient,
    world: World,
) -> None:
    async with running(site_settings) as bridge:
        lane = (await entrance(guard, manager, bridge, world))["lane"]
        r = await resident.post("/api/v1/vehicles", json={"plate": "川A12345"})
        car = r.json()
        await manager.post(f"/api/v1/vehicles/{car['id']}/authorise", json={})
        await eventually(lambda: probe(bridge, "川A12345") == "resident")
        # The camera misread the last character on a strict lane: held for the guard.
        misread = await held_read(guard, bridge, "川A12346", lane["id"])
        r = await guard.post(
            f"/api/v1/vehicle-passes/{misread['id']}/resolve",
            json={"action": "correct", "plate": "川A12345"},
        )
        assert r.status_code == 200, r.text
        fixed = r.json()["record"]
        assert (fixed["decision"], fixed["reason"], fixed["vehicle_id"], fixed["plate"]) == (
            "granted",
            "resident",
            car["id"],
            "川A***45",
        )
        assert arm(bridge) == "open"
        [entry] = await audits("vehicle_pass.corrected", world)
        assert (entry["details"]["corrected_from"], entry["details"]["corrected_to"]) == (
            "川A***46",
            "川A***45",
        )
        # The resident sees the corrected pass among the household's.
        r = await resident.get("/api/v1/vehicle-passes")
        assert fixed["id"] in [p["id"] for p in r.json()["items"]]

        await guard.post(
            f"/api/v1/vehicle-lanes/{lane['id']}/barrier", json={"action": "close", "reason": "t"}
        )
        stranger = await held_read(guard, bridge, "川A55555", lane["id"])
        r = await guard.post(
            f"/api/v1/vehicle-passes/{stranger['id']}/resolve",
            json={"action": "refuse", "reason": "无预约"},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["record"]["decision"], r.json()["record"]["reason"]) == (
            "denied",
            "refused",
        )
        assert r.json()["command_status"] is None
        assert arm(bridge) == "closed"
        # A correction to a plate still unknown is held again for the guard.
        other = await held_read(guard, bridge, "川A66666", lane["id"])
        r = await guard.post(
            f"/api/v1/vehicle-passes/{other['id']}/resolve",
            json={"action": "correct", "plate": "川A66668"},
        )
        again = r.json()["record"]
        assert (again["decision"], again["reason"]) == ("held", "unknown")
        assert arm(bridge) == "closed"
        # … and that one the guard may still let in.
        r = await guard.post(
            f"/api/v1/vehicle-passes/{again['id']}/resolve", json={"action": "admit"}
        )
        assert r.json()["record"]["reason"] == "temporary"
        assert arm(bridge) == "open"


async def test_the_console_links_a_reads_snapshot_and_none_for_a_read_without(
    app: Litestar, guard: ApiClient, manager: ApiClient, world: World
) -> None:
    """A lane's last read with a snapshot in the object store gets a signed link to it."""
    devices = await lane_devices(world.a.community)
    park = await manager.post(
        "/api/v1/car-parks",
        json={"community_id": str(world.a.community), "name": "P1", "capacity": 5},
    )
    made = await manager.post(
        "/api/v1/vehicle-lanes",
        json={
            "car_park_id": park.json()["id"],
            "name": "北门入口",
            "direction": "in",
            "barrier_id": str(devices["barrier"]),
            "camera_id": str(devices["plate_camera"]),
        },
    )
    lane = made.json()
    r = await guard.get("/api/v1/vehicle-lanes/console")
    [empty] = r.json()
    assert (empty["last"], empty["image_url"]) == (None, None)
    key = f"plates/{uuid.uuid4().hex}.jpg"
    await app.state.objects.put(
        key, b"\xff\xd8\xff\xe0jpeg", content_type="image/jpeg", retention=RetentionClass.RECORD_6M
    )
    record = await store_pass(app, world.a.community, "川A77777", decision="held", reason="unknown")
    await PassRecord.update({PassRecord.lane: lane["id"], PassRecord.image: key}).where(
        PassRecord.id == record
    )
    [status] = (await guard.get("/api/v1/vehicle-lanes/console")).json()
    assert status["last"]["id"] == str(record)
    assert status["last"]["plate"] == "川A***77"
    assert "/api/v1/objects/" in status["image_url"] and "sig=" in status["image_url"]
    image = await guard.get(status["image_url"].split("testserver", 1)[-1])
    assert image.status_code == 200 and image.content.startswith(b"\xff\xd8")


@pytest.mark.req("VEH-11", partial=True)
async def test_a_visitors_car_let_in_shows_on_the_pass_and_the_household_hears_of_it(
    site_settings: BridgeSettings,
    guard: ApiClient,
    manager: ApiClient,
    resident: ApiClient,
    world: World,
    live_url: str,
) -> None:
    resident_user = world.a.users[Role.RESIDENT]
    await subscribe(resident_user)
    async with running(site_settings) as bridge, live_socket(live_url, resident_user) as ws:
        await entrance(guard, manager, bridge, world)
        visit = await book(resident, plate="川A66666")
        await eventually(lambda: probe(bridge, "川A66666") == "visitor")
        assert bridge.sim is not None
        await bridge.sim.read_plate(IN, plate="川A66666")
        event = await next_event(ws, lambda e: e.get("type") == "visitor.car_arrived", timeout=10)
        assert (event["pass_id"], event["visitor_name"], event["lane"]) == (
            visit["id"],
            "王小明",
            ENTRANCE,
        )
        row = await VisitorPass.select(VisitorPass.arrived_at).where(VisitorPass.id == visit["id"])
        assert row[0]["arrived_at"] is not None
        pushed = (
            await Notification.select()
            .where(Notification.account == resident_user.id)
            .output(load_json=True)
        )
        [push] = [p for p in pushed if p["payload"]["data"]["type"] == "visitor.car_arrived"]
        assert push["payload"]["body"].startswith("王小明的车 ")
        assert push["payload"]["body"].endswith(f"到达{ENTRANCE}")
        assert push["payload"]["url"] == f"/visitors/{visit['id']}"
        # The household reads the pass record, with its lane and its visitor pass.
        r = await resident.get("/api/v1/vehicle-passes")
        [record] = r.json()["items"]
        assert (record["reason"], record["lane_name"], record["visitor_pass_id"]) == (
            "visitor",
            ENTRANCE,
            visit["id"],
        )
