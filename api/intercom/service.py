"""Intercom calls: answering, declining, hanging up, unlocking, and how a call ends.

A call is `ringing` from the station's `intercom.call_started` until someone answers (`live`) or it
ends (`ended`). Answering is a claim on the row (`UPDATE … WHERE state = 'ringing'`), so the first
answer wins however many members tap at once; the loser gets 409 `call_taken`. The media itself
never passes through the platform: the browser's offer goes to the station's bridge as the device
command `media.offer`, the bridge's aiortc peer answers, and the answer comes back to the browser.
Who may see and join a call is in reads.py; the jobs (limit, sweep, media, retention) in upkeep.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

import msgspec
import structlog

from api.access.tables import AccessRecord
from api.accounts.tables import Account
from api.audit.service import record
from api.core import jobs
from api.core.auth import Caller
from api.core.effects import Effects
from api.core.realtime import community_channel, user_channel
from api.devices import service as devices
from api.devices.bus import CommandBus
from api.intercom.errors import (
    CallNotLive,
    CallNotRinging,
    CallTaken,
    MediaFailed,
    NoDoor,
    NotAnswerer,
)
from api.intercom.reads import (
    call_row,
    channels_of,
    door_of,
    members,
    reads,
    require_answerer,
    visible,
)
from api.intercom.relay import Relay
from api.intercom.schemas import AnswerRead, CallRead, UnlockRead
from api.intercom.tables import Call
from api.piccolo_conf import DB
from api.settings import Settings

log = structlog.get_logger()

OFFER_TIMEOUT = 15.0  # the bridge gathers ICE before it answers
LIMIT_GRACE = 5.0  # the bridge ends a call at its limit; the platform a little later if it did not
STATION_OUTCOMES = frozenset({"answered", "unanswered", "declined", "limit", "network", "hangup"})


def _now() -> datetime:
    return datetime.now(UTC)


# -- answering and ending ------------------------------------------------------------------------


def ended_event(call_id: UUID, outcome: str, by: str | None) -> dict[str, Any]:
    """The live event that closes a call's screen."""
    return {"type": "call.ended", "call_id": str(call_id), "outcome": outcome, "by": by}


async def _station_answer(
    bus: CommandBus, caller: Caller, row: dict[str, Any], offer: dict[str, Any]
) -> str:
    """The station's answer to the browser's offer (the bridge's peer answers)."""
    result = await devices.command(
        bus,
        row["station"],
        "media.offer",
        {"session": str(row["id"]), **offer},
        requested_by=caller.account_id,
        timeout=OFFER_TIMEOUT,
    )
    answer_sdp = (result.data or {}).get("sdp") if result.status == "ok" else None
    if not isinstance(answer_sdp, str) or not answer_sdp:
        raise MediaFailed(detail=f"{result.status}: {result.detail}"[:200])
    return answer_sdp


async def answer(
    caller: Caller,
    bus: CommandBus,
    settings: Settings,
    call_id: UUID,
    sdp: str,
    effects: Effects,
    *,
    relay: Relay | None = None,
) -> AnswerRead:
    """Claim a ringing call, relay the browser's offer to the station (or, for a call placed in
    the app, to the caller's browser through `relay`), return its answer."""
    row = await visible(caller, call_id)
    await require_answerer(caller, row)
    now = _now()
    async with DB.transaction():
        claimed = (
            await Call.update(
                {Call.state: "live", Call.answered_at: now, Call.answered_by: caller.account_id}
            )
            .where((Call.id == call_id) & (Call.state == "ringing"))
            .returning(Call.id)
        )
        if claimed:
            await record(
                "call.answered",
                actor=caller,
                target_type="call",
                target_id=call_id,
                community_id=row["community"],
            )
    if not claimed:
        now_state = await Call.select(Call.state).where(Call.id == call_id).first()
        raise CallTaken() if now_state and now_state["state"] == "live" else CallNotRinging()
    limit = settings.call_max_duration_s
    ice = settings.ice_server_list
    offer = {
        "sdp": sdp,
        "kind": "call",
        "max_duration_s": limit,
        "ice_servers": [msgspec.to_builtins(s) for s in ice],
    }
    try:
        if row["station"] is not None:
            answer_sdp = await _station_answer(bus, caller, row, offer)
        elif relay is None or row["caller"] is None:
            raise MediaFailed(detail="no way to reach the caller")
        else:
            offer["by"] = caller.display_name
            answer_sdp = await relay.offer(call_id, row["caller"], offer, timeout=OFFER_TIMEOUT)
    except (MediaFailed, devices.BridgeUnavailable):
        # Let another member (or this one, again) answer while the station still rings.
        await Call.update(
            {Call.state: "ringing", Call.answered_at: None, Call.answered_by: None}
        ).where(
            (Call.id == call_id) & (Call.state == "live") & (Call.answered_by == caller.account_id)
        )
        raise
    others = await members(row) - {caller.account_id}
    if others:
        effects.send(
            ended_event(call_id, "answered_elsewhere", caller.display_name),
            *(user_channel(a) for a in sorted(others)),
        )
    # The answerer's own other phones stop ringing too; the board shows who took a guard-room call.
    effects.send(
        {
            "type": "call.answered",
            "call_id": str(call_id),
            "by": caller.display_name,
            "account_id": str(caller.account_id),
        },
        user_channel(caller.account_id),
        *((community_channel(row["community"]),) if row["target"] == "guard_room" else ()),
    )
    effects.job(
        jobs.END_CALL_AT_LIMIT,
        call_id=call_id,
        defer=limit + LIMIT_GRACE,
        job_id=f"call-limit:{call_id}",
    )
    log.info("intercom.call.answered", call_id=str(call_id))
    return AnswerRead(sdp=answer_sdp, call_id=call_id, max_duration_s=limit, ice_servers=ice)


def fetch_media_later(effects: Effects, call_id: UUID) -> None:
    """Fetch an unanswered call's media in a job: one job per call, however often it is asked."""
    effects.job(jobs.FETCH_CALL_MEDIA, call_id=call_id, job_id=f"call-media:{call_id}")


async def finish(
    row: dict[str, Any],
    outcome: str,
    effects: Effects,
    *,
    at: datetime | None = None,
    by: Caller | None = None,
    duration_s: float | None = None,
    states: tuple[str, ...] = ("ringing", "live"),
) -> bool:
    """End a call (inside the caller's transaction) unless it already ended; tell its members.

    Unanswered calls keep the visitor's snapshot and message: the media fetch is queued.
    """
    at = at or _now()
    if duration_s is None:
        duration_s = (at - row["answered_at"]).total_seconds() if row["answered_at"] else 0.0
    # A station keeps the visitor's snapshot and message; an app call has none.
    media = "pending" if outcome == "unanswered" and row["station"] else row["media"]
    ended = (
        await Call.update(
            {
                Call.state: "ended",
                Call.outcome: outcome,
                Call.ended_at: at,
                Call.ended_by: by.account_id if by else None,
                Call.duration_s: max(0.0, duration_s),
                Call.media: media,
            }
        )
        .where((Call.id == row["id"]) & Call.state.is_in(list(states)))
        .returning(Call.id)
    )
    if not ended:
        return False
    await record(
        f"call.{outcome}" if by else "call.ended",
        actor=by,
        actor_name=None if by else "platform",
        target_type="call",
        target_id=row["id"],
        community_id=row["community"],
        details={"outcome": outcome, "duration_s": round(max(0.0, duration_s), 1)},
    )
    accounts = await members(row)
    effects.send(
        ended_event(row["id"], outcome, by.display_name if by else None),
        *channels_of(row, accounts),
    )
    if media == "pending":
        fetch_media_later(effects, row["id"])
    log.info("intercom.call.ended", call_id=str(row["id"]), outcome=outcome)
    return True


async def tell_station(bus: CommandBus, row: dict[str, Any], outcome: str) -> None:
    """Close the station's side of a call; an unreachable station ends it on its own timer.

    An app call has no station: its caller hears of the end through `call.ended`."""
    if row["station"] is None:
        return
    actions: list[tuple[str, dict[str, Any]]] = []
    if row["state"] == "live":
        actions.append(("media.close", {"session": str(row["id"])}))
    # The station knows the outcomes of its own events; a refusal of its own (unknown room) is a
    # decline to it.
    told = outcome if outcome in STATION_OUTCOMES else "declined"
    actions.append(("intercom.hangup", {"call": str(row["id"]), "outcome": told}))
    for action, args in actions:
        try:
            result = await devices.command(bus, row["station"], action, args, requested_by=None)
        except devices.BridgeUnavailable:
            log.warning("intercom.station.unreachable", call_id=str(row["id"]), action=action)
            return
        if result.status != "ok":
            log.warning("intercom.station.refused", call_id=str(row["id"]), action=action)


async def decline(caller: Caller, bus: CommandBus, call_id: UUID, effects: Effects) -> CallRead:
    """Decline a ringing call for the whole household (or guard room); the station hangs up."""
    row = await visible(caller, call_id)
    await require_answerer(caller, row)
    async with DB.transaction():
        if not await finish(row, "declined", effects, by=caller, states=("ringing",)):
            raise CallNotRinging()
    await tell_station(bus, row, "declined")
    return await _after(caller, call_id)


async def hangup(caller: Caller, bus: CommandBus, call_id: UUID, effects: Effects) -> CallRead:
    """The answering member ends a live call; the station's peer is closed. The caller of an app
    call ends it too: a call they give up on before anyone answered is `unanswered`."""
    row = await visible(caller, call_id)
    if row["caller"] is not None and row["caller"] == caller.account_id:
        outcome = "unanswered" if row["state"] == "ringing" else "hangup"
        async with DB.transaction():
            if not await finish(row, outcome, effects, by=caller):
                raise CallNotLive()
        return await _after(caller, call_id)
    await require_answerer(caller, row)
    if row["state"] != "live":
        raise CallNotLive()
    if row["answered_by"] != caller.account_id:
        raise NotAnswerer()
    async with DB.transaction():
        if not await finish(row, "hangup", effects, by=caller, states=("live",)):
            raise CallNotLive()
    await tell_station(bus, row, "hangup")
    return await _after(caller, call_id)


async def _after(caller: Caller, call_id: UUID) -> CallRead:
    """The call as it stands after a write (no media URLs: the history signs those)."""
    row = await call_row(call_id)
    assert row is not None
    return (await reads(caller, [row], None))[0]


async def unlock(caller: Caller, bus: CommandBus, call_id: UUID) -> UnlockRead:
    """Open the station's door for the visitor: only the answering member, only while live."""
    row = await visible(caller, call_id)
    await require_answerer(caller, row)
    if row["state"] != "live":
        raise CallNotLive()
    if row["answered_by"] != caller.account_id:
        raise NotAnswerer()
    door = await door_of(row)
    if door is None:
        raise NoDoor()
    person = await Account.select(Account.person).where(Account.id == caller.account_id).first()
    entry = AccessRecord(
        community=row["community"],
        device=door["id"],
        person=person["person"] if person else None,
        account=caller.account_id,
        at=_now(),
        direction="in",
        method="intercom",
        result="failed",
    )
    try:
        outcome = await devices.command(
            bus,
            door["id"],
            "open",
            {"method": "intercom", "direction": "in", "call": str(call_id)},
            requested_by=caller.account_id,
        )
    except devices.BridgeUnavailable:
        entry.reason = "bridge offline"
    else:
        entry.command = outcome.id
        if outcome.status == "ok":
            entry.result = "granted"
        else:
            entry.reason = f"{outcome.status}: {outcome.detail}"[:200]
    async with DB.transaction():
        await entry.save()
        if entry.result == "granted":
            await Call.update(
                {Call.unlocked_at: entry.at, Call.unlocked_by: caller.account_id}
            ).where(Call.id == call_id)
        await record(
            "call.unlock",
            actor=caller,
            outcome="ok" if entry.result == "granted" else "failed",
            target_type="call",
            target_id=call_id,
            community_id=row["community"],
            details={"door": str(door["id"]), "result": entry.result, "reason": entry.reason},
        )
    return UnlockRead(
        result=cast(Any, entry.result),
        reason=entry.reason,
        record_id=entry.id,
        door_id=door["id"],
        door_name=door["name"],
    )
