"""Live camera view: the cameras a caller may watch, and audited view sessions.

Guards and property managers watch their community's cameras; police those of their
jurisdiction (standard 6.8.3-5); residents none (privacy, 6.3.17). The media flows from the bridge
(one upstream per camera, relayed to every viewer) straight to the browser; the platform relays the
signalling and keeps a `ViewSession` per viewer, audited when it starts and when it ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec
import structlog
from piccolo.query.functions.aggregate import Count

from api.audit.service import record
from api.core.auth import Caller, Scope, require_staff
from api.core.effects import Effects
from api.core.errors import DomainError, NotFound
from api.core.paging import equals, paged
from api.core.query import like
from api.core.realtime import user_channel
from api.devices import service as devices
from api.devices.bus import CommandBus
from api.devices.rows import DeviceEventRow
from api.devices.tables import Device
from api.piccolo_conf import DB
from api.settings import Settings
from api.video.schemas import CameraPage, CameraRead, LiveRead, ViewSessionRead
from api.video.tables import ViewSession

log = structlog.get_logger()

CAMERA_KINDS = ("camera",)  # the kinds a bridge opens live views of (door stations: by call)
OFFER_TIMEOUT = 15.0
STALE_SLACK = timedelta(seconds=30)


class MediaFailed(DomainError):
    """The camera's bridge did not answer the offer."""

    status_code = 502
    code = "media_failed"
    message = "The camera did not accept the live view."


def _now() -> datetime:
    return datetime.now(UTC)


def _role(attrs: Any) -> str:
    attrs = attrs if isinstance(attrs, dict) else msgspec.json.decode(attrs or "{}")
    return str(attrs.get("role", "")) if isinstance(attrs, dict) else ""


_COLUMNS = (
    Device.id,
    Device.name,
    Device.kind,
    Device.community,
    Device.building,
    Device.unit,
    Device.attrs,
    Device.reported_online,
    Device.bridge._.online.as_alias("bridge_online"),
    Device.community._.name.as_alias("community_name"),
)


async def _viewers(camera_ids: list[UUID]) -> dict[UUID, int]:
    if not camera_ids:
        return {}
    rows = (
        await ViewSession.select(ViewSession.camera, Count(alias="n"))
        .where(ViewSession.camera.is_in(camera_ids) & ViewSession.ended_at.is_null())
        .group_by(ViewSession.camera)
    )
    return {r["camera"]: r["n"] for r in rows}


def _read(row: dict[str, Any], viewers: dict[UUID, int]) -> CameraRead:
    return CameraRead(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        community_id=row["community"],
        community_name=row["community_name"],
        building_id=row["building"],
        unit_id=row["unit"],
        role=_role(row["attrs"]),
        online=bool(row["reported_online"] and row["bridge_online"]),
        viewers=viewers.get(row["id"], 0),
    )


async def list_cameras(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    q: str | None = None,
) -> CameraPage:
    """Cameras the caller may watch; 404 for roles that watch none."""
    rows, total = await paged(
        Device.select(*_COLUMNS).order_by(Device.name),
        Scope.of(caller, "video.view").where(Device.community),
        Device.kind.is_in(list(CAMERA_KINDS)),
        equals(Device.community, community_id),
        Device.name.ilike(like(q)) if q else None,
        page=page,
        page_size=page_size,
    )
    viewers = await _viewers([r["id"] for r in rows])
    return CameraPage(
        items=[_read(r, viewers) for r in rows], total=total, page=page, page_size=page_size
    )


async def _camera(caller: Caller, camera_id: UUID) -> dict[str, Any]:
    row: dict[str, Any] | None = (
        await Device.select(*_COLUMNS).where(Device.id == camera_id).first()
    )
    if row is None or row["kind"] not in CAMERA_KINDS:
        raise NotFound()
    require_staff(caller, "video.view", row["community"])
    return row


async def start_live(
    caller: Caller, bus: CommandBus, settings: Settings, camera_id: UUID, sdp: str
) -> LiveRead:
    """Open a live view: a ViewSession (audited), the offer to the camera's bridge, its answer."""
    camera = await _camera(caller, camera_id)
    session = ViewSession(
        id=uuid4(),
        community=camera["community"],
        camera=camera_id,
        account=caller.account_id,
        started_at=_now(),
    )
    async with DB.transaction():
        await session.save()
        await record(
            "camera.view.started",
            actor=caller,
            target_type="camera",
            target_id=camera_id,
            community_id=camera["community"],
            details={"session": str(session.id)},
        )
    limit = settings.live_max_duration_s
    ice = settings.ice_server_list
    try:
        result = await devices.command(
            bus,
            camera_id,
            "media.offer",
            {
                "session": str(session.id),
                "sdp": sdp,
                "kind": "live",
                "max_duration_s": limit,
                "ice_servers": [msgspec.to_builtins(s) for s in ice],
            },
            requested_by=caller.account_id,
            timeout=OFFER_TIMEOUT,
        )
        answer = (result.data or {}).get("sdp") if result.status == "ok" else None
        if not isinstance(answer, str) or not answer:
            raise MediaFailed(detail=f"{result.status}: {result.detail}"[:200])
    except (MediaFailed, devices.BridgeUnavailable):
        await _end(session.id, "failed", actor=caller)
        raise
    log.info("video.live.started", session=str(session.id), camera_id=str(camera_id))
    return LiveRead(
        sdp=answer, session=session.id, camera_id=camera_id, max_duration_s=limit, ice_servers=ice
    )


async def _end(session_id: UUID, reason: str, *, actor: Caller | None) -> dict[str, Any] | None:
    """Close a session once (audited with its duration); None when it was closed already."""
    now = _now()
    async with DB.transaction():
        rows = (
            await ViewSession.update({ViewSession.ended_at: now, ViewSession.end_reason: reason})
            .where((ViewSession.id == session_id) & ViewSession.ended_at.is_null())
            .returning(*ViewSession.all_columns())
        )
        if not rows:
            return None
        row = rows[0]
        duration = (now - row["started_at"]).total_seconds()
        await ViewSession.update({ViewSession.duration_s: duration}).where(
            ViewSession.id == session_id
        )
        row["duration_s"] = duration
        await record(
            "camera.view.ended",
            actor=actor,
            actor_name=None if actor else "platform",
            target_type="camera",
            target_id=row["camera"],
            community_id=row["community"],
            details={
                "session": str(session_id),
                "viewer": str(row["account"]),
                "duration_s": round(duration, 1),
                "reason": reason,
            },
        )
    return row


async def _close_peer(bus: CommandBus, camera_id: UUID, session_id: UUID) -> None:
    try:
        await devices.command(
            bus, camera_id, "media.close", {"session": str(session_id)}, requested_by=None
        )
    except devices.BridgeUnavailable:
        log.info("video.live.close_unsent", session=str(session_id))


async def stop_live(
    caller: Caller, bus: CommandBus, camera_id: UUID, session_id: UUID
) -> ViewSessionRead:
    """The viewer leaves: the bridge closes the peer; the session ends with its duration."""
    camera = await _camera(caller, camera_id)
    row = (
        await ViewSession.select()
        .where(
            (ViewSession.id == session_id)
            & (ViewSession.camera == camera_id)
            & (ViewSession.account == caller.account_id)
        )
        .first()
    )
    if row is None:
        raise NotFound()
    ended = await _end(session_id, "closed", actor=caller)
    if ended is not None:
        await _close_peer(bus, camera_id, session_id)
        row = ended
    return ViewSessionRead(
        id=row["id"],
        camera_id=camera_id,
        camera_name=camera["name"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_s=row["duration_s"],
        end_reason=row["end_reason"],
    )


ENDED_AT_BRIDGE = frozenset({"limit", "network"})


async def on_events(community_id: UUID, stored: list[DeviceEventRow]) -> Effects:
    """The ingest hook: a live view the bridge ended (limit, network) closes now, not by sweep.

    Only the camera's own session closes: the event names the session, and the session must
    be of the device that reported it (a bridge cannot end another site's view). The viewer's
    screen is told on their user channel.
    """
    effects = Effects()
    for event in stored:
        if event.kind != "media.ended" or event.device is None:
            continue
        reason = event.data.get("reason")
        try:
            session_id = UUID(str(event.data.get("session")))
        except ValueError:
            continue
        if reason not in ENDED_AT_BRIDGE:
            continue
        owned = await ViewSession.exists().where(
            (ViewSession.id == session_id)
            & (ViewSession.camera == event.device)
            & (ViewSession.community == community_id)
        )
        if not owned:
            continue
        row = await _end(session_id, str(reason), actor=None)
        if row is not None:
            log.info("video.live.ended_at_bridge", session=str(session_id), reason=reason)
            effects.send(
                {
                    "type": "video.live_ended",
                    "session": str(session_id),
                    "camera_id": str(row["camera"]),
                    "reason": reason,
                },
                user_channel(row["account"]),
            )
    return effects


async def end_stale(bus: CommandBus, limit_s: int) -> int:
    """The sweep: sessions open past the limit (the bridge closed them; the viewer never said)."""
    rows = await ViewSession.select(ViewSession.id, ViewSession.camera).where(
        ViewSession.ended_at.is_null()
        & (ViewSession.started_at < _now() - timedelta(seconds=limit_s) - STALE_SLACK)
    )
    ended = 0
    for row in rows:
        if await _end(row["id"], "limit", actor=None) is not None:
            await _close_peer(bus, row["camera"], row["id"])
            ended += 1
    return ended


async def purge_expired(*, now: datetime | None = None, days: int = 184) -> int:
    """Delete view sessions older than their retention (6 months, as access records)."""
    cutoff = (now or _now()) - timedelta(days=days)
    rows = (
        await ViewSession.delete().where(ViewSession.started_at < cutoff).returning(ViewSession.id)
    )
    return len(rows)
