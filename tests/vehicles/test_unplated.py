"""Unplated cars through the lanes' QR pages (VEH-16), with the real site bridge: a driver takes a
temporary ticket at the entrance (the arm lifts, the entry is stored), leaves by giving it at the
exit (free, or after paying through the simulated provider), with nothing personal on any public
answer; the pages are budgeted per address and per lane; only staff get a lane's QR.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from api.core.auth import Role
from api.vehicles.payments import tickets
from api.vehicles.tables import CarPark, Lane, ParkingOrder, ParkingTicket, PassRecord
from device_bridge.drivers.sim import client as sim_client
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, running
from tests.vehicles.helpers import stay_fee
from tests.vehicles.test_site import lanes

TARIFF = {"free_minutes": 15, "hourly_fen": 500, "daily_cap_fen": 3000}
PUBLIC = "/api/v1/public/parking"


@pytest.fixture(autouse=True)
def quick_barriers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sim barriers answer at once."""
    monkeypatch.setitem(sim_client._LATENCY, ("barrier", "*"), (0.0, 0.001))


@pytest.fixture
async def manager(as_role: AsRole) -> ApiClient:
    return await as_role(Role.PROPERTY_MANAGER)


def phone(app: Litestar) -> ApiClient:
    """A driver's phone: no session, an address of its own."""
    n = uuid.uuid4().int
    transport = httpx.ASGITransport(app=app, client=(f"10.{n % 250}.{n // 250 % 250}.9", 5000))
    return ApiClient(transport=transport, base_url="http://testserver")


def arm(bridge: Bridge, barrier: str) -> str:
    assert bridge.sim is not None
    return str(bridge.sim.fleet.devices[barrier].state["barrier"])


async def qr_tokens(manager: ApiClient, bridge: Bridge, world: World) -> dict[str, Any]:
    """The car park (its tariff set) and the QR tokens of its entrance and exit lanes."""
    park = await lanes(manager, bridge, world)
    r = await manager.put(f"/api/v1/car-parks/{park['id']}/tariff", json=TARIFF)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = {"park": park}
    for lane in await Lane.select().where(Lane.community == world.a.community):
        r = await manager.get(f"/api/v1/vehicle-lanes/{lane['id']}/qr")
        assert r.status_code == 200, r.text
        assert r.json()["url"].startswith("http") and "/park/" in r.json()["url"]
        found[lane["direction"]] = r.json()["url"].rsplit("/park/", 1)[1]
        found[f"{lane['direction']}_lane"] = lane
    return found


async def occupied(park: dict[str, Any]) -> int:
    row = await CarPark.select(CarPark.occupied).where(CarPark.id == park["id"]).first()
    return int(row["occupied"])


@pytest.mark.req("VEH-16")
async def test_an_unplated_car_takes_a_ticket_at_the_entrance_qr_and_leaves_by_it_at_the_exit(
    site_settings: BridgeSettings, manager: ApiClient, world: World, app: Litestar
) -> None:
    async with running(site_settings) as bridge:
        made = await qr_tokens(manager, bridge, world)
        async with phone(app) as driver:
            r = await driver.get(f"{PUBLIC}/lanes/{made['in']}")
            assert r.status_code == 200, r.text
            assert (r.json()["direction"], r.json()["tariff"]) == ("in", TARIFF)
            assert arm(bridge, "barrier-carpark") == "closed"
            r = await driver.post(
                f"{PUBLIC}/lanes/{made['in']}/tickets", json={"phone": "13800138000"}
            )
            assert r.status_code == 200, r.text
            ticket = r.json()
            assert ticket["command_status"] == "ok" and arm(bridge, "barrier-carpark") == "open"
            code = ticket["code"]
            assert len(code) == 8 and set(code) <= set(tickets.ALPHABET)
            assert "138" not in r.text  # the phone is never given back
            [row] = await ParkingTicket.select().where(ParkingTicket.code == code)
            assert row["phone"] and "13800138000" not in row["phone"]  # stored encrypted
            assert app.state.cipher.decrypt(row["phone"], context="vehicles.ticket_phone") == (
                "13800138000"
            )
            [entry] = await PassRecord.select().where(PassRecord.ticket == row["id"])
            assert (entry["decision"], entry["reason"], entry["direction"]) == (
                "granted",
                "unplated",
                "in",
            )
            assert await occupied(made["park"]) == 1

            # At the exit: a wrong code, the entrance's QR, then the ticket as typed.
            r = await driver.post(f"{PUBLIC}/lanes/{made['out']}/exit", json={"code": "ZZZZZZZZ"})
            assert_error(r, 404, "ticket_not_found")
            r = await driver.post(f"{PUBLIC}/lanes/{made['in']}/exit", json={"code": code})
            assert_error(r, 400, "wrong_lane")
            typed = f" {code[:4].lower()} {code[4:]}"
            r = await driver.post(f"{PUBLIC}/lanes/{made['out']}/exit", json={"code": typed})
            assert r.status_code == 200, r.text
            assert (r.json()["status"], r.json()["command_status"]) == ("left", "ok")
            assert arm(bridge, "barrier-carpark-exit") == "open"  # within the free minutes
            assert await occupied(made["park"]) == 0
            r = await driver.post(f"{PUBLIC}/lanes/{made['out']}/exit", json={"code": code})
            assert_error(r, 404, "ticket_not_found")  # it left

            # A second car stayed 2 h 50 min: it pays 3 started hours, then the arm lifts.
            r = await driver.post(f"{PUBLIC}/lanes/{made['in']}/tickets", json={})
            code = r.json()["code"]
            entered = datetime.now(UTC) - timedelta(hours=2, minutes=50)
            await ParkingTicket.update({ParkingTicket.entered_at: entered}).where(
                ParkingTicket.code == code
            )
            due = stay_fee(entered, datetime.now(UTC), TARIFF, usual=1500)
            await bridge.execute_local("barrier-carpark-exit", "close", {})
            r = await driver.post(f"{PUBLIC}/lanes/{made['out']}/exit", json={"code": code})
            assert r.status_code == 200, r.text
            result = r.json()
            assert result["status"] == "pay" and arm(bridge, "barrier-carpark-exit") == "closed"
            order = result["order"]
            assert (order["amount_fen"], order["unplated"], order["plate"]) == (due, True, "")
            r = await driver.post(f"{PUBLIC}/lanes/{made['out']}/exit", json={"code": code})
            assert r.json()["order"]["token"] == order["token"]  # asked again: the same order
            reference = order["payment_url"].rsplit("/park/sim/", 1)[1]
            r = await driver.get(f"{PUBLIC}/sim/{reference}")
            assert (r.json()["amount_fen"], r.json()["status"]) == (due, "pending")
            r = await driver.post(f"{PUBLIC}/sim/{reference}/pay")
            assert r.json() == {"ok": True, "changed": True}
            assert arm(bridge, "barrier-carpark-exit") == "open"
            r = await driver.get(f"{PUBLIC}/orders/{order['token']}")
            assert r.json()["status"] == "paid"
            [left] = await PassRecord.select().where(
                (PassRecord.direction == "out")
                & (PassRecord.reason == "paid")
                & (PassRecord.lane == made["out_lane"]["id"])
            )
            assert (left["fee_fen"], left["paid_fen"]) == (due, due)
            assert left["ticket"] is not None
            [paid] = await ParkingOrder.select().where(ParkingOrder.token == order["token"])
            assert paid["exit_record"] == left["id"]
            done = await ParkingTicket.select().where(ParkingTicket.code == code).first()
            assert done["exited_at"] is not None


async def test_the_lane_pages_are_budgeted_per_address_and_per_lane_and_check_their_input(
    site_settings: BridgeSettings,
    manager: ApiClient,
    world: World,
    app: Litestar,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tickets, "TICKETS_PER_ADDRESS", (2, 600))
    monkeypatch.setattr(tickets, "TICKETS_PER_LANE", (3, 60))
    async with running(site_settings) as bridge:
        made = await qr_tokens(manager, bridge, world)
        url = f"{PUBLIC}/lanes/{made['in']}/tickets"
        async with phone(app) as one, phone(app) as two:
            assert_error(await one.get(f"{PUBLIC}/lanes/no-such-lane"), 404, "not_found")
            assert_error(await one.post(url, json={"phone": "12345"}), 400, "invalid_phone")
            r = await one.post(url, json={"phone": "1" * 30})
            assert r.status_code in (400, 422)
            assert (await one.post(url, json={})).status_code == 200
            assert (await one.post(url, json={})).status_code == 200
            assert_error(await one.post(url, json={}), 429, "too_many_requests")  # the address
            assert (await two.post(url, json={})).status_code == 200
            assert_error(await two.post(url, json={}), 429, "too_many_requests")  # the lane
            r = await two.post(f"{PUBLIC}/lanes/{made['out']}/tickets", json={})
            assert_error(r, 400, "wrong_lane")  # tickets are taken at an entrance


async def test_a_lanes_qr_is_for_its_communitys_staff_and_renewing_it_voids_the_old_one(
    site_settings: BridgeSettings,
    manager: ApiClient,
    as_role: AsRole,
    resident: ApiClient,
    world: World,
    app: Litestar,
) -> None:
    async with running(site_settings) as bridge:
        made = await qr_tokens(manager, bridge, world)
        lane = made["in_lane"]
        path = f"/api/v1/vehicle-lanes/{lane['id']}/qr"
        guard = await as_role(Role.GUARD)
        assert (await guard.get(path)).json()["url"].endswith(made["in"])  # the same, once made
        for caller in (await as_role(Role.PROPERTY_MANAGER, "b"), resident):
            assert_error(await caller.get(path), 404, "not_found")
        assert_error(await guard.post(path), 404, "not_found")  # renewing is the manager's
        r = await manager.post(path)
        assert r.status_code == 200, r.text
        assert not r.json()["url"].endswith(made["in"])
        async with phone(app) as driver:
            assert_error(await driver.get(f"{PUBLIC}/lanes/{made['in']}"), 404, "not_found")
