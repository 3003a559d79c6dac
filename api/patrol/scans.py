"""Scans: a guard's phone at a checkpoint's QR label, or a fixed patrol reader through the bridge.

Every scan is stored, accepted or refused, with the phone's time and the server's. Its id is made
by the phone when it scans, so a scan queued offline and sent twice is stored once (the second
answer is the first one's). The phone also says when it sent the scan (`sent_at`): the difference
to the server's clock is the phone's skew, and the scan's time on the server's clock (`at`) is
its phone time corrected by that skew — a scan made offline at 02:10 and sent at 02:40 counts at
02:10, whatever the phone's clock says the date is.

A scan counts for a round of the guard's that takes its checkpoint and is under way at `at`
(from `timing.EARLY` before its start to its `closes_at`; after `due_at` it is late). Refused with
a reason, and recorded: a code no checkpoint has (`unknown_code`: forged or mistyped), a point of
a community the guard does not patrol (`other_community`), no round (`outside_round`), or a
round that has ended meanwhile (`round_ended`). Anomalies mark a scan without refusing it
(anomalies.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import structlog
from piccolo.columns.combination import WhereRaw

from api.audit.service import record
from api.core.auth import PERMISSIONS, Caller, Scope
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import equals, paged_page
from api.core.storage import ObjectStore, RetentionClass, is_image
from api.devices.rows import DeviceEventRow
from api.patrol import anomalies, timing
from api.patrol.errors import InvalidPhoto, ScanRefused
from api.patrol.rounds import accepted_scans, announce, first_scans
from api.patrol.rows import CheckpointRow, RoundRow, ScanRow
from api.patrol.schemas import ScanCreate, ScanPage, ScanRead
from api.patrol.tables import Checkpoint, PatrolRound, PatrolScan
from api.piccolo_conf import DB

log = structlog.get_logger()

READER_EVENT = "patrol.checkpoint"  # a fixed patrol reader's event (DESIGN.md, canonical kinds)
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def _now() -> datetime:
    return datetime.now(UTC)


def read_scan(row: ScanRow) -> ScanRead:
    """A scan as the API shows it."""
    return ScanRead(
        id=row.id,
        community_id=row.community,
        round_id=row.round,
        checkpoint_id=row.checkpoint,
        guard_id=row.guard,
        device_id=row.device,
        phone_at=row.phone_at,
        server_at=row.server_at,
        at=row.at,
        accepted=row.accepted,
        reason=row.reason,  # type: ignore[arg-type]
        late=row.late,
        flags=row.flags,
        note=row.note,
    )


async def scan_row(scan_id: UUID) -> ScanRow | None:
    """One scan's row, JSON decoded."""
    row = await PatrolScan.select().where(PatrolScan.id == scan_id).output(load_json=True).first()
    return None if row is None else msgspec.convert(row, ScanRow)


async def _checkpoint(where: Any) -> CheckpointRow | None:
    row = await Checkpoint.select().where(where).first()
    return None if row is None else msgspec.convert(row, CheckpointRow)


async def _round_for(
    checkpoint: CheckpointRow, at: datetime, *, guard: UUID | None, round_id: UUID | None
) -> RoundRow | None:
    """The round the scan counts for: one under way at `at` that takes the checkpoint (and is the
    guard's, and the one named); rounds not yet ended first."""
    where = (
        (PatrolRound.community == checkpoint.community)
        & (PatrolRound.starts_at <= at + timing.EARLY)
        & (PatrolRound.closes_at > at)
        & WhereRaw("patrol_rounds.checkpoints @> {}::jsonb", f'[{{"id": "{checkpoint.id}"}}]')
    )
    if guard is not None:
        where &= WhereRaw("patrol_rounds.guards ? {}", str(guard))
    if round_id is not None:
        where &= PatrolRound.id == round_id
    rows = (
        await PatrolRound.select()
        .where(where)
        .order_by(PatrolRound.starts_at)
        .output(load_json=True)
    )
    rounds = msgspec.convert(rows, list[RoundRow])
    rounds.sort(key=lambda r: r.ended_at is not None)
    return rounds[0] if rounds else None


async def _position(checkpoint_id: UUID) -> tuple[float, float] | None:
    row = (
        await Checkpoint.select(Checkpoint.lat, Checkpoint.lon)
        .where(Checkpoint.id == checkpoint_id)
        .first()
    )
    if row is None or row["lat"] is None or row["lon"] is None:
        return None
    return (row["lat"], row["lon"])


async def _flags(
    round_: RoundRow,
    checkpoint: CheckpointRow,
    at: datetime,
    *,
    phone: str,
    guard: UUID | None,
    skew: timedelta,
    note: str,
    photo: bool,
) -> list[str]:
    """The anomalies of an accepted scan (anomalies.py), given the round's scans so far."""
    flags = []
    if anomalies.clock_skewed(skew):
        flags.append("clock_skew")
    before = (await accepted_scans([round_.id])).get(round_.id, [])
    if any(s.checkpoint == checkpoint.id for s in before):
        flags.append("repeat")
    window = anomalies.TWO_PHONES_WINDOW
    if await PatrolScan.exists().where(
        (PatrolScan.checkpoint == checkpoint.id)
        & PatrolScan.accepted.eq(True)
        & (PatrolScan.phone != phone)
        & (PatrolScan.at >= at - window)
        & (PatrolScan.at <= at + window)
    ):
        flags.append("two_phones")
    previous = [s for s in before if s.guard == guard and s.at <= at and s.checkpoint]
    if previous and previous[-1].checkpoint != checkpoint.id:
        last = previous[-1]
        assert last.checkpoint is not None
        here = (checkpoint.lat, checkpoint.lon) if checkpoint.lat is not None else None
        there = await _position(last.checkpoint)
        if anomalies.impossible_speed(there, last.at, here, at):  # type: ignore[arg-type]
            flags.append("impossible_speed")
    first = {c: s.at for c, s in first_scans(before).items()}
    first.setdefault(checkpoint.id, at)
    complete = set(first) >= set(round_.stop_ids()) and "repeat" not in flags
    if complete and anomalies.too_fast(list(first.values())):
        flags.append("round_too_fast")
    if checkpoint.needs_note and not note.strip():
        flags.append("note_missing")
    if checkpoint.needs_photo and not photo:
        flags.append("photo_missing")
    return flags


async def _still_open(round_id: UUID) -> bool:
    """Lock the round's row while a scan is stored for it; False once it has ended. Ending a round
    claims the same row (rounds.end_round), so a scan is either in its summary or refused."""
    rows = await PatrolRound.raw(
        "SELECT id FROM patrol_rounds WHERE id = {} AND ended_at IS NULL FOR UPDATE", round_id
    )
    return bool(rows)


def _home(caller: Caller, scope: Scope) -> UUID:
    """Where a scan that names no community of the guard's is recorded: the guard's first."""
    for a in caller.assignments:
        if a.role in PERMISSIONS["patrol.scan"] and a.community_id in scope.communities:
            return a.community_id
    raise NotFound()


def _refusal(row: ScanRow) -> ScanRefused:
    return ScanRefused(reason=row.reason, scan_id=str(row.id))


async def _store(row: PatrolScan) -> bool:
    """Insert the scan unless its id is stored already; whether it was new."""
    return bool(
        await PatrolScan.insert(row).on_conflict(action="DO NOTHING").returning(PatrolScan.id)
    )


async def scan(caller: Caller, data: ScanCreate, store: ObjectStore, effects: Effects) -> ScanRead:
    """Record a guard's scan (refused: `409 scan_refused`, recorded all the same)."""
    scope = Scope.of(caller, "patrol.scan")
    known = await scan_row(data.id)
    if known is not None:
        return _again(caller, known)
    if data.photo is not None and not is_image(data.photo.content_type, data.photo.data):
        raise InvalidPhoto(field="photo")
    now = _now()
    skew = now - data.sent_at
    at = min(data.scanned_at + skew, now)
    checkpoint = await _checkpoint(Checkpoint.code == data.code)
    round_: RoundRow | None = None
    if checkpoint is None:
        reason = "unknown_code"
    elif not scope.staff_in(checkpoint.community):
        reason, checkpoint = "other_community", None  # nothing of theirs goes on our record
    else:
        round_ = await _round_for(checkpoint, at, guard=caller.account_id, round_id=data.round_id)
        reason = "" if round_ else "outside_round"
        if round_ is not None and round_.ended_at is not None:
            reason, round_ = "round_ended", None
    community = checkpoint.community if checkpoint else _home(caller, scope)
    flags: list[str] = []
    if round_ is not None and checkpoint is not None:
        flags = await _flags(
            round_,
            checkpoint,
            at,
            phone=data.phone,
            guard=caller.account_id,
            skew=skew,
            note=data.note,
            photo=data.photo is not None,
        )
    photo_key = ""
    if data.photo is not None and not reason:
        ext = _EXTENSIONS[data.photo.content_type]
        photo_key = f"patrol/{community}/{data.id}.{ext}"
        await store.put(
            photo_key,
            data.photo.data,
            content_type=data.photo.content_type,
            retention=RetentionClass.RECORD_6M,
        )
    async with DB.transaction():
        if round_ is not None and not await _still_open(round_.id):
            # the sweep ended the round meanwhile (it holds the row until its summary is written)
            reason, round_, flags = "round_ended", None, []
        row = PatrolScan(
            id=data.id,
            community=community,
            round=round_.id if round_ else None,
            checkpoint=checkpoint.id if checkpoint else None,
            guard=caller.account_id,
            phone=data.phone,
            phone_at=data.scanned_at,
            server_at=now,
            at=at,
            accepted=not reason,
            reason=reason,
            late=bool(round_ and at > round_.due_at),
            flags=flags,
            note=data.note,
            photo="" if reason else photo_key,
        )
        new = await _store(row)
        if new:
            await record(
                "patrol.scan" if not reason else "patrol.scan_refused",
                actor=caller,
                outcome="ok" if not reason else "refused",
                target_type="patrol_scan",
                target_id=data.id,
                community_id=community,
                details={"reason": reason or None, "flags": flags or None},
            )
    if photo_key and reason:
        await store.delete(photo_key)  # refused after all: no photo without its scan
    stored = await scan_row(data.id)
    assert stored is not None
    if not new:  # the same scan, sent twice at once: the other request stored it
        return _again(caller, stored)
    log.info("patrol.scan", scan_id=str(data.id), accepted=not reason, reason=reason, flags=flags)
    if reason:
        raise _refusal(stored)
    assert round_ is not None
    announce(round_, effects)
    return read_scan(stored)


def _again(caller: Caller, known: ScanRow) -> ScanRead:
    """A scan sent again: the first answer, never someone else's scan."""
    if known.guard != caller.account_id:
        raise NotFound()
    if not known.accepted:
        raise _refusal(known)
    return read_scan(known)


async def list_scans(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    round_id: UUID | None = None,
    accepted: bool | None = None,
) -> ScanPage:
    """Scans of the communities where the caller is staff, newest first."""
    return await paged_page(
        ScanPage,
        lambda row: read_scan(msgspec.convert(row, ScanRow)),
        PatrolScan.select().order_by(PatrolScan.server_at, ascending=False).output(load_json=True),
        Scope.of(caller, "patrol.read").where(PatrolScan.community),
        equals(PatrolScan.community, community_id),
        equals(PatrolScan.round, round_id),
        equals(PatrolScan.accepted, accepted),
        page=page,
        page_size=page_size,
    )


async def get_scan(caller: Caller, scan_id: UUID) -> ScanRead:
    """One scan."""
    scope = Scope.of(caller, "patrol.read")
    row = await scan_row(scan_id)
    if row is None or not scope.staff_in(row.community):
        raise NotFound()
    return read_scan(row)


# -- fixed readers ---------------------------------------------------------------------------------


def reader_scan_id(event_id: int) -> UUID:
    """A reader's scan id, from its event: a replayed event makes no second scan."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"anju:patrol-event:{event_id}")


async def on_events(community_id: UUID, stored: list[DeviceEventRow]) -> Effects:
    """The ingest hook: `patrol.checkpoint` events of fixed readers become scans of the reader's
    checkpoint, inside the ingest's transaction. A batch without one costs nothing."""
    effects = Effects()
    for event in stored:
        if event.kind != READER_EVENT or event.device is None:
            continue
        checkpoint = await _checkpoint(
            (Checkpoint.device == event.device) & (Checkpoint.community == community_id)
        )
        if checkpoint is None:
            log.info("patrol.reader.unassigned", device_id=str(event.device), event_id=event.id)
            continue
        round_ = await _round_for(checkpoint, event.at, guard=None, round_id=None)
        reason = "" if round_ else "outside_round"
        if round_ is not None and round_.ended_at is not None:
            reason, round_ = "round_ended", None
        phone = f"reader:{event.device}"
        flags = []
        if round_ is not None:
            flags = await _flags(
                round_,
                checkpoint,
                event.at,
                phone=phone,
                guard=None,
                skew=timedelta(0),
                note="",
                photo=False,
            )
        scan_id = reader_scan_id(event.id)
        new = await _store(
            PatrolScan(
                id=scan_id,
                community=community_id,
                round=round_.id if round_ else None,
                checkpoint=checkpoint.id,
                device=event.device,
                phone=phone,
                phone_at=event.at,
                server_at=_now(),
                at=event.at,
                accepted=not reason,
                reason=reason,
                late=bool(round_ and event.at > round_.due_at),
                flags=flags,
            )
        )
        if new:
            await record(
                "patrol.scan" if not reason else "patrol.scan_refused",
                actor_name="device",
                outcome="ok" if not reason else "refused",
                target_type="patrol_scan",
                target_id=scan_id,
                community_id=community_id,
                details={"reason": reason or None, "device": str(event.device)},
            )
        if new and round_ is not None:
            announce(round_, effects)
    return effects
