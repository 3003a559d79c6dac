"""The lanes' public QR pages (VEH-16, VEH-05): a per-lane URL, `/park/<token>`, at the lane.

At an entrance lane, a driver whose car has no plate (or one the camera cannot read) scans it,
gives a phone number or nothing, and gets a temporary ticket: a stored entry (`granted unplated`,
a space taken) with an 8-character code to keep, and the arm lifts. At an exit lane of the same
car park they give the code: nothing due, the arm lifts (`granted free`); else an order to pay
(orders.py), and the arm lifts when it is paid. An exit lane's page also lists the orders waiting
there now (masked plates), so a plated car held for payment is paid from the same QR.

Public and unauthenticated, so: budgets per client address and per lane in Redis (besides the
router's per-address limit), a code space of 32⁸ so guessing is hopeless within them, and nothing
personal on any answer — the phone is stored encrypted and never shown, plates are masked, no
row ids leave.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from piccolo.querystring import QueryString
from redis.asyncio import Redis

from api.alarms.catalogue import SITE_TIMEZONE
from api.audit.service import record
from api.core.auth import Caller, require_staff
from api.core.crypto import FieldCipher, normalize_phone, valid_phone
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.ratelimit import spend
from api.devices.bus import CommandBus
from api.piccolo_conf import DB
from api.vehicles import identifiers
from api.vehicles.console import announce
from api.vehicles.errors import InvalidPhone, TicketNotFound, WrongLane
from api.vehicles.passes import lane_names, pass_read
from api.vehicles.payments import orders
from api.vehicles.payments.fees import fee
from api.vehicles.payments.provider import PaymentProvider
from api.vehicles.payments.schemas import (
    ExitResult,
    LaneQr,
    PublicLane,
    PublicTariff,
    PublicTicket,
    SimCharge,
)
from api.vehicles.tables import CarPark, Lane, ParkingOrder, ParkingTicket, PassRecord

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed on a phone
CODE_LENGTH = 8
SHOWN_FOR_S = 900  # an exit lane's page lists orders made there in the last 15 minutes
# (requests, seconds): what one address, and one lane, may do per window
TICKETS_PER_ADDRESS = (5, 600)
TICKETS_PER_LANE = (6, 60)
EXITS_PER_ADDRESS = (10, 600)
EXITS_PER_LANE = (20, 60)


def new_code() -> str:
    """A ticket code: 8 of 32 unambiguous characters."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(text: str) -> str:
    """A code as typed: spaces and dashes out, upper case."""
    return "".join(text.split()).replace("-", "").upper()


async def _spend(redis: Redis, what: str, budget: tuple[int, int]) -> None:
    """Count one use of a budget; 429 too_many_requests once it is spent for its window."""
    await spend(redis, f"anju:parking:budget:{what}", *budget)


async def _lane(token: str) -> dict[str, Any]:
    lane = await Lane.select().where(Lane.qr_token == token).first() if token else None
    if lane is None:
        raise NotFound()
    return lane


async def _park(lane: dict[str, Any]) -> dict[str, Any]:
    park = await CarPark.select().where(CarPark.id == lane["car_park"]).first()
    assert park is not None
    return park


async def lane_page(token: str) -> PublicLane:
    """The lane, its car park's posted prices, and at an exit the orders waiting there now."""
    lane = await _lane(token)
    park = await _park(lane)
    waiting = []
    if lane["direction"] == "out":
        since = datetime.now(UTC).timestamp() - SHOWN_FOR_S
        waiting = [
            orders.public_order(r, lane["name"])
            for r in await ParkingOrder.select()
            .where(
                (ParkingOrder.lane == lane["id"])
                & (ParkingOrder.status == "pending")
                & (ParkingOrder.created_at >= datetime.fromtimestamp(since, UTC))
            )
            .order_by(ParkingOrder.created_at, ascending=False)
            .limit(10)
        ]
    return PublicLane(
        name=lane["name"],
        direction=lane["direction"],
        car_park=park["name"],
        tariff=PublicTariff(
            free_minutes=park["free_minutes"],
            hourly_fen=park["hourly_fen"],
            daily_cap_fen=park["daily_cap_fen"],
        ),
        orders=waiting,
    )


async def take_ticket(
    token: str,
    phone: str,
    *,
    ip: str | None,
    redis: Redis,
    cipher: FieldCipher,
    bus: CommandBus,
    effects: Effects,
) -> PublicTicket:
    """An unplated car's ticket at an entrance lane: the entry stored, the arm lifted."""
    lane = await _lane(token)
    if lane["direction"] != "in":
        raise WrongLane()
    phone = phone.strip()
    if phone and not valid_phone(phone):
        raise InvalidPhone(field="phone")
    await _spend(redis, f"ticket:ip:{ip}", TICKETS_PER_ADDRESS)
    await _spend(redis, f"ticket:lane:{lane['id']}", TICKETS_PER_LANE)
    park = await _park(lane)
    status = await orders.lift(bus, lane, "unplated")
    now = datetime.now(UTC)
    ticket = ParkingTicket(
        id=uuid4(),
        community=lane["community"],
        car_park=lane["car_park"],
        entry_lane=lane["id"],
        code=new_code(),
        phone=cipher.encrypt(normalize_phone(phone), context=identifiers.TICKET_PHONE)
        if phone
        else "",
        entered_at=now,
    )
    done = status == "ok"
    entry = PassRecord(
        community=lane["community"],
        lane=lane["id"],
        car_park=lane["car_park"],
        at=now,
        direction="in",
        decision="granted" if done else "held",
        reason="unplated" if done else f"unplated_{status}",
        ticket=ticket.id,
    )
    ticket.entry_record = entry.id
    async with DB.transaction():
        await ticket.save()
        await entry.save()
        if done:
            await DB.run_querystring(
                QueryString(
                    "UPDATE car_parks SET occupied = occupied + 1 WHERE id = {}", lane["car_park"]
                )
            )
    found = await PassRecord.select().where(PassRecord.id == entry.id).first()
    assert found is not None
    announce(effects, pass_read(found, {lane["id"]: lane["name"]}))
    return PublicTicket(
        code=ticket.code,
        entered_at=now,
        lane_name=lane["name"],
        car_park=park["name"],
        command_status=status,
    )


async def exit_with_ticket(
    token: str,
    code: str,
    *,
    ip: str | None,
    redis: Redis,
    provider: PaymentProvider,
    bus: CommandBus,
    effects: Effects,
) -> ExitResult:
    """An unplated car at an exit lane: nothing due, the arm lifts; else its order to pay (the
    same one if asked again)."""
    lane = await _lane(token)
    if lane["direction"] != "out":
        raise WrongLane()
    await _spend(redis, f"exit:ip:{ip}", EXITS_PER_ADDRESS)
    await _spend(redis, f"exit:lane:{lane['id']}", EXITS_PER_LANE)
    ticket = (
        await ParkingTicket.select()
        .where(
            (ParkingTicket.code == clean_code(code))
            & (ParkingTicket.car_park == lane["car_park"])
            & ParkingTicket.exited_at.is_null()
        )
        .first()
    )
    if ticket is None:
        raise TicketNotFound()
    order = await ParkingOrder.select().where(ParkingOrder.ticket == ticket["id"]).first()
    if order is not None:
        if order["status"] == "pending":
            return ExitResult(
                status="pay", command_status=None, order=orders.public_order(order, lane["name"])
            )
        # paid or waived and still inside: the lift did not happen then; it does now
        _, status = await orders.leave(
            bus,
            lane,
            effects,
            reason=order["status"],
            ticket=ticket,
            fee_fen=order["amount_fen"],
            paid_fen=order["paid_fen"],
            payment_ref=order["provider_ref"],
        )
        return ExitResult(
            status="left" if status == "ok" else "held", command_status=status, order=None
        )
    park = await _park(lane)
    now = datetime.now(UTC)
    amount = fee(ticket["entered_at"], now, orders.tariff_of(park), SITE_TIMEZONE)
    if amount == 0:
        _, status = await orders.leave(bus, lane, effects, reason="free", ticket=ticket)
        return ExitResult(
            status="left" if status == "ok" else "held", command_status=status, order=None
        )
    made = await orders.make_order(
        provider,
        lane,
        effects,
        amount_fen=amount,
        entered_at=ticket["entered_at"],
        priced_at=now,
        ticket=ticket["id"],
        entry_record=ticket["entry_record"],
    )
    return ExitResult(
        status="pay", command_status=None, order=orders.public_order(made, lane["name"])
    )


async def lane_qr(caller: Caller, lane_id: UUID, public_url: str, *, renew: bool = False) -> LaneQr:
    """A lane's QR URL for printing (made at the first ask; `renew` makes a new one, so an old
    print stops working). Staff of the community; made or renewed: audited."""
    lane = (
        await Lane.select(Lane.id, Lane.community, Lane.qr_token).where(Lane.id == lane_id).first()
    )
    if lane is None:
        raise NotFound()
    require_staff(caller, "parking.read" if not renew else "parking.configure", lane["community"])
    token = lane["qr_token"]
    if token is None or renew:
        token = secrets.token_urlsafe(12)
        async with DB.transaction():
            await Lane.update({Lane.qr_token: token}).where(Lane.id == lane_id)
            await record(
                "lane.qr_issued",
                actor=caller,
                target_type="lane",
                target_id=lane_id,
                community_id=lane["community"],
                details={"renewed": renew},
            )
    return LaneQr(lane_id=lane_id, url=f"{public_url.rstrip('/')}/park/{token}")


async def sim_charge(reference: str) -> tuple[SimCharge, dict[str, Any]]:
    """The simulated cashier's view of a charge (its order row beside)."""
    order = (
        await ParkingOrder.select()
        .where((ParkingOrder.provider == "sim") & (ParkingOrder.provider_ref == reference))
        .first()
    )
    if order is None:
        raise NotFound()
    names = await lane_names([{"lane": order["lane"]}])
    return (
        SimCharge(
            reference=reference,
            amount_fen=order["amount_fen"],
            status=order["status"],
            lane_name=names.get(order["lane"], ""),
        ),
        order,
    )
