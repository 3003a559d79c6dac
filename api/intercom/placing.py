"""Calls placed in the app (standard 6.7.8): the guard room calls any household of its community,
and a resident calls their community's guard room (呼叫管理处).

Such a call is a `Call` without a station: it rings the household's members (or the guards on
duty and the board) with the same `call.incoming` and push as a door station's call, is answered,
declined, limited, swept and kept the same way, and is audited the same way with the caller as
the actor. Both ends are browsers; the signalling between them is in relay.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

import structlog

from api.audit.service import record
from api.communities.tables import Household
from api.core.auth import Caller, Scope
from api.core.effects import Effects
from api.core.errors import NotFound
from api.intercom import events, reads
from api.intercom.errors import CallNotLive, HouseholdRequired
from api.intercom.relay import Relay
from api.intercom.schemas import CallCreate, CallRead
from api.intercom.tables import Call
from api.piccolo_conf import DB
from api.push.service import DISPATCH, notify

log = structlog.get_logger()


async def _target(caller: Caller, data: CallCreate) -> tuple[UUID, UUID]:
    """(community, household) of the call, or NotFound when it is not the caller's to place."""
    scope = Scope.held(caller, "intercom.answer")
    if scope is None:
        raise NotFound()
    if data.target == "household":
        # The guard room calls a household of its own community.
        household = data.household_id
    elif data.household_id is not None:
        household = data.household_id if data.household_id in scope.households else None
    elif len(scope.households) == 1:
        (household,) = scope.households
    elif scope.households:
        raise HouseholdRequired(field="household_id")
    else:
        household = None
    row = (
        await Household.select(Household.community).where(Household.id == household).first()
        if household is not None
        else None
    )
    if row is None:
        raise NotFound()
    allowed = (
        scope.staff_in(row["community"])
        if data.target == "household"
        else household in scope.households
    )
    if not allowed:
        raise NotFound()
    assert household is not None
    return row["community"], household


async def place(caller: Caller, data: CallCreate, effects: Effects) -> CallRead:
    """Ring a household (from the guard room) or the guard room (from a resident's home)."""
    community, household = await _target(caller, data)
    call_id = uuid.uuid4()
    async with DB.transaction():
        await Call(
            id=call_id,
            community=community,
            station=None,
            caller=caller.account_id,
            household=household,
            target=data.target,
            reason="app",
            started_at=datetime.now(UTC),
        ).save()
        await record(
            "call.started",
            actor=caller,
            target_type="call",
            target_id=call_id,
            community_id=community,
            details={"target": data.target, "household": str(household), "from": "app"},
        )
        found = await reads.call_row(call_id)
        assert found is not None
        row = found
        row["station_name"] = reads.from_name(row, caller.display_name)
        accounts = await reads.members(row) - {caller.account_id}
        others = {**row, "caller": None}  # the caller's own phone does not ring
        effects.send(events.incoming(row, None), *reads.channels_of(others, accounts))
        if accounts:
            effects.after(DISPATCH, *await notify(sorted(accounts), events.push_message(row)))
    log.info("intercom.call.placed", call_id=str(call_id), target=data.target)
    return (await reads.reads(caller, [row], None))[0]


async def connect(caller: Caller, relay: Relay, call_id: UUID, sdp: str) -> None:
    """The caller's browser answers the offer of whoever answered its call."""
    row = await reads.call_row(call_id)
    if row is None or row["caller"] is None or row["caller"] != caller.account_id:
        raise NotFound()
    if row["state"] != "live":
        raise CallNotLive()
    await relay.answered(call_id, sdp)
