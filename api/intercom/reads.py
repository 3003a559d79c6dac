"""Reading calls: the row with its station and household, who may see it, who it rings for,
and the call history with signed media URLs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import structlog

from api.accounts.tables import Account
from api.alarms.roster import on_duty, recipients
from api.audit.service import record
from api.communities.service import household_label
from api.core.auth import Caller, Scope
from api.core.errors import NotFound
from api.core.paging import equals, paged
from api.core.realtime import community_channel, user_channel
from api.core.storage import ObjectStore, StorageError
from api.devices.tables import Device
from api.intercom.errors import NotOnDuty
from api.intercom.schemas import CallPage, CallRead
from api.intercom.tables import Call

log = structlog.get_logger()


def _attrs(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    decoded = msgspec.json.decode(value or "{}")
    return decoded if isinstance(decoded, dict) else {}


_COLUMNS = (
    *Call.all_columns(),
    Call.station.name.as_alias("station_name"),
    Call.station.kind.as_alias("station_kind"),
    Call.station.attrs.as_alias("station_attrs"),
    Call.station.bridge.as_alias("station_bridge"),
    Call.household.room.as_alias("household_room"),
    Call.household._.building._.number.as_alias("household_building"),
    Call.household._.unit._.number.as_alias("household_unit"),
)


async def call_row(call_id: UUID) -> dict[str, Any] | None:
    """A call with its station and household, or None."""
    row: dict[str, Any] | None = await Call.select(*_COLUMNS).where(Call.id == call_id).first()
    if row is not None:
        row["station_attrs"] = _attrs(row["station_attrs"])
    return row


def _rings_for(caller: Caller, row: dict[str, Any]) -> bool:
    """Whether the call is the caller's to answer: its household's, or its guard room's."""
    scope = Scope.held(caller, "intercom.answer")
    if scope is None:
        return False
    if row["target"] == "household":
        return row["household"] in scope.households
    return scope.staff_in(row["community"])


def may_read(caller: Caller, row: dict[str, Any]) -> bool:
    """Whom the call rings for (household members, guards), who placed it; the community's
    managers."""
    if row["caller"] is not None and row["caller"] == caller.account_id:
        return True
    records = Scope.held(caller, "intercom.read")
    return _rings_for(caller, row) or (records is not None and records.staff_in(row["community"]))


async def require_answerer(caller: Caller, row: dict[str, Any]) -> None:
    """Only the called household's members, or the guards on duty for the guard room."""
    if not _rings_for(caller, row):
        raise NotFound()
    if row["target"] == "household":
        return
    if caller.account_id not in {g.account_id for g in await on_duty(row["community"])}:
        raise NotOnDuty()


async def visible(caller: Caller, call_id: UUID) -> dict[str, Any]:
    row = await call_row(call_id)
    if row is None or not may_read(caller, row):
        raise NotFound()
    return row


async def members(row: dict[str, Any]) -> set[UUID]:
    """Who a call rings for: the household's residents, or the guards on duty."""
    if row["target"] == "household":
        if row["household"] is None:
            return set()
        return await recipients(row["community"], ["household"], household_id=row["household"])
    return await recipients(row["community"], ["guard"])


def channels_of(row: dict[str, Any], accounts: set[UUID]) -> tuple[str, ...]:
    """The sockets a call's events go to: its members', the caller's of an app call, and the
    board for guard-room calls."""
    names = [user_channel(a) for a in sorted(accounts | ({row["caller"]} - {None}))]
    if row["target"] == "guard_room":
        names.append(community_channel(row["community"]))
    return tuple(names)


def label_of(row: dict[str, Any]) -> str | None:
    """The household as posted: 1栋1单元0302."""
    if row.get("household_room") is None:
        return None
    return household_label(row["household_building"], row["household_unit"], row["household_room"])


def from_name(row: dict[str, Any], caller_name: str | None) -> str:
    """Who placed an app call, as the called side sees it: 管理处 · 张三, 1栋1单元0101 · 李四."""
    where = "管理处" if row["target"] == "household" else (label_of(row) or "住户")
    return f"{where} · {caller_name}" if caller_name else where


async def door_of(row: dict[str, Any]) -> dict[str, Any] | None:
    """The door a call's unlock opens: the station's `door` attr, or the station itself when it
    drives its own lock (`lock: true`, standard 6.7.3: one outdoor station, intercom and access
    control); a station with neither (and a lift) has no door."""
    if row["station"] is None or row["station_kind"] == "lift" or row["reason"] == "lift_emergency":
        return None
    if row["station_attrs"].get("lock") is True:
        return {"id": row["station"], "name": row["station_name"], "community": row["community"]}
    external = row["station_attrs"].get("door")
    if external:
        door: dict[str, Any] | None = (
            await Device.select(Device.id, Device.name, Device.community)
            .where((Device.bridge == row["station_bridge"]) & (Device.external_id == external))
            .first()
        )
        return door
    return None


async def _names(*accounts: UUID | None) -> dict[UUID, str]:
    ids = [a for a in accounts if a is not None]
    if not ids:
        return {}
    rows = await Account.select(Account.id, Account.display_name).where(Account.id.is_in(ids))
    return {r["id"]: r["display_name"] for r in rows}


async def _read(
    caller: Caller,
    row: dict[str, Any],
    objects: ObjectStore | None,
    names: dict[UUID, str],
    doors: dict[UUID, str | None],
) -> CallRead:
    snapshot = clip = None
    try:
        if objects is not None and row["snapshot_key"]:
            snapshot = await objects.presigned_url(row["snapshot_key"])
        if objects is not None and row["clip_key"]:
            clip = await objects.presigned_url(row["clip_key"])
    except StorageError:
        log.warning("intercom.media.unsigned", call_id=str(row["id"]))
    caller_name = names.get(row["caller"]) if row["caller"] else None
    return CallRead(
        id=row["id"],
        community_id=row["community"],
        station_id=row["station"],
        station_name=row["station_name"] or from_name(row, caller_name),
        caller_name=caller_name,
        placed_by_me=row["caller"] is not None and row["caller"] == caller.account_id,
        door_name=doors.get(row["id"]),
        target=row["target"],
        reason=row["reason"],
        household_id=row["household"],
        household_label=label_of(row),
        state=row["state"],
        started_at=row["started_at"],
        answered_at=row["answered_at"],
        answered_by=names.get(row["answered_by"]) if row["answered_by"] else None,
        answered_by_me=row["answered_by"] == caller.account_id,
        ended_at=row["ended_at"],
        duration_s=row["duration_s"],
        outcome=row["outcome"],
        unlocked_at=row["unlocked_at"],
        unlocked_by=names.get(row["unlocked_by"]) if row["unlocked_by"] else None,
        media=row["media"],
        snapshot_url=snapshot,
        clip_url=clip,
        clip_type=row["clip_type"] or None,
    )


async def reads(
    caller: Caller, rows: list[dict[str, Any]], objects: ObjectStore | None
) -> list[CallRead]:
    names = await _names(
        *(r["answered_by"] for r in rows),
        *(r["unlocked_by"] for r in rows),
        *(r["caller"] for r in rows),
    )
    doors: dict[UUID, str | None] = {}
    by_station: dict[tuple[UUID, str], str | None] = {}
    for row in rows:
        row["station_attrs"] = _attrs(row["station_attrs"])
        place = (row["station"], row["reason"])
        if place not in by_station:
            door = await door_of(row)
            by_station[place] = door["name"] if door else None
        doors[row["id"]] = by_station[place]
    return [await _read(caller, r, objects, names, doors) for r in rows]


async def get_call(caller: Caller, call_id: UUID, objects: ObjectStore) -> CallRead:
    """One call the caller may see; reading a visitor's snapshot or message is audited."""
    row = await visible(caller, call_id)
    if row["snapshot_key"] or row["clip_key"]:
        await record(
            "call.media.viewed",
            actor=caller,
            target_type="call",
            target_id=call_id,
            community_id=row["community"],
        )
    return (await reads(caller, [row], objects))[0]


async def list_calls(
    caller: Caller,
    objects: ObjectStore,
    *,
    page: int,
    page_size: int,
    outcome: str | None = None,
    state: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    community_id: UUID | None = None,
) -> CallPage:
    """Call history newest first: the caller's households', the guard room's, the community's."""
    answer = Scope.held(caller, "intercom.answer")
    records = Scope.held(caller, "intercom.read")
    if answer is None and records is None:
        raise NotFound()
    scopes: list[Any] = []
    if answer is not None and answer.households:
        scopes.append((Call.target == "household") & Call.household.is_in(list(answer.households)))
    scopes.append(Call.caller == caller.account_id)  # the calls the caller placed
    if answer is not None and answer.communities:
        scopes.append(
            (Call.target == "guard_room") & Call.community.is_in(list(answer.communities))
        )
    if records is not None:
        scopes.append(records.where(Call.community))
    where: Any = None  # nothing in scope: an empty page
    for scope in scopes:
        if scope is not None:
            where = scope if where is None else where | scope
    rows, total = await paged(
        Call.select(*_COLUMNS).order_by(Call.started_at, ascending=False),
        where,
        equals(Call.outcome, outcome),
        equals(Call.state, state),
        equals(Call.community, community_id),
        Call.started_at >= since if since else None,
        Call.started_at < until if until else None,
        page=page,
        page_size=page_size,
    )
    items = await reads(caller, rows, objects)
    if any(i.snapshot_url or i.clip_url for i in items):
        await record(
            "call.media.listed",
            actor=caller,
            target_type="call",
            details={"calls": [str(i.id) for i in items if i.snapshot_url or i.clip_url]},
        )
    return CallPage(items=items, total=total, page=page, page_size=page_size)
