"""How long vehicle pass records are kept (VEH-11, DATA-28).

A pass record is both a record of the pass (≥ 6 months, its snapshot image included) and the
vehicle's event information (≥ 365 days): the nightly purge drops a record's image key once the
record is past `IMAGE_DAYS` (the image object, stored with the 6-month class, goes with the object
store's own purge) and deletes the record itself past `RECORD_DAYS`. Both counted at the longest
months, like `api/core/storage.py`'s classes; never anything younger.

An unplated car's ticket and a parking order are part of the passes they belong to (the entry,
the held read at the exit, the exit they settled), so they take the same class, 365 days, counted
from when they ended — a ticket from its exit, an order from its payment or waiver — and go only
once none of their pass records is left, so never before them. An open ticket (the car is still
inside: its code lets it out) and a pending order (still owed, or waiting at the exit) are never
purged; a manager waives a stale order to close it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog

from api.core.storage import RetentionClass
from api.piccolo_conf import DB
from api.vehicles.tables import ParkingOrder, ParkingTicket, PassRecord

log = structlog.get_logger(__name__)

IMAGE_DAYS = RetentionClass.RECORD_6M.days or 0
RECORD_DAYS = RetentionClass.VEHICLE_EVENT_365D.days or 0
PAYMENT_CLASS = RetentionClass.VEHICLE_EVENT_365D  # tickets and orders, as their pass records
PAYMENT_DAYS = PAYMENT_CLASS.days or 0

# Settled orders past the limit none of whose pass records is left (they are purged first). The
# exit record an order names is its latest (a failed lift's record is older), so the three
# primary-key look-ups cover them all.
_ORDERS_SQL = """
    DELETE FROM vehicle_parking_orders o
    WHERE o.status <> 'pending' AND COALESCE(o.paid_at, o.priced_at) < {}
      AND NOT EXISTS (
          SELECT 1 FROM vehicle_passes p WHERE p.id IN (o.entry_record, o.exit_read, o.exit_record))
    RETURNING o.id
"""
# Ended tickets past the limit: no pass record of theirs left, no order of theirs still owed.
_TICKETS_SQL = """
    DELETE FROM vehicle_tickets t
    WHERE t.exited_at IS NOT NULL AND t.exited_at < {}
      AND NOT EXISTS (
          SELECT 1 FROM vehicle_passes p WHERE p.id IN (t.entry_record, t.exit_record))
      AND NOT EXISTS (
          SELECT 1 FROM vehicle_parking_orders o WHERE o.ticket = t.id AND o.status = 'pending')
    RETURNING t.id
"""


async def purge(now: datetime | None = None) -> tuple[int, int]:
    """Delete pass records past a year and forget the images of those past six months:
    (records deleted, images forgotten)."""
    now = now or datetime.now(UTC)
    deleted_before = now - timedelta(days=RECORD_DAYS)
    image_before = now - timedelta(days=IMAGE_DAYS)
    async with DB.transaction():
        gone = (
            await PassRecord.delete().where(PassRecord.at < deleted_before).returning(PassRecord.id)
        )
        blanked = (
            await PassRecord.update({PassRecord.image: ""})
            .where((PassRecord.at < image_before) & (PassRecord.image != ""))
            .returning(PassRecord.id)
        )
    if gone or blanked:
        log.info(
            "vehicles.passes.purged",
            deleted=len(gone),
            images=len(blanked),
            before=deleted_before.isoformat(),
        )
    return len(gone), len(blanked)


async def purge_payments(now: datetime | None = None) -> tuple[int, int]:
    """Delete settled parking orders and ended tickets past 365 days whose pass records are gone:
    (orders deleted, tickets deleted). Run after `purge`, which removes those records."""
    now = now or datetime.now(UTC)
    before = now - timedelta(days=PAYMENT_DAYS)
    async with DB.transaction():
        orders = await ParkingOrder.raw(_ORDERS_SQL, before)
        tickets = await ParkingTicket.raw(_TICKETS_SQL, before)
    if orders or tickets:
        log.info(
            "vehicles.payments.purged",
            orders=len(orders),
            tickets=len(tickets),
            before=before.isoformat(),
        )
    return len(orders), len(tickets)
