"""Self-registration: the public join page's calls, and the manager's review of requests."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from api.accounts.joining.schemas import (
    CodeRequest,
    CodeSent,
    JoinFiled,
    JoinLinkRead,
    JoinPage,
    JoinRequestCreate,
    JoinRequestPage,
    JoinRequestRead,
    RejectBody,
    Status,
)
from api.accounts.joining.service import JoinService
from api.accounts.routes import policy_reader
from api.core.auth import Caller, client_ip
from api.core.paging import PageNumber, PageSize
from api.core.ratelimit import address_rate_limit

PUBLIC_PATH = "/api/v1/public/join"


def provide_joining(state: State) -> JoinService:
    """The join service, with the cipher, Redis (codes, budgets) and the app's SMS sender."""
    return JoinService(state.cipher, state.redis, state.sms, policy=policy_reader(state))


_DEPENDENCIES = {"joining": Provide(provide_joining, sync_to_thread=False)}
_NO_STORE = CacheControlHeader(no_store=True)


def join_rate_limit(per_minute: int) -> RateLimitConfig:
    """Requests per minute per client address on the public join calls (a bucket of their own);
    the service keeps its own, longer budgets of codes per phone and per address."""
    return address_rate_limit(per_minute, "join")


class PublicJoinController(Controller):
    """The join link (/join/<code>): no login; the code names the community."""

    path = PUBLIC_PATH
    tags = ["joining"]
    dependencies = _DEPENDENCIES

    @get("/{code:str}", cache_control=_NO_STORE)
    async def join_page(self, code: str, joining: JoinService) -> JoinPage:
        """The community's name and its buildings and units to pick from (never rooms)."""
        return await joining.page(code)

    @post("/{code:str}/code", status_code=HTTP_202_ACCEPTED, cache_control=_NO_STORE)
    async def send_code(
        self, request: Request, code: str, joining: JoinService, data: CodeRequest
    ) -> CodeSent:
        """Text a 6-digit code (5 min) to the phone; the same answer for any valid number;
        429 too_many_requests when the phone or the address spent its budget."""
        return await joining.send_code(code, data.phone, ip=client_ip(request))

    @post("/{code:str}/requests", status_code=HTTP_202_ACCEPTED, cache_control=_NO_STORE)
    async def file_request(
        self, request: Request, code: str, joining: JoinService, data: JoinRequestCreate
    ) -> JoinFiled:
        """File the request with the code the phone received; the same answer whether the room
        exists or not (the manager reviews it)."""
        return await joining.file(code, data, ip=client_ip(request))


class JoinRequestController(Controller):
    """The property manager's queue of self-registration requests, and the join link."""

    path = "/api/v1/join-requests"
    tags = ["joining"]
    dependencies = _DEPENDENCIES

    @get("/")
    async def list_requests(
        self,
        caller: Caller,
        joining: JoinService,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        status: Status | None = "pending",
    ) -> JoinRequestPage:
        """Requests of the caller's communities, oldest first (pending unless asked)."""
        return await joining.search(
            caller, page=page, page_size=page_size, community_id=community_id, status=status
        )

    @get("/link")
    async def join_link(
        self, caller: Caller, joining: JoinService, community_id: UUID
    ) -> JoinLinkRead:
        """The community's join link to share with its residents (made at the first ask)."""
        return await joining.link(caller, community_id)

    @get("/{request_id:uuid}")
    async def get_request(
        self, caller: Caller, joining: JoinService, request_id: UUID
    ) -> JoinRequestRead:
        """One request."""
        return await joining.get(caller, request_id)

    @post("/{request_id:uuid}/approve", status_code=HTTP_200_OK)
    async def approve(
        self, caller: Caller, joining: JoinService, request_id: UUID
    ) -> JoinRequestRead:
        """Approve: the account with the chosen password, the person and the resident role;
        409 no_such_room when the unit has no such room."""
        return await joining.approve(caller, request_id)

    @post("/{request_id:uuid}/reject", status_code=HTTP_200_OK)
    async def reject(
        self, caller: Caller, joining: JoinService, request_id: UUID, data: RejectBody
    ) -> JoinRequestRead:
        """Reject with a reason; nothing is created."""
        return await joining.reject(caller, request_id, data.reason)
