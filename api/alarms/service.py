"""Handling alarms: acknowledge, dispatch, resolve, false alarm, assign, notes and photos;
escalation; and the retention sweep.

State machine (anything else is 409 `alarm_transition_not_allowed`, resolving twice included):

    new → acknowledged → dispatched → resolved | false_alarm
          acknowledged ─────────────→ resolved | false_alarm
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from api.accounts.tables import RoleAssignment
from api.alarms.catalogue import RETENTION, TRANSITIONS, keep_days
from api.alarms.errors import InvalidAssignee, InvalidMedia, TransitionNotAllowed
from api.alarms.raising import message, tell
from api.alarms.reads import BOARD, alarm_row, in_scope
from api.alarms.roster import display_name
from api.alarms.rows import AlarmRow
from api.alarms.schemas import DispatchBody, MediaCreate
from api.alarms.tables import Alarm, AlarmEntry, LinkageRule, LinkageRun
from api.audit.service import record
from api.core.auth import Caller, Role
from api.core.effects import Effects
from api.core.realtime import user_channel
from api.core.storage import ObjectStore, is_image
from api.piccolo_conf import DB
from api.push.service import DISPATCH, notify

log = structlog.get_logger()

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/svg+xml": "svg",
    "image/gif": "gif",
}
HANDLERS = (Role.GUARD, Role.PROPERTY_MANAGER)


def _now() -> datetime:
    return datetime.now(UTC)


async def transition(
    caller: Caller, alarm_id: UUID, to: str, effects: Effects, *, note: str = ""
) -> None:
    """Move an alarm to a state the machine allows from its current one; 409 otherwise."""
    await in_scope(caller, alarm_id, "alarm.handle")
    now = _now()
    values: dict[Any, Any] = {Alarm.state: to}
    if to == "acknowledged":
        values[Alarm.acknowledged_at] = now
    if to in ("resolved", "false_alarm"):
        values[Alarm.resolved_at] = now
    async with DB.transaction():
        # One conditional update: of two guards pressing at once, one wins and one gets 409.
        changed = (
            await Alarm.update(values)
            .where((Alarm.id == alarm_id) & Alarm.state.is_in(list(TRANSITIONS[to])))
            .returning(Alarm.id, Alarm.community, Alarm.raised_by, Alarm.assigned_to)
        )
        if not changed:
            row = await alarm_row(alarm_id)
            raise TransitionNotAllowed(
                f"The alarm is {row.state if row else 'gone'}; it cannot become {to}.",
                state=row.state if row else None,
                to=to,
            )
        alarm = changed[0]
        if to == "acknowledged" and alarm["assigned_to"] is None:
            await Alarm.update({Alarm.assigned_to: caller.account_id}).where(Alarm.id == alarm_id)
        await AlarmEntry(alarm=alarm_id, at=now, kind=to, actor=caller.account_id, text=note).save()
        await record(
            f"alarm.{to}",
            actor=caller,
            target_type="alarm",
            target_id=alarm_id,
            community_id=alarm["community"],
        )
        if to == "acknowledged" and alarm["raised_by"] is not None:
            effects.send(
                {
                    "type": "alarm.acknowledged",
                    "alarm_id": str(alarm_id),
                    "by": caller.display_name,
                    "at": now.isoformat(),
                },
                user_channel(alarm["raised_by"]),
            )
    effects.after(BOARD, alarm_id)


async def _check_assignee(community_id: UUID, account_id: UUID) -> None:
    if not await RoleAssignment.exists().where(
        (RoleAssignment.account == account_id)
        & (RoleAssignment.community == community_id)
        & RoleAssignment.role.is_in(list(HANDLERS))
        & RoleAssignment.account._.is_active.eq(True)
    ):
        raise InvalidAssignee(field="account_id")


async def _assign(caller: Caller, alarm: AlarmRow, account_id: UUID, effects: Effects) -> None:
    """Record an assignment and tell the assignee (inside the caller's transaction)."""
    await Alarm.update({Alarm.assigned_to: account_id}).where(Alarm.id == alarm.id)
    name = await display_name(account_id)
    await AlarmEntry(
        alarm=alarm.id,
        at=_now(),
        kind="assigned",
        actor=caller.account_id,
        text=name or "",
        data={"account_id": str(account_id)},
    ).save()
    if account_id != caller.account_id:
        effects.after(
            DISPATCH, *await _notify_one(alarm, account_id, f"{caller.display_name} 指派")
        )


async def _notify_one(alarm: AlarmRow, account_id: UUID, body: str) -> list[UUID]:
    place = (alarm.location or {}).get("text", "")
    return await notify([account_id], message(alarm.id, alarm.type, alarm.severity, place, body))


async def dispatch(caller: Caller, alarm_id: UUID, data: DispatchBody, effects: Effects) -> None:
    """Acknowledged → dispatched, with an assignee (a guard or manager of the community)."""
    alarm = await in_scope(caller, alarm_id, "alarm.handle")
    if data.assignee_id is not None:
        await _check_assignee(alarm.community, data.assignee_id)
    async with DB.transaction():
        await transition(caller, alarm_id, "dispatched", effects, note=data.note)
        if data.assignee_id is not None:
            await _assign(caller, alarm, data.assignee_id, effects)


async def assign(caller: Caller, alarm_id: UUID, account_id: UUID, effects: Effects) -> None:
    """Hand an alarm to a guard or manager of its community."""
    alarm = await in_scope(caller, alarm_id, "alarm.handle")
    await _check_assignee(alarm.community, account_id)
    async with DB.transaction():
        await _assign(caller, alarm, account_id, effects)
        await record(
            "alarm.assigned",
            actor=caller,
            target_type="alarm",
            target_id=alarm_id,
            community_id=alarm.community,
            details={"account_id": str(account_id)},
        )
    effects.after(BOARD, alarm_id)


async def add_note(caller: Caller, alarm_id: UUID, text: str, effects: Effects) -> None:
    """A note on the timeline (also after the alarm is closed: the record stays complete)."""
    alarm = await in_scope(caller, alarm_id, "alarm.handle")
    async with DB.transaction():
        await AlarmEntry(
            alarm=alarm_id, at=_now(), kind="note", actor=caller.account_id, text=text
        ).save()
        await record(
            "alarm.note",
            actor=caller,
            target_type="alarm",
            target_id=alarm_id,
            community_id=alarm.community,
        )
    effects.after(BOARD, alarm_id)


def media_key(alarm: AlarmRow, content_type: str) -> str:
    """Where a photo of an alarm lives in the object store."""
    ext = EXTENSIONS.get(content_type, "bin")
    return f"alarms/{alarm.community}/{alarm.id}/{uuid.uuid4().hex}.{ext}"


async def attach_media(
    store: ObjectStore,
    alarm: AlarmRow,
    data: bytes,
    *,
    content_type: str,
    source: str,
    actor: UUID | None = None,
    device_id: UUID | None = None,
    caption: str = "",
) -> UUID:
    """Store a photo under the alarm's retention class and put it on the timeline."""
    key = media_key(alarm, content_type)
    await store.put(key, data, content_type=content_type, retention=RETENTION[alarm.retention])
    entry = AlarmEntry(
        alarm=alarm.id,
        at=_now(),
        kind="media",
        actor=actor,
        text=caption,
        data={
            "key": key,
            "content_type": content_type,
            "size": len(data),
            "source": source,
            "device": str(device_id) if device_id else None,
        },
    )
    try:
        await entry.save()
    except Exception:
        await store.delete(key)  # nothing half-written: no object without its entry
        raise
    return entry.id


async def upload_media(
    caller: Caller, store: ObjectStore, alarm_id: UUID, data: MediaCreate, effects: Effects
) -> UUID:
    """A guard's photo of the scene."""
    alarm = await in_scope(caller, alarm_id, "alarm.handle")
    if not is_image(data.content_type, data.data):
        raise InvalidMedia(field="data")
    async with DB.transaction():
        entry_id = await attach_media(
            store,
            alarm,
            data.data,
            content_type=data.content_type,
            source="upload",
            actor=caller.account_id,
            caption=data.caption,
        )
        await record(
            "alarm.media",
            actor=caller,
            target_type="alarm",
            target_id=alarm_id,
            community_id=alarm.community,
            details={"entry": str(entry_id), "size": len(data.data)},
        )
    effects.after(BOARD, alarm_id)
    return entry_id


# -- escalation ------------------------------------------------------------------------------------


async def escalate(run_id: UUID) -> Effects:
    """A scheduled escalation is due: if nobody acknowledged the alarm, tell the next roles."""
    effects = Effects()
    async with DB.transaction():
        claimed = (
            await LinkageRun.update({LinkageRun.status: "running", LinkageRun.at: _now()})
            .where((LinkageRun.id == run_id) & (LinkageRun.status == "scheduled"))
            .returning(LinkageRun.alarm, LinkageRun.rule, LinkageRun.action_index)
        )
        if not claimed:
            return effects
        run = claimed[0]
        alarm = await alarm_row(run["alarm"])
        rule = (
            await LinkageRule.select(LinkageRule.actions)
            .where(LinkageRule.id == run["rule"])
            .output(load_json=True)
            .first()
        )
        actions = rule["actions"] if rule else []
        action = actions[run["action_index"]] if run["action_index"] < len(actions) else None
        if alarm is None or action is None or alarm.state != "new":
            status, detail = "skipped", "acknowledged in time" if alarm else "alarm gone"
        else:
            roles = list(action.get("roles", []))
            told = await tell(alarm, roles, f"{action.get('after')} 秒内无人确认，已升级", effects)
            await Alarm.update({Alarm.escalated_at: _now()}).where(Alarm.id == alarm.id)
            await AlarmEntry(
                alarm=alarm.id,
                at=_now(),
                kind="escalated",
                data={"roles": roles, "accounts": told, "after": action.get("after")},
            ).save()
            effects.after(BOARD, alarm.id)
            status, detail = "ok", f"{told} notified"
        await LinkageRun.update({LinkageRun.status: status, LinkageRun.detail: detail}).where(
            LinkageRun.id == run_id
        )
    return effects


# -- retention -------------------------------------------------------------------------------------


async def purge_expired(
    store: ObjectStore,
    *,
    now: datetime | None = None,
    configured_days: dict[str, int] | None = None,
) -> int:
    """Delete closed alarms past retention (6 months; SOS a year), with timeline and photos.

    `configured_days` may lengthen a class's period, never shorten it (standard 6.4.11, B4.4.1).
    Open alarms are kept until someone closes them.
    """
    now = now or _now()
    purged = 0
    for retention in RETENTION:
        cutoff = now - timedelta(days=keep_days(retention, (configured_days or {}).get(retention)))
        rows = await Alarm.select(Alarm.id).where(
            (Alarm.retention == retention)
            & (Alarm.raised_at < cutoff)
            & Alarm.state.is_in(["resolved", "false_alarm"])
        )
        for row in rows:
            media = (
                await AlarmEntry.select(AlarmEntry.data)
                .where((AlarmEntry.alarm == row["id"]) & (AlarmEntry.kind == "media"))
                .output(load_json=True)
            )
            async with DB.transaction():
                await LinkageRun.delete().where(LinkageRun.alarm == row["id"])
                await AlarmEntry.delete().where(AlarmEntry.alarm == row["id"])
                await Alarm.delete().where(Alarm.id == row["id"])
            for m in media:
                await store.delete(m["data"]["key"])
            purged += 1
    if purged:
        await record("alarm.retention.purged", actor_name="retention", details={"alarms": purged})
        log.info("alarm.retention.purged", alarms=purged)
    return purged
