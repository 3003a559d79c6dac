"""Visitor passes: residents book and share, the desk takes walk-ins, visitors open their link."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.access.schemas import PhoneKeyCreate, PhoneKeyRead
from api.core.auth import Caller, client_ip
from api.core.effects import Effects
from api.core.paging import PageNumber, PageSize
from api.core.ratelimit import address_rate_limit
from api.visitors import desk, public
from api.visitors.schemas import (
    BookingPlaces,
    ConsentBody,
    InsidePage,
    PassStatus,
    PublicPass,
    RevealRequest,
    RevokeBody,
    ShareRead,
    VisitorPassCreate,
    VisitorPassDetail,
    VisitorPassPage,
    VisitorPassRead,
    VisitorReveal,
    WalkInCreate,
)
from api.visitors.service import VisitorService

PUBLIC_PATH = "/api/v1/public/passes"


def provide_visitors(state: State) -> VisitorService:
    """The visitor pass service, with the personal-data cipher and the public address."""
    return VisitorService(state.cipher, state.settings.public_url)


_DEPENDENCIES = {"visitors": Provide(provide_visitors, sync_to_thread=False)}


def pass_page_rate_limit(per_minute: int) -> RateLimitConfig:
    """The limit on the public pass page, per client address, counted in Redis like the login's:
    the token is unguessable, and this keeps anyone from trying."""
    return address_rate_limit(per_minute, "pass-page")


class VisitorPassController(Controller):
    """Residents' passes for their household; guards', managers' and police's for a community."""

    path = "/api/v1/visitor-passes"
    tags = ["visitors"]
    dependencies = _DEPENDENCIES

    @get("/")
    async def list_passes(
        self,
        caller: Caller,
        visitors: VisitorService,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        status: PassStatus | None = None,
        on: Annotated[
            date | None, Parameter(description="Passes whose window touches this day.")
        ] = None,
        household_id: UUID | None = None,
        community_id: UUID | None = None,
        walk_in: bool | None = None,
        inside: bool | None = None,
        phone: str | None = None,
        q: str | None = None,
    ) -> VisitorPassPage:
        """Visitor passes newest first: a resident's household's, or a community's for staff."""
        return await visitors.search(
            caller,
            page=page,
            page_size=page_size,
            status=status,
            on=on,
            household_id=household_id,
            community_id=community_id,
            walk_in=walk_in,
            inside=inside,
            phone=phone,
            q=q,
        )

    @get("/places")
    async def booking_places(
        self, caller: Caller, visitors: VisitorService, household_id: UUID | None = None
    ) -> BookingPlaces:
        """The community gates a booking may name one by one, and the household's building doors."""
        return await visitors.places(caller, household_id)

    @post("/", status_code=HTTP_201_CREATED)
    async def book_visitor(
        self,
        caller: Caller,
        visitors: VisitorService,
        effects: Effects,
        data: VisitorPassCreate,
    ) -> VisitorPassRead:
        """Book a visitor for the caller's own household; the pass's QR and code work at once."""
        return await visitors.book(caller, data, effects)

    @get("/{pass_id:uuid}")
    async def get_pass(
        self, caller: Caller, visitors: VisitorService, pass_id: UUID
    ) -> VisitorPassDetail:
        """One pass with the visitor's passes and refusals at the doors."""
        return await visitors.detail(caller, pass_id)

    @post("/{pass_id:uuid}/revoke", status_code=HTTP_200_OK)
    async def revoke_pass(
        self,
        caller: Caller,
        visitors: VisitorService,
        effects: Effects,
        pass_id: UUID,
        data: RevokeBody | None = None,
    ) -> VisitorPassRead:
        """Revoke a pass; its QR and keypad code stop working at every gate within seconds."""
        return await visitors.revoke(caller, pass_id, effects, reason=data.reason if data else "")

    @post("/{pass_id:uuid}/share", status_code=HTTP_200_OK)
    async def share_pass(
        self, caller: Caller, visitors: VisitorService, pass_id: UUID
    ) -> ShareRead:
        """A link for the visitor (/pass/<token>); a new share replaces the previous link."""
        return await visitors.share(caller, pass_id)

    @post("/{pass_id:uuid}/consent", status_code=HTTP_200_OK)
    async def consent(
        self,
        caller: Caller,
        visitors: VisitorService,
        effects: Effects,
        pass_id: UUID,
        data: ConsentBody,
    ) -> VisitorPassRead:
        """A household member lets a walk-in visitor in (the pass becomes active) or declines."""
        await desk.consent(caller, pass_id, approve=data.approve, effects=effects)
        return await visitors.get(caller, pass_id)

    @post("/{pass_id:uuid}/reveal", status_code=HTTP_200_OK)
    async def reveal_pass(
        self, caller: Caller, visitors: VisitorService, pass_id: UUID, data: RevealRequest
    ) -> VisitorReveal:
        """The visitor's phone and/or ID number in full, for a stated purpose; audited."""
        return await visitors.reveal(caller, pass_id, data)


class VisitorDeskController(Controller):
    """The guard's visitor desk."""

    path = "/api/v1/visitor-desk"
    tags = ["visitors"]
    dependencies = _DEPENDENCIES

    @post("/walk-ins", status_code=HTTP_201_CREATED)
    async def register_walk_in(
        self,
        caller: Caller,
        state: State,
        visitors: VisitorService,
        effects: Effects,
        data: WalkInCreate,
    ) -> VisitorPassRead:
        """Register a walk-in visitor (ID checked); the household is asked to consent."""
        pass_id = await desk.register_walk_in(caller, state.cipher, data, effects)
        return await visitors.get(caller, pass_id)

    @get("/inside")
    async def inside(
        self,
        caller: Caller,
        state: State,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
    ) -> InsidePage:
        """Visitors inside now: entered at a gate, not seen leaving; longest inside first."""
        return await desk.inside_now(
            caller, state.cipher, page=page, page_size=page_size, community_id=community_id
        )


class PublicPassController(Controller):
    """The visitor's own view of a shared pass: no login; the token in the link is the key."""

    path = PUBLIC_PATH
    tags = ["visitors"]

    @get("/{token:str}", cache_control=CacheControlHeader(no_store=True))
    async def public_pass(self, token: str) -> PublicPass:
        """The pass as the visitor sees it, with a fresh QR code (≤ 60 s) and the keypad code;
        404 for a link that is unknown, revoked or expired."""
        return await public.public_pass(token)

    @post(
        "/{token:str}/phone-key",
        status_code=HTTP_201_CREATED,
        cache_control=CacheControlHeader(no_store=True),
    )
    async def register_phone_key(
        self, request: Request, token: str, effects: Effects, data: PhoneKeyCreate
    ) -> PhoneKeyRead:
        """Register the key the visitor's phone made (when the host allowed it; one per pass): its
        codes open the pass's doors within its window with no signal. 403 when not allowed, 409
        when the pass has one, 404 for a link that is unknown, revoked or expired."""
        return await public.register_phone_key(token, data, effects, ip=client_ip(request))
