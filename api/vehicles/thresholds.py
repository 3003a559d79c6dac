"""The warnings' thresholds per community (ANA-06): what `warnings.scan` counts with.

A community without a row has the defaults (the constants the scan used before they were
settings). Guards and managers read them (`vehicle_warning.read`); managers change them
(`vehicle_warning.configure`), audited from → to. Every value is checked against `LIMITS` here,
not by the decoder, so a form is told which field is out of range and what the range is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.audit.service import record
from api.core.auth import Caller, require_staff
from api.piccolo_conf import DB
from api.vehicles.errors import NightMinExceedsWindow, NightWindowEmpty, ThresholdOutOfRange
from api.vehicles.schemas import WarningSettingsBody, WarningSettingsRead
from api.vehicles.tables import WarningSettings

DEFAULTS: dict[str, int] = {
    "visitor_grace_minutes": 30,
    "night_start_hour": 23,  # the site's wall clock; a night runs across midnight
    "night_end_hour": 5,
    "night_min_nights": 3,
    "night_window_days": 7,
}
LIMITS: dict[str, tuple[int, int]] = {
    "visitor_grace_minutes": (0, 1440),
    "night_start_hour": (0, 23),
    "night_end_hour": (0, 23),
    "night_min_nights": (1, 31),
    "night_window_days": (1, 31),
}
FIELDS = tuple(DEFAULTS)

# The scan joins this to its rows by community: each community's thresholds, the defaults when
# it has no row. Constant text; the defaults are integers of this module.
SETTINGS_SQL = "LEFT JOIN vehicle_warning_settings s ON s.community = {alias}.community"


def column(field: str) -> str:
    """A threshold in the scan's SQL: the community's, or the default."""
    return f"COALESCE(s.{field}, {int(DEFAULTS[field])})"


def _read(community_id: UUID, row: dict[str, Any] | None) -> WarningSettingsRead:
    values = {f: row[f] for f in FIELDS} if row else dict(DEFAULTS)
    return WarningSettingsRead(
        community_id=community_id,
        custom=row is not None,
        updated_at=row["updated_at"] if row else None,
        limits={f: list(r) for f, r in LIMITS.items()},
        **values,
    )


def check(data: WarningSettingsBody) -> dict[str, int]:
    """The values, or the first refusal naming its field."""
    values = {f: getattr(data, f) for f in FIELDS}
    for field, (low, high) in LIMITS.items():
        if not low <= values[field] <= high:
            raise ThresholdOutOfRange(
                f"{field} must be between {low} and {high}.", field=field, min=low, max=high
            )
    if values["night_start_hour"] == values["night_end_hour"]:
        raise NightWindowEmpty(field="night_end_hour")
    if values["night_min_nights"] > values["night_window_days"]:
        raise NightMinExceedsWindow(field="night_min_nights", max=values["night_window_days"])
    return values


async def get_settings(caller: Caller, community_id: UUID) -> WarningSettingsRead:
    """A community's thresholds (guards and managers there; anyone else 404)."""
    require_staff(caller, "vehicle_warning.read", community_id)
    row = await WarningSettings.select().where(WarningSettings.community == community_id).first()
    return _read(community_id, row)


async def set_settings(
    caller: Caller, community_id: UUID, data: WarningSettingsBody
) -> WarningSettingsRead:
    """Change a community's thresholds (its managers'); audited `vehicle_warning.settings_changed`
    with from → to. The next scan counts with them; open warnings that no longer fit clear."""
    require_staff(caller, "vehicle_warning.configure", community_id)
    values = check(data)
    now = datetime.now(UTC)
    async with DB.transaction():
        row = (
            await WarningSettings.select().where(WarningSettings.community == community_id).first()
        )
        before = {f: row[f] for f in FIELDS} if row else dict(DEFAULTS)
        if row is None:
            first: dict[str, Any] = {
                "community": community_id,
                "updated_at": now,
                "updated_by": caller.account_id,
                **values,
            }
            await WarningSettings.insert(WarningSettings(**first)).on_conflict(
                target=WarningSettings.community, action="DO NOTHING"
            )
        await WarningSettings.update(
            {
                **{getattr(WarningSettings, f): v for f, v in values.items()},
                WarningSettings.updated_at: now,
                WarningSettings.updated_by: caller.account_id,
            }
        ).where(WarningSettings.community == community_id)
        await record(
            "vehicle_warning.settings_changed",
            actor=caller,
            target_type="community",
            target_id=community_id,
            community_id=community_id,
            details={"from": before, "to": values},
        )
        saved = (
            await WarningSettings.select().where(WarningSettings.community == community_id).first()
        )
    return _read(community_id, saved)
