"""Rounds: made from plans a day ahead, read by guards and managers, ended with a summary.

A round's id is derived from its plan and start (timing.round_id), so making rounds is an
INSERT … ON CONFLICT DO NOTHING that any number of jobs may repeat. A round ends once its grace is
over (`closes_at`): the sweep claims it with a conditional UPDATE (so of two sweeps one ends it),
writes the summary — points scanned, missed and late, and the scans' anomaly flags — and raises one
alarm on the board through the alarm pipeline when a point was missed (`patrol_missed`) or only
late (`patrol_late`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import structlog
from piccolo.columns.combination import WhereRaw

from api.alarms.raising import open_alarm
from api.audit.service import record
from api.core.auth import Caller, Scope
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.core.realtime import community_channel
from api.patrol import timing
from api.patrol.points import photo_url
from api.patrol.rows import PlanRow, RoundRow, ScanRow
from api.patrol.schemas import RoundPage, RoundRead, RoundStop, RoundSummary
from api.patrol.tables import Checkpoint, PatrolPlan, PatrolRound, PatrolRoute, PatrolScan
from api.piccolo_conf import DB

log = structlog.get_logger()

HORIZON = timedelta(hours=24)  # rounds are made this far ahead
END_BATCH = 200  # rounds one sweep ends at most


def _now() -> datetime:
    return datetime.now(UTC)


async def plan_row(plan_id: UUID) -> PlanRow | None:
    """One plan's row, JSON decoded."""
    row = await PatrolPlan.select().where(PatrolPlan.id == plan_id).output(load_json=True).first()
    return None if row is None else msgspec.convert(row, PlanRow)


async def make_rounds(plan_id: UUID, *, now: datetime | None = None) -> int:
    """Make the plan's rounds from the one under way now to a day ahead; how many are new."""
    now = now or _now()
    plan = await plan_row(plan_id)
    if plan is None or not plan.active:
        return 0
    route = (
        await PatrolRoute.select(PatrolRoute.checkpoints)
        .where(PatrolRoute.id == plan.route)
        .output(load_json=True)
        .first()
    )
    ids = [UUID(str(c)) for c in route["checkpoints"]] if route else []
    if not ids:
        return 0
    route_name = await PatrolRoute.select(PatrolRoute.name).where(PatrolRoute.id == plan.route)
    names = {
        r["id"]: r["name"]
        for r in await Checkpoint.select(Checkpoint.id, Checkpoint.name).where(
            Checkpoint.id.is_in(ids)
        )
    }
    stops = [{"id": str(i), "name": names[i]} for i in ids if i in names]
    length = timedelta(minutes=plan.round_minutes)
    grace = timedelta(minutes=plan.grace_minutes)
    starts = timing.round_starts(
        day_starts=plan.day_starts,
        night_starts=plan.night_starts,
        day_every=plan.day_every,
        night_every=plan.night_every,
        since=now - length - grace,
        until=now + HORIZON,
    )
    if not starts:
        return 0
    rows = [
        PatrolRound(
            id=timing.round_id(plan.id, s),
            community=plan.community,
            plan=plan.id,
            route_name=route_name[0]["name"],
            checkpoints=stops,
            guards=[str(g) for g in plan.guards],
            starts_at=s,
            due_at=s + length,
            closes_at=s + length + grace,
        )
        for s in starts
    ]
    made = (
        await PatrolRound.insert(*rows).on_conflict(action="DO NOTHING").returning(PatrolRound.id)
    )
    log.info("patrol.rounds_made", plan_id=str(plan_id), made=len(made))
    return len(made)


async def active_plans() -> list[UUID]:
    """The ids of every active plan (the cron job makes each one's rounds)."""
    return [
        r["id"] for r in await PatrolPlan.select(PatrolPlan.id).where(PatrolPlan.active.eq(True))
    ]


async def drop_unbegun(plan_id: UUID, now: datetime) -> None:
    """Delete the plan's rounds that have not begun and have no scan (its plan changed)."""
    await PatrolRound.delete().where(
        (PatrolRound.plan == plan_id)
        & (PatrolRound.starts_at > now)
        & PatrolRound.ended_at.is_null()
        & WhereRaw("NOT EXISTS (SELECT 1 FROM patrol_scans s WHERE s.round = patrol_rounds.id)")
    )


async def round_row(round_id: UUID) -> RoundRow | None:
    """One round's row, JSON decoded."""
    row = (
        await PatrolRound.select().where(PatrolRound.id == round_id).output(load_json=True).first()
    )
    return None if row is None else msgspec.convert(row, RoundRow)


async def accepted_scans(round_ids: list[UUID]) -> dict[UUID, list[ScanRow]]:
    """The accepted scans of these rounds, in time order, by round."""
    if not round_ids:
        return {}
    rows = (
        await PatrolScan.select()
        .where(PatrolScan.round.is_in(round_ids) & PatrolScan.accepted.eq(True))
        .order_by(PatrolScan.at)
        .output(load_json=True)
    )
    out: dict[UUID, list[ScanRow]] = {}
    for scan in msgspec.convert(rows, list[ScanRow]):
        assert scan.round is not None
        out.setdefault(scan.round, []).append(scan)
    return out


def first_scans(scans: list[ScanRow]) -> dict[UUID, ScanRow]:
    """Each checkpoint's first accepted scan in the round."""
    first: dict[UUID, ScanRow] = {}
    for scan in scans:
        if scan.checkpoint is not None:
            first.setdefault(scan.checkpoint, scan)
    return first


def summarise(row: RoundRow, scans: list[ScanRow]) -> RoundSummary:
    """How the round went: points scanned, missed and late (names), every flag raised."""
    first = first_scans(scans)
    missed = [str(c["name"]) for c in row.checkpoints if UUID(str(c["id"])) not in first]
    late = [
        str(c["name"])
        for c in row.checkpoints
        if UUID(str(c["id"])) in first and first[UUID(str(c["id"]))].late
    ]
    flags = sorted({f for s in scans for f in s.flags})
    return RoundSummary(
        total=len(row.checkpoints),
        scanned=len(row.checkpoints) - len(missed),
        missed=missed,
        late=late,
        flags=flags,
    )


Needs = dict[UUID, tuple[bool, bool, str | None]]


async def needs_of(rounds: list[RoundRow]) -> Needs:
    """Whether each checkpoint of these rounds asks for a photo and a note, and its reference
    photo (as set now)."""
    ids = list({i for r in rounds for i in r.stop_ids()})
    if not ids:
        return {}
    rows = await Checkpoint.select(
        Checkpoint.id, Checkpoint.needs_photo, Checkpoint.needs_note, Checkpoint.photo
    ).where(Checkpoint.id.is_in(ids))
    return {
        r["id"]: (r["needs_photo"], r["needs_note"], photo_url(r["id"], r["photo"])) for r in rows
    }


NOTHING: tuple[bool, bool, str | None] = (False, False, None)  # a point deleted since


def read_round(
    row: RoundRow, scans: list[ScanRow], now: datetime, needs: Needs | None = None
) -> RoundRead:
    """A round as the API shows it, with each checkpoint's state and the next one to scan."""
    first = first_scans(scans)
    flags: dict[UUID, set[str]] = {}
    for scan in scans:
        if scan.checkpoint is not None:
            flags.setdefault(scan.checkpoint, set()).update(scan.flags)
    stops = []
    for c in row.checkpoints:
        cid = UUID(str(c["id"]))
        done = first.get(cid)
        stops.append(
            RoundStop(
                id=cid,
                name=str(c["name"]),
                scanned_at=done.at if done else None,
                late=done.late if done else False,
                flags=sorted(flags.get(cid, ())),
                needs_photo=(needs or {}).get(cid, NOTHING)[0],
                needs_note=(needs or {}).get(cid, NOTHING)[1],
                photo_url=(needs or {}).get(cid, NOTHING)[2],
            )
        )
    status = timing.status(now, row.starts_at, row.due_at, row.closes_at, row.ended_at is not None)
    pending = [s.id for s in stops if s.scanned_at is None]
    return RoundRead(
        id=row.id,
        community_id=row.community,
        plan_id=row.plan,
        route_name=row.route_name,
        guards=row.guards,
        starts_at=row.starts_at,
        due_at=row.due_at,
        closes_at=row.closes_at,
        ended_at=row.ended_at,
        status=status,  # type: ignore[arg-type]
        checkpoints=stops,
        next_checkpoint_id=pending[0] if pending and status != "ended" else None,
        summary=msgspec.convert(row.summary, RoundSummary) if row.summary else None,
        alarm_id=row.alarm,
    )


def _mine(account_id: UUID) -> Any:
    return WhereRaw("patrol_rounds.guards ? {}", str(account_id))


async def list_rounds(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    mine: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> RoundPage:
    """Rounds of the communities where the caller is staff, by start; `mine`: the caller's."""
    rows, total = await paged(
        PatrolRound.select().order_by(PatrolRound.starts_at).output(load_json=True),
        Scope.of(caller, "patrol.read").where(PatrolRound.community),
        equals(PatrolRound.community, community_id),
        _mine(caller.account_id) if mine else None,
        PatrolRound.closes_at > since if since else None,
        PatrolRound.starts_at < until if until else None,
        page=page,
        page_size=page_size,
    )
    rounds = msgspec.convert(rows, list[RoundRow])
    scans = await accepted_scans([r.id for r in rounds])
    needs = await needs_of(rounds)
    now = _now()
    return RoundPage(
        items=[read_round(r, scans.get(r.id, []), now, needs) for r in rounds],
        total=total,
        page=page,
        page_size=page_size,
    )


async def get_round(caller: Caller, round_id: UUID) -> RoundRead:
    """One round with its checkpoints' state."""
    scope = Scope.of(caller, "patrol.read")
    row = await round_row(round_id)
    if row is None or not scope.staff_in(row.community):
        raise NotFound()
    scans = await accepted_scans([row.id])
    return read_round(row, scans.get(row.id, []), _now(), await needs_of([row]))


def announce(row: RoundRow, effects: Effects) -> None:
    """Tell the community's boards a round changed (a scan, its end)."""
    effects.send(
        {"type": "patrol_round", "round_id": str(row.id)}, community_channel(row.community)
    )


async def end_round(round_id: UUID, now: datetime, effects: Effects) -> bool:
    """End a round past its grace: summary, and an alarm for missed or late points. Once."""
    async with DB.transaction():
        claimed = (
            await PatrolRound.update({PatrolRound.ended_at: now})
            .where(
                (PatrolRound.id == round_id)
                & PatrolRound.ended_at.is_null()
                & (PatrolRound.closes_at <= now)
            )
            .returning(PatrolRound.id)
        )
        if not claimed:
            return False
        found = await round_row(round_id)
        assert found is not None
        row = found
        summary = summarise(row, (await accepted_scans([round_id])).get(round_id, []))
        alarm_id = None
        if summary.missed or summary.late:
            alarm_id = await open_alarm(
                row.community,
                "patrol_missed" if summary.missed else "patrol_late",
                effects=effects,
                place=f"{row.route_name} 巡更路线",
                location={"patrol_round": str(row.id), "route": row.route_name},
                note=_note(row, summary),
            )
        await PatrolRound.update(
            {PatrolRound.summary: msgspec.to_builtins(summary), PatrolRound.alarm: alarm_id}
        ).where(PatrolRound.id == round_id)
        await record(
            "patrol.round_ended",
            actor_name="platform",
            target_type="patrol_round",
            target_id=round_id,
            community_id=row.community,
            details={"missed": len(summary.missed), "late": len(summary.late)},
        )
    announce(row, effects)
    log.info("patrol.round_ended", round_id=str(round_id), missed=len(summary.missed))
    return True


def _note(row: RoundRow, summary: RoundSummary) -> str:
    start = row.starts_at.astimezone(timing.SITE_TIMEZONE).strftime("%H:%M")
    parts = [f"{start} 一轮巡更：{summary.scanned}/{summary.total} 个巡更点已签到"]
    if summary.missed:
        parts.append("漏检：" + "、".join(summary.missed))
    if summary.late:
        parts.append("迟到：" + "、".join(summary.late))
    return "；".join(parts) + "。"


async def end_due(*, now: datetime | None = None) -> Effects:
    """End every round whose grace is over (the sweep, every half minute)."""
    now = now or _now()
    effects = Effects()
    due = (
        await PatrolRound.select(PatrolRound.id)
        .where(PatrolRound.ended_at.is_null() & (PatrolRound.closes_at <= now))
        .order_by(PatrolRound.closes_at)
        .limit(END_BATCH)
    )
    for r in due:
        await end_round(r["id"], now, effects)
    return effects
