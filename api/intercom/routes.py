"""Intercom calls: history, answering with WebRTC signalling, declining, hanging up, unlocking."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.core.auth import Caller
from api.core.effects import Effects
from api.core.openapi import raises
from api.core.paging import PageNumber, PageSize
from api.devices.bus import CommandBus
from api.devices.routes import provide_bus
from api.devices.service import BridgeUnavailable
from api.intercom import placing, reads, service
from api.intercom.errors import HouseholdRequired, MediaFailed, NotAnswerer, NotOnDuty
from api.intercom.relay import Relay
from api.intercom.schemas import (
    AnswerRead,
    CallCreate,
    CallPage,
    CallRead,
    CallState,
    IceServersRead,
    Outcome,
    SdpBody,
    UnlockRead,
)


class MediaController(Controller):
    """What browsers need to set up WebRTC."""

    path = "/api/v1/media"
    tags = ["intercom"]

    @get("/ice-servers")
    async def ice_servers(self, caller: Caller, state: State) -> IceServersRead:
        """STUN/TURN servers for RTCPeerConnection (empty: host candidates only)."""
        return IceServersRead(ice_servers=state.settings.ice_server_list)


class CallController(Controller):
    """Door-station and lift calls as the household, the guard room and managers see them."""

    path = "/api/v1/calls"
    tags = ["intercom"]
    dependencies = {"bus": Provide(provide_bus, sync_to_thread=False)}

    @get("/")
    async def list_calls(
        self,
        caller: Caller,
        state: State,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        outcome: Outcome | None = None,
        call_state: Annotated[CallState | None, Parameter(query="state")] = None,
        community_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> CallPage:
        """Call history newest first, with signed snapshot and message URLs."""
        return await reads.list_calls(
            caller,
            state.objects,
            page=page,
            page_size=page_size,
            outcome=outcome,
            state=call_state,
            community_id=community_id,
            since=since,
            until=until,
        )

    @post("/", status_code=HTTP_201_CREATED, opt=raises(HouseholdRequired))
    async def place_call(self, caller: Caller, effects: Effects, data: CallCreate) -> CallRead:
        """Place a call in the app: the guard room rings a household of its community, a resident
        rings their community's guard room. 404 for a household or community not the caller's."""
        return await placing.place(caller, data, effects)

    @post("/{call_id:uuid}/connect", status_code=HTTP_204_NO_CONTENT)
    async def connect(
        self,
        caller: Caller,
        state: State,
        channels: ChannelsPlugin,
        call_id: UUID,
        data: SdpBody,
    ) -> None:
        """The caller's answer to the offer (`call.offer`) of whoever answered an app call."""
        await placing.connect(caller, Relay(channels, state.redis), call_id, data.sdp)

    @get("/{call_id:uuid}")
    async def get_call(self, caller: Caller, state: State, call_id: UUID) -> CallRead:
        """One call; 404 for anyone outside its household or guard room."""
        return await reads.get_call(caller, call_id, state.objects)

    @post(
        "/{call_id:uuid}/answer",
        status_code=HTTP_200_OK,
        opt=raises(NotOnDuty, MediaFailed, BridgeUnavailable),
    )
    async def answer(
        self,
        caller: Caller,
        state: State,
        bus: CommandBus,
        effects: Effects,
        channels: ChannelsPlugin,
        call_id: UUID,
        data: SdpBody,
    ) -> AnswerRead:
        """Answer with the browser's complete offer; the station's (or, for a call placed in the
        app, the caller's browser's) answer comes back.

        The first answer wins: later ones get 409 `call_taken`.
        """
        return await service.answer(
            caller,
            bus,
            state.settings,
            call_id,
            data.sdp,
            effects,
            relay=Relay(channels, state.redis),
        )

    @post("/{call_id:uuid}/decline", status_code=HTTP_200_OK, opt=raises(NotOnDuty))
    async def decline(
        self, caller: Caller, bus: CommandBus, effects: Effects, call_id: UUID
    ) -> CallRead:
        """Decline a ringing call; it stops ringing for every member and the station hangs up."""
        return await service.decline(caller, bus, call_id, effects)

    @post("/{call_id:uuid}/hangup", status_code=HTTP_200_OK, opt=raises(NotOnDuty, NotAnswerer))
    async def hangup(
        self, caller: Caller, bus: CommandBus, effects: Effects, call_id: UUID
    ) -> CallRead:
        """End a live call (the member who answered, or the caller of an app call, who may also
        give up while it rings)."""
        return await service.hangup(caller, bus, call_id, effects)

    @post("/{call_id:uuid}/unlock", status_code=HTTP_200_OK, opt=raises(NotOnDuty, NotAnswerer))
    async def unlock(self, caller: Caller, bus: CommandBus, call_id: UUID) -> UnlockRead:
        """Open the station's door for the visitor; only while live, only by who answered."""
        return await service.unlock(caller, bus, call_id)
