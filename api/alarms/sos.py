"""SOS (一键求助): a resident's call for help, and the call as its resident follows it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.alarms.errors import HouseholdRequired, UnknownHousehold
from api.alarms.raising import community_zones, household_place, household_row, open_alarm
from api.alarms.reads import PUBLIC_KINDS, alarm_row, entries
from api.alarms.schemas import SosCreate, SosEntry, SosRead
from api.core.auth import Caller, Role, Scope
from api.core.effects import Effects
from api.core.errors import NotFound
from api.piccolo_conf import DB


async def raise_sos(caller: Caller, data: SosCreate, effects: Effects) -> UUID:
    """A resident's SOS: a critical alarm for their household, kept a year (standard B4.4.1)."""
    Scope.of(caller, "sos.raise")
    mine = [
        a.household_id
        for a in caller.assignments
        if a.role == Role.RESIDENT and a.household_id is not None
    ]
    if data.household_id is not None:
        if data.household_id not in mine:
            raise UnknownHousehold(field="household_id")
        household_id = data.household_id
    elif len(set(mine)) == 1:
        household_id = mine[0]
    elif not mine:
        raise NotFound()
    else:
        raise HouseholdRequired(field="household_id")
    household = await household_row(household_id)
    if household is None:
        raise NotFound()
    # The phone is not in a room: the household's whole-home SOS zone, never a room's.
    zones = [
        z
        for z in await community_zones(household["community"])
        if z.household == household_id and z.kind == "household_sos" and not z.room
    ]
    location: dict[str, Any] = {"household": household_place(household)}
    if data.location is not None:
        location.update(
            lat=data.location.lat, lon=data.location.lon, accuracy=data.location.accuracy
        )
    async with DB.transaction():
        alarm_id = await open_alarm(
            household["community"],
            "sos",
            effects=effects,
            place=household_place(household),
            location=location,
            zone_id=zones[0].id if zones else None,
            household_id=household_id,
            raised_by=caller,
            note=data.note,
        )
    return alarm_id


async def sos_read(caller: Caller, alarm_id: UUID) -> SosRead:
    """The resident's SOS: state, who acknowledged it, and its progress (their household's)."""
    Scope.of(caller, "sos.raise")
    row = await alarm_row(alarm_id)
    households = {a.household_id for a in caller.assignments if a.role == Role.RESIDENT}
    if row is None or row.type != "sos" or row.household not in households:
        raise NotFound()
    timeline = await entries(alarm_id)
    acked = next((e for e in timeline if e.kind == "acknowledged"), None)
    return SosRead(
        id=row.id,
        state=row.state,
        raised_at=row.raised_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=acked.actor_name if acked else None,
        resolved_at=row.resolved_at,
        timeline=[
            SosEntry(at=e.at, kind=e.kind, by=e.actor_name, text=e.text)
            for e in timeline
            if e.kind in PUBLIC_KINDS
        ],
    )
