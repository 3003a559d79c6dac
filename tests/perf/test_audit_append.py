"""Benchmark: hash-chained audit appends against plain inserts of the same rows, same run, same DB.

Prints figures; asserts only that the work was done (performance is never a pass/fail here).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from api.audit.service import record
from api.audit.tables import AuditEntry
from api.piccolo_conf import DB
from tests.perf.sizes import size

N = size(2_000, smoke=200)


async def test_audit_append_rate(app: object) -> None:
    """Chained appends (advisory lock + previous hash + digest) vs plain single-row INSERTs."""
    before = await AuditEntry.count()
    start = time.perf_counter()
    for i in range(N):
        await record("bench.append", actor_name="bench", details={"i": i})
    chained = N / (time.perf_counter() - start)

    await DB.run_ddl("CREATE TABLE IF NOT EXISTS bench_plain (LIKE audit_log INCLUDING DEFAULTS)")
    now = datetime.now(UTC)
    start = time.perf_counter()
    for i in range(N):
        await AuditEntry.raw(
            "INSERT INTO bench_plain (at, action, outcome, details, prev_hash, hash) "
            "VALUES ({}, 'bench.append', 'ok', {}, '', {})",
            now,
            json.dumps({"i": i}),
            str(i),
        )
    plain = N / (time.perf_counter() - start)

    await DB.run_ddl("DROP TABLE bench_plain")
    assert await AuditEntry.count() == before + N
    print(
        f"\naudit append, {N} rows: chained {chained:,.0f}/s, plain INSERT {plain:,.0f}/s, "
        f"ratio {chained / plain:.2f}"
    )
