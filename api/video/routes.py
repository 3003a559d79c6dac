"""Live camera view: the cameras in scope, opening and closing an audited live view."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK

from api.core.auth import Caller
from api.core.openapi import raises
from api.core.paging import PageNumber, PageSize
from api.devices.bus import CommandBus
from api.devices.routes import provide_bus
from api.devices.service import BridgeUnavailable
from api.video import service
from api.video.schemas import CameraPage, LiveCreate, LiveRead, ViewSessionRead


class CameraController(Controller):
    """Cameras guards, managers and police may watch live."""

    path = "/api/v1/cameras"
    tags = ["video"]
    dependencies = {"bus": Provide(provide_bus, sync_to_thread=False)}

    @get("/")
    async def list_cameras(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        q: str | None = None,
    ) -> CameraPage:
        """Cameras in the caller's communities (police: their jurisdiction's); 404 for others."""
        return await service.list_cameras(
            caller, page=page, page_size=page_size, community_id=community_id, q=q
        )

    @post(
        "/{camera_id:uuid}/live",
        status_code=HTTP_200_OK,
        opt=raises(service.MediaFailed, BridgeUnavailable),
    )
    async def start_live(
        self, caller: Caller, state: State, bus: CommandBus, camera_id: UUID, data: LiveCreate
    ) -> LiveRead:
        """Open a live view with the browser's complete offer; audited."""
        return await service.start_live(caller, bus, state.settings, camera_id, data.sdp)

    @delete("/{camera_id:uuid}/live/{session_id:uuid}", status_code=HTTP_200_OK)
    async def stop_live(
        self, caller: Caller, bus: CommandBus, camera_id: UUID, session_id: UUID
    ) -> ViewSessionRead:
        """Close the caller's live view; the audit records its duration."""
        return await service.stop_live(caller, bus, camera_id, session_id)
