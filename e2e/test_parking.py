"""An unplated car's driver on the phone, with the real site bridge: the entrance lane's QR page
gives a ticket and the arm lifts; at the exit lane's QR page the ticket asks for the fee, the
demo cashier takes it, and the exit arm lifts (VEH-16, VEH-05)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from api.core.auth import Role
from api.vehicles.tables import Lane, ParkingTicket
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from e2e.conftest import artifact
from tests.fixtures import AsRole
from tests.helpers import World, eventually, running
from tests.vehicles.helpers import stay_fee


def arm(bridge: Bridge, barrier: str) -> str:
    assert bridge.sim is not None
    return str(bridge.sim.fleet.devices[barrier].state["barrier"])


@pytest.mark.req("VEH-16", partial=True)
@pytest.mark.req("VEH-05", partial=True)
async def test_a_driver_without_a_plate_takes_a_ticket_pays_at_the_exit_and_leaves(
    phone: Page, as_role: AsRole, world: World, site_settings: BridgeSettings
) -> None:
    async with running(site_settings) as bridge:

        async def both() -> bool:
            return await Lane.count().where(Lane.community == world.a.community) == 2

        await eventually(both)  # made from the bridge's inventory
        manager = await as_role(Role.PROPERTY_MANAGER)
        tokens = {}
        for lane in await Lane.select().where(Lane.community == world.a.community):
            url = (await manager.get(f"/api/v1/vehicle-lanes/{lane['id']}/qr")).json()["url"]
            tokens[lane["direction"]] = url.rsplit("/park/", 1)[1]
            tariff = {"free_minutes": 15, "hourly_fen": 500, "daily_cap_fen": 3000}
            await manager.put(f"/api/v1/car-parks/{lane['car_park']}/tariff", json=tariff)

        await phone.goto(f"/park/{tokens['in']}")
        await expect(phone.locator("[data-test=park-tariff]")).to_contain_text("每小时 ¥5.00")
        await phone.locator("[data-test=park-take-ticket]").click()
        code = phone.locator("[data-test=park-ticket-code]")
        await expect(code).to_be_visible()
        await expect(phone.locator("[data-test=park-ticket-status]")).to_contain_text("道闸已抬起")
        assert arm(bridge, "barrier-carpark") == "open"
        ticket = str(await code.get_attribute("data-code"))
        await phone.screenshot(path=artifact("park-ticket.png"), full_page=True)

        # An hour and fifty minutes later, at the exit: two started hours.
        entered = datetime.now(UTC) - timedelta(hours=1, minutes=50)
        await ParkingTicket.update({ParkingTicket.entered_at: entered}).where(
            ParkingTicket.code == ticket
        )
        amount = f"¥{stay_fee(entered, datetime.now(UTC), tariff, usual=1000) / 100:.2f}"
        await phone.goto(f"/park/{tokens['out']}")
        await phone.locator("[data-test=park-code] input").fill(ticket.lower())
        await phone.locator("[data-test=park-leave]").click()
        await expect(phone.locator("[data-test=park-order-amount]")).to_have_text(amount)
        assert arm(bridge, "barrier-carpark-exit") == "closed"
        order_url = phone.url
        await expect(phone.locator("[data-test=park-order-pay]")).to_be_visible()
        # 立即支付 opens the provider's page at the platform's public address; here it is the
        # same page of this server.
        order = await manager.get("/api/v1/public/parking/orders/" + order_url.rsplit("/", 1)[1])
        await phone.goto("/park/sim/" + order.json()["payment_url"].rsplit("/park/sim/", 1)[1])
        await expect(phone.locator("[data-test=park-sim-amount]")).to_have_text(amount)
        await phone.locator("[data-test=park-sim-pay]").click()
        await expect(phone.locator("[data-test=park-sim-done]")).to_be_visible()
        assert arm(bridge, "barrier-carpark-exit") == "open"
        await phone.goto(order_url)
        status = phone.locator("[data-test=park-order-status]")
        await expect(status).to_have_attribute("data-status", "paid")
        await phone.screenshot(path=artifact("park-paid.png"), full_page=True)
