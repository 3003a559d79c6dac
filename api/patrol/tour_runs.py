"""Tour runs (PAT-05, PAT-07): a guard in the control room runs a due camera tour — the live view
shows each camera in turn — and confirms each one normal or reports a problem.

A report raises an alarm through the alarm pipeline in the same transaction: `video_loss` on the
camera when there is no image (a camera fault: it joins the bridge's own open `video_loss` alarm of
that camera rather than making a second), else `video_patrol_issue` (image unclear, something wrong
in the picture). A check's id is `uuid5(run, camera)`: a camera is checked once per run, and the
run's row is held (`FOR UPDATE`) while a check is stored, the row the sweep claims to mark a run
missed — so a check is either in a done run or refused `tour_closed`, never lost between the two.

A check's snapshot is measured (quality.py: dark, bright, covered, blurred, and frozen against the
camera's previous snapshot at least five minutes older). A flagged picture is a camera fault even
when the guard saw nothing wrong: it raises `video_patrol_issue` the way a guard's report does, and
a camera fault (a flagged picture, `unclear`, `no_image`) opens the camera's fault work order
through the `CameraFault` hook wired in api/app.py — once per fault (the order's upsert).

The sweep (the patrol cron job, every half minute) reminds: once a run has begun, a
`video_tour_due` board event and a push to the guards on duty, once (`reminded_at`); and ends: a run
past `due_at` with cameras unchecked is missed, and raises one `patrol_missed` alarm — the alarm a
patrol round raises when points are missed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import structlog

from api.alarms.raising import open_alarm
from api.alarms.reads import alarm_row
from api.alarms.roster import on_duty
from api.alarms.service import attach_media
from api.audit.service import record
from api.core.auth import Caller, Scope
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.core.realtime import community_channel
from api.core.storage import ObjectStore, is_image
from api.patrol import quality, timing
from api.patrol.errors import CameraChecked, InvalidPhoto, TourClosed, UnknownCamera
from api.patrol.points import audited
from api.patrol.rows import CheckRow, RunRow
from api.patrol.schemas import (
    PictureQuality,
    TourCheckCreate,
    TourRunPage,
    TourRunRead,
    TourStop,
)
from api.patrol.tables import TourCheck, TourRun
from api.piccolo_conf import DB
from api.push.schemas import PushMessage
from api.push.service import DISPATCH, notify

log = structlog.get_logger()

SWEEP_BATCH = 200  # runs one sweep reminds or ends at most
PROBLEM_LABELS = {"unclear": "画面不清晰", "no_image": "无图像", "other": "画面异常"}
# (community, camera, fault, note, effects): the camera's fault work order, once per fault
# (api.workorders.faults.open_fault, wired in api/app.py: patrol does not import workorders).
CameraFault = Callable[[UUID, UUID, str, str, Effects], Awaitable[object]]


def _now() -> datetime:
    return datetime.now(UTC)


def status(row: RunRow, now: datetime) -> str:
    """upcoming, due (may be run), done, missed (its time is over with cameras unchecked)."""
    if row.outcome in ("done", "missed"):
        return row.outcome
    if now >= row.due_at:
        return "missed"
    return "upcoming" if now < row.starts_at - timing.EARLY else "due"


async def run_row(run_id: UUID, *, lock: bool = False) -> RunRow | None:
    """One run's row, JSON decoded; `lock` holds it until the transaction ends."""
    if lock:
        found = await TourRun.raw(
            "SELECT id FROM patrol_tour_runs WHERE id = {} FOR UPDATE", run_id
        )
        if not found:
            return None
    row = await TourRun.select().where(TourRun.id == run_id).output(load_json=True).first()
    return None if row is None else msgspec.convert(row, RunRow)


async def checks_of(run_ids: list[UUID]) -> dict[UUID, dict[UUID, CheckRow]]:
    """The checks of these runs, by run and camera."""
    if not run_ids:
        return {}
    rows = (
        await TourCheck.select(*TourCheck.all_columns(exclude=[TourCheck.fingerprint]))
        .where(TourCheck.run.is_in(run_ids))
        .order_by(TourCheck.at)
        .output(load_json=True)
    )
    out: dict[UUID, dict[UUID, CheckRow]] = {}
    for check in msgspec.convert(rows, list[CheckRow]):
        if check.camera is not None:
            out.setdefault(check.run, {})[check.camera] = check
    return out


def read_run(row: RunRow, checks: dict[UUID, CheckRow], now: datetime) -> TourRunRead:
    """A run as the API shows it: each camera's verdict and the next camera to check."""
    stops = []
    for c in row.cameras:
        cid = UUID(str(c["id"]))
        done = checks.get(cid)
        stops.append(
            TourStop(
                id=cid,
                name=str(c["name"]),
                result=done.result if done else None,  # type: ignore[arg-type]
                problem=(done.problem or None) if done else None,  # type: ignore[arg-type]
                note=done.note if done else "",
                checked_at=done.at if done else None,
                alarm_id=done.alarm if done else None,
                quality=msgspec.convert(done.quality, PictureQuality)
                if done and done.quality
                else None,
            )
        )
    state = status(row, now)
    pending = [s.id for s in stops if s.result is None]
    return TourRunRead(
        id=row.id,
        community_id=row.community,
        tour_id=row.tour,
        tour_name=row.tour_name,
        dwell_seconds=row.dwell_seconds,
        starts_at=row.starts_at,
        due_at=row.due_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        status=state,  # type: ignore[arg-type]
        guard_id=row.guard,
        cameras=stops,
        next_camera_id=pending[0] if pending and state in ("upcoming", "due") else None,
        alarm_id=row.alarm,
    )


async def list_runs(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    tour_id: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> TourRunPage:
    """Runs of the communities where the caller is staff, by start (`since`: not due before it,
    `until`: begun before it)."""
    rows, total = await paged(
        TourRun.select().order_by(TourRun.starts_at).output(load_json=True),
        Scope.of(caller, "patrol.read").where(TourRun.community),
        equals(TourRun.community, community_id),
        equals(TourRun.tour, tour_id),
        TourRun.due_at > since if since else None,
        TourRun.starts_at < until if until else None,
        page=page,
        page_size=page_size,
    )
    runs = msgspec.convert(rows, list[RunRow])
    checks = await checks_of([r.id for r in runs])
    now = _now()
    return TourRunPage(
        items=[read_run(r, checks.get(r.id, {}), now) for r in runs],
        total=total,
        page=page,
        page_size=page_size,
    )


async def get_run(caller: Caller, run_id: UUID) -> TourRunRead:
    """One run with each camera's verdict."""
    scope = Scope.of(caller, "patrol.read")
    row = await run_row(run_id)
    if row is None or not scope.staff_in(row.community):
        raise NotFound()
    return read_run(row, (await checks_of([run_id])).get(run_id, {}), _now())


def _announce(row: RunRow, kind: str, effects: Effects) -> None:
    effects.send(
        {"type": kind, "run_id": str(row.id), "tour_name": row.tour_name},
        community_channel(row.community),
    )


async def _measured(data: TourCheckCreate) -> tuple[quality.Measures, quality.Fingerprint] | None:
    """The snapshot's picture quality (off the event loop: a 1280 px frame takes ~20 ms)."""
    snapshot = data.snapshot
    if snapshot is None:
        return None
    if not is_image(snapshot.content_type, snapshot.data):
        raise InvalidPhoto(field="snapshot")
    try:
        return await asyncio.to_thread(quality.measure, snapshot.data)
    except quality.NotAPicture:
        raise InvalidPhoto(field="snapshot") from None


async def _previous_print(camera_id: UUID, now: datetime) -> quality.Fingerprint | None:
    """The camera's latest snapshot fingerprint at least FROZEN_MIN_GAP old (any run)."""
    row = (
        await TourCheck.select(TourCheck.fingerprint, TourCheck.fingerprint_size)
        .where(
            (TourCheck.camera == camera_id)
            & TourCheck.fingerprint.is_not_null()
            & (TourCheck.at <= now - quality.FROZEN_MIN_GAP)
        )
        .order_by(TourCheck.at, ascending=False)
        .first()
    )
    if row is None or "x" not in row["fingerprint_size"]:
        return None
    width, height = (int(n) for n in row["fingerprint_size"].split("x"))
    return quality.Fingerprint(width=width, height=height, data=bytes(row["fingerprint"]))


def _fault_of(data: TourCheckCreate, flags: list[str]) -> str | None:
    """The work-order fault of a check: no image is video loss (as the bridge's `video.loss`); a
    bad picture, measured or seen, is `video_quality`; `other` (something wrong in the scene) and
    a normal picture are no camera fault."""
    if data.problem == "no_image":
        return "video_loss"
    if flags or data.problem == "unclear":
        return "video_quality"
    return None


async def check_camera(
    caller: Caller,
    run_id: UUID,
    data: TourCheckCreate,
    store: ObjectStore,
    effects: Effects,
    *,
    camera_fault: CameraFault | None = None,
) -> TourRunRead:
    """A guard's verdict on one camera of a run, its snapshot measured; a problem — reported or
    measured — raises an alarm, with the snapshot on its timeline, and a camera fault opens its
    work order. The last camera checked makes the run done."""
    scope = Scope.of(caller, "patrol.tour_run")
    snapshot = data.snapshot
    measured = await _measured(data)
    now = _now()
    async with DB.transaction():
        found = await run_row(run_id, lock=True)
        if found is None or not scope.staff_in(found.community):
            raise NotFound()
        row = found
        camera = next((c for c in row.cameras if str(c["id"]) == str(data.camera_id)), None)
        if camera is None:
            raise UnknownCamera(field="camera_id")
        state = status(row, now)
        if state != "due":
            raise TourClosed(status=state)
        check_id = uuid.uuid5(run_id, str(data.camera_id))
        if await TourCheck.exists().where(TourCheck.id == check_id):
            raise CameraChecked()
        measures = fingerprint = None
        if measured is not None:
            measures, fingerprint = measured
            previous = await _previous_print(data.camera_id, now)
            measures = quality.against(measures, fingerprint, previous)
        flags: list[str] = list(measures.flags) if measures else []
        alarm_id = None
        if data.result == "problem" or flags:
            alarm_id = await _report(row, str(camera["name"]), data, flags, caller, effects)
            if snapshot is not None:
                await _attach_snapshot(store, alarm_id, str(camera["name"]), data, caller)
            fault = _fault_of(data, flags)
            if fault is not None and camera_fault is not None:
                note = _report_note(row, str(camera["name"]), data, flags)
                await camera_fault(row.community, data.camera_id, fault, note, effects)
        await TourCheck(
            id=check_id,
            community=row.community,
            run=run_id,
            camera=data.camera_id,
            camera_name=str(camera["name"]),
            guard=caller.account_id,
            at=now,
            result=data.result,
            problem=data.problem or "",
            note=data.note,
            alarm=alarm_id,
            quality=msgspec.to_builtins(measures) if measures else None,
            fingerprint=fingerprint.data if fingerprint else None,
            fingerprint_size=f"{fingerprint.width}x{fingerprint.height}" if fingerprint else "",
        ).save()
        checked = await TourCheck.count().where(TourCheck.run == run_id)
        changes: dict[Any, Any] = {}
        if row.started_at is None:
            changes.update({TourRun.started_at: now, TourRun.guard: caller.account_id})
        if checked == len(row.cameras):
            changes.update({TourRun.ended_at: now, TourRun.outcome: "done"})
        if changes:
            await TourRun.update(changes).where(TourRun.id == run_id)
        await audited(
            caller,
            "patrol.tour_check",
            "patrol_tour_run",
            run_id,
            row.community,
            camera=str(data.camera_id),
            result=data.result,
            problem=data.problem,
            snapshot=snapshot is not None,
            quality=flags,
        )
    _announce(row, "video_tour", effects)
    log.info("patrol.tour_check", run_id=str(run_id), result=data.result, quality=flags)
    return await get_run(caller, run_id)


def _report_note(row: RunRow, camera_name: str, data: TourCheckCreate, flags: list[str]) -> str:
    """视频巡查「监控室巡查」：北门 摄像机 画面不清晰；自动检测：模糊。镜头起雾"""
    found = [PROBLEM_LABELS[data.problem]] if data.problem else []
    if flags:
        found.append(f"自动检测：{quality.label(flags)}")
    note = f"视频巡查「{row.tour_name}」：{camera_name} {'；'.join(found)}。"
    return f"{note}{data.note}" if data.note else note


async def _report(
    row: RunRow,
    camera_name: str,
    data: TourCheckCreate,
    flags: list[str],
    caller: Caller,
    effects: Effects,
) -> UUID:
    """The alarm a reported or badly measured camera raises (inside the check's transaction)."""
    return await open_alarm(
        row.community,
        "video_loss" if data.problem == "no_image" else "video_patrol_issue",
        effects=effects,
        place=camera_name,
        location={
            "tour_run": str(row.id),
            "camera": str(data.camera_id),
            "problem": data.problem or "",
            "quality": flags,
        },
        device_id=data.camera_id,
        raised_by=caller,
        note=_report_note(row, camera_name, data, flags),
    )


async def _attach_snapshot(
    store: ObjectStore, alarm_id: UUID, camera_name: str, data: TourCheckCreate, caller: Caller
) -> None:
    """The frame the guard saw, on the alarm's timeline: kept under the alarm's retention class
    and shown with it (presigned, as every alarm photo)."""
    assert data.snapshot is not None
    alarm = await alarm_row(alarm_id)
    assert alarm is not None
    await attach_media(
        store,
        alarm,
        data.snapshot.data,
        content_type=data.snapshot.content_type,
        source="upload",  # a guard's picture, as an upload from the scene
        actor=caller.account_id,
        device_id=data.camera_id,
        caption=f"视频巡查截图：{camera_name}",
    )


# -- the sweep -------------------------------------------------------------------------------------


def _reminder(row: RunRow) -> PushMessage:
    due = row.due_at.astimezone(timing.SITE_TIMEZONE).strftime("%H:%M")
    return PushMessage(
        title="视频巡查到时",
        body=f"{row.tour_name}：{len(row.cameras)} 路摄像机，请在 {due} 前完成。",
        url=f"/video-patrol?run={row.id}",
        tag=f"tour:{row.id}",
        ttl=max(60, int((row.due_at - _now()).total_seconds())),
        data={"tour_run_id": str(row.id)},
    )


async def remind(run_id: UUID, now: datetime, effects: Effects) -> bool:
    """Tell the board and the guards on duty that a run is due. Once."""
    async with DB.transaction():
        claimed = (
            await TourRun.update({TourRun.reminded_at: now})
            .where(
                (TourRun.id == run_id)
                & TourRun.reminded_at.is_null()
                & TourRun.ended_at.is_null()
                & (TourRun.starts_at <= now)
                & (TourRun.due_at > now)
            )
            .returning(TourRun.id)
        )
        if not claimed:
            return False
        found = await run_row(run_id)
        assert found is not None
        row = found
        guards = [g.account_id for g in await on_duty(row.community, now)]
        effects.after(DISPATCH, *await notify(guards, _reminder(row)))
    _announce(row, "video_tour_due", effects)
    return True


async def end_missed(run_id: UUID, now: datetime, effects: Effects) -> bool:
    """Mark a run past `due_at` with cameras unchecked missed, with one `patrol_missed` alarm."""
    async with DB.transaction():
        claimed = (
            await TourRun.update({TourRun.ended_at: now, TourRun.outcome: "missed"})
            .where((TourRun.id == run_id) & TourRun.ended_at.is_null() & (TourRun.due_at <= now))
            .returning(TourRun.id)
        )
        if not claimed:
            return False
        found = await run_row(run_id)
        assert found is not None
        row = found
        checked = (await checks_of([run_id])).get(run_id, {})
        missed = [str(c["name"]) for c in row.cameras if UUID(str(c["id"])) not in checked]
        start = row.starts_at.astimezone(timing.SITE_TIMEZONE).strftime("%H:%M")
        alarm_id = await open_alarm(
            row.community,
            "patrol_missed",
            effects=effects,
            place=f"{row.tour_name} 视频巡查",
            location={"tour_run": str(row.id), "tour": row.tour_name},
            note=(
                f"{start} 视频巡查未完成：{len(row.cameras) - len(missed)}/{len(row.cameras)}"
                f" 路已查看；未查看：{'、'.join(missed)}。"
            ),
        )
        await TourRun.update({TourRun.alarm: alarm_id}).where(TourRun.id == run_id)
        await record(
            "patrol.tour_missed",
            actor_name="platform",
            target_type="patrol_tour_run",
            target_id=run_id,
            community_id=row.community,
            details={"unchecked": len(missed)},
        )
    _announce(row, "video_tour", effects)
    log.info("patrol.tour_missed", run_id=str(run_id), unchecked=len(missed))
    return True


async def sweep(*, now: datetime | None = None) -> Effects:
    """Remind of runs that have begun, and mark runs past their time missed (every half minute)."""
    now = now or _now()
    effects = Effects()
    begun = (
        await TourRun.select(TourRun.id)
        .where(
            TourRun.reminded_at.is_null()
            & TourRun.ended_at.is_null()
            & (TourRun.starts_at <= now)
            & (TourRun.due_at > now)
        )
        .order_by(TourRun.starts_at)
        .limit(SWEEP_BATCH)
    )
    for r in begun:
        await remind(r["id"], now, effects)
    over = (
        await TourRun.select(TourRun.id)
        .where(TourRun.ended_at.is_null() & (TourRun.due_at <= now))
        .order_by(TourRun.due_at)
        .limit(SWEEP_BATCH)
    )
    for r in over:
        await end_missed(r["id"], now, effects)
    return effects
