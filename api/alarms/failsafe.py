"""Fail-safe rules at the bridge: a linkage rule marked `failsafe` is also run by the site's bridge
itself (device_bridge/rules.py), so that a fire still opens the doors when the platform is away.

Each bridge gets its share of the rules: those a device on it can trigger, with the actions on its
own devices, as `protocol.Rules` (external device ids). The share is versioned per bridge: the
version goes up whenever what that bridge should hold changes. It is sent on every link
authentication (and after each inventory, when devices changed it) and pushed whenever rules or
zones change; the bridge answers `RulesApplied(version)`.

When the bridge runs a rule it records a `rule.fired` event (`data.rule` = the linkage rule id,
`data.trigger.seq` = the triggering event's seq, `data.results` = each action's device, action
and status). The platform's linkage job gives a bridge that holds the current rules a short grace
to report, then runs a fail-safe action only on the devices the bridge did not report done.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
import structlog
from piccolo.columns.combination import WhereRaw
from redis.asyncio import Redis

from api.alarms.catalogue import ACTION_DEVICE_KINDS, FAILSAFE_TRIGGERS, LOCAL_ACTIONS
from api.alarms.rows import LinkedDevice
from api.alarms.tables import BridgeRules, IntrusionZone, LinkageRule
from api.devices.bus import commands_channel
from api.devices.tables import Bridge, Device, DeviceEvent
from device_bridge import protocol

log = structlog.get_logger()

RULES = "alarms.rules"  # after-commit hook: communities whose bridges get their rules again
FAILSAFE_GRACE = 6.0  # seconds: the bridge's action deadline (5 s) plus the trip to the platform

_UPSERT = """
INSERT INTO bridge_failsafe_rules (id, bridge, sent_version, digest, sent_at)
VALUES ({}, {}, 1, {}, {})
ON CONFLICT (bridge) DO UPDATE SET
    sent_version = CASE WHEN bridge_failsafe_rules.digest = EXCLUDED.digest
                        THEN bridge_failsafe_rules.sent_version
                        ELSE bridge_failsafe_rules.sent_version + 1 END,
    digest = EXCLUDED.digest,
    sent_at = EXCLUDED.sent_at
RETURNING sent_version
"""


def action_args(action: dict[str, Any]) -> dict[str, Any]:
    """The command arguments of a device action."""
    match action["kind"]:
        case "broadcast":
            return {"text": action["text"]}
        case "preset":
            return {"preset": action["preset"]}
        case "unlock" | "lock":
            return {"reason": "alarm linkage"}
        case _:
            return {}


def action_targets(
    action: dict[str, Any],
    devices: dict[UUID, LinkedDevice],
    *,
    rule_zone: list[UUID] | None,
    alarm_zone: list[UUID] | None,
) -> list[LinkedDevice]:
    """The devices an action works on.

    Listed devices, if any. Otherwise those of a fitting kind in the rule's zone; for a rule
    without a zone, cameras come from the alarm's zone and doors and speakers from the whole
    community (an evacuation reaches everyone).
    """
    kinds = ACTION_DEVICE_KINDS.get(action["kind"], frozenset())
    if action.get("devices"):
        pool = [UUID(str(d)) for d in action["devices"]]
    elif rule_zone is not None:
        pool = rule_zone
    elif action["kind"] in ("snapshot", "preset"):
        pool = alarm_zone or []
    else:
        pool = list(devices)
    return [devices[d] for d in pool if d in devices and devices[d].kind in kinds]


async def community_devices(community_id: UUID) -> dict[UUID, LinkedDevice]:
    """Every device of a community by id: external id, kind, bridge."""
    rows = await Device.select(Device.id, Device.external_id, Device.kind, Device.bridge).where(
        Device.community == community_id
    )
    return {d.id: d for d in msgspec.convert(rows, list[LinkedDevice])}


async def zone_devices(zone_id: UUID | None) -> list[UUID] | None:
    """A zone's device ids (None for no zone)."""
    if zone_id is None:
        return None
    row = (
        await IntrusionZone.select(IntrusionZone.devices)
        .where(IntrusionZone.id == zone_id)
        .output(load_json=True)
        .first()
    )
    return [UUID(str(d)) for d in row["devices"] or []] if row else []


async def local_rules(bridge_id: UUID, community_id: UUID) -> list[protocol.LocalRule]:
    """The share of the community's fail-safe rules this bridge can run by itself."""
    rules = (
        await LinkageRule.select()
        .where(
            (LinkageRule.community == community_id)
            & LinkageRule.failsafe.eq(True)
            & LinkageRule.enabled.eq(True)
        )
        .order_by(LinkageRule.id)
        .output(load_json=True)
    )
    if not rules:
        return []
    devices = await community_devices(community_id)
    found = []
    for rule in rules:
        trigger = FAILSAFE_TRIGGERS.get(rule["alarm_type"])
        if trigger is None:
            continue
        when_kind, kinds = trigger
        zone = await zone_devices(rule["zone"])
        scope = [devices[d] for d in (zone if zone is not None else devices) if d in devices]
        when = sorted(
            d.external_id for d in scope if d.bridge == bridge_id and (not kinds or d.kind in kinds)
        )
        if not when:
            continue  # nothing on this bridge can trigger it (and empty would mean "any device")
        then = [
            protocol.RuleAction(
                device=d.external_id, action=action["kind"], args=action_args(action)
            )
            for action in rule["actions"]
            if action["kind"] in LOCAL_ACTIONS
            for d in action_targets(action, devices, rule_zone=zone, alarm_zone=None)
            if d.bridge == bridge_id
        ]
        if then:
            found.append(
                protocol.LocalRule(
                    id=str(rule["id"]), when_kind=when_kind, when_devices=when, then=then
                )
            )
    return found


async def frame_for(bridge_id: UUID, *, force: bool = False) -> tuple[protocol.Rules | None, bool]:
    """The bridge's Rules frame and whether it changed since last sent.

    None when the bridge never held platform rules and there are none for it (old bridges and
    communities without fail-safe rules see no new frame) — unless `force`.
    """
    bridge = await Bridge.select(Bridge.community).where(Bridge.id == bridge_id).first()
    if bridge is None:
        return None, False
    rules = await local_rules(bridge_id, bridge["community"])
    if (
        not rules
        and not force
        and not await BridgeRules.exists().where(BridgeRules.bridge == bridge_id)
    ):
        return None, False
    digest = hashlib.sha256(protocol.encode(protocol.Rules(version=0, rules=rules))).hexdigest()
    previous = (
        await BridgeRules.select(BridgeRules.digest).where(BridgeRules.bridge == bridge_id).first()
    )
    row = (await BridgeRules.raw(_UPSERT, uuid4(), bridge_id, digest, datetime.now(UTC)))[0]
    changed = previous is None or previous["digest"] != digest
    return protocol.Rules(version=row["sent_version"], rules=rules), changed


async def push_rules(redis: Redis, community_id: UUID) -> int:
    """Send each bridge of the community its changed share (over the command bus); how many."""
    bridges = await Bridge.select(Bridge.id).where(
        (Bridge.community == community_id) & Bridge.revoked_at.is_null()
    )
    sent = 0
    for bridge in bridges:
        frame, changed = await frame_for(bridge["id"])
        if frame is not None and changed:
            # The link forwards whatever arrives on its command channel to the bridge as is.
            await redis.publish(commands_channel(bridge["id"]), protocol.encode(frame))
            log.info("alarm.failsafe.pushed", bridge_id=str(bridge["id"]), version=frame.version)
            sent += 1
    return sent


async def applied(bridge_id: UUID, version: int) -> None:
    """The bridge stored and runs this version."""
    await BridgeRules.update(
        {BridgeRules.applied_version: version, BridgeRules.applied_at: datetime.now(UTC)}
    ).where(BridgeRules.bridge == bridge_id)
    log.info("alarm.failsafe.applied", bridge_id=str(bridge_id), version=version)


async def bridge_holds_rules(bridge_id: UUID) -> bool:
    """Whether the bridge said it runs the latest rules it was sent."""
    row = (
        await BridgeRules.select(BridgeRules.sent_version, BridgeRules.applied_version)
        .where(BridgeRules.bridge == bridge_id)
        .first()
    )
    return bool(row and row["applied_version"] == row["sent_version"])


async def source_of(event_id: int | None) -> dict[str, Any] | None:
    """The bridge and seq of the event that raised an alarm."""
    if event_id is None:
        return None
    row: dict[str, Any] | None = (
        await DeviceEvent.select(DeviceEvent.bridge, DeviceEvent.seq)
        .where(DeviceEvent.id == event_id)
        .first()
    )
    return row if row and row["seq"] is not None else None


async def done_at_bridge(source: dict[str, Any] | None, rule_id: UUID) -> set[tuple[str, str]]:
    """(external device id, action) pairs the bridge reports it ran for this rule and trigger."""
    if source is None:
        return set()
    rows = (
        await DeviceEvent.select(DeviceEvent.data)
        .where(
            (DeviceEvent.bridge == source["bridge"])
            & (DeviceEvent.kind == "rule.fired")
            & WhereRaw("data->>'rule' = {}", str(rule_id))
            & WhereRaw("data->'trigger'->>'seq' = {}", str(source["seq"]))
        )
        .output(load_json=True)
    )
    return {
        (str(r.get("device")), str(r.get("action")))
        for row in rows
        for r in row["data"].get("results", [])
        if r.get("status") == "ok"
    }
