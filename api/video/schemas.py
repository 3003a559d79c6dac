"""Wire shapes of live camera view: the camera list, the signalling bodies, view sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.paging import Page
from api.settings import IceServer

Sdp = Annotated[str, Meta(min_length=10, max_length=65_536)]


class CameraRead(msgspec.Struct, kw_only=True):
    """A camera the caller may watch."""

    id: UUID
    name: str
    kind: str
    community_id: UUID
    community_name: str
    building_id: UUID | None
    unit_id: UUID | None
    role: str
    online: bool
    viewers: int


class CameraPage(Page, kw_only=True):
    """A page of cameras."""

    items: list[CameraRead]


class LiveCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The browser's complete offer (recvonly video, ICE gathered)."""

    sdp: Sdp


class LiveRead(msgspec.Struct, kw_only=True):
    """The camera's answer, and the view session to close when the viewer leaves."""

    sdp: str
    session: UUID
    camera_id: UUID
    max_duration_s: int
    ice_servers: list[IceServer]


class ViewSessionRead(msgspec.Struct, kw_only=True):
    """One live view: who, which camera, from when, how long."""

    id: UUID
    camera_id: UUID
    camera_name: str
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    end_reason: str
