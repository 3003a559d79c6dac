"""A visitor's car let in at a lane: the pass shows it arrived and the household hears of it.

A visitor pass booked with a plate gives the plate a credential for the pass's window
(api/visitors/passes.activate); when the bridge (or the guard's correction) lets that car in,
the pass's `arrived_at` is set (the first time), and the host household's members get a push
("王小明的车 14:02 到达地库入口", linking to the pass) and a `visitor.car_arrived` event on their
own channels, both after commit through `effects`. Entries of the pass are not counted: those
are the visitor's passes at the pedestrian gates (api/visitors/arrivals.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from api.core.effects import Effects
from api.core.realtime import user_channel
from api.push.schemas import PushMessage
from api.push.service import DISPATCH, notify
from api.visitors.passes import SITE_TZ, household_members, now
from api.visitors.tables import VisitorPass


def car_arrival_message(pass_id: UUID, visitor_name: str, lane: str, at: datetime) -> PushMessage:
    """The push telling a household its visitor's car came in."""
    clock = at.astimezone(SITE_TZ).strftime("%H:%M")
    return PushMessage(
        title="访客车辆已到达",
        body=f"{visitor_name}的车 {clock} 到达{lane}",
        url=f"/visitors/{pass_id}",
        tag=f"visitor-car-{pass_id}",
        urgency="normal",
        ttl=600,
        data={"type": "visitor.car_arrived", "pass_id": str(pass_id)},
    )


async def cars_arrived(
    community_id: UUID, arrivals: Sequence[tuple[UUID, datetime, str]], effects: Effects
) -> None:
    """`arrivals`: (visitor pass, when, lane name) of granted entries; inside the caller's
    transaction. A pass of another community is not this site's to mark."""
    if not arrivals:
        return
    rows = {
        r["id"]: r
        for r in await VisitorPass.select(
            VisitorPass.id, VisitorPass.household, VisitorPass.visitor_name, VisitorPass.arrived_at
        ).where(
            VisitorPass.id.is_in(list({a[0] for a in arrivals}))
            & (VisitorPass.community == community_id)
        )
    }
    for pass_id, at, lane in sorted(arrivals, key=lambda a: a[1]):
        row = rows.get(pass_id)
        if row is None:
            continue
        if row["arrived_at"] is None or at < row["arrived_at"]:
            row["arrived_at"] = at
            await VisitorPass.update(
                {VisitorPass.arrived_at: at, VisitorPass.updated_at: now()}
            ).where(VisitorPass.id == pass_id)
        members = await household_members(row["household"])
        if not members:
            continue
        message = car_arrival_message(pass_id, row["visitor_name"], lane, at)
        effects.after(DISPATCH, *await notify(members, message))
        event = {
            "type": "visitor.car_arrived",
            "pass_id": str(pass_id),
            "lane": lane,
            "at": at.isoformat(),
            "visitor_name": row["visitor_name"],
        }
        effects.send(event, *[user_channel(m) for m in members])
