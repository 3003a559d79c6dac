"""Camera tours (视频巡查, PAT-05): a manager's group of cameras in order, each shown for a dwell
time, due every so many minutes by day and by night like a patrol plan (timing.py).

A tour's runs are made a day ahead, in the same transaction as the tour is saved (a tour makes
at most a day's worth of small rows) and by the patrol cron job for every active tour. A run's id is
`uuid5(tour, start)`, so making them is an INSERT … ON CONFLICT DO NOTHING any job may repeat. A
run keeps the tour's cameras (ids and names) as they were when made; changing or pausing a tour
deletes its runs not over and not started by a guard, and makes them again (none when paused).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import structlog
from piccolo.columns.combination import WhereRaw

from api.core.auth import Caller, Scope, require_staff
from api.core.paging import equals, paged
from api.devices.tables import Device
from api.patrol import timing
from api.patrol.errors import InvalidPlan, UnknownCamera
from api.patrol.points import audited, changes_of, row_in_scope
from api.patrol.rows import TourRow
from api.patrol.schemas import (
    CameraTourCreate,
    CameraTourPage,
    CameraTourRead,
    CameraTourUpdate,
    TourCamera,
    check_fits,
    check_windows,
)
from api.patrol.tables import CameraTour, TourRun
from api.piccolo_conf import DB
from api.video.service import CAMERA_KINDS

log = structlog.get_logger()

HORIZON = timedelta(hours=24)  # runs are made this far ahead


def _now() -> datetime:
    return datetime.now(UTC)


async def _camera_names(ids: list[Any]) -> dict[UUID, str]:
    if not ids:
        return {}
    rows = await Device.select(Device.id, Device.name).where(
        Device.id.is_in([UUID(str(i)) for i in ids])
    )
    return {r["id"]: r["name"] for r in rows}


def _tour(row: dict[str, Any], names: dict[UUID, str]) -> CameraTourRead:
    tour = msgspec.convert(row, TourRow)
    return CameraTourRead(
        id=tour.id,
        community_id=tour.community,
        name=tour.name,
        cameras=[TourCamera(id=c, name=names[c]) for c in tour.cameras if c in names],
        dwell_seconds=tour.dwell_seconds,
        day_starts=tour.day_starts,
        night_starts=tour.night_starts,
        day_every=tour.day_every,
        night_every=tour.night_every,
        run_minutes=tour.run_minutes,
        active=tour.active,
    )


async def _check_cameras(community_id: UUID, ids: list[UUID]) -> None:
    found = await Device.count().where(
        Device.id.is_in(ids)
        & (Device.community == community_id)
        & Device.kind.is_in(list(CAMERA_KINDS))
    )
    if found != len(ids):
        raise UnknownCamera(field="cameras")


async def make_runs(tour_id: UUID, *, now: datetime | None = None) -> int:
    """Make the tour's runs from the one under way now to a day ahead; how many are new.
    Joins the caller's transaction when there is one."""
    now = now or _now()
    row = await CameraTour.select().where(CameraTour.id == tour_id).output(load_json=True).first()
    if row is None:
        return 0
    tour = msgspec.convert(row, TourRow)
    names = await _camera_names(tour.cameras)
    cameras = [{"id": str(c), "name": names[c]} for c in tour.cameras if c in names]
    if not tour.active or not cameras:
        return 0
    length = timedelta(minutes=tour.run_minutes)
    starts = timing.round_starts(
        day_starts=tour.day_starts,
        night_starts=tour.night_starts,
        day_every=tour.day_every,
        night_every=tour.night_every,
        since=now - length,
        until=now + HORIZON,
    )
    if not starts:
        return 0
    runs = [
        TourRun(
            id=timing.round_id(tour.id, s),
            community=tour.community,
            tour=tour.id,
            tour_name=tour.name,
            cameras=cameras,
            dwell_seconds=tour.dwell_seconds,
            starts_at=s,
            due_at=s + length,
        )
        for s in starts
    ]
    made = await TourRun.insert(*runs).on_conflict(action="DO NOTHING").returning(TourRun.id)
    log.info("patrol.tour_runs_made", tour_id=str(tour_id), made=len(made))
    return len(made)


async def active_tours() -> list[UUID]:
    """The ids of every active tour (the cron job makes each one's runs)."""
    return [
        r["id"] for r in await CameraTour.select(CameraTour.id).where(CameraTour.active.eq(True))
    ]


async def _drop_unbegun(tour_id: UUID, now: datetime) -> None:
    """Delete the tour's runs not over and not started by a guard (the tour changed)."""
    await TourRun.delete().where(
        (TourRun.tour == tour_id)
        & (TourRun.due_at > now)
        & TourRun.ended_at.is_null()
        & TourRun.started_at.is_null()
        & WhereRaw(
            "NOT EXISTS (SELECT 1 FROM patrol_tour_checks c WHERE c.run = patrol_tour_runs.id)"
        )
    )


async def create_tour(caller: Caller, data: CameraTourCreate) -> CameraTourRead:
    """A camera tour of the community; its runs for the next day are made with it."""
    require_staff(caller, "patrol.configure", data.community_id)
    await _check_cameras(data.community_id, data.cameras)
    async with DB.transaction():
        tour = CameraTour(
            community=data.community_id,
            name=data.name,
            cameras=[str(c) for c in data.cameras],
            dwell_seconds=data.dwell_seconds,
            day_starts=data.day_starts,
            night_starts=data.night_starts,
            day_every=data.day_every,
            night_every=data.night_every,
            run_minutes=data.run_minutes,
            active=data.active,
            created_at=_now(),
        )
        await tour.save()
        await audited(
            caller,
            "patrol.tour_created",
            "patrol_camera_tour",
            tour.id,
            data.community_id,
            cameras=len(data.cameras),
        )
        await make_runs(tour.id)
    return await get_tour(caller, tour.id)


async def get_tour(caller: Caller, tour_id: UUID) -> CameraTourRead:
    """One tour with its cameras."""
    row = await row_in_scope(caller, CameraTour, tour_id, "patrol.read")
    return _tour(row, await _camera_names(row["cameras"]))


async def list_tours(
    caller: Caller, *, page: int, page_size: int, community_id: UUID | None
) -> CameraTourPage:
    """Tours of the communities where the caller is staff, by name."""
    rows, total = await paged(
        CameraTour.select().order_by(CameraTour.name).output(load_json=True),
        Scope.of(caller, "patrol.read").where(CameraTour.community),
        equals(CameraTour.community, community_id),
        page=page,
        page_size=page_size,
    )
    names = await _camera_names([c for r in rows for c in r["cameras"]])
    return CameraTourPage(
        items=[_tour(r, names) for r in rows], total=total, page=page, page_size=page_size
    )


async def update_tour(caller: Caller, tour_id: UUID, data: CameraTourUpdate) -> CameraTourRead:
    """Change or pause a tour; its runs not yet begun are made again (none while paused)."""
    row = await row_in_scope(caller, CameraTour, tour_id, "patrol.configure")
    tour = msgspec.convert(row, TourRow)
    changes = changes_of(CameraTour, data, {})
    if data.cameras is not msgspec.UNSET:
        await _check_cameras(tour.community, data.cameras)
        changes[CameraTour.cameras] = [str(c) for c in data.cameras]
    merged = msgspec.structs.replace(
        tour, **{c._meta.name: v for c, v in changes.items() if c is not CameraTour.cameras}
    )
    try:
        check_windows(merged.day_starts, merged.night_starts)
        check_fits(merged.run_minutes, 0, merged.day_every, merged.night_every)
    except ValueError as e:
        raise InvalidPlan(str(e)) from None
    if changes:
        async with DB.transaction():
            await CameraTour.update(changes).where(CameraTour.id == tour_id)
            await _drop_unbegun(tour_id, _now())
            await make_runs(tour_id)
            await audited(
                caller,
                "patrol.tour_updated",
                "patrol_camera_tour",
                tour_id,
                tour.community,
                fields=sorted(c._meta.name for c in changes),
            )
    return await get_tour(caller, tour_id)


async def delete_tour(caller: Caller, tour_id: UUID) -> None:
    """Delete a tour and its runs not yet begun; runs made or missed stay on record."""
    row = await row_in_scope(caller, CameraTour, tour_id, "patrol.configure")
    async with DB.transaction():
        await _drop_unbegun(tour_id, _now())
        await CameraTour.delete().where(CameraTour.id == tour_id)
        await audited(
            caller, "patrol.tour_deleted", "patrol_camera_tour", tour_id, row["community"]
        )
