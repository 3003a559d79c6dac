"""Pass records keep their image six months and themselves a year, never less; unplated cars'
tickets and settled parking orders a year after they ended, and never before their passes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar

from api.vehicles import retention
from api.vehicles.tables import ParkingOrder, ParkingTicket, PassRecord
from tests.helpers import World
from tests.vehicles.helpers import store_pass
from workers.tasks.vehicles import purge_vehicle_passes


@pytest.mark.req("VEH-11", "DATA-28", partial=True)
async def test_the_nightly_purge_forgets_images_after_six_months_and_records_after_a_year(
    app: Litestar, world: World
) -> None:
    now = datetime.now(UTC)
    ages = {"young": 1, "kept": 183, "image_gone": 186, "year_kept": 364, "gone": 367}
    ids = {}
    for name, days in ages.items():
        ids[name] = await store_pass(app, world.a.community, "川A12345")
        await PassRecord.update(
            {PassRecord.at: now - timedelta(days=days), PassRecord.image: f"vehicles/{name}.jpg"}
        ).where(PassRecord.id == ids[name])

    deleted, blanked, _, _ = await purge_vehicle_passes({})
    assert deleted >= 1 and blanked >= 2

    rows = await PassRecord.select(PassRecord.id, PassRecord.image).where(
        PassRecord.id.is_in(list(ids.values()))
    )
    images = {r["id"]: r["image"] for r in rows}
    assert set(images) == {ids[n] for n in ("young", "kept", "image_gone", "year_kept")}
    assert images[ids["young"]] == "vehicles/young.jpg"
    assert images[ids["kept"]] == "vehicles/kept.jpg"
    assert images[ids["image_gone"]] == "" and images[ids["year_kept"]] == ""


async def _order(community: uuid.UUID, settled: datetime, status: str, **links: Any) -> uuid.UUID:
    row = ParkingOrder(
        community=community,
        car_park=uuid.uuid4(),
        lane=uuid.uuid4(),
        plate_masked="川A***45",
        entered_at=settled - timedelta(hours=2),
        priced_at=settled,
        amount_fen=1000,
        status=status,
        token=uuid.uuid4().hex,
        provider="sim",
        provider_ref=uuid.uuid4().hex,
        payment_url="/park/sim/x",
        paid_at=settled if status == "paid" else None,
        paid_fen=1000 if status == "paid" else 0,
        created_at=settled,
        **links,
    )
    await row.save()
    return row.id


async def _ticket(
    community: uuid.UUID, entered: datetime, exited: datetime | None, **links: Any
) -> uuid.UUID:
    row = ParkingTicket(
        community=community,
        car_park=uuid.uuid4(),
        entry_lane=uuid.uuid4(),
        code=uuid.uuid4().hex[:12].upper(),
        entered_at=entered,
        exited_at=exited,
        **links,
    )
    await row.save()
    return row.id


@pytest.mark.req("VEH-11", "DATA-28", partial=True)
async def test_tickets_and_settled_orders_go_a_year_after_they_ended_never_before_their_passes(
    app: Litestar, world: World
) -> None:
    a = world.a.community
    now = datetime.now(UTC)
    year = timedelta(days=365)
    orders: dict[str, uuid.UUID] = {}
    tickets: dict[str, uuid.UUID] = {}

    async def stay(
        name: str, ended: datetime, status: str = "paid", exit_at: datetime | None = None
    ) -> None:
        """An unplated car's stay that ended at `ended`: entry, exit record, ticket, order."""
        entry = await store_pass(
            app, a, "川A12345", at=ended - timedelta(hours=2), reason="unplated"
        )
        out = await store_pass(
            app, a, "川A12345", at=exit_at or ended, direction="out", reason=f"{status}"
        )
        tickets[name] = await _ticket(
            a, ended - timedelta(hours=2), ended, entry_record=entry, exit_record=out
        )
        orders[name] = await _order(
            a, ended, status, ticket=tickets[name], entry_record=entry, exit_record=out
        )

    await stay("just_outside", now - year - timedelta(hours=1))
    await stay("just_inside", now - year + timedelta(hours=1))  # its entry record is older
    await stay("waived_outside", now - year - timedelta(hours=1), status="waived")
    # paid past the year, but its exit record (a lift that failed, lifted later) is younger
    await stay(
        "record_younger", now - year - timedelta(days=2), exit_at=now - year + timedelta(hours=1)
    )
    # still owed, long ago, its passes gone; the car's ticket still open
    old = now - year - timedelta(days=40)
    tickets["open"] = await _ticket(a, old, None)
    orders["pending"] = await _order(a, old, "pending", ticket=tickets["open"])

    deleted, _, orders_gone, tickets_gone = await purge_vehicle_passes({})
    assert deleted >= 4 and orders_gone >= 2 and tickets_gone >= 2

    left_orders = {
        r["id"]
        for r in await ParkingOrder.select(ParkingOrder.id).where(
            ParkingOrder.id.is_in(list(orders.values()))
        )
    }
    left_tickets = {
        r["id"]
        for r in await ParkingTicket.select(ParkingTicket.id).where(
            ParkingTicket.id.is_in(list(tickets.values()))
        )
    }
    assert left_orders == {orders[n] for n in ("just_inside", "record_younger", "pending")}
    assert left_tickets == {tickets[n] for n in ("just_inside", "record_younger", "open")}
    # two hours on, those passes are a year old too: their orders and tickets go with them
    later = now + timedelta(hours=2)
    await retention.purge(later)
    assert await retention.purge_payments(later) == (2, 2)
    for name in ("just_inside", "record_younger"):
        assert not await ParkingOrder.exists().where(ParkingOrder.id == orders[name])
        assert not await ParkingTicket.exists().where(ParkingTicket.id == tickets[name])
    assert await ParkingOrder.exists().where(ParkingOrder.id == orders["pending"])
    assert await ParkingTicket.exists().where(ParkingTicket.id == tickets["open"])
