"""Temporary parking and payment over HTTP: the lanes' public QR pages, the provider's notify
callback and the simulated cashier (no login), the guard's orders (waive), a lane's QR."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.status_codes import HTTP_200_OK

from api.core.auth import Caller, client_ip
from api.core.effects import Effects
from api.core.openapi import raises
from api.core.paging import PageNumber, PageSize
from api.core.ratelimit import TooManyRequests, address_rate_limit
from api.devices.bus import CommandBus
from api.devices.routes import provide_bus
from api.vehicles.errors import OrderSettled
from api.vehicles.payments import orders, tickets
from api.vehicles.payments.provider import BadSignature, PaymentProvider
from api.vehicles.payments.registry import DEFAULT
from api.vehicles.payments.schemas import (
    ExitResult,
    NotifyAck,
    OrderStatus,
    ParkingOrderPage,
    ParkingOrderRead,
    PublicLane,
    PublicOrder,
    PublicTicket,
    SimCharge,
    TicketCreate,
    TicketExit,
    WaiveBody,
)
from api.vehicles.payments.simulated import NAME as SIM

PUBLIC_PATH = "/api/v1/public/parking"
NOTIFY_PATH = f"{PUBLIC_PATH}/notify"
_NO_STORE = CacheControlHeader(no_store=True)
_BUS = {"bus": Provide(provide_bus, sync_to_thread=False)}


def parking_rate_limit(per_minute: int) -> RateLimitConfig:
    """Requests per minute per client address on the lanes' public pages (a bucket of their own);
    the services keep longer budgets per address and per lane."""
    return address_rate_limit(per_minute, "parking")


def _provider(state: State) -> PaymentProvider:
    providers: dict[str, PaymentProvider] = state.payments
    return providers[DEFAULT]


class PublicParkingController(Controller):
    """A lane's QR page (/park/<token>), an order's page, and the simulated cashier: no login."""

    path = PUBLIC_PATH
    tags = ["parking"]
    dependencies = _BUS

    @get("/lanes/{token:str}", cache_control=_NO_STORE)
    async def lane_page(self, token: str) -> PublicLane:
        """The lane, its prices, and at an exit the orders waiting there (masked plates)."""
        return await tickets.lane_page(token)

    @post(
        "/lanes/{token:str}/tickets",
        status_code=HTTP_200_OK,
        cache_control=_NO_STORE,
        opt=raises(TooManyRequests),
    )
    async def take_ticket(
        self,
        request: Request,
        state: State,
        bus: CommandBus,
        effects: Effects,
        token: str,
        data: TicketCreate,
    ) -> PublicTicket:
        """An unplated car at an entrance: a temporary ticket, and the arm lifts (VEH-16)."""
        return await tickets.take_ticket(
            token,
            data.phone,
            ip=client_ip(request),
            redis=state.redis,
            cipher=state.cipher,
            bus=bus,
            effects=effects,
        )

    @post(
        "/lanes/{token:str}/exit",
        status_code=HTTP_200_OK,
        cache_control=_NO_STORE,
        opt=raises(TooManyRequests),
    )
    async def exit_with_ticket(
        self,
        request: Request,
        state: State,
        bus: CommandBus,
        effects: Effects,
        token: str,
        data: TicketExit,
    ) -> ExitResult:
        """An unplated car at an exit: the arm lifts when nothing is due, else an order to pay."""
        return await tickets.exit_with_ticket(
            token,
            data.code,
            ip=client_ip(request),
            redis=state.redis,
            provider=_provider(state),
            bus=bus,
            effects=effects,
        )

    @get("/orders/{token:str}", cache_control=_NO_STORE)
    async def order_page(self, token: str) -> PublicOrder:
        """An order's amount and status (the driver's page polls it until paid)."""
        return await orders.public_by_token(token)

    @get("/sim/{reference:str}", cache_control=_NO_STORE)
    async def sim_charge(self, reference: str) -> SimCharge:
        """The simulated provider's cashier: the charge to pay."""
        charge, _ = await tickets.sim_charge(reference)
        return charge

    @post("/sim/{reference:str}/pay", status_code=HTTP_200_OK, cache_control=_NO_STORE)
    async def sim_pay(
        self, state: State, bus: CommandBus, effects: Effects, reference: str
    ) -> NotifyAck:
        """Pay a simulated charge: the simulator signs its notification and delivers it to the
        notify handler (as the provider's server would call back)."""
        charge, _ = await tickets.sim_charge(reference)
        provider = state.payments[SIM]
        body, signature = provider.notification(reference, charge.amount_fen)
        return await orders.notified(state.payments, SIM, body, signature, bus, effects)


class PaymentNotifyController(Controller):
    """Where providers call back (no login, no CSRF: the signature is the check)."""

    path = NOTIFY_PATH
    tags = ["parking"]
    dependencies = _BUS

    @post("/{provider:str}", status_code=HTTP_200_OK, opt=raises(BadSignature))
    async def notify(
        self, request: Request, state: State, bus: CommandBus, effects: Effects, provider: str
    ) -> NotifyAck:
        """A provider's signed notification: a paid charge settles its order once and lifts the
        arm; repeated, it changes nothing; a bad signature is 400 bad_signature."""
        found: PaymentProvider | None = state.payments.get(provider)
        header = found.signature_header if found else ""
        signature = request.headers.get(header, "") if header else ""
        return await orders.notified(
            state.payments, provider, await request.body(), signature, bus, effects
        )


class ParkingOrderController(Controller):
    """The guard's view of the orders at the exit lanes; a fee waived with a reason."""

    path = "/api/v1/parking-orders"
    tags = ["parking"]
    dependencies = _BUS

    @get("/")
    async def list_orders(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        lane_id: UUID | None = None,
        status: OrderStatus | None = None,
    ) -> ParkingOrderPage:
        """Orders of the caller's communities, newest first."""
        return await orders.list_orders(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            lane_id=lane_id,
            status=status,
        )

    @post("/{order_id:uuid}/waive", status_code=HTTP_200_OK, opt=raises(OrderSettled))
    async def waive(
        self, caller: Caller, bus: CommandBus, effects: Effects, order_id: UUID, data: WaiveBody
    ) -> ParkingOrderRead:
        """Let the car out without paying, with a stated reason (audited); the arm lifts."""
        return await orders.waive(caller, order_id, data.reason, bus, effects)
