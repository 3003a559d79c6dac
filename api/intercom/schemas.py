"""Wire shapes of the intercom: calls, their history, the signalling bodies, ICE servers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.paging import Page
from api.settings import IceServer

Target = Literal["household", "guard_room"]
CallState = Literal["ringing", "live", "ended"]
Outcome = Literal[
    "answered", "unanswered", "declined", "limit", "network", "hangup", "unknown_room"
]
# A complete SDP after ICE gathering (aiortc does not trickle): a few kB; 64 kB is ample.
Sdp = Annotated[str, Meta(min_length=10, max_length=65_536)]


class IceServersRead(msgspec.Struct, kw_only=True):
    """STUN/TURN servers for `new RTCPeerConnection({iceServers})`; empty on a LAN."""

    ice_servers: list[IceServer]


class SdpBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The browser's complete offer (ICE gathered)."""

    sdp: Sdp


class CallCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A call placed in the app: the guard room calls a household (`household_id`), or a resident
    calls their community's guard room (`household_id` only for residents of several homes)."""

    target: Target
    household_id: UUID | None = None

    def __post_init__(self) -> None:
        if self.target == "household" and self.household_id is None:
            raise ValueError("a call to a household names the household")


class AnswerRead(msgspec.Struct, kw_only=True):
    """The station's answer to the browser's offer, and the call's limit."""

    sdp: str
    call_id: UUID
    max_duration_s: int
    ice_servers: list[IceServer]


class CallRead(msgspec.Struct, kw_only=True):
    """One call as its household or the guard room sees it; media URLs are signed, short-lived.

    A call placed in the app has no station: `station_name` is then who placed it (管理处 · 张三,
    1栋1单元0101 · 李四), `caller_name` their name, `placed_by_me` true on the caller's side.
    """

    id: UUID
    community_id: UUID
    station_id: UUID | None
    station_name: str
    caller_name: str | None
    placed_by_me: bool
    door_name: str | None
    target: Target
    reason: str
    household_id: UUID | None
    household_label: str | None
    state: CallState
    started_at: datetime
    answered_at: datetime | None
    answered_by: str | None
    answered_by_me: bool
    ended_at: datetime | None
    duration_s: float | None
    outcome: str
    unlocked_at: datetime | None
    unlocked_by: str | None
    media: Literal["none", "pending", "stored", "failed"]
    snapshot_url: str | None
    clip_url: str | None
    clip_type: str | None


class CallPage(Page, kw_only=True):
    """A page of calls, newest first."""

    items: list[CallRead]


class UnlockRead(msgspec.Struct, kw_only=True):
    """What the door did: `granted` when it opened; the access record of the opening."""

    result: Literal["granted", "failed"]
    reason: str
    record_id: UUID
    door_id: UUID
    door_name: str
