"""The intercom's jobs: the duration limit, ends that were lost, the visitor's media, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from api.audit.service import record
from api.core import jobs
from api.core.effects import Effects
from api.core.storage import ObjectStore, RetentionClass
from api.devices import service as devices
from api.devices.bus import CommandBus
from api.intercom.reads import call_row
from api.intercom.service import LIMIT_GRACE, fetch_media_later, finish, tell_station
from api.intercom.tables import Call
from api.piccolo_conf import DB

log = structlog.get_logger()

RETENTION = RetentionClass.RECORD_6M  # intercom records and their media: 6 months (6.7.12)
RING_LIMIT = timedelta(minutes=2)  # a call still ringing this long lost its station's end event
MEDIA_MAX = 16 * 1024 * 1024
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "video/webm": "webm", "video/mp4": "mp4"}


def _now() -> datetime:
    return datetime.now(UTC)


async def end_at_limit(bus: CommandBus, call_id: UUID, limit_s: int) -> Effects:
    """End a live call that has run past its limit (the bridge should have ended it already)."""
    effects = Effects()
    row = await call_row(call_id)
    if row is None or row["state"] != "live" or row["answered_at"] is None:
        return effects
    if _now() < row["answered_at"] + timedelta(seconds=limit_s):
        effects.job(
            jobs.END_CALL_AT_LIMIT,
            call_id=call_id,
            defer=(row["answered_at"] + timedelta(seconds=limit_s) - _now()).total_seconds()
            + LIMIT_GRACE,
        )
        return effects
    async with DB.transaction():
        ended = await finish(row, "limit", effects, duration_s=float(limit_s), states=("live",))
    if ended:
        await tell_station(bus, row, "limit")
    return effects


async def overdue(limit_s: int) -> list[UUID]:
    """Calls whose end never came: live past the limit, or ringing far past any ring time."""
    now = _now()
    rows = await Call.select(Call.id).where(
        ((Call.state == "live") & (Call.answered_at < now - timedelta(seconds=limit_s + 30)))
        | ((Call.state == "ringing") & (Call.started_at < now - RING_LIMIT))
    )
    return [r["id"] for r in rows]


async def end_overdue(bus: CommandBus, limit_s: int) -> Effects:
    """The sweep: end calls whose station or job was lost (network for lost stations), and fetch
    the media of unanswered calls whose job was lost."""
    effects = Effects()
    for call_id in await overdue(limit_s):
        row = await call_row(call_id)
        if row is None:
            continue
        if row["state"] == "live":
            effects.merge(await end_at_limit(bus, call_id, limit_s))
            continue
        async with DB.transaction():
            await finish(row, "network", effects, states=("ringing",))
        await tell_station(bus, row, "network")
    for call_id in await pending_media():
        fetch_media_later(effects, call_id)
    return effects


def _key(row: dict[str, Any], name: str, content_type: str) -> str:
    ext = _EXTENSIONS.get(content_type, "bin")
    return f"intercom/{row['community']}/{row['id']}/{name}.{ext}"


class MediaUnavailable(Exception):
    """The station could not hand over the media now; the job retries."""


async def fetch_media(bus: CommandBus, objects: ObjectStore, call_id: UUID) -> bool:
    """Fetch an unanswered call's snapshot and message from its station and store them.

    Idempotent: a call whose media is stored (or failed for good) is left alone.
    """
    row = await call_row(call_id)
    if row is None or row["media"] != "pending":
        return False
    try:
        result = await devices.command(
            bus,
            row["station"],
            "intercom.media",
            {"call": str(call_id)},
            requested_by=None,
            timeout=15.0,
        )
    except devices.BridgeUnavailable as err:
        raise MediaUnavailable("bridge offline") from err
    if result.status == "timeout":
        raise MediaUnavailable("timeout")
    data = result.data or {}
    if result.status != "ok":
        await Call.update({Call.media: "failed"}).where(Call.id == call_id)
        log.warning("intercom.media.failed", call_id=str(call_id), status=result.status)
        return False
    changes: dict[Any, Any] = {Call.media: "stored"}
    for name, key_column, type_column in (
        ("snapshot", Call.snapshot_key, Call.snapshot_type),
        ("clip", Call.clip_key, Call.clip_type),
    ):
        blob = data.get(name)
        content_type = str(data.get(f"{name}_type") or "application/octet-stream")[:40]
        if isinstance(blob, bytes) and 0 < len(blob) <= MEDIA_MAX:
            key = _key(row, name, content_type)
            await objects.put(key, blob, content_type=content_type, retention=RETENTION)
            changes[key_column] = key
            changes[type_column] = content_type
    await Call.update(changes).where(Call.id == call_id)
    log.info("intercom.media.stored", call_id=str(call_id), objects=len(changes) // 2)
    return True


async def pending_media(older_than: timedelta = timedelta(minutes=2)) -> list[UUID]:
    """Unanswered calls whose media fetch has not happened (a lost job)."""
    rows = await Call.select(Call.id).where(
        (Call.media == "pending")
        & (Call.ended_at < _now() - older_than)
        & (Call.ended_at > _now() - timedelta(days=1))
    )
    return [r["id"] for r in rows]


async def purge_expired(objects: ObjectStore, *, now: datetime | None = None) -> int:
    """Delete calls (and their media) ended longer ago than their retention, never earlier."""
    days = RETENTION.days
    assert days is not None
    cutoff = (now or _now()) - timedelta(days=days)
    rows = await Call.select(Call.id, Call.snapshot_key, Call.clip_key).where(
        (Call.state == "ended") & (Call.ended_at < cutoff)
    )
    for row in rows:
        for key in (row["snapshot_key"], row["clip_key"]):
            if key:
                await objects.delete(key)
    if rows:
        async with DB.transaction():
            await Call.delete().where(Call.id.is_in([r["id"] for r in rows]))
            await record(
                "call.purged",
                actor_name="retention",
                target_type="call",
                details={"calls": len(rows), "before": cutoff.isoformat()},
            )
    return len(rows)
