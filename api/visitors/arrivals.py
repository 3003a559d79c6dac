"""What a visitor's passes at the doors do to their pass: entries, arrival, inside, used up.

Called by the ingest of bridge events (api/devices/ingest.py), inside its transaction, with the
access records it stored now (replays store nothing, so nothing here counts twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import structlog

from api.access import credentials
from api.access.rows import AccessRecordRow
from api.access.tables import AccessPoint
from api.core.effects import Effects
from api.core.realtime import user_channel
from api.devices.tables import Device
from api.push.schemas import PushMessage
from api.push.service import DISPATCH, notify
from api.visitors.passes import SITE_TZ, align_entries, household_members, now
from api.visitors.tables import VisitorPass

log = structlog.get_logger()


def arrival_message(pass_id: UUID, visitor_name: str, door: str, at: datetime) -> PushMessage:
    """The push telling a household its visitor came in."""
    clock = at.astimezone(SITE_TZ).strftime("%H:%M")
    return PushMessage(
        title="访客已到达",
        body=f"{visitor_name} 已于 {clock} 从{door}进入小区。",
        url=f"/visitors/{pass_id}",
        tag=f"visitor-arrived-{pass_id}",
        urgency="normal",
        ttl=600,
        data={"type": "visitor.arrived", "pass_id": str(pass_id)},
    )


async def _doors(device_ids: set[UUID]) -> dict[UUID, tuple[str, bool]]:
    """Each device's name, and whether it is a community gate (its access point says, else the
    device's role)."""
    if not device_ids:
        return {}
    points = {
        r["device"]: r
        for r in await AccessPoint.select(
            AccessPoint.device, AccessPoint.kind, AccessPoint.building, AccessPoint.name
        ).where(AccessPoint.device.is_in(list(device_ids)))
    }
    found: dict[UUID, tuple[str, bool]] = {}
    for d in await Device.select(Device.id, Device.name, Device.attrs).where(
        Device.id.is_in(list(device_ids))
    ):
        point = points.get(d["id"])
        if point is not None:
            gate = point["kind"] == "gate" or (
                point["kind"] == "turnstile" and point["building"] is None
            )
            found[d["id"]] = (point["name"] or d["name"], gate)
        else:
            attrs = d["attrs"] if isinstance(d["attrs"], dict) else msgspec.json.decode(d["attrs"])
            found[d["id"]] = (d["name"], attrs.get("role") == "gate")
    return found


async def on_access(records: Sequence[AccessRecordRow], effects: Effects) -> None:
    """Apply granted passes of visitor-pass credentials; inside the ingest transaction.

    `records`: the access records just stored (those without `visitor_pass` or not granted are
    ignored). Only passes at a community gate count: a granted "in" is an
    entry (entries used + 1, arrived / last entry, inside) and the household hears of it (a push
    and `{"type": "visitor.arrived", pass_id, door, at, visitor_name}` on each member's
    `user:<account>` channel, both after commit through `effects`); a granted "out" means the
    visitor left. Gate passes are ordered by time, so a late "in" replayed after a newer "out"
    does not put the visitor back inside. The entry that uses the last one makes the pass
    `used_up`: its credential (whose `uses` the same ingest brought to 0) is refused at the gates
    for another entry, but keeps opening the unit doors, the lifts and the exits until the window
    ends and the expiry job revokes it. A pass's other credential (the visitor phone's key) is
    given the same entries left (`passes.align_entries`).
    """
    visits = [
        (pass_id, r)
        for r in records
        if r.result == "granted" and (pass_id := r.visitor_pass) is not None
    ]
    if not visits:
        return
    ids = sorted({p for p, _ in visits})
    rows = {
        r["id"]: r
        for r in await VisitorPass.raw(
            "SELECT * FROM visitor_passes WHERE id = ANY({}::uuid[]) ORDER BY id FOR UPDATE", ids
        )
    }
    doors = await _doors({r.device for _, r in visits})
    changed: set[UUID] = set()
    for pass_id, rec in sorted(visits, key=lambda v: v[1].at):
        row = rows.get(pass_id)
        device = rec.device
        if row is None or row["community"] != rec.community:
            continue  # a pass of another community: not this site's to count
        if not doors.get(device, ("", False))[1]:
            continue  # unit doors and lifts: inside already
        at, door = rec.at, doors[device][0]
        newest = row["last_gate_at"] is None or at >= row["last_gate_at"]
        if rec.direction == "out":
            if newest:
                row.update(inside=False, last_gate_at=at)
                changed.add(pass_id)
            continue
        row["entries_used"] += 1
        row["arrived_at"] = row["arrived_at"] or at
        row["last_entry_at"] = max(row["last_entry_at"] or at, at)
        if newest:
            row.update(inside=True, last_gate_at=at)
        changed.add(pass_id)
        await _announce(row, door, at, effects)
    for pass_id in changed:
        row = rows[pass_id]
        await VisitorPass.update(
            {
                VisitorPass.entries_used: row["entries_used"],
                VisitorPass.arrived_at: row["arrived_at"],
                VisitorPass.last_entry_at: row["last_entry_at"],
                VisitorPass.last_gate_at: row["last_gate_at"],
                VisitorPass.inside: row["inside"],
                VisitorPass.updated_at: now(),
            }
        ).where(VisitorPass.id == pass_id)
        left = max(row["entries_allowed"] - row["entries_used"], 0)
        if await align_entries(pass_id, row["community"], left):
            credentials.after_commit(effects, row["community"])
        if row["status"] == "active" and row["entries_used"] >= row["entries_allowed"]:
            await VisitorPass.update({VisitorPass.status: "used_up"}).where(
                VisitorPass.id == pass_id
            )
            log.info("visitor_pass.used_up", pass_id=str(pass_id))


async def _announce(row: dict[str, Any], door: str, at: datetime, effects: Effects) -> None:
    """Tell the household's members their visitor came in (push rows now, the rest after commit)."""
    members = await household_members(row["household"])
    if not members:
        return
    effects.after(
        DISPATCH, *await notify(members, arrival_message(row["id"], row["visitor_name"], door, at))
    )
    event = {
        "type": "visitor.arrived",
        "pass_id": str(row["id"]),
        "door": door,
        "at": at.isoformat(),
        "visitor_name": row["visitor_name"],
    }
    effects.send(event, *[user_channel(m) for m in members])
