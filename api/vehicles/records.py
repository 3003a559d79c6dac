"""Pass records for the managers (VEH-13): the filtered list as CSV for Excel, streamed.

The export takes the list's filters (api/vehicles/passes.py `PassFilters`, a plate search
included) within the caller's scope for `vehicle_pass.export`; it is audited before the first
byte, with the filters (a plate masked). Plates stay masked in the file as on the screen: a CSV
leaves the platform, and revealing plates is not what an export is for. UTF-8 with a BOM so Excel
shows the Chinese; times in the site's time zone; a cell Excel would run as a formula is quoted.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from api.alarms.catalogue import SITE_TIMEZONE
from api.audit.service import record
from api.core.auth import Caller, Scope
from api.core.crypto import FieldCipher
from api.core.errors import NotFound
from api.vehicles.passes import PassFilters, pass_where
from api.vehicles.tables import PassRecord

EXPORT_LIMIT = 200_000  # rows in one CSV; narrow the filters for more
_BATCH = 2000

_COLUMNS = (
    PassRecord.id,
    PassRecord.at,
    PassRecord.lane.name.as_alias("lane_name"),
    PassRecord.lane._.car_park._.name.as_alias("car_park_name"),
    PassRecord.direction,
    PassRecord.plate_masked,
    PassRecord.colour,
    PassRecord.vehicle_type,
    PassRecord.confidence,
    PassRecord.decision,
    PassRecord.reason,
    PassRecord.note,
)
HEADER = (
    *("时间", "车道", "车场", "方向", "车牌", "车牌颜色"),
    *("车型", "置信度", "结果", "原因", "备注"),
)
_DIRECTIONS = {"in": "入场", "out": "出场"}
_DECISIONS = {"granted": "放行", "denied": "拒绝", "held": "待处理", "ignored": "忽略"}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # Excel would run it as a formula (CSV injection)
    return value


def _line(values: list[Any] | tuple[Any, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow([_cell(v) for v in values])
    return out.getvalue().encode()


def _row(r: dict[str, Any]) -> list[Any]:
    return [
        r["at"].astimezone(SITE_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S"),
        r["lane_name"] or "",
        r["car_park_name"] or "",
        _DIRECTIONS.get(r["direction"], r["direction"]),
        r["plate_masked"],
        r["colour"],
        r["vehicle_type"],
        f"{r['confidence']:.2f}",
        _DECISIONS.get(r["decision"], r["decision"]),
        r["reason"],
        r["note"],
    ]


async def export_csv(
    caller: Caller, cipher: FieldCipher, filters: PassFilters
) -> AsyncIterator[bytes]:
    """The filtered records as CSV; audited (`vehicle_pass.exported`) before it streams."""
    if not Scope.of(caller, "vehicle_pass.export").staff:
        raise NotFound()
    where = pass_where(caller, cipher, filters, permission="vehicle_pass.export")
    await record(
        "vehicle_pass.exported",
        actor=caller,
        target_type="vehicle_pass",
        community_id=filters.community_id,
        details=filters.audited(),
    )
    return _stream(where)


async def _stream(where: list[Any] | None) -> AsyncIterator[bytes]:
    yield codecs.BOM_UTF8 + _line(HEADER)
    if where is None:
        return
    sent, last = 0, None
    while sent < EXPORT_LIMIT:
        query = PassRecord.select(*_COLUMNS).where(*where)
        if last is not None:  # keyset paging: (at, id) descending
            query = query.where(
                (PassRecord.at < last[0]) | ((PassRecord.at == last[0]) & (PassRecord.id < last[1]))
            )
        rows = await query.order_by(PassRecord.at, PassRecord.id, ascending=False).limit(_BATCH)
        if not rows:
            return
        yield b"".join(_line(_row(r)) for r in rows)
        sent += len(rows)
        last = (rows[-1]["at"], rows[-1]["id"])
