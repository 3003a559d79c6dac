"""Which requirements of docs/REQUIREMENTS.md the tests prove.

As a pytest plugin (loaded by conftest) it records, for each `@pytest.mark.req("ID")` test, whether
it passed, in var/requirements.json (one run: `make test` runs them all).
`python -m tests.requirements` prints the proven and unproven ones.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "docs" / "REQUIREMENTS.md"
REPORT = ROOT / "var" / "requirements.json"
_ID = re.compile(r"^- ([A-Z]+-\d+) \(")

_results: dict[str, dict[str, str]] = defaultdict(dict)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember the outcome of every requirement-marked test."""
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    for mark in getattr(report, "req_ids", ()):
        _results[mark][report.nodeid] = report.outcome


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Carry the test's requirement ids onto its report."""
    outcome = yield
    report = outcome.get_result()
    report.req_ids = [req for m in item.iter_markers("req") for req in m.args]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write what this run proved."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(_results, indent=1, sort_keys=True))


def catalogue() -> list[str]:
    """Every requirement id, in catalogue order."""
    return [m.group(1) for line in CATALOGUE.read_text().splitlines() if (m := _ID.match(line))]


def main() -> int:
    """Print proven requirements (every marked test passed) and count the rest."""
    ids = catalogue()
    results = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    unknown = sorted(set(results) - set(ids))
    proven = [i for i in ids if results.get(i) and all(v == "passed" for v in results[i].values())]
    failing = [i for i in ids if results.get(i) and i not in proven]
    print(f"\nRequirements proven by passing tests: {len(proven)} of {len(ids)}")
    for req in proven:
        print(f"  ✓ {req}  ({len(results[req])} tests)")
    for req in failing:
        print(f"  ✗ {req}  has failing tests")
    if unknown:
        print("  ? markers naming no requirement:", ", ".join(unknown))
    by_area: dict[str, int] = defaultdict(int)
    for req in ids:
        if req not in proven:
            by_area[req.split("-")[0]] += 1
    print("Not yet proven, by area: " + ", ".join(f"{k} {v}" for k, v in by_area.items()))
    return 1 if unknown or failing else 0


if __name__ == "__main__":
    sys.exit(main())
