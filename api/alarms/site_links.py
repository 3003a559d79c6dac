"""A site's bridge out of reach: one `device_offline` alarm for the site, closed when it is back.

A dropped link is recorded at once (`device.offline`, scope bridge: api/devices/service.py) but
the alarm waits for the grace (`ANJU_BRIDGE_OFFLINE_GRACE_S`): a bridge restarting or a network
blip of a few seconds is nobody's emergency. Past it the sweep raises one alarm naming the bridge —
every device behind it is out of reach, but that is one fault to send a guard to, not one per
device. The alarm keeps the drop's event id (unique), so however often the sweep runs one outage
raises one alarm. When the link returns the link hook closes it (`resolved`, by the platform);
the sweep closes any the hook missed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog
from piccolo.columns.combination import Combinable, WhereRaw

from api.alarms.catalogue import OPEN_STATES
from api.alarms.raising import open_alarm
from api.alarms.reads import BOARD
from api.alarms.tables import Alarm, AlarmEntry
from api.audit.service import record
from api.core.effects import Effects
from api.devices.service import lost_links
from api.piccolo_conf import DB

log = structlog.get_logger()

RESTORED_NOTE = "网桥链路已恢复，告警自动关闭。"


def _now() -> datetime:
    return datetime.now(UTC)


def _site_alarms() -> Combinable:
    """Open device_offline alarms raised for a whole site (they name a bridge, not a device)."""
    return (
        (Alarm.type == "device_offline")
        & Alarm.source_device.is_null()
        & Alarm.state.is_in(list(OPEN_STATES))
        & WhereRaw("location ? 'bridge'")
    )


async def raise_for_lost_links(grace: timedelta) -> Effects:
    """One alarm per outage for every bridge down longer than `grace` that has none yet."""
    effects = Effects()
    for lost in await lost_links(grace):
        async with DB.transaction():
            if await Alarm.exists().where(Alarm.event == lost.event):
                continue
            minutes = max(1, int((_now() - lost.since).total_seconds() // 60))
            await open_alarm(
                lost.community,
                "device_offline",
                effects=effects,
                place=f"{lost.name} 网桥",
                location={"bridge": str(lost.bridge), "since": lost.since.isoformat()},
                event_id=lost.event,
                note=f"现场网桥链路中断约 {minutes} 分钟，其下设备均不可达，请派人检查网络与供电。",
            )
        log.warning("alarm.site_offline", bridge_id=str(lost.bridge), event_id=lost.event)
    return effects


async def close_for_link(bridge_id: UUID) -> Effects:
    """The bridge is back: close the open alarm of its outage (the link hook)."""
    return await _close(WhereRaw("location->>'bridge' = {}", str(bridge_id)))


async def close_restored() -> Effects:
    """Close the outage alarms of bridges that are online again (what the link hook missed)."""
    return await _close(
        WhereRaw("location->>'bridge' IN (SELECT id::text FROM bridges WHERE online)")
    )


async def _close(which: Combinable) -> Effects:
    effects = Effects()
    now = _now()
    async with DB.transaction():
        closed = (
            await Alarm.update({Alarm.state: "resolved", Alarm.resolved_at: now})
            .where(_site_alarms() & which)
            .returning(Alarm.id, Alarm.community)
        )
        for alarm in closed:
            await AlarmEntry(alarm=alarm["id"], at=now, kind="resolved", text=RESTORED_NOTE).save()
            await record(
                "alarm.resolved",
                actor_name="platform",
                target_type="alarm",
                target_id=alarm["id"],
                community_id=alarm["community"],
                details={"reason": "link_restored"},
            )
            effects.after(BOARD, alarm["id"])
    return effects


async def sweep(grace: timedelta) -> Effects:
    """Raise what is due and close what is back (the worker's sweep, every few seconds)."""
    effects = await close_restored()
    effects.merge(await raise_for_lost_links(grace))
    return effects
