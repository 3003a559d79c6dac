"""Reading alarms: the board's list, one alarm with timeline, checklist and media, board events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args
from uuid import UUID

import msgspec
from piccolo.query.functions.aggregate import Count

from api.alarms.catalogue import State
from api.alarms.rows import AlarmRow, EntryRow
from api.alarms.schemas import (
    AlarmCounts,
    AlarmDetail,
    AlarmPage,
    AlarmRead,
    ChecklistStep,
    MediaRead,
    TimelineEntry,
)
from api.alarms.tables import Alarm, AlarmEntry, EmergencyPlan
from api.core.auth import Caller, Scope
from api.core.effects import Outlet
from api.core.errors import NotFound
from api.core.paging import equals, paged_page
from api.core.realtime import alarm_channel
from api.core.storage import ObjectStore

# What a resident sees of an alarm of their household: its progress, not the staff's work notes.
PUBLIC_KINDS = frozenset(
    {"raised", "acknowledged", "dispatched", "resolved", "false_alarm", "escalated", "repeated"}
)
MEDIA_URL_SECONDS = 300
BOARD = "alarms.board"  # after-commit hook: alarms whose change the board shows (`show_on_board`)

_COLUMNS = (*Alarm.all_columns(), Alarm.assigned_to.display_name.as_alias("assigned_to_name"))


def alarm_read(row: AlarmRow) -> AlarmRead:
    """A row (with `assigned_to_name`) as the board shows it."""
    return AlarmRead(
        id=row.id,
        community_id=row.community,
        type=row.type,
        severity=row.severity,
        state=row.state,
        title=row.title,
        location=row.location or {},
        source_device_id=row.source_device,
        zone_id=row.zone,
        household_id=row.household,
        assigned_to_id=row.assigned_to,
        assigned_to_name=row.assigned_to_name,
        plan_id=row.plan,
        retention=row.retention,
        raised_at=row.raised_at,
        acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at,
        escalated_at=row.escalated_at,
    )


async def alarm_row(alarm_id: UUID) -> AlarmRow | None:
    """One alarm's row with the assignee's name, JSON decoded."""
    row = await Alarm.select(*_COLUMNS).where(Alarm.id == alarm_id).output(load_json=True).first()
    return None if row is None else msgspec.convert(row, AlarmRow)


async def board_event(alarm_id: UUID) -> tuple[dict[str, Any], str] | None:
    """The live event for an alarm's change and the channel it goes to."""
    row = await alarm_row(alarm_id)
    if row is None:
        return None
    event = {"type": "alarm", "alarm": msgspec.to_builtins(alarm_read(row))}
    return event, alarm_channel(row.community)


async def show_on_board(outlet: Outlet, alarm_id: UUID) -> None:
    """The `BOARD` hook: publish the alarm's new state to its community's board."""
    found = await board_event(alarm_id)
    if found is not None:
        await outlet.publish(*found)


async def in_scope(caller: Caller, alarm_id: UUID, permission: str) -> AlarmRow:
    """The alarm's row if the caller may reach it with the permission; else NotFound."""
    scope = Scope.of(caller, permission)
    row = await alarm_row(alarm_id)
    if row is None or not scope.allows(row.community, row.household):
        raise NotFound()
    return row


def _board_where(
    caller: Caller,
    *,
    community_id: UUID | None,
    alarm_type: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Any | None:
    """The board's filter (state aside) within the caller's scope; None when nothing is in it."""
    where = Scope.of(caller, "alarm.read").where(Alarm.community, Alarm.household)
    if where is None:
        return None
    for column, value in ((Alarm.community, community_id), (Alarm.type, alarm_type)):
        if value is not None:
            where &= column == value
    if since:
        where &= Alarm.raised_at >= since
    if until:
        where &= Alarm.raised_at < until
    return where


async def list_alarms(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    state: str | None = None,
    alarm_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AlarmPage:
    """Alarms in scope, newest first: staff and police their communities', residents their own."""
    where = _board_where(
        caller, community_id=community_id, alarm_type=alarm_type, since=since, until=until
    )
    return await paged_page(
        AlarmPage,
        lambda r: alarm_read(msgspec.convert(r, AlarmRow)),
        Alarm.select(*_COLUMNS).order_by(Alarm.raised_at, ascending=False).output(load_json=True),
        where,
        equals(Alarm.state, state),
        page=page,
        page_size=page_size,
    )


async def count_alarms(
    caller: Caller,
    *,
    community_id: UUID | None = None,
    alarm_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AlarmCounts:
    """How many alarms of each state the board's list holds for the same filter, in one query."""
    where = _board_where(
        caller, community_id=community_id, alarm_type=alarm_type, since=since, until=until
    )
    found: dict[str, int] = {}
    if where is not None:
        rows = await Alarm.select(Alarm.state, Count(alias="n")).where(where).group_by(Alarm.state)
        found = {r["state"]: r["n"] for r in rows}
    return AlarmCounts(**{state: found.get(state, 0) for state in get_args(State)})


async def entries(alarm_id: UUID) -> list[EntryRow]:
    """The alarm's timeline rows, oldest first, with actor names."""
    rows = (
        await AlarmEntry.select(
            *AlarmEntry.all_columns(), AlarmEntry.actor.display_name.as_alias("actor_name")
        )
        .where(AlarmEntry.alarm == alarm_id)
        .order_by(AlarmEntry.at)
        .output(load_json=True)
    )
    return msgspec.convert(rows, list[EntryRow])


def checklist(row: AlarmRow, timeline: list[EntryRow]) -> list[ChecklistStep]:
    """The plan's steps as attached to the alarm, each with when and by whom it was done."""
    done = {e.data.get("index"): e for e in timeline if e.kind == "step"}
    return [
        ChecklistStep(
            index=i,
            text=text,
            done=i in done,
            done_at=done[i].at if i in done else None,
            done_by=done[i].actor_name if i in done else None,
        )
        for i, text in enumerate(row.plan_steps or [])
    ]


async def media(timeline: list[EntryRow], store: ObjectStore) -> list[MediaRead]:
    """The alarm's photos behind short-lived presigned URLs."""
    return [
        MediaRead(
            id=e.id,
            url=await store.presigned_url(e.data["key"], expires_in=MEDIA_URL_SECONDS),
            content_type=e.data["content_type"],
            source=e.data["source"],
            device_id=UUID(e.data["device"]) if e.data.get("device") else None,
            caption=e.text,
            at=e.at,
        )
        for e in timeline
        if e.kind == "media"
    ]


async def detail(caller: Caller, alarm_id: UUID, store: ObjectStore) -> AlarmDetail:
    """One alarm with its timeline, plan checklist and media; residents see its progress only."""
    row = await in_scope(caller, alarm_id, "alarm.read")
    staff = Scope.of(caller, "alarm.read").staff_in(row.community)
    timeline = await entries(alarm_id)
    shown = [e for e in timeline if staff or e.kind in PUBLIC_KINDS or e.actor == caller.account_id]
    plan = (
        await EmergencyPlan.select(EmergencyPlan.title).where(EmergencyPlan.id == row.plan).first()
        if row.plan
        else None
    )
    base = msgspec.structs.asdict(alarm_read(row))
    return AlarmDetail(
        **base,
        plan_title=plan["title"] if plan else None,
        checklist=checklist(row, timeline) if staff else [],
        media=await media(timeline, store) if staff else [],
        timeline=[
            TimelineEntry(
                at=e.at,
                kind=e.kind,
                actor_id=e.actor,
                actor_name=e.actor_name,
                text=e.text,
                data=e.data or {},
            )
            for e in shown
        ],
    )
