"""Parking orders at the exit lanes (VEH-05): a temporary car's stay priced, paid, or waived, and
the arm lifted when it is settled.

A paying exit lane (the camera's `pay` attribute, device_bridge/vehicles.py) holds a car the
bridge does not know (`held payment`) instead of letting it out. When that read reaches the
platform fresh (within `STALE_S`: the car is still at the arm), the ingest enqueues
`settle_parking_exit`, which prices the stay from the car's entry record with the car park's
tariff (`fees.py`, the site's time zone) and then either lifts the arm at once (nothing due:
`granted free`; the stay's order already paid or waived: `granted paid|waived`) or makes one
pending order whose payment URL the lane's QR page and the guard's console show. A read that
arrives stale (decided while the bridge was offline) makes no order and lifts nothing: the car
is no longer waiting, or the guard already decided at the lane (the offline fallback). A read
with no entry record (the car came in unseen) is left to the guard as well.

An order is settled once: a provider's notification marks it paid (`paid`: verified by the
provider, then `UPDATE … WHERE status = 'pending'`, so a repeated notification changes nothing),
or a guard waives it with a reason (audited). Settling lifts the lane's arm through the bridge
(api/devices/service.command, the lane console's path) and stores the exit record with the fee,
what was paid and the provider's reference; a lift that fails is recorded `held paid_<status>`
and the guard lifts the arm from the console (the order stays paid).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec
import structlog
from asyncpg.exceptions import UniqueViolationError
from piccolo.querystring import QueryString

from api.alarms.catalogue import SITE_TIMEZONE
from api.audit.service import record
from api.core.auth import Caller, require_staff, staff_communities
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.core.realtime import records_channel
from api.devices import service as devices
from api.devices.bus import CommandBus
from api.piccolo_conf import DB
from api.vehicles.console import announce
from api.vehicles.errors import AmountMismatch, OrderSettled, ReasonRequired
from api.vehicles.passes import lane_names, pass_read
from api.vehicles.payments.fees import Tariff, fee
from api.vehicles.payments.provider import PaymentProvider
from api.vehicles.payments.schemas import (
    NotifyAck,
    OrderStatus,
    ParkingOrderPage,
    ParkingOrderRead,
    PublicOrder,
)
from api.vehicles.schemas import PassRecordRead
from api.vehicles.tables import CarPark, Lane, ParkingOrder, ParkingTicket, PassRecord

log = structlog.get_logger(__name__)

PERMISSION = "barrier.control"
STALE_S = 120.0  # a held exit read older than this when it arrives: the car is not waiting
COMMAND_TIMEOUT = 5.0
HELD_REASON = "payment"  # the bridge's reason for a car held at a paying exit


def tariff_of(park: dict[str, Any]) -> Tariff:
    """A car park row's tariff."""
    return Tariff(
        free_minutes=park["free_minutes"],
        hourly_fen=park["hourly_fen"],
        daily_cap_fen=park["daily_cap_fen"],
    )


def order_read(row: dict[str, Any]) -> ParkingOrderRead:
    """An order as the console shows it."""
    return ParkingOrderRead(
        id=row["id"],
        community_id=row["community"],
        car_park_id=row["car_park"],
        lane_id=row["lane"],
        exit_read_id=row["exit_read"],
        unplated=row["ticket"] is not None,
        plate=row["plate_masked"],
        entered_at=row["entered_at"],
        priced_at=row["priced_at"],
        amount_fen=row["amount_fen"],
        status=row["status"],
        payment_url=row["payment_url"],
        provider=row["provider"],
        provider_ref=row["provider_ref"],
        paid_at=row["paid_at"],
        paid_fen=row["paid_fen"],
        note=row["note"],
        settled_by=row["settled_by"],
        exit_record_id=row["exit_record"],
    )


def public_order(row: dict[str, Any], lane_name: str) -> PublicOrder:
    """An order as the driver's phone shows it: nothing but the masked plate identifies it."""
    minutes = int((row["priced_at"] - row["entered_at"]).total_seconds() // 60)
    return PublicOrder(
        token=row["token"],
        lane_name=lane_name,
        plate=row["plate_masked"],
        unplated=row["ticket"] is not None,
        entered_at=row["entered_at"],
        priced_at=row["priced_at"],
        minutes=max(minutes, 0),
        amount_fen=row["amount_fen"],
        status=row["status"],
        payment_url=row["payment_url"],
    )


async def lift(bus: CommandBus, lane: dict[str, Any], why: str, by: UUID | None = None) -> str:
    """Lift a lane's arm: the command's status (ok, failed, timeout, unsupported) or offline."""
    if lane["barrier"] is None:
        return "unsupported"
    try:
        outcome = await devices.command(
            bus,
            lane["barrier"],
            "open",
            {"method": "payment", "reason": why},
            requested_by=by,
            timeout=COMMAND_TIMEOUT,
        )
    except devices.BridgeUnavailable:
        return "offline"
    return outcome.status


async def leave(
    bus: CommandBus,
    lane: dict[str, Any],
    effects: Effects,
    *,
    reason: str,
    held: dict[str, Any] | None = None,
    ticket: dict[str, Any] | None = None,
    order: dict[str, Any] | None = None,
    fee_fen: int = 0,
    paid_fen: int = 0,
    payment_ref: str = "",
    decided_by: UUID | None = None,
    note: str = "",
) -> tuple[PassRecordRead | None, str]:
    """Lift the arm for a car leaving and store its exit record (answering the held read, when
    there is one); a granted exit gives its space back and ends its ticket. (record, status);
    no record when the held read was answered meanwhile (by a guard)."""
    status = await lift(bus, lane, reason, decided_by)
    done = status == "ok"
    source = held or {}
    row = PassRecord(
        community=lane["community"],
        lane=lane["id"],
        car_park=lane["car_park"],
        vehicle=source.get("vehicle"),
        household=source.get("household"),
        at=datetime.now(UTC),
        direction="out",
        plate=source.get("plate", ""),
        plate_index=source.get("plate_index", ""),
        plate_masked=source.get("plate_masked", ""),
        colour=source.get("colour", ""),
        vehicle_type=source.get("vehicle_type", ""),
        confidence=source.get("confidence", 0.0),
        image=source.get("image", ""),
        decision="granted" if done else "held",
        reason=reason if done else f"{reason}_{status}",
        resolves=held["id"] if held else None,
        ticket=ticket["id"] if ticket else None,
        parking_order=order["id"] if order else None,
        fee_fen=fee_fen,
        paid_fen=paid_fen,
        payment_ref=payment_ref[:64],
        decided_by=decided_by,
        note=note,
    )
    try:
        async with DB.transaction():
            await row.save()
            if done:
                await DB.run_querystring(
                    QueryString(
                        "UPDATE car_parks SET occupied = GREATEST(occupied - 1, 0) WHERE id = {}",
                        lane["car_park"],
                    )
                )
            if done and ticket:
                await ParkingTicket.update(
                    {ParkingTicket.exited_at: row.at, ParkingTicket.exit_record: row.id}
                ).where(ParkingTicket.id == ticket["id"])
            if order:
                await ParkingOrder.update({ParkingOrder.exit_record: row.id}).where(
                    ParkingOrder.id == order["id"]
                )
    except UniqueViolationError:
        log.info("vehicles.exit.answered_meanwhile", held=str(held["id"]) if held else None)
        return None, status
    found = await PassRecord.select().where(PassRecord.id == row.id).first()
    assert found is not None
    read = pass_read(found, {lane["id"]: lane["name"]})
    announce(effects, read)
    return read, status


async def _entry(held: dict[str, Any]) -> dict[str, Any] | None:
    """The held car's entry record: its latest granted entry into the car park before the read,
    if it has not been let out since."""
    same = (
        (PassRecord.community == held["community"])
        & (PassRecord.car_park == held["car_park"])
        & (PassRecord.plate_index == held["plate_index"])
        & (PassRecord.decision == "granted")
        & (PassRecord.at <= held["at"])
    )
    entry = (
        await PassRecord.select()
        .where(same & (PassRecord.direction == "in"))
        .order_by(PassRecord.at, ascending=False)
        .first()
    )
    if entry is None or await PassRecord.exists().where(
        same & (PassRecord.direction == "out") & (PassRecord.at > entry["at"])
    ):
        return None
    return entry


async def make_order(
    provider: PaymentProvider,
    lane: dict[str, Any],
    effects: Effects,
    *,
    amount_fen: int,
    entered_at: datetime,
    priced_at: datetime,
    plate_masked: str = "",
    exit_read: UUID | None = None,
    ticket: UUID | None = None,
    entry_record: UUID | None = None,
) -> dict[str, Any]:
    """A pending order with the provider's charge; announced to the community's console."""
    token = secrets.token_urlsafe(16)
    charge = provider.charge(
        order_token=token, amount_fen=amount_fen, description=f"停车费 {lane['name']}"
    )
    row = ParkingOrder(
        id=uuid4(),
        community=lane["community"],
        car_park=lane["car_park"],
        lane=lane["id"],
        exit_read=exit_read,
        ticket=ticket,
        entry_record=entry_record,
        plate_masked=plate_masked,
        entered_at=entered_at,
        priced_at=priced_at,
        amount_fen=amount_fen,
        status="pending",
        token=token,
        provider=provider.name,
        provider_ref=charge.reference,
        payment_url=charge.url,
        created_at=datetime.now(UTC),
    )
    await row.save()
    found = await ParkingOrder.select().where(ParkingOrder.id == row.id).first()
    assert found is not None
    effects.send(
        {"type": "parking.order", "order": msgspec.to_builtins(order_read(found))},
        records_channel(lane["community"]),
    )
    return found


async def settle_exit(
    read_id: UUID, bus: CommandBus, provider: PaymentProvider, *, now: datetime | None = None
) -> Effects:
    """The job for a car held at a paying exit: lift at once when nothing is due (or the stay is
    settled already), else one pending order. Idempotent: a read with an order or an answer is
    left alone."""
    effects = Effects()
    held = await PassRecord.select().where(PassRecord.id == read_id).first()
    if (
        held is None
        or held["lane"] is None
        or (held["decision"], held["reason"]) != ("held", HELD_REASON)
        or await ParkingOrder.exists().where(ParkingOrder.exit_read == read_id)
        or await PassRecord.exists().where(PassRecord.resolves == read_id)
    ):
        return effects
    lane = await Lane.select().where(Lane.id == held["lane"]).first()
    park = await CarPark.select().where(CarPark.id == held["car_park"]).first()
    entry = await _entry(held)
    if lane is None or park is None or entry is None:
        log.info("vehicles.exit.for_the_guard", read=str(read_id), entry=entry is not None)
        return effects
    earlier = (
        await ParkingOrder.select()
        .where(ParkingOrder.entry_record == entry["id"])
        .order_by(ParkingOrder.created_at, ascending=False)
        .first()
    )
    if earlier is not None and earlier["status"] == "pending":
        return effects  # read again while its order waits: the same order
    if earlier is not None:  # paid or waived, and the arm did not lift then: it does now
        await leave(
            bus,
            lane,
            effects,
            reason=earlier["status"],
            held=held,
            fee_fen=earlier["amount_fen"],
            paid_fen=earlier["paid_fen"],
            payment_ref=earlier["provider_ref"],
        )
        return effects
    amount = fee(entry["at"], held["at"], tariff_of(park), SITE_TIMEZONE)
    if amount == 0:
        await leave(bus, lane, effects, reason="free", held=held)
        return effects
    await make_order(
        provider,
        lane,
        effects,
        amount_fen=amount,
        entered_at=entry["at"],
        priced_at=held["at"],
        plate_masked=held["plate_masked"],
        exit_read=held["id"],
        entry_record=entry["id"],
    )
    return effects


def fresh(at: datetime, now: datetime | None = None) -> bool:
    """Whether a held exit read is recent enough that its car is still at the arm."""
    return (now or datetime.now(UTC)) - at <= timedelta(seconds=STALE_S)


async def _claim(order_id: UUID, values: str, *args: Any) -> bool:
    """Move a pending order on, once: whether this call did it."""
    rows = await DB.run_querystring(
        QueryString(
            f"UPDATE vehicle_parking_orders SET {values} "  # noqa: S608 - fixed column lists
            "WHERE id = {} AND status = 'pending' RETURNING id",
            *args,
            order_id,
        )
    )
    return bool(rows)


async def _settled(order: dict[str, Any], bus: CommandBus, effects: Effects, **leaving: Any) -> Any:
    lane = await Lane.select().where(Lane.id == order["lane"]).first()
    assert lane is not None
    held = (
        await PassRecord.select().where(PassRecord.id == order["exit_read"]).first()
        if order["exit_read"]
        else None
    )
    ticket = (
        await ParkingTicket.select().where(ParkingTicket.id == order["ticket"]).first()
        if order["ticket"]
        else None
    )
    return await leave(
        bus,
        lane,
        effects,
        held=held,
        ticket=ticket,
        order=order,
        fee_fen=order["amount_fen"],
        **leaving,
    )


async def notified(
    providers: dict[str, PaymentProvider],
    name: str,
    body: bytes,
    signature: str,
    bus: CommandBus,
    effects: Effects,
) -> NotifyAck:
    """A provider's notification: verified; a charge paid settles its pending order once and
    lifts the lane's arm; a repeated or non-paid one changes nothing."""
    provider = providers.get(name)
    if provider is None:
        raise NotFound()
    note = provider.verify(body, signature)
    if note.status != "paid":
        return NotifyAck(ok=True, changed=False)
    order = (
        await ParkingOrder.select()
        .where((ParkingOrder.provider == name) & (ParkingOrder.provider_ref == note.reference))
        .first()
    )
    if order is None:
        raise NotFound()
    if order["status"] != "pending":
        return NotifyAck(ok=True, changed=False)
    if note.amount_fen < order["amount_fen"]:
        raise AmountMismatch()
    async with DB.transaction():
        if not await _claim(
            order["id"],
            "status = 'paid', paid_at = {}, paid_fen = {}",
            datetime.now(UTC),
            note.amount_fen,
        ):
            return NotifyAck(ok=True, changed=False)
        await record(
            "parking_order.paid",
            actor_name=f"payment:{name}",
            target_type="parking_order",
            target_id=order["id"],
            community_id=order["community"],
            details={
                "amount_fen": note.amount_fen,
                "reference": note.reference,
                "transaction": note.transaction,
            },
        )
    await _settled(
        order, bus, effects, reason="paid", paid_fen=note.amount_fen, payment_ref=note.transaction
    )
    return NotifyAck(ok=True, changed=True)


async def waive(
    caller: Caller, order_id: UUID, reason: str, bus: CommandBus, effects: Effects
) -> ParkingOrderRead:
    """A guard lets the car out without paying, with a stated reason (audited); the arm lifts."""
    order = await ParkingOrder.select().where(ParkingOrder.id == order_id).first()
    if order is None:
        raise NotFound()
    require_staff(caller, PERMISSION, order["community"])
    reason = reason.strip()
    if not reason:
        raise ReasonRequired(field="reason")
    async with DB.transaction():
        if not await _claim(
            order["id"], "status = 'waived', settled_by = {}, note = {}", caller.account_id, reason
        ):
            raise OrderSettled()
        await record(
            "parking_order.waived",
            actor=caller,
            target_type="parking_order",
            target_id=order["id"],
            community_id=order["community"],
            purpose=reason,
            details={"amount_fen": order["amount_fen"], "lane_id": str(order["lane"])},
        )
    await _settled(order, bus, effects, reason="waived", decided_by=caller.account_id, note=reason)
    found = await ParkingOrder.select().where(ParkingOrder.id == order_id).first()
    assert found is not None
    return order_read(found)


async def list_orders(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    lane_id: UUID | None = None,
    status: OrderStatus | None = None,
) -> ParkingOrderPage:
    """Orders of the caller's communities, newest first."""
    where = staff_communities(caller, PERMISSION, ParkingOrder.community, community_id)
    rows, total = await paged(
        ParkingOrder.select().order_by(ParkingOrder.created_at, ascending=False),
        where,
        equals(ParkingOrder.lane, lane_id),
        equals(ParkingOrder.status, status),
        page=page,
        page_size=page_size,
    )
    return ParkingOrderPage(
        items=[order_read(r) for r in rows], total=total, page=page, page_size=page_size
    )


async def public_by_token(token: str) -> PublicOrder:
    """The order page a QR or a lane page opens."""
    row = await ParkingOrder.select().where(ParkingOrder.token == token).first()
    if row is None:
        raise NotFound()
    names = await lane_names([{"lane": row["lane"]}])
    return public_order(row, names.get(row["lane"], ""))
