"""Sensible starting plans and rules for a new community (the demo seeds them).

A fire fail-safe rule (every door released, evacuation broadcast on every speaker — also run by
the bridge itself), perimeter snapshots with escalation, SOS escalation to managers and police,
and a plan for each common alarm type. Property managers edit them afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.alarms.tables import EmergencyPlan, LinkageRule
from api.audit.service import record
from api.piccolo_conf import DB

EVACUATE = "火警！请保持冷静，沿疏散通道有序撤离，不要乘坐电梯。"

PLANS: dict[str, tuple[str, list[str]]] = {
    "fire": (
        "火警处置预案",
        [
            "查看联动视频，确认火情位置和规模",
            "拨打 119，并报告物业经理",
            "确认疏散通道门禁已全部打开",
            "组织人员疏散，引导远离电梯",
            "到场使用灭火器或消火栓进行初期扑救",
            "火情消除后复核现场并记录",
        ],
    ),
    "sos": (
        "住户紧急求助预案",
        [
            "回电住户确认情况",
            "派最近的保安携急救包上门",
            "需要时拨打 120 或 110",
            "到场后在系统内反馈处置情况",
        ],
    ),
    "perimeter": (
        "周界入侵处置预案",
        [
            "调取防区视频确认入侵",
            "派巡逻保安前往防区",
            "确认为误报时记录原因",
            "确认入侵时报警 110 并保护现场",
        ],
    ),
    "intrusion": (
        "入侵报警处置预案",
        ["调取视频确认", "派保安到场核查", "联系住户或负责人", "记录处置结果"],
    ),
    "gas": (
        "燃气泄漏处置预案",
        [
            "通知住户关闭燃气阀门、开窗通风，严禁明火和开关电器",
            "派保安到场，疏散周边住户",
            "通知燃气公司抢修",
            "复核浓度恢复正常后记录",
        ],
    ),
    "water_leak": (
        "水浸处置预案",
        ["查看视频确认漏水位置", "关闭相关阀门", "通知维修人员", "清理现场并记录"],
    ),
    "door_forced": (
        "门被强开处置预案",
        ["调取门口视频", "派保安到场核查", "检查门禁设备是否损坏", "记录处置结果"],
    ),
    "falling_object": (
        "高空抛物处置预案",
        ["调取视频确认楼层", "派保安到场保护现场", "需要时报警 110", "记录并公示提醒"],
    ),
}

RULES: list[dict[str, Any]] = [
    {
        "name": "火警联动：开门疏散与广播（本地兜底）",
        "alarm_type": "fire",
        "failsafe": True,
        "actions": [{"kind": "unlock", "devices": []}, {"kind": "broadcast", "text": EVACUATE}],
    },
    {
        "name": "周界入侵：抓拍并两分钟未确认升级",
        "alarm_type": "perimeter",
        "failsafe": False,
        "actions": [
            {"kind": "snapshot", "devices": []},
            {"kind": "escalate", "after": 120, "roles": ["property_manager"]},
        ],
    },
    {
        "name": "紧急求助：一分钟未确认升级",
        "alarm_type": "sos",
        "failsafe": False,
        "actions": [{"kind": "escalate", "after": 60, "roles": ["property_manager", "police"]}],
    },
]


async def seed_defaults(community_id: UUID) -> bool:
    """Give a community the default plans and rules unless it has some; True when seeded now."""
    if await EmergencyPlan.exists().where(EmergencyPlan.community == community_id) or (
        await LinkageRule.exists().where(LinkageRule.community == community_id)
    ):
        return False
    now = datetime.now(UTC)
    async with DB.transaction():
        await EmergencyPlan.insert(
            *(
                EmergencyPlan(
                    community=community_id,
                    alarm_type=alarm_type,
                    title=title,
                    steps=steps,
                    updated_at=now,
                )
                for alarm_type, (title, steps) in PLANS.items()
            )
        )
        await LinkageRule.insert(
            *(LinkageRule(community=community_id, updated_at=now, **rule) for rule in RULES)
        )
        await record(
            "alarm.defaults.seeded",
            actor_name="system",
            community_id=community_id,
            details={"plans": len(PLANS), "rules": len(RULES)},
        )
    return True
