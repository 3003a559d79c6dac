"""Temporary parking and payment (VEH-05) with the real site bridge, the platform and the arq job:
a temporary car let in by the guard is held at the paying exit, its stay priced with the car
park's tariff, paid through the simulated provider's signed notification (verified, idempotent,
a forged one refused) and the exit arm lifts through the bridge; a stay within the free minutes
leaves at once; a guard waives a fee with a reason; a read decided while the bridge was offline
makes no order and is the guard's to decide.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from arq.worker import func
from litestar import Litestar

from api.alarms.catalogue import SITE_TIMEZONE
from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.core.jobs import SETTLE_PARKING_EXIT
from api.devices.tables import DeviceCommand
from api.vehicles.payments import orders as payment_orders
from api.vehicles.payments.fees import Tariff, fee
from api.vehicles.payments.simulated import HEADER, SimulatedProvider
from api.vehicles.tables import Lane, ParkingOrder, PassRecord
from device_bridge.drivers.sim import client as sim_client
from device_bridge.runtime import Bridge
from device_bridge.settings import PACKAGE_DIR, BridgeSettings
from device_bridge.vehicles import Lane as VehicleLane
from tests.device_bridge.helpers import running as running_alone
from tests.device_bridge.test_rules import unreachable_url
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, eventually, running
from tests.jobs import Jobs
from tests.vehicles.helpers import register, stay_fee
from tests.vehicles.test_site import IN, OUT, lanes
from workers.tasks.vehicles import settle_parking_exit

EXIT_BARRIER = "barrier-carpark-exit"
TARIFF = {"free_minutes": 15, "hourly_fen": 500, "daily_cap_fen": 3000}


@pytest.fixture(autouse=True)
def quick_barriers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sim barriers answer at once."""
    monkeypatch.setitem(sim_client._LATENCY, ("barrier", "*"), (0.0, 0.001))


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The job that prices a held car's stay."""
    return [func(settle_parking_exit, name=SETTLE_PARKING_EXIT)]  # type: ignore[list-item]


@pytest.fixture
def paying_site(site_settings: BridgeSettings, tmp_path: Path) -> BridgeSettings:
    """The demo site with its car park's exit lane paying (`pay = true`)."""
    text = (PACKAGE_DIR / "demo.toml").read_text()
    exit_lane = 'direction = "out", car_park = "carpark"'
    assert exit_lane in text
    config = tmp_path / "site.toml"
    config.write_text(text.replace(exit_lane, f"{exit_lane}, pay = true"))
    return msgspec.structs.replace(site_settings, config=config)


@pytest.fixture
async def guard(as_role: AsRole) -> ApiClient:
    return await as_role(Role.GUARD)


@pytest.fixture
async def manager(as_role: AsRole) -> ApiClient:
    return await as_role(Role.PROPERTY_MANAGER)


def stranger(app: Litestar) -> ApiClient:
    """A phone with no session, from an address of its own (budgets are per address)."""
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return ApiClient(transport=transport, base_url="http://testserver")


def arm(bridge: Bridge, barrier: str = EXIT_BARRIER) -> str:
    assert bridge.sim is not None
    return str(bridge.sim.fleet.devices[barrier].state["barrier"])


async def temporary_entry(
    guard: ApiClient, bridge: Bridge, plate: str, *, ago: timedelta
) -> dict[str, Any]:
    """An unknown car read at the entrance, let in by the guard as temporary parking, `ago`
    before now (its entry record moved back: the stay has lasted that long)."""
    assert bridge.sim is not None
    await bridge.sim.read_plate(IN, plate=plate)
    held = await eventually(
        lambda: (
            PassRecord.select()
            .where(
                (PassRecord.reason == "unknown")
                & (PassRecord.plate_masked == plate[:2] + "***" + plate[-2:])
            )
            .first()
        )
    )
    r = await guard.post(f"/api/v1/vehicle-passes/{held['id']}/resolve", json={"action": "admit"})
    assert r.status_code == 200, r.text
    entry = r.json()["record"]
    assert (entry["decision"], entry["reason"]) == ("granted", "temporary")
    await PassRecord.update({PassRecord.at: datetime.now(UTC) - ago}).where(
        PassRecord.id == uuid.UUID(entry["id"])
    )
    return dict(entry)


async def held_at_exit(bridge: Bridge, plate: str) -> dict[str, Any]:
    """The car at the paying exit: the bridge holds it for payment; its read on the platform."""
    assert bridge.sim is not None
    await bridge.sim.read_plate(OUT, plate=plate)
    masked = plate[:2] + "***" + plate[-2:]
    return await eventually(
        lambda: (
            PassRecord.select()
            .where(
                (PassRecord.reason == "payment")
                & (PassRecord.plate_masked == masked)
                & (PassRecord.direction == "out")
            )
            .first()
        )
    )


def at_paying_exit(bridge: Bridge, plate: str) -> str:
    """The bridge's decision for a plate at a fresh paying exit (no debounce)."""
    lane = VehicleLane(
        camera=uuid.uuid4().hex,
        barrier=EXIT_BARRIER,
        direction="out",
        car_park=uuid.uuid4().hex,
        pay=True,
    )
    return bridge.vehicles.decide(lane, plate).reason


async def setup(manager: ApiClient, bridge: Bridge, world: World) -> dict[str, Any]:
    """The lanes made from the inventory, the car park's tariff set; the exit lane's QR token."""
    park = await lanes(manager, bridge, world)
    r = await manager.put(f"/api/v1/car-parks/{park['id']}/tariff", json=TARIFF)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in TARIFF} == TARIFF
    exit_lane = (
        await Lane.select()
        .where((Lane.name == "地库出口 车牌识别") & (Lane.community == world.a.community))
        .first()
    )
    r = await manager.get(f"/api/v1/vehicle-lanes/{exit_lane['id']}/qr")
    assert r.status_code == 200, r.text
    return {"park": park, "exit": exit_lane, "token": r.json()["url"].rsplit("/park/", 1)[1]}


async def audits(action: str, world: World) -> list[dict[str, Any]]:
    return (
        await AuditEntry.select()
        .where((AuditEntry.action == action) & (AuditEntry.community_id == world.a.community))
        .output(load_json=True)
    )


async def exit_opens(exit_lane: dict[str, Any]) -> list[str]:
    rows = await DeviceCommand.select(DeviceCommand.status).where(
        (DeviceCommand.device == exit_lane["barrier"]) & (DeviceCommand.action == "open")
    )
    return [r["status"] for r in rows]


@pytest.mark.req("VEH-05")
async def test_a_temporary_car_pays_by_qr_at_the_exit_and_the_arm_lifts_once(
    paying_site: BridgeSettings,
    guard: ApiClient,
    manager: ApiClient,
    world: World,
    jobs: Jobs,
    app: Litestar,
) -> None:
    async with running(paying_site) as bridge:
        made = await setup(manager, bridge, world)
        [changed] = await audits("car_park.tariff_changed", world)
        assert changed["details"]["to"] == TARIFF
        entry = await temporary_entry(guard, bridge, "川A70001", ago=timedelta(hours=2, minutes=10))
        held = await held_at_exit(bridge, "川A70001")
        assert (
            held["decision"] == "held" and arm(bridge) == "closed"
        )  # the bridge cannot take money
        await jobs.run()  # the stay priced: 3 started hours at 5 ¥
        order = await ParkingOrder.select().where(ParkingOrder.exit_read == held["id"]).first()
        entered = (
            await PassRecord.select(PassRecord.at)
            .where(PassRecord.id == uuid.UUID(entry["id"]))
            .first()
        )
        due = stay_fee(entered["at"], held["at"], TARIFF, usual=1500)
        assert (order["amount_fen"], order["status"]) == (due, "pending")
        assert order["entry_record"] == uuid.UUID(entry["id"])
        assert arm(bridge) == "closed" and await exit_opens(made["exit"]) == []

        # The driver scans the exit lane's QR: the order waits there, nothing but a masked plate.
        async with stranger(app) as phone:
            r = await phone.get(f"/api/v1/public/parking/lanes/{made['token']}")
            assert r.status_code == 200, r.text
            page = r.json()
            assert (page["direction"], page["tariff"]["hourly_fen"]) == ("out", 500)
            [shown] = page["orders"]
            assert (shown["plate"], shown["amount_fen"], shown["status"]) == (
                "川A***01",
                due,
                "pending",
            )
            assert "川A70001" not in r.text and str(order["id"]) not in r.text
            assert shown["payment_url"].endswith(f"/park/sim/{order['provider_ref']}")
            r = await phone.get(f"/api/v1/public/parking/orders/{shown['token']}")
            assert (r.json()["minutes"], r.json()["amount_fen"]) == (130, due)

        # The provider calls back, signed: the order is paid and the arm lifts.
        sim: SimulatedProvider = app.state.payments["sim"]
        body, signature = sim.notification(order["provider_ref"], due)
        notify = "/api/v1/public/parking/notify/sim"
        async with stranger(app) as provider:
            r = await provider.post(notify, content=body, headers={HEADER: signature})
            assert r.status_code == 200, r.text
            assert r.json() == {"ok": True, "changed": True}
            assert arm(bridge) == "open"
            [left] = await PassRecord.select().where(PassRecord.resolves == held["id"])
            assert (left["decision"], left["reason"], left["direction"]) == (
                "granted",
                "paid",
                "out",
            )
            assert (left["fee_fen"], left["paid_fen"]) == (due, due)
            assert left["payment_ref"].startswith("simtx_")
            assert left["parking_order"] == order["id"]
            r = await guard.get(f"/api/v1/vehicle-passes/{left['id']}")
            assert (r.json()["fee_fen"], r.json()["paid_fen"]) == (due, due)

            # Repeated (the provider retries), and through the cashier again: nothing changes.
            r = await provider.post(notify, content=body, headers={HEADER: signature})
            assert r.json() == {"ok": True, "changed": False}
            r = await provider.post(f"/api/v1/public/parking/sim/{order['provider_ref']}/pay")
            assert r.json() == {"ok": True, "changed": False}
            assert await exit_opens(made["exit"]) == ["ok"]
            assert await PassRecord.count().where(PassRecord.parking_order == order["id"]) == 1
            [paid] = await audits("parking_order.paid", world)
            assert paid["details"]["amount_fen"] == due

            # Forged: another key, an altered body, no signature, an unknown provider.
            forger = SimulatedProvider(b"k" * 32, "http://x")
            fake_body, fake_signature = forger.notification(order["provider_ref"], due)
            r = await provider.post(notify, content=fake_body, headers={HEADER: fake_signature})
            assert_error(r, 400, "bad_signature")
            altered = body.replace(str(due).encode(), b"9999")
            assert_error(
                await provider.post(notify, content=altered, headers={HEADER: signature}),
                400,
                "bad_signature",
            )
            assert_error(await provider.post(notify, content=body), 400, "bad_signature")
            r = await provider.post(
                "/api/v1/public/parking/notify/wechat", content=body, headers={HEADER: signature}
            )
            assert_error(r, 404, "not_found")
        row = await ParkingOrder.select().where(ParkingOrder.id == order["id"]).first()
        assert (row["status"], row["paid_fen"]) == ("paid", due)


async def test_a_stay_within_the_free_minutes_leaves_at_once_and_a_known_car_is_never_held(
    paying_site: BridgeSettings,
    guard: ApiClient,
    manager: ApiClient,
    resident: ApiClient,
    world: World,
    jobs: Jobs,
) -> None:
    async with running(paying_site) as bridge:
        made = await setup(manager, bridge, world)
        await temporary_entry(guard, bridge, "川A70002", ago=timedelta(minutes=10))
        held = await held_at_exit(bridge, "川A70002")
        await jobs.run()
        assert arm(bridge) == "open"
        [left] = await PassRecord.select().where(PassRecord.resolves == held["id"])
        assert (left["decision"], left["reason"], left["fee_fen"]) == ("granted", "free", 0)
        assert await ParkingOrder.count().where(ParkingOrder.lane == made["exit"]["id"]) == 0
        # A car whose plate the bridge holds (a resident's, a visitor's) is let out as before.
        car = await register(resident, plate="川A70012")
        await manager.post(f"/api/v1/vehicles/{car['id']}/authorise", json={})
        assert bridge.vehicles.lanes()[OUT].pay
        await eventually(lambda: at_paying_exit(bridge, "川A70012") == "exit")
        assert at_paying_exit(bridge, "川B00000") == "payment"


async def test_a_guard_waives_a_fee_with_a_reason_and_the_arm_lifts(
    paying_site: BridgeSettings,
    guard: ApiClient,
    manager: ApiClient,
    resident: ApiClient,
    as_role: AsRole,
    world: World,
    jobs: Jobs,
) -> None:
    async with running(paying_site) as bridge:
        made = await setup(manager, bridge, world)
        await temporary_entry(guard, bridge, "川A70003", ago=timedelta(hours=30))
        held = await held_at_exit(bridge, "川A70003")
        await jobs.run()
        r = await guard.get("/api/v1/parking-orders", params={"status": "pending"})
        [order] = [o for o in r.json()["items"] if o["exit_read_id"] == str(held["id"])]
        entered = datetime.fromisoformat(order["entered_at"])
        assert order["amount_fen"] == fee(entered, held["at"], Tariff(**TARIFF), SITE_TIMEZONE)
        assert order["amount_fen"] >= 3000 + 500  # a day capped, and more on the next
        # The console will not let the car out as if nothing were owed.
        r = await guard.post(
            f"/api/v1/vehicle-passes/{held['id']}/resolve", json={"action": "admit"}
        )
        assert_error(r, 409, "order_pending")
        for caller in (await as_role(Role.GUARD, "b"), resident):
            r = await caller.post(
                f"/api/v1/parking-orders/{order['id']}/waive", json={"reason": "x"}
            )
            assert_error(r, 404, "not_found")
        r = await guard.post(f"/api/v1/parking-orders/{order['id']}/waive", json={"reason": " "})
        assert_error(r, 400, "reason_required")
        r = await guard.post(f"/api/v1/parking-orders/{order['id']}/waive", json={})
        assert r.status_code in (400, 422)
        r = await guard.post(
            f"/api/v1/parking-orders/{order['id']}/waive", json={"reason": "救护车司机，免收"}
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["note"]) == ("waived", "救护车司机，免收")
        assert arm(bridge) == "open"
        [left] = await PassRecord.select().where(PassRecord.resolves == held["id"])
        assert (left["reason"], left["fee_fen"], left["paid_fen"]) == (
            "waived",
            order["amount_fen"],
            0,
        )
        assert left["decided_by"] == world.a.users[Role.GUARD].id
        [waived] = await audits("parking_order.waived", world)
        assert (waived["purpose"], waived["actor_id"]) == (
            "救护车司机，免收",
            world.a.users[Role.GUARD].id,
        )
        r = await guard.post(
            f"/api/v1/parking-orders/{order['id']}/waive", json={"reason": "again"}
        )
        assert_error(r, 409, "order_settled")
        assert await exit_opens(made["exit"]) == ["ok"]


async def test_a_car_held_at_the_exit_while_the_bridge_was_offline_is_the_guards_to_decide(
    paying_site: BridgeSettings,
    guard: ApiClient,
    manager: ApiClient,
    world: World,
    jobs: Jobs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running(paying_site) as bridge:
        await setup(manager, bridge, world)
        await temporary_entry(guard, bridge, "川A70004", ago=timedelta(hours=1))
    alone = msgspec.structs.replace(paying_site, platform_url=unreachable_url())
    async with running_alone(alone, barrier_open_s=0.01) as offline:
        assert not offline.link.authenticated.is_set()
        decision = await offline.vehicles.read(OUT, {"plate": "川A70004"})
        assert (decision.outcome, decision.reason) == ("held", "payment")
        status = await offline.execute_local(EXIT_BARRIER, "status", {})
        assert status.data["barrier"] == "closed"  # no payment at the edge: the arm stays down
    # The link returns after the car is long gone (or the guard let it out at the lane).
    monkeypatch.setattr(payment_orders, "STALE_S", 0.0)
    async with running(paying_site) as bridge:
        held = await eventually(
            lambda: (
                PassRecord.select()
                .where((PassRecord.reason == "payment") & (PassRecord.plate_masked == "川A***04"))
                .first()
            )
        )
        assert await jobs.queued(SETTLE_PARKING_EXIT) == []  # no order, no lift for nobody
        assert await ParkingOrder.count().where(ParkingOrder.exit_read == held["id"]) == 0
        r = await guard.post(
            f"/api/v1/vehicle-passes/{held['id']}/resolve",
            json={"action": "admit", "reason": "断网时保安现场放行"},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["record"]["decision"], r.json()["record"]["reason"]) == (
            "granted",
            "temporary",
        )


async def test_tariffs_are_the_managers_in_their_community_and_checked(
    manager: ApiClient, guard: ApiClient, as_role: AsRole, world: World
) -> None:
    r = await manager.post(
        "/api/v1/car-parks",
        json={"community_id": str(world.a.community), "name": "地面停车场", "capacity": 20},
    )
    park = r.json()
    assert (park["hourly_fen"], park["free_minutes"]) == (0, 0)  # no tariff: free
    path = f"/api/v1/car-parks/{park['id']}/tariff"
    for caller in (guard, await as_role(Role.PROPERTY_MANAGER, "b")):
        assert_error(await caller.put(path, json=TARIFF), 404, "not_found")
    for bad in ({"hourly_fen": -1}, {"free_minutes": 2000}, {"hourly_fen": "5元"}, {"x": 1}):
        r = await manager.put(path, json=bad)
        assert r.status_code in (400, 422), r.text
    assert (await manager.put(path, json=TARIFF)).status_code == 200
    r = await manager.get(f"/api/v1/car-parks/{park['id']}")
    assert {k: r.json()[k] for k in TARIFF} == TARIFF
