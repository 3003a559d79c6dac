"""Bridges (enrolment, link state) and devices (registry, placement, commands)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.core.auth import Caller, client_ip
from api.core.openapi import raises
from api.core.paging import PageNumber, PageSize
from api.core.ratelimit import address_rate_limit
from api.devices import service
from api.devices.bus import CommandBus
from api.devices.schemas import (
    BridgePage,
    CommandCreate,
    CommandRead,
    DevicePage,
    DeviceRead,
    DeviceUpdate,
    EnrolmentTokenCreate,
    EnrolmentTokenRead,
    EnrolRequest,
    EnrolResult,
)


def provide_bus(state: State) -> CommandBus:
    """The command bus on the app's Redis."""
    return CommandBus(state.redis)


ENROL_PATH = "/api/v1/bridges/enroll"


def enrol_rate_limit(per_minute: int) -> RateLimitConfig:
    """The limit on enrolment, per client address, in a bucket of its own: the endpoint needs no
    session, and the token it takes must not be open to guessing."""
    return address_rate_limit(per_minute, "bridge-enrol")


class BridgeEnrolController(Controller):
    """Enrolment itself: public (a bridge has no session), so create_app mounts it rate limited."""

    path = "/api/v1/bridges"
    tags = ["devices"]

    @post("/enroll", status_code=HTTP_200_OK, opt=raises(service.InvalidToken))
    async def enroll_bridge(
        self, request: Request[Any, Any, Any], data: EnrolRequest
    ) -> EnrolResult:
        """Called by a bridge: trade the token for the registration of its public key."""
        return await service.enrol(data, ip=client_ip(request))


class BridgeController(Controller):
    """Enrolment tokens for new bridges, and the bridges' link state."""

    path = "/api/v1/bridges"
    tags = ["devices"]

    @post("/enrolment-tokens", status_code=HTTP_201_CREATED)
    async def issue_enrolment_token(
        self, caller: Caller, data: EnrolmentTokenCreate
    ) -> EnrolmentTokenRead:
        """A one-time token for `anju bridge enroll --token …` (system administrators)."""
        return await service.issue_token(caller, data)

    @get("/")
    async def list_bridges(
        self, caller: Caller, page: PageNumber = 1, page_size: PageSize = 50
    ) -> BridgePage:
        """Bridges with online state, last heartbeat and clock skew."""
        return await service.list_bridges(caller, page=page, page_size=page_size)


class DeviceController(Controller):
    """The device registry."""

    path = "/api/v1/devices"
    tags = ["devices"]
    dependencies = {"bus": Provide(provide_bus, sync_to_thread=False)}

    @get("/")
    async def list_devices(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        kind: str | None = None,
        online: bool | None = None,
        q: str | None = None,
    ) -> DevicePage:
        """Devices with live status, filtered by community, kind, status and name."""
        return await service.list_devices(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            kind=kind,
            online=online,
            q=q,
        )

    @get("/{device_id:uuid}")
    async def get_device(self, caller: Caller, device_id: UUID) -> DeviceRead:
        """One device."""
        return await service.get_device(caller, device_id)

    @patch("/{device_id:uuid}")
    async def update_device(
        self, caller: Caller, device_id: UUID, data: DeviceUpdate
    ) -> DeviceRead:
        """Name, protection zone and map position of a device."""
        return await service.update_device(caller, device_id, data)

    @post(
        "/{device_id:uuid}/commands",
        status_code=HTTP_200_OK,
        opt=raises(service.BridgeUnavailable),
    )
    async def command_device(
        self, caller: Caller, bus: CommandBus, device_id: UUID, data: CommandCreate
    ) -> CommandRead:
        """A maintenance command (`status`, `time.sync`) and its result; any other action is 404."""
        return await service.admin_command(
            caller, bus, device_id, data.action, data.args, data.timeout
        )
