"""Patrol compliance (PAT-01): for a date range, per guard or per route, how the rounds went.

Counted over rounds that have **ended** (their summary is written) and began in `[since, until)`:
`due` rounds, `completed` (every point scanned, late or not), `points_missed` and `late` (points),
`flagged` (accepted scans carrying an anomaly flag) and `rate` = completed / due. Per guard, a
round counts for each guard it was made for, and `flagged` counts that guard's own scans; per
route, rounds are grouped by the route's name as the round kept it. One aggregate query per page
(the grouping, the counts and the paging in SQL); the CSV export is the same rows, every page.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from api.accounts.tables import Account
from api.audit.service import record
from api.core.auth import Caller, staff_community
from api.core.errors import InvalidInput
from api.patrol.schemas import ComplianceItem, CompliancePage
from api.patrol.tables import PatrolRound

By = Literal["guard", "route"]
EXPORT_PAGE = 500
MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = timedelta(days=30)

# {key} is the grouping expression, {flagged} the flagged-scan count of one round (and guard).
_SQL = """
WITH rounds AS (
  SELECT {key} AS key, r.id, r.summary, {flagged} AS flagged
  FROM patrol_rounds r {join}
  WHERE r.community = {{}} AND r.ended_at IS NOT NULL AND r.starts_at >= {{}} AND r.starts_at < {{}}
    {filter}
)
SELECT key, count(*)::int AS due,
       count(*) FILTER (WHERE jsonb_array_length(summary->'missed') = 0)::int AS completed,
       coalesce(sum(jsonb_array_length(summary->'missed')), 0)::int AS points_missed,
       coalesce(sum(jsonb_array_length(summary->'late')), 0)::int AS late,
       coalesce(sum(flagged), 0)::int AS flagged,
       count(*) OVER ()::int AS total
FROM rounds GROUP BY key ORDER BY key LIMIT {{}} OFFSET {{}}
"""
_FLAGGED = (
    "(SELECT count(*) FROM patrol_scans s WHERE s.round = r.id AND s.accepted"
    " AND jsonb_array_length(s.flags) > 0{guard})"
)
_QUERIES = {
    "route": _SQL.format(
        key="r.route_name", flagged=_FLAGGED.format(guard=""), join="", filter="{filter}"
    ),
    "guard": _SQL.format(
        key="g.guard",
        flagged=_FLAGGED.format(guard=" AND s.guard::text = g.guard"),
        join="CROSS JOIN LATERAL jsonb_array_elements_text(r.guards) AS g(guard)",
        filter="{filter}",
    ),
}


async def _rows(
    by: By,
    community_id: UUID,
    since: datetime,
    until: datetime,
    key: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    column = "r.route_name" if by == "route" else "g.guard"
    sql = _QUERIES[by].replace("{filter}", f"AND {column} = {{}}" if key else "")
    args: list[Any] = [community_id, since, until, *([key] if key else []), limit, offset]
    return list(await PatrolRound.raw(sql, *args))


async def _names(guards: list[str]) -> dict[str, str]:
    if not guards:
        return {}
    rows = await Account.select(Account.id, Account.display_name).where(
        Account.id.is_in([UUID(g) for g in guards])
    )
    return {str(r["id"]): r["display_name"] for r in rows}


async def _items(by: By, rows: list[dict[str, Any]]) -> list[ComplianceItem]:
    names = await _names([r["key"] for r in rows]) if by == "guard" else {}
    return [
        ComplianceItem(
            key=r["key"],
            name=names.get(r["key"], "") if by == "guard" else r["key"],
            due=r["due"],
            completed=r["completed"],
            points_missed=r["points_missed"],
            late=r["late"],
            flagged=r["flagged"],
            rate=round(r["completed"] / r["due"], 4) if r["due"] else 0.0,
        )
        for r in rows
    ]


def window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The range asked for, the 30 days to now by default; refused when backwards or too long."""
    until = until or datetime.now(UTC)
    since = since or until - DEFAULT_RANGE
    _check_range(since, until)
    return since, until


def _check_range(since: datetime, until: datetime) -> None:
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidInput("since and until need a time zone.", field="since")
    if not since < until or until - since > MAX_RANGE:
        raise InvalidInput("since must come before until, at most 366 days apart.", field="until")


async def compliance(
    caller: Caller,
    *,
    community_id: UUID | None,
    by: By,
    since: datetime | None,
    until: datetime | None,
    key: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> CompliancePage:
    """One page of compliance rows, by guard or by route, for rounds begun in [since, until)."""
    community_id = staff_community(caller, "patrol.report", community_id)
    since, until = window(since, until)
    rows = await _rows(by, community_id, since, until, key, page_size, (page - 1) * page_size)
    return CompliancePage(
        items=await _items(by, rows),
        total=rows[0]["total"] if rows else 0,
        page=page,
        page_size=page_size,
    )


HEADER = ["对象", "应巡轮次", "完成轮次", "漏检点数", "迟到点数", "异常签到", "完成率"]


def _line(values: list[Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow(
        ["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in values]
    )
    return out.getvalue().encode()


async def export_csv(
    caller: Caller,
    *,
    community_id: UUID | None,
    by: By,
    since: datetime | None,
    until: datetime | None,
) -> AsyncIterator[bytes]:
    """Every compliance row as CSV (UTF-8 with BOM, Chinese headers); audited before it streams."""
    community_id = staff_community(caller, "patrol.report", community_id)
    since, until = window(since, until)
    await record(
        "patrol.compliance_exported",
        actor=caller,
        target_type="patrol_compliance",
        community_id=community_id,
        details={"by": by, "since": since.isoformat(), "until": until.isoformat()},
    )
    return _stream(community_id, by, since, until)


async def _stream(
    community_id: UUID, by: By, since: datetime, until: datetime
) -> AsyncIterator[bytes]:
    yield codecs.BOM_UTF8 + _line(HEADER)
    offset = 0
    while True:
        rows = await _rows(by, community_id, since, until, None, EXPORT_PAGE, offset)
        for item in await _items(by, rows):
            yield _line(
                [
                    item.name or item.key,
                    item.due,
                    item.completed,
                    item.points_missed,
                    item.late,
                    item.flagged,
                    f"{item.rate:.1%}",
                ]
            )
        if len(rows) < EXPORT_PAGE:
            return
        offset += EXPORT_PAGE
