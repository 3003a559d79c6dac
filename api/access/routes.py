"""Doors a resident may open, opening them from the app, and the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK

from api.access import service
from api.access.schemas import AccessRecordPage, DoorOpen, DoorOpenResult, DoorRead
from api.core.auth import Caller
from api.core.paging import PageNumber, PageSize
from api.devices.bus import CommandBus
from api.devices.routes import provide_bus


class DoorController(Controller):
    """Opening doors by app."""

    path = "/api/v1/doors"
    tags = ["access"]
    dependencies = {"bus": Provide(provide_bus, sync_to_thread=False)}

    @get("/")
    async def list_doors(self, caller: Caller) -> list[DoorRead]:
        """The doors the caller's household may pass: its unit doors and the community gates."""
        return await service.doors(caller)

    @post("/{device_id:uuid}/open", status_code=HTTP_200_OK)
    async def open_door(
        self, caller: Caller, bus: CommandBus, device_id: UUID, data: DoorOpen
    ) -> DoorOpenResult:
        """Open a door; refused with a reason when the caller may not; recorded either way."""
        return await service.open_door(caller, bus, device_id, direction=data.direction)


class AccessRecordController(Controller):
    """The access log."""

    path = "/api/v1/access-records"
    tags = ["access"]

    @get("/")
    async def list_access_records(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        device_id: UUID | None = None,
        result: Literal["granted", "denied", "failed"] | None = None,
        method: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AccessRecordPage:
        """Passes and refusals, newest first; residents see their own."""
        return await service.access_log(
            caller,
            page=page,
            page_size=page_size,
            device_id=device_id,
            result=result,
            method=method,
            since=since,
            until=until,
        )
