"""What alarms there are: types, severities, labels, the device events that raise them, retention.

Pure data and small pure functions; no queries. Labels are Chinese (the PWA localises by `type`).
"""

from __future__ import annotations

from datetime import time
from typing import Any, Final, Literal, get_args
from zoneinfo import ZoneInfo

from api.core.storage import RetentionClass

AlarmType = Literal[
    "intrusion",
    "perimeter",
    "sos",
    "door_forced",
    "door_held_open",
    "door_unauthorized",
    "door_close_timeout",
    "door_open_failed",
    "fire",
    "gas",
    "water_leak",
    "temperature",
    "device_offline",
    "video_loss",
    "tamper",
    "line_crossing",
    "falling_object",
    "ebike_in_lift",
    "loitering",
    "watchlist",
    "access_failed_reads",
    "access_passback",
    "access_tailgating",
    "vehicle_blacklisted",
    "barrier_open_failed",
    "barrier_unauthorized",
    "barrier_held_open",
    "barrier_close_failed",
    "patrol_missed",
    "patrol_late",
    "video_patrol_issue",
]
ALARM_TYPES: Final = frozenset(get_args(AlarmType))
Severity = Literal["low", "medium", "high", "critical"]
State = Literal["new", "acknowledged", "dispatched", "resolved", "false_alarm"]
OPEN_STATES: Final = ("new", "acknowledged", "dispatched")
CLOSED_STATES: Final = ("resolved", "false_alarm")

# target state -> the states it may be reached from (anything else: 409)
TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "acknowledged": ("new",),
    "dispatched": ("acknowledged",),
    "resolved": ("acknowledged", "dispatched"),
    "false_alarm": ("acknowledged", "dispatched"),
}

ZoneKind = Literal["perimeter", "area", "household", "household_sos"]
HOUSEHOLD_ZONES: Final = ("household", "household_sos")
# Standard 6.4.13: each bedroom, living room and bathroom of a household is its own SOS zone.
Room = Literal["bedroom", "living_room", "bathroom", "kitchen", "study", "other"]
ROOM_LABELS: Final[dict[str, str]] = {
    "bedroom": "卧室",
    "living_room": "客厅",
    "bathroom": "卫生间",
    "kitchen": "厨房",
    "study": "书房",
    "other": "其他房间",
}
SOS_ZONE_MAX_DEVICES: Final = 4  # standard 6.4.14: at most four emergency devices share a zone

# Who hears of an alarm the moment it is raised; linkage rules may add more (and escalate).
Recipient = Literal[
    "guard", "property_manager", "household", "police", "maintenance", "community_officer"
]

SITE_TIMEZONE: Final = ZoneInfo("Asia/Shanghai")  # schedules and time windows are wall-clock time


class Kind:
    """One alarm type: label, default severity, who is told at once."""

    def __init__(self, label: str, severity: Severity, first: tuple[Recipient, ...]) -> None:
        self.label = label
        self.severity = severity
        self.first = first


_GUARDS: tuple[Recipient, ...] = ("guard",)
_GUARDS_AND_MANAGERS: tuple[Recipient, ...] = ("guard", "property_manager")

KINDS: Final[dict[str, Kind]] = {
    "intrusion": Kind("入侵报警", "high", _GUARDS),
    "perimeter": Kind("周界入侵", "high", _GUARDS),
    "sos": Kind("紧急求助", "critical", _GUARDS_AND_MANAGERS),
    "door_forced": Kind("门被强行打开", "high", _GUARDS),
    "door_held_open": Kind("门长时间未关", "medium", _GUARDS),
    "door_unauthorized": Kind("非法开门", "medium", _GUARDS),
    "door_close_timeout": Kind("开门延时报警", "medium", _GUARDS),
    "door_open_failed": Kind("授权后门未打开", "medium", _GUARDS),
    "fire": Kind("火警", "critical", _GUARDS_AND_MANAGERS),
    "gas": Kind("燃气泄漏", "critical", _GUARDS_AND_MANAGERS),
    "water_leak": Kind("水浸报警", "high", _GUARDS),
    "temperature": Kind("温度异常", "medium", _GUARDS),
    "device_offline": Kind("设备离线", "low", _GUARDS),
    "video_loss": Kind("视频丢失", "medium", _GUARDS),
    "tamper": Kind("防拆报警", "high", _GUARDS),
    "line_crossing": Kind("越界侦测", "high", _GUARDS),
    "falling_object": Kind("高空抛物", "high", _GUARDS),
    "ebike_in_lift": Kind("电动车入梯", "high", _GUARDS),
    "loitering": Kind("人员滞留", "medium", _GUARDS),
    "watchlist": Kind("布控人员出现", "high", _GUARDS),
    "access_failed_reads": Kind("连续刷卡失败", "medium", _GUARDS),
    "access_passback": Kind("反潜回报警", "low", _GUARDS),
    "access_tailgating": Kind("尾随通行", "medium", _GUARDS),
    "vehicle_blacklisted": Kind("黑名单车辆", "high", _GUARDS),
    # barriers (VEH-12): the bridge tells these apart (device_bridge/vehicles.py)
    "barrier_open_failed": Kind("授权后道闸未抬杆", "medium", _GUARDS),
    "barrier_unauthorized": Kind("道闸非授权抬杆", "high", _GUARDS),
    "barrier_held_open": Kind("道闸长时间未落杆", "medium", _GUARDS),
    "barrier_close_failed": Kind("道闸未能落杆", "medium", _GUARDS),
    # a patrol round ended with points not scanned, or scanned only late (api/patrol/rounds.py)
    "patrol_missed": Kind("巡更漏检", "medium", _GUARDS_AND_MANAGERS),
    "patrol_late": Kind("巡更迟到", "low", _GUARDS_AND_MANAGERS),
    # a guard on a camera tour saw a problem (image unclear, something wrong in the picture);
    # no image at all raises `video_loss` on the camera (api/patrol/tour_runs.py)
    "video_patrol_issue": Kind("视频巡查异常", "medium", _GUARDS_AND_MANAGERS),
}
assert set(KINDS) == ALARM_TYPES

# Canonical event kinds (DESIGN.md) that may raise an alarm, and how.
_DIRECT: Final[dict[str, str]] = {
    "alarm.intrusion": "intrusion",  # "perimeter" when the zone is a perimeter zone
    "alarm.panic": "sos",
    "alarm.tamper": "tamper",
    "door.forced": "door_forced",
    "door.held_open": "door_held_open",
    "door.close_timeout": "door_close_timeout",
    "door.unauthorized_open": "door_unauthorized",
    "door.open_failed": "door_open_failed",  # a grant the door did not carry out (6.5.14)
    "barrier.open_failed": "barrier_open_failed",  # a lift the barrier did not carry out
    "barrier.unauthorized_open": "barrier_unauthorized",  # up with no lift asked for
    "barrier.held_open": "barrier_held_open",  # up past its lane's limit
    "barrier.close_failed": "barrier_close_failed",  # a close the barrier did not carry out
    "access.failed_reads": "access_failed_reads",  # 5 refusals in a row at one reader
    "access.passback": "access_passback",  # anti-passback (B1.3.3), as the device reports it
    "access.tailgating": "access_tailgating",
    "video.loss": "video_loss",
    "device.offline": "device_offline",
}
_SENSOR: Final[dict[str, str]] = {
    "smoke": "fire",
    "fire": "fire",
    "gas": "gas",
    "water": "water_leak",
    "temperature": "temperature",
}
_SENSOR_DEVICES: Final[dict[str, str]] = {
    "smoke_sensor": "fire",
    "gas_sensor": "gas",
    "water_sensor": "water_leak",
    "temperature_sensor": "temperature",
}
_ANALYTICS: Final[dict[str, str]] = {
    "line_crossing": "line_crossing",
    "falling_object": "falling_object",
    "ebike_in_lift": "ebike_in_lift",
    "loitering": "loitering",
    "watchlist": "watchlist",  # a face camera matched a face on the community's watchlist
}
EVENT_KINDS: Final = frozenset({*_DIRECT, "sensor.alarm", "video.analytics", "plate.read"})


def alarm_type_of(kind: str, data: dict[str, Any], device_kind: str | None) -> str | None:
    """The alarm type an event raises, or None when it raises none."""
    if kind in _DIRECT:
        return _DIRECT[kind]
    if kind == "sensor.alarm":
        sub = str(data.get("kind", ""))
        return _SENSOR.get(sub) or (_SENSOR_DEVICES.get(device_kind or "") if not sub else None)
    if kind == "video.analytics":
        return _ANALYTICS.get(str(data.get("kind", "")))
    if kind == "plate.read" and data.get("reason") == "blacklisted":
        return "vehicle_blacklisted"  # a blacklisted car at a barrier (VEH-23), kept out
    return None


# Fail-safe rules run at the bridge: the event that triggers them there, and which devices report
# it (empty: any device). Types gated by arming (intrusion) or raised by people (sos from the app
# also comes from panic buttons, which the bridge can see) are listed only where a bridge can tell.
FAILSAFE_TRIGGERS: Final[dict[str, tuple[str, frozenset[str]]]] = {
    "fire": ("sensor.alarm", frozenset({"smoke_sensor"})),
    "gas": ("sensor.alarm", frozenset({"gas_sensor"})),
    "water_leak": ("sensor.alarm", frozenset({"water_sensor"})),
    "temperature": ("sensor.alarm", frozenset({"temperature_sensor"})),
    "sos": ("alarm.panic", frozenset({"panic_button"})),
    "door_forced": ("door.forced", frozenset({"door_controller"})),
    "tamper": ("alarm.tamper", frozenset()),
}
LOCAL_ACTIONS: Final = frozenset({"unlock", "lock", "broadcast"})  # what a bridge can run itself
ACTION_DEVICE_KINDS: Final[dict[str, frozenset[str]]] = {
    "snapshot": frozenset({"camera", "plate_camera"}),
    "preset": frozenset({"camera"}),
    # a barrier "unlocked" holds its arm up until "locked" (a fire lifts every arm: VEH-18)
    "unlock": frozenset({"door_controller", "barrier"}),
    "lock": frozenset({"door_controller", "barrier"}),
    "broadcast": frozenset({"speaker"}),
}

# Retention (standard 6.4.11 and B4.4.1) in days, counted at the longest month as the object store
# does. Configuration may lengthen these, never shorten them.
RETENTION: Final[dict[str, RetentionClass]] = {
    "6m": RetentionClass.RECORD_6M,
    "1y": RetentionClass.SOS_1Y,
}


def retention_of(alarm_type: str) -> str:
    """The retention class name of an alarm type: a year for SOS, six months otherwise."""
    return "1y" if alarm_type == "sos" else "6m"


def keep_days(retention: str, configured: int | None = None) -> int:
    """Days an alarm of a retention class is kept: the standard's minimum, or more if configured."""
    minimum = RETENTION[retention].days
    assert minimum is not None
    return max(minimum, configured or 0)


def within_window(now: time, start: time | None, end: time | None) -> bool:
    """Whether a wall-clock time lies in [start, end); windows may wrap past midnight."""
    if start is None or end is None or start == end:
        return True
    if start < end:
        return start <= now < end
    return now >= start or now < end
