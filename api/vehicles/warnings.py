"""Long-stay and abnormal-entry warnings (VEH-04, ANA-06): a periodic scan of the pass records.

Three kinds, each with its reason in words and the figures behind it:
- `long_stay`: a car whose last granted pass is an entry longer ago than its car park's
  `long_stay_days` (0 turns it off) — the registry's resident, tenant and staff cars excepted,
  since living there is not abnormal;
- `visitor_overstay`: a visitor's car let in on a pass that has ended (past `valid_until`, or
  revoked) more than the community's `visitor_grace_minutes` ago, and not seen leaving;
- `night_frequent`: a plate read at night (`night_start_hour`–`night_end_hour`, the site's wall
  clock) on at least `night_min_nights` of the last `night_window_days` days, not a resident's,
  tenant's or staff car.
Each community's thresholds are its own (`thresholds.py`; the defaults when never set), joined
to the rows in SQL, so one scan serves every community.

The scan is idempotent: a car has at most one open warning of a kind (`open_key`, unique), a
warning dismissed is not raised again for the same thing (`episode`, unique: the entry, the
visitor pass, or the week for night visits), and an open warning whose car no longer fits (it
left) is `cleared`. Each new warning is audited and told to the community's property managers
as a low-urgency push through api/push — not as an alarm: a warning is handled here (looked at,
dismissed with a reason), and an alarm on the guards' board would be a second thing to close for
a car that is merely parked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import structlog

from api.alarms.catalogue import SITE_TIMEZONE
from api.alarms.roster import recipients
from api.audit.service import record
from api.core.auth import Caller, Scope
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.paging import equals, paged_page
from api.piccolo_conf import DB
from api.push.schemas import PushMessage
from api.push.service import DISPATCH, notify
from api.vehicles.errors import ReasonRequired, WarningNotOpen
from api.vehicles.schemas import (
    VehicleWarningPage,
    VehicleWarningRead,
    WarningKind,
    WarningStatus,
)
from api.vehicles.tables import PassRecord, VehicleWarning
from api.vehicles.thresholds import LIMITS, SETTINGS_SQL, column

log = structlog.get_logger()

LOOKBACK = timedelta(days=365)  # pass records are kept this long (retention.py)
_AT_HOME = "('resident', 'tenant', 'staff')"


class Found(msgspec.Struct, kw_only=True, frozen=True):
    """A car the scan found, before it is a warning."""

    community: UUID
    kind: str
    plate_index: str
    plate_masked: str
    vehicle: UUID | None = None
    car_park: UUID | None = None
    visitor_pass: UUID | None = None
    entry: UUID | None = None
    episode: str
    reason: str
    details: dict[str, Any]

    @property
    def open_key(self) -> str:
        return f"{self.kind}:{self.community}:{self.plate_index}"


def _clock(at: datetime) -> str:
    return at.astimezone(SITE_TIMEZONE).strftime("%m-%d %H:%M")


_LATEST_SQL = """
    WITH last AS (
        SELECT DISTINCT ON (p.community, p.plate_index)
               p.id, p.community, p.plate_index, p.plate_masked, p.vehicle, p.car_park,
               p.visitor_pass, p.at, p.direction
        FROM vehicle_passes p
        WHERE p.decision = 'granted' AND p.plate_index <> '' AND p.at >= {}
        ORDER BY p.community, p.plate_index, p.at DESC
    )
"""

_LONG_STAYS_SQL = f"""
        SELECT l.*, c.name AS car_park_name, c.long_stay_days
        FROM last l JOIN car_parks c ON c.id = l.car_park
        LEFT JOIN vehicles v ON v.id = l.vehicle
        WHERE l.direction = 'in' AND c.long_stay_days > 0
          AND l.at < {{}}::timestamptz - make_interval(days => c.long_stay_days)
          AND COALESCE(v.vehicle_class, '') NOT IN {_AT_HOME}
        """  # noqa: S608 (constant fragments; values are bound parameters)
_GRACE = f"make_interval(mins => {column('visitor_grace_minutes')})"
_OVERSTAYS_SQL = f"""
        SELECT l.*, vp.visitor_name, vp.valid_until, vp.status AS pass_status,
               {column("visitor_grace_minutes")} AS grace_minutes
        FROM last l JOIN visitor_passes vp ON vp.id = l.visitor_pass
        {SETTINGS_SQL.format(alias="l")}
        WHERE l.direction = 'in'
          AND (vp.valid_until < {{}}::timestamptz - {_GRACE}
               OR (vp.status = 'revoked' AND vp.updated_at < {{}}::timestamptz - {_GRACE}))
        """  # noqa: S608 (constant fragments; values are bound parameters)


async def _long_stays(now: datetime) -> list[Found]:
    rows = await PassRecord.raw(
        _LATEST_SQL + _LONG_STAYS_SQL,
        now - LOOKBACK,
        now,
    )
    found = []
    for r in rows:
        days = (now - r["at"]).days
        found.append(
            Found(
                community=r["community"],
                kind="long_stay",
                plate_index=r["plate_index"],
                plate_masked=r["plate_masked"],
                vehicle=r["vehicle"],
                car_park=r["car_park"],
                entry=r["id"],
                episode=f"long_stay:{r['id']}",
                reason=f"{_clock(r['at'])} 驶入{r['car_park_name']}，已停放 {days} 天"
                f"（超过 {r['long_stay_days']} 天）",
                details={
                    "entered_at": r["at"].isoformat(),
                    "days": days,
                    "limit_days": r["long_stay_days"],
                },
            )
        )
    return found


async def _overstays(now: datetime) -> list[Found]:
    rows = await PassRecord.raw(
        _LATEST_SQL + _OVERSTAYS_SQL,
        now - LOOKBACK,
        now,
        now,
    )
    return [
        Found(
            community=r["community"],
            kind="visitor_overstay",
            plate_index=r["plate_index"],
            plate_masked=r["plate_masked"],
            vehicle=r["vehicle"],
            car_park=r["car_park"],
            visitor_pass=r["visitor_pass"],
            entry=r["id"],
            episode=f"visitor_overstay:{r['visitor_pass']}:{r['id']}",
            reason=f"访客{r['visitor_name']}的通行证已于 {_clock(r['valid_until'])} 结束，"
            f"车辆 {_clock(r['at'])} 驶入后未离场",
            details={
                "entered_at": r["at"].isoformat(),
                "pass_ended_at": r["valid_until"].isoformat(),
                "pass_status": r["pass_status"],
                "grace_minutes": r["grace_minutes"],
            },
        )
        for r in rows
    ]


_START, _END = column("night_start_hour"), column("night_end_hour")
_WINDOW, _MIN = column("night_window_days"), column("night_min_nights")
# A night from _START to _END of the site's clock: across midnight when it starts later than it
# ends (23–05), else within one day (01–05). Shifted back by _END hours, every read of one night
# falls on one date, which is the night's.
_NIGHT_SQL = f"""
        WITH reads AS (
            SELECT p.community, p.plate_index, p.plate_masked, p.at, p.vehicle,
                   extract(hour FROM p.at AT TIME ZONE {{tz}}) AS hour,
                   ((p.at AT TIME ZONE {{tz}}) - make_interval(hours => {_END}))::date AS night,
                   {_START} AS night_start, {_END} AS night_end,
                   {_WINDOW} AS night_window, {_MIN} AS night_min
            FROM vehicle_passes p
            LEFT JOIN vehicles v ON v.id = p.vehicle
            {SETTINGS_SQL.format(alias="p")}
            WHERE p.at >= {{since}} AND p.plate_index <> '' AND p.decision <> 'ignored'
              AND p.at >= {{now}}::timestamptz - make_interval(days => {_WINDOW})
              AND COALESCE(v.vehicle_class, '') NOT IN {_AT_HOME}
        )
        SELECT community, plate_index, max(plate_masked) AS plate_masked,
               count(DISTINCT night) AS nights, max(at) AS last_at,
               (array_agg(vehicle ORDER BY at DESC))[1] AS vehicle,
               min(night_start) AS night_start, min(night_end) AS night_end,
               min(night_window) AS night_window, min(night_min) AS night_min
        FROM reads
        WHERE CASE WHEN night_start > night_end THEN hour >= night_start OR hour < night_end
                   ELSE hour >= night_start AND hour < night_end END
        GROUP BY community, plate_index
        HAVING count(DISTINCT night) >= min(night_min)
        """  # noqa: S608 (constant fragments; values are bound parameters)


async def _night_visits(now: datetime) -> list[Found]:
    rows = await PassRecord.raw(
        _NIGHT_SQL.format(tz="{}", since="{}", now="{}"),
        SITE_TIMEZONE.key,
        SITE_TIMEZONE.key,
        now - timedelta(days=LIMITS["night_window_days"][1]),
        now,
    )
    today = now.astimezone(SITE_TIMEZONE).date().toordinal()
    found = []
    for r in rows:
        window, start, end = r["night_window"], r["night_start"], r["night_end"]
        found.append(
            Found(
                community=r["community"],
                kind="night_frequent",
                plate_index=r["plate_index"],
                plate_masked=r["plate_masked"],
                vehicle=r["vehicle"],
                episode=f"night_frequent:{r['community']}:{r['plate_index']}:{today // window}",
                reason=f"近 {window} 天中有 {r['nights']} 个夜间"
                f"（{start:02d}:00–{end:02d}:00）出现，非本小区住户车辆",
                details={
                    "nights": r["nights"],
                    "last_at": r["last_at"].isoformat(),
                    "min_nights": r["night_min"],
                    "window_days": window,
                },
            )
        )
    return found


def _message(row: VehicleWarning) -> PushMessage:
    return PushMessage(
        title="车辆预警",
        body=f"{row.plate_masked}：{row.reason}",
        url="/vehicles/warnings",
        tag=f"vehicle-warning-{row.id}",
        urgency="low",
        ttl=3600,
        data={"type": "vehicle.warning", "warning_id": str(row.id)},
    )


async def scan(now: datetime | None = None) -> Effects:
    """Raise the warnings the pass records call for, once each; clear those that no longer fit.

    One transaction; the pushes are sent after commit (the returned effects)."""
    now = now or datetime.now(UTC)
    found = [*await _long_stays(now), *await _overstays(now), *await _night_visits(now)]
    effects = Effects()
    keys = [f.open_key for f in found]
    async with DB.transaction():
        gone: Any = VehicleWarning.status == "open"
        if keys:
            gone &= VehicleWarning.open_key.not_in(keys)
        cleared = await (
            VehicleWarning.update(
                {
                    VehicleWarning.status: "cleared",
                    VehicleWarning.open_key: None,
                    VehicleWarning.closed_at: now,
                }
            )
            .where(gone)
            .returning(VehicleWarning.id)
        )
        rows = [
            VehicleWarning(
                community=f.community,
                kind=f.kind,
                plate_index=f.plate_index,
                plate_masked=f.plate_masked,
                vehicle=f.vehicle,
                car_park=f.car_park,
                visitor_pass=f.visitor_pass,
                entry=f.entry,
                reason=f.reason[:200],
                details=f.details,
                status="open",
                open_key=f.open_key,
                episode=f.episode,
                raised_at=now,
            )
            for f in found
        ]
        raised = (
            await VehicleWarning.insert(*rows)
            .on_conflict(action="DO NOTHING")
            .returning(VehicleWarning.id)
            if rows
            else []
        )
        new = {r["id"] for r in raised}
        for row in (r for r in rows if r.id in new):
            await record(
                "vehicle_warning.raised",
                actor_name="platform",
                target_type="vehicle_warning",
                target_id=row.id,
                community_id=row.community,
                details={"kind": row.kind, "plate": row.plate_masked, "reason": row.reason},
            )
            managers = await recipients(row.community, ["property_manager"])
            effects.after(DISPATCH, *await notify(managers, _message(row)))
    log.info("vehicles.warnings.scanned", found=len(found), raised=len(new), cleared=len(cleared))
    return effects


def warning_read(r: dict[str, Any]) -> VehicleWarningRead:
    """A warning as the API shows it (plate masked)."""
    return VehicleWarningRead(
        id=r["id"],
        community_id=r["community"],
        kind=r["kind"],
        plate=r["plate_masked"],
        vehicle_id=r["vehicle"],
        car_park_id=r["car_park"],
        visitor_pass_id=r["visitor_pass"],
        entry_id=r["entry"],
        reason=r["reason"],
        details=r["details"],
        status=r["status"],
        raised_at=r["raised_at"],
        closed_at=r["closed_at"],
        closed_by=r["closed_by"],
        close_reason=r["close_reason"],
    )


async def list_warnings(
    caller: Caller,
    *,
    page: int,
    page_size: int,
    community_id: UUID | None = None,
    kind: WarningKind | None = None,
    status: WarningStatus | None = None,
) -> VehicleWarningPage:
    """Warnings of the caller's communities, newest first."""
    scope = Scope.of(caller, "vehicle_warning.read")
    if community_id is not None and not scope.staff_in(community_id):
        raise NotFound()
    return await paged_page(
        VehicleWarningPage,
        warning_read,
        VehicleWarning.select()
        .order_by(VehicleWarning.raised_at, ascending=False)
        .output(load_json=True),
        scope.where(VehicleWarning.community),
        equals(VehicleWarning.community, community_id),
        equals(VehicleWarning.kind, kind),
        equals(VehicleWarning.status, status),
        page=page,
        page_size=page_size,
    )


async def dismiss(caller: Caller, warning_id: UUID, reason: str) -> VehicleWarningRead:
    """Dismiss an open warning with a stated reason (audited); it is not raised again for the
    same thing. Another community's warning is 404; one not open is 409 `warning_not_open`."""
    where = Scope.of(caller, "vehicle_warning.dismiss").where(VehicleWarning.community)
    reason = reason.strip()
    if not reason:
        raise ReasonRequired()
    if where is None:
        raise NotFound()
    async with DB.transaction():
        changed = (
            await VehicleWarning.update(
                {
                    VehicleWarning.status: "dismissed",
                    VehicleWarning.open_key: None,
                    VehicleWarning.closed_at: datetime.now(UTC),
                    VehicleWarning.closed_by: caller.account_id,
                    VehicleWarning.close_reason: reason,
                }
            )
            .where(where, VehicleWarning.id == warning_id, VehicleWarning.status == "open")
            .returning(VehicleWarning.id)
        )
        if not changed:  # one request wins a race; the other is told it is no longer open
            if await VehicleWarning.exists().where(where, VehicleWarning.id == warning_id):
                raise WarningNotOpen()
            raise NotFound()
        row = (
            await VehicleWarning.select()
            .where(VehicleWarning.id == warning_id)
            .output(load_json=True)
            .first()
        )
        assert row is not None  # updated just now, in this transaction
        await record(
            "vehicle_warning.dismissed",
            actor=caller,
            target_type="vehicle_warning",
            target_id=warning_id,
            community_id=row["community"],
            purpose=reason,
            details={"kind": row["kind"], "plate": row["plate_masked"]},
        )
        done: dict[str, Any] = row
    return warning_read(done)
