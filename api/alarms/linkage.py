"""Linkage (报警联动): running the rules (rules.py) of an alarm — take snapshots, turn cameras,
open or lock doors, broadcast, notify people, escalate.

The actions run in a worker job (`run_linkage`) so the ingest stays fast. Each action of each rule
runs at most once per alarm: a LinkageRun row is claimed before the action starts, so a job that
runs twice (arq delivers at least once; the sweep re-enqueues) repeats nothing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec
import structlog

from api.alarms.catalogue import (
    LOCAL_ACTIONS,
    SITE_TIMEZONE,
    within_window,
)
from api.alarms.failsafe import (
    FAILSAFE_GRACE,
    action_args,
    action_targets,
    bridge_holds_rules,
    community_devices,
    done_at_bridge,
    source_of,
    zone_devices,
)
from api.alarms.raising import due_trips, tell
from api.alarms.reads import BOARD, alarm_row
from api.alarms.rows import AlarmRow, LinkedDevice
from api.alarms.service import attach_media
from api.alarms.tables import Alarm, AlarmEntry, LinkageRule, LinkageRun
from api.core import jobs
from api.core.effects import Effects
from api.core.storage import ObjectStore
from api.devices import service as devices_service
from api.devices.bus import CommandBus
from api.piccolo_conf import DB

log = structlog.get_logger()

COMMAND_TIMEOUT = 5.0
_CLAIM = """
INSERT INTO linkage_runs (id, alarm, rule, action_index, status, detail, at)
VALUES ({}, {}, {}, {}, 'running', '', {})
ON CONFLICT (alarm, rule, action_index) DO NOTHING
RETURNING id
"""


def _now() -> datetime:
    return datetime.now(UTC)


# -- running ---------------------------------------------------------------------------------------


class Context:
    """What the actions of one alarm's linkage need."""

    def __init__(
        self,
        alarm: AlarmRow,
        devices: dict[UUID, LinkedDevice],
        alarm_zone: list[UUID] | None,
        store: ObjectStore,
        bus: CommandBus,
        effects: Effects,
    ) -> None:
        self.alarm = alarm
        self.devices = devices
        self.alarm_zone = alarm_zone
        self.store = store
        self.bus = bus
        self.effects = effects


async def _command(bus: CommandBus, device_id: UUID, action: str, args: dict[str, Any]) -> Any:
    try:
        return await devices_service.command(
            bus, device_id, action, args, requested_by=None, timeout=COMMAND_TIMEOUT
        )
    except devices_service.BridgeUnavailable:
        return None


async def _devices_action(
    ctx: Context,
    action: dict[str, Any],
    targets: list[LinkedDevice],
    skip: set[tuple[str, str]],
) -> tuple[str, dict[str, Any]]:
    """Run a device action on its targets; the bridge's own completed work is not repeated."""
    kind = action["kind"]
    todo = [d for d in targets if (d.external_id, kind) not in skip]
    results = await asyncio.gather(
        *(_command(ctx.bus, d.id, kind, action_args(action)) for d in todo)
    )
    outcome = []
    stored = 0
    for device, result in zip(todo, results, strict=True):
        status = result.status if result is not None else "bridge_offline"
        if kind == "snapshot" and result is not None and result.status == "ok":
            picture, content_type = result.data.get("data"), str(result.data.get("content_type"))
            if isinstance(picture, bytes) and content_type.startswith("image/"):
                await attach_media(
                    ctx.store,
                    ctx.alarm,
                    picture,
                    content_type=content_type,
                    source="camera",
                    device_id=device.id,
                )
                stored += 1
            else:
                status = "no_image"
        outcome.append({"device_id": str(device.id), "status": status})
    by_bridge = [
        {"device_id": str(d.id), "status": "done_by_bridge"}
        for d in targets
        if (d.external_id, kind) in skip
    ]
    ok = sum(o["status"] == "ok" for o in outcome) + len(by_bridge)
    status = (
        "skipped"
        if not targets
        else "ok"
        if ok == len(targets)
        else "failed"
        if not ok
        else "partial"
    )
    data: dict[str, Any] = {"devices": outcome + by_bridge}
    if kind == "snapshot":
        data["stored"] = stored
    return status, data


async def _perform(
    ctx: Context,
    rule: dict[str, Any],
    index: int,
    run_id: UUID,
    skip: set[tuple[str, str]],
) -> tuple[str, dict[str, Any]]:
    action = rule["actions"][index]
    kind = action["kind"]
    if kind == "notify":
        async with DB.transaction():
            told = await tell(ctx.alarm, list(action["roles"]), action.get("text", ""), ctx.effects)
        return "ok", {"roles": action["roles"], "accounts": told}
    if kind == "escalate":
        due = ctx.alarm.raised_at + timedelta(seconds=action["after"])
        await LinkageRun.update({LinkageRun.due_at: due}).where(LinkageRun.id == run_id)
        ctx.effects.job(
            jobs.ESCALATE_ALARM,
            run_id=run_id,
            defer=max(0.0, (due - _now()).total_seconds()),
            job_id=f"escalate:{run_id}",
        )
        return "scheduled", {"due_at": due.isoformat(), "roles": action["roles"]}
    zone = await zone_devices(rule["zone"])
    targets = action_targets(action, ctx.devices, rule_zone=zone, alarm_zone=ctx.alarm_zone)
    return await _devices_action(ctx, action, targets, skip)


async def _matching(alarm: AlarmRow) -> list[dict[str, Any]]:
    rows = (
        await LinkageRule.select()
        .where(
            (LinkageRule.community == alarm.community)
            & (LinkageRule.alarm_type == alarm.type)
            & LinkageRule.enabled.eq(True)
            & (
                LinkageRule.zone.is_null()
                if alarm.zone is None
                else (LinkageRule.zone.is_null() | (LinkageRule.zone == alarm.zone))
            )
        )
        .order_by(LinkageRule.id)
        .output(load_json=True)
    )
    local = alarm.raised_at.astimezone(SITE_TIMEZONE).time()
    return [r for r in rows if within_window(local, r["active_from"], r["active_until"])]


async def _claim(alarm_id: UUID, rule_id: UUID, index: int) -> UUID | None:
    rows = await LinkageRun.raw(_CLAIM, uuid4(), alarm_id, rule_id, index, _now())
    return rows[0]["id"] if rows else None


async def run_linkage(
    alarm_id: UUID, store: ObjectStore, bus: CommandBus, *, now: datetime | None = None
) -> Effects:
    """Run every matching rule's actions for an alarm, each once.

    A fail-safe rule's door and speaker actions wait `FAILSAFE_GRACE` when the alarm's bridge
    holds the current rules (it acts first, locally); the job then comes back for them and does
    only what the bridge did not report done.
    """
    effects = Effects()
    alarm = await alarm_row(alarm_id)
    if alarm is None or alarm.linkage_at is not None:
        return effects
    now = now or _now()
    source = await source_of(alarm.event)
    holds = source is not None and await bridge_holds_rules(source["bridge"])
    ctx = Context(
        alarm,
        await community_devices(alarm.community),
        await zone_devices(alarm.zone),
        store,
        bus,
        effects,
    )
    wait_until = alarm.raised_at + timedelta(seconds=FAILSAFE_GRACE)
    pending = False
    for rule in await _matching(alarm):
        for index, action in enumerate(rule["actions"]):
            local = rule["failsafe"] and action["kind"] in LOCAL_ACTIONS
            if local and holds and now < wait_until:
                pending = True
                continue
            run_id = await _claim(alarm_id, rule["id"], index)
            if run_id is None:
                continue  # done already (or being done) by an earlier run
            skip = await done_at_bridge(source, rule["id"]) if local else set()
            try:
                status, data = await _perform(ctx, rule, index, run_id, skip)
            except Exception as err:
                log.exception("alarm.linkage.failed", alarm_id=str(alarm_id), rule=str(rule["id"]))
                status, data = "failed", {"error": type(err).__name__}
            async with DB.transaction():
                await LinkageRun.update(
                    {
                        LinkageRun.status: status,
                        LinkageRun.detail: msgspec.json.encode(data).decode()[:2000],
                    }
                ).where(LinkageRun.id == run_id)
                await AlarmEntry(
                    alarm=alarm_id,
                    at=_now(),
                    kind="linkage",
                    text=f"{rule['name']}: {action['kind']}",
                    data={
                        "rule": str(rule["id"]),
                        "action": action["kind"],
                        "status": status,
                        **data,
                    },
                ).save()
    if pending:
        effects.job(
            jobs.RUN_LINKAGE,
            alarm_id=alarm_id,
            defer=max(0.1, (wait_until - _now()).total_seconds()),
            job_id=f"linkage:{alarm_id}:failsafe",
        )
    else:
        await Alarm.update({Alarm.linkage_at: _now()}).where(Alarm.id == alarm_id)
    effects.after(BOARD, alarm_id)
    return effects


async def lost_linkage(now: datetime | None = None) -> list[UUID]:
    """Alarms of the last day whose linkage job never finished (a lost job)."""
    now = now or _now()
    rows = await Alarm.select(Alarm.id).where(
        Alarm.linkage_at.is_null()
        & (Alarm.raised_at > now - timedelta(days=1))
        & (Alarm.raised_at < now - timedelta(seconds=FAILSAFE_GRACE + 60))
    )
    return [r["id"] for r in rows]


async def due_escalations(now: datetime | None = None) -> list[UUID]:
    """Escalations past due by a while that nobody ran (a lost job)."""
    now = now or _now()
    rows = await LinkageRun.select(LinkageRun.id).where(
        (LinkageRun.status == "scheduled") & (LinkageRun.due_at < now - timedelta(seconds=30))
    )
    return [r["id"] for r in rows]


async def lost_jobs(sweep: str) -> Effects:
    """The entry-delay checks, linkage runs and escalations whose jobs were lost, to enqueue again.

    Each job id is the sweep's own id and the job's key: a retried sweep enqueues nothing twice,
    and the next sweep (another id) tries again whatever a lost or failed job left undone.
    """
    effects = Effects()
    for event_id in await due_trips():
        effects.job(jobs.CONFIRM_TRIP, event_id=event_id, job_id=f"{sweep}:trip:{event_id}")
    for alarm_id in await lost_linkage():
        effects.job(jobs.RUN_LINKAGE, alarm_id=alarm_id, job_id=f"{sweep}:linkage:{alarm_id}")
    for run_id in await due_escalations():
        effects.job(jobs.ESCALATE_ALARM, run_id=run_id, job_id=f"{sweep}:escalate:{run_id}")
    return effects
