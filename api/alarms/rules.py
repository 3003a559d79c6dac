"""Linkage rules (报警联动): editing them. Running them is linkage.py; their fail-safe share for the
bridges is failsafe.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from api.alarms.catalogue import ACTION_DEVICE_KINDS, FAILSAFE_TRIGGERS
from api.alarms.errors import FailsafeNotSupported, UnknownDevice
from api.alarms.failsafe import RULES
from api.alarms.plans import zone_of_community
from api.alarms.schemas_config import AnyAction, RuleCreate, RulePage, RuleRead, RuleUpdate
from api.alarms.tables import LinkageRule, LinkageRun
from api.audit.service import record
from api.core.auth import Caller, require_staff, staff_communities
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import paged_page
from api.devices.tables import Device
from api.piccolo_conf import DB


def _now() -> datetime:
    return datetime.now(UTC)


def _read(row: dict[str, Any]) -> RuleRead:
    return RuleRead(
        id=row["id"],
        community_id=row["community"],
        name=row["name"],
        alarm_type=row["alarm_type"],
        zone_id=row["zone"],
        active_from=row["active_from"],
        active_until=row["active_until"],
        actions=msgspec.convert(row["actions"], list[AnyAction]),
        failsafe=row["failsafe"],
        enabled=row["enabled"],
        updated_at=row["updated_at"],
    )


async def _rule(caller: Caller, rule_id: UUID) -> dict[str, Any]:
    row: dict[str, Any] | None = (
        await LinkageRule.select().where(LinkageRule.id == rule_id).output(load_json=True).first()
    )
    if row is None:
        raise NotFound()
    require_staff(caller, "alarm.configure", row["community"])
    return row


async def _check_actions(community_id: UUID, actions: list[dict[str, Any]]) -> None:
    """Every device an action lists is the community's and of a kind that can do it."""
    for action in actions:
        ids = {UUID(str(d)) for d in action.get("devices", [])}
        if not ids:
            continue
        found = await Device.count().where(
            Device.id.is_in(list(ids))
            & (Device.community == community_id)
            & Device.kind.is_in(list(ACTION_DEVICE_KINDS[action["kind"]]))
        )
        if found != len(ids):
            raise UnknownDevice(field="actions")


async def create_rule(caller: Caller, data: RuleCreate, effects: Effects) -> RuleRead:
    """A new linkage rule (property managers); fail-safe ones go to the bridges too."""
    require_staff(caller, "alarm.configure", data.community_id)
    await zone_of_community(data.zone_id, data.community_id)
    if data.failsafe and data.alarm_type not in FAILSAFE_TRIGGERS:
        raise FailsafeNotSupported(field="failsafe")
    actions = msgspec.to_builtins(data.actions)
    await _check_actions(data.community_id, actions)
    async with DB.transaction():
        rule = LinkageRule(
            community=data.community_id,
            name=data.name,
            alarm_type=data.alarm_type,
            zone=data.zone_id,
            active_from=data.active_from,
            active_until=data.active_until,
            actions=actions,
            failsafe=data.failsafe,
            enabled=data.enabled,
            updated_at=_now(),
        )
        await rule.save()
        await record(
            "linkage_rule.created",
            actor=caller,
            target_type="linkage_rule",
            target_id=rule.id,
            community_id=data.community_id,
            details={"alarm_type": data.alarm_type, "failsafe": data.failsafe},
        )
    effects.after(RULES, data.community_id)
    return await get_rule(caller, rule.id)


async def get_rule(caller: Caller, rule_id: UUID) -> RuleRead:
    """One rule."""
    return _read(await _rule(caller, rule_id))


async def list_rules(
    caller: Caller, *, community_id: UUID | None, page: int, page_size: int
) -> RulePage:
    """The rules of a community, or of every community the caller configures."""
    return await paged_page(
        RulePage,
        _read,
        LinkageRule.select()
        .order_by(LinkageRule.alarm_type)
        .order_by(LinkageRule.name)
        .output(load_json=True),
        staff_communities(caller, "alarm.configure", LinkageRule.community, community_id),
        page=page,
        page_size=page_size,
    )


async def update_rule(
    caller: Caller, rule_id: UUID, data: RuleUpdate, effects: Effects
) -> RuleRead:
    """Change a rule."""
    row = await _rule(caller, rule_id)
    changes: dict[Any, Any] = {}
    for name in ("name", "active_from", "active_until", "failsafe", "enabled"):
        if (value := getattr(data, name)) is not msgspec.UNSET:
            changes[getattr(LinkageRule, name)] = value
    if data.actions is not msgspec.UNSET:
        actions = msgspec.to_builtins(data.actions)
        await _check_actions(row["community"], actions)
        changes[LinkageRule.actions] = actions
    failsafe = data.failsafe if data.failsafe is not msgspec.UNSET else row["failsafe"]
    if failsafe and row["alarm_type"] not in FAILSAFE_TRIGGERS:
        raise FailsafeNotSupported(field="failsafe")
    async with DB.transaction():
        await LinkageRule.update({**changes, LinkageRule.updated_at: _now()}).where(
            LinkageRule.id == rule_id
        )
        await record(
            "linkage_rule.updated",
            actor=caller,
            target_type="linkage_rule",
            target_id=rule_id,
            community_id=row["community"],
            details={"fields": sorted(c._meta.name for c in changes)},
        )
    effects.after(RULES, row["community"])
    return await get_rule(caller, rule_id)


async def delete_rule(caller: Caller, rule_id: UUID, effects: Effects) -> None:
    """Delete a rule (what it did for past alarms stays on their timelines)."""
    row = await _rule(caller, rule_id)
    async with DB.transaction():
        await LinkageRun.delete().where(LinkageRun.rule == rule_id)
        await LinkageRule.delete().where(LinkageRule.id == rule_id)
        await record(
            "linkage_rule.deleted",
            actor=caller,
            target_type="linkage_rule",
            target_id=rule_id,
            community_id=row["community"],
        )
    effects.after(RULES, row["community"])
