"""Doors: who may open which, opening from the app, and the access log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, Protocol, cast
from uuid import UUID

import msgspec

from api.access.schemas import DoorOpenResult, DoorRead
from api.access.tables import AccessRecord
from api.accounts.tables import Account
from api.audit.service import record
from api.communities.tables import Household
from api.core.auth import Caller, Scope
from api.core.effects import Effects
from api.core.errors import DomainError, NotFound
from api.devices import service as devices
from api.devices.bus import CommandBus
from api.devices.tables import Device
from api.piccolo_conf import DB

Outcome = Literal["granted", "denied", "failed"]


class DoorFailed(Protocol):
    """Raise the door alarm of a grant the door did not carry out, in the caller's transaction
    (the alarms domain's, wired by api/app.py): the alarm's id."""

    async def __call__(
        self, community_id: UUID, *, device_id: UUID, note: str, effects: Effects
    ) -> UUID: ...


class NotEntitled(DomainError):
    """The caller may not open this door; the refusal is on record."""

    status_code = 403
    code = "door_not_entitled"
    message = "You may not open this door."


def _role(attrs: Any) -> str:
    attrs = attrs if isinstance(attrs, dict) else msgspec.json.decode(attrs or "{}")
    return str(attrs.get("role", ""))


async def _households(caller: Caller) -> list[dict[str, Any]]:
    """The caller's households with their community and unit."""
    ids = [a.household_id for a in caller.assignments if a.household_id and a.role == "resident"]
    if not ids:
        return []
    return await Household.select(Household.id, Household.community, Household.unit).where(
        Household.id.is_in(ids)
    )


def _entitled(device: dict[str, Any], households: list[dict[str, Any]]) -> str | None:
    """None when one of the households may pass the door, else the reason why not."""
    mine = [h for h in households if h["community"] == device["community"]]
    if not mine:
        return "not your community"
    role = _role(device["attrs"])
    if role == "gate" or any(h["unit"] and h["unit"] == device["unit"] for h in mine):
        return None
    return "not your building's door"


_DOOR_COLUMNS = (
    Device.id,
    Device.name,
    Device.community,
    Device.unit,
    Device.attrs,
    Device.reported_online,
    Device.bridge._.online.as_alias("bridge_online"),
)


async def doors(caller: Caller) -> list[DoorRead]:
    """Every door the caller's households may open."""
    Scope.of(caller, "door.open")
    households = await _households(caller)
    if not households:
        return []
    rows = (
        await Device.select(*_DOOR_COLUMNS)
        .where(
            (Device.kind == "door_controller")
            & Device.community.is_in([h["community"] for h in households])
        )
        .order_by(Device.name)
    )
    return [
        DoorRead(
            id=r["id"],
            name=r["name"],
            role=_role(r["attrs"]) or "door",
            online=bool(r["reported_online"] and r["bridge_online"]),
        )
        for r in rows
        if _entitled(r, households) is None
    ]


async def open_door(
    caller: Caller,
    bus: CommandBus,
    device_id: UUID,
    *,
    direction: str,
    effects: Effects,
    door_failed: DoorFailed,
) -> DoorOpenResult:
    """Open a door for a resident: check entitlement, command the door, record the outcome.

    A granted opening the door did not carry out (the door failed or did not answer) raises the
    door alarm with the record (standard 6.5.14), and the answer says the guards were told. A
    bridge that is offline is no door fault: the site's own alarm covers it (docs/alarms.md).
    """
    Scope.of(caller, "door.open")
    device = await Device.select(*_DOOR_COLUMNS, Device.kind).where(Device.id == device_id).first()
    households = await _households(caller)
    if (
        device is None
        or device["kind"] != "door_controller"
        or device["community"] not in {h["community"] for h in households}
    ):
        raise NotFound()
    person = await Account.select(Account.person).where(Account.id == caller.account_id).first()
    person_id = person["person"] if person else None
    entry = AccessRecord(
        community=device["community"],
        device=device_id,
        person=person_id,
        account=caller.account_id,
        at=datetime.now(UTC),
        direction=direction,
        method="app",
        result="denied",
    )
    refusal = _entitled(device, households)
    status: str | None = None
    if refusal is None:
        try:
            outcome = await devices.command(
                bus,
                device_id,
                "open",
                {"method": "app", "direction": direction, "person": str(person_id or "")},
                requested_by=caller.account_id,
            )
        except devices.BridgeUnavailable:
            entry.result, entry.reason, status = "failed", "bridge offline", "offline"
        else:
            entry.command, status = outcome.id, outcome.status
            entry.result = "granted" if outcome.status == "ok" else "failed"
            entry.reason = (
                "" if outcome.status == "ok" else f"{outcome.status}: {outcome.detail}"[:200]
            )
    else:
        entry.reason = refusal
    alarm_id: UUID | None = None
    async with DB.transaction():
        await entry.save()
        if entry.result == "failed" and status != "offline":
            alarm_id = await door_failed(
                device["community"],
                device_id=device_id,
                note=f"住户 App 开门已授权，门未打开（{entry.reason}）。",
                effects=effects,
            )
        await record(
            "door.open",
            actor=caller,
            outcome="ok" if entry.result == "granted" else "denied",
            target_type="device",
            target_id=device_id,
            community_id=device["community"],
            details={
                "result": entry.result,
                "reason": entry.reason,
                **({"alarm": str(alarm_id)} if alarm_id else {}),
            },
        )
    if refusal is not None:
        raise NotEntitled(refusal, record_id=str(entry.id))
    if status == "offline":
        raise devices.BridgeUnavailable(record_id=str(entry.id))
    return DoorOpenResult(
        result=cast(Outcome, entry.result),
        reason=entry.reason,
        record_id=entry.id,
        command_status=status,
        guards_notified=alarm_id is not None,
    )
