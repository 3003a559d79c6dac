"""Wire shapes of tariffs, parking orders, unplated tickets and the lanes' public pages. A public
shape carries no id of a row, no phone and no full plate."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.paging import Page

Fen = Annotated[int, Meta(ge=0, le=10_000_000)]
OrderStatus = Literal["pending", "paid", "waived"]


class TariffBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A car park's prices for temporary cars, in fen: free minutes, per started hour, the most
    a calendar day costs (0: no cap). `hourly_fen` 0: parking is free."""

    free_minutes: Annotated[int, Meta(ge=0, le=1440)] = 0
    hourly_fen: Annotated[int, Meta(ge=0, le=100_000)] = 0
    daily_cap_fen: Fen = 0


class ParkingOrderRead(msgspec.Struct, kw_only=True):
    """An order at an exit lane, as the guard's console shows it (plate masked)."""

    id: UUID
    community_id: UUID
    car_park_id: UUID
    lane_id: UUID
    exit_read_id: UUID | None
    unplated: bool
    plate: str
    entered_at: datetime
    priced_at: datetime
    amount_fen: int
    status: str
    payment_url: str
    provider: str
    provider_ref: str
    paid_at: datetime | None
    paid_fen: int
    note: str
    settled_by: UUID | None
    exit_record_id: UUID | None


class ParkingOrderPage(Page, kw_only=True):
    """One page of parking orders, newest first."""

    items: list[ParkingOrderRead]


class WaiveBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Why the guard lets the car out without paying."""

    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class PublicOrder(msgspec.Struct, kw_only=True):
    """An order as the driver's phone shows it: masked plate (or 无牌车), stay, amount, status."""

    token: str
    lane_name: str
    plate: str
    unplated: bool
    entered_at: datetime
    priced_at: datetime
    minutes: int
    amount_fen: int
    status: str
    payment_url: str


class PublicTariff(msgspec.Struct, kw_only=True):
    """The prices posted at the lane."""

    free_minutes: int
    hourly_fen: int
    daily_cap_fen: int


class PublicLane(msgspec.Struct, kw_only=True):
    """A lane's QR page: which lane, its car park's prices, and at an exit the orders waiting
    there now (masked plates)."""

    name: str
    direction: str
    car_park: str
    tariff: PublicTariff
    orders: list[PublicOrder]


class TicketCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An unplated car's driver at the entrance: a phone number to be reached on, or nothing."""

    phone: Annotated[str, Meta(max_length=20)] = ""


class PublicTicket(msgspec.Struct, kw_only=True):
    """The temporary ticket: the code to keep, and whether the arm lifted."""

    code: str
    entered_at: datetime
    lane_name: str
    car_park: str
    command_status: str


class TicketExit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The ticket shown at an exit lane."""

    code: Annotated[str, Meta(min_length=4, max_length=12)]


class ExitResult(msgspec.Struct, kw_only=True):
    """At the exit: left (nothing due, the arm lifted) or an order to pay."""

    status: Literal["left", "pay", "held"]
    command_status: str | None
    order: PublicOrder | None


class SimCharge(msgspec.Struct, kw_only=True):
    """The simulated provider's cashier page."""

    reference: str
    amount_fen: int
    status: str
    lane_name: str


class NotifyAck(msgspec.Struct, kw_only=True):
    """The answer to a provider's notification: taken, and whether it changed anything (a
    repeated one does not)."""

    ok: bool
    changed: bool


class LaneQr(msgspec.Struct, kw_only=True):
    """A lane's QR: the URL it encodes (print it at the lane)."""

    lane_id: UUID
    url: str
