"""Benchmark sizes: the full ones for `make bench`, small ones for `make bench-smoke` (BENCH=smoke).

The smoke run measures every path with its baseline in a few seconds each, so a benchmark that no
longer runs (a renamed API, a hang at shutdown) fails in CI; its figures are too few to quote.
"""

from __future__ import annotations

import os

SMOKE = os.environ.get("BENCH", "full") == "smoke"


def size(full: int, smoke: int) -> int:
    """The full size, or the smoke size in a smoke run."""
    return smoke if SMOKE else full
