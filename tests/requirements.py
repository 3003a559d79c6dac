"""Which requirements of docs/REQUIREMENTS.md the tests prove, and how much of each.

A test marked `@pytest.mark.req("ID")` claims the whole requirement: alone, or with the other
tests marked so, it proves every clause of its text; `@pytest.mark.req("ID", partial=True)` claims
only a slice of it. A requirement is proven
whole only when at least one whole-marked test names it and every test naming it passed; a run of
passing slices proves it only in part — slices never add up to a whole, because nobody checked
that they cover every clause. When a test carries the same id at several levels (module, class,
function), the marker nearest the test decides.

As a pytest plugin (loaded by conftest) it records, for each marked test, its outcome and whether it
claims the whole, in var/requirements.json (one run: `make test` runs them all).
`python -m tests.requirements` prints the proven, partly proven, failing and unproven ones.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TypedDict

import msgspec
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "docs" / "REQUIREMENTS.md"
REPORT = ROOT / "var" / "requirements.json"
_ID = re.compile(r"^- ([A-Z]+-\d+) \(")


class Outcome(TypedDict):
    """One marked test's result for one requirement."""

    outcome: str  # "passed", "failed" or "skipped"
    partial: bool


Results = dict[str, dict[str, Outcome]]  # requirement id → test node id → outcome

_results: Results = defaultdict(dict)


def claims(marks: Iterable[pytest.Mark]) -> dict[str, bool]:
    """The requirement ids `req` marks name, each with whether it claims only part.

    `marks` come nearest first (as `item.iter_markers` gives them: function, class, module), and the
    nearest mark naming an id decides.
    """
    found: dict[str, bool] = {}
    for mark in marks:
        for req in mark.args:
            found.setdefault(req, bool(mark.kwargs.get("partial", False)))
    return found


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember the outcome of every requirement-marked test."""
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    for req, partial in getattr(report, "req_claims", {}).items():
        _results[req][report.nodeid] = Outcome(outcome=report.outcome, partial=partial)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Carry the test's requirement claims onto its report."""
    outcome = yield
    outcome.get_result().req_claims = claims(item.iter_markers("req"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write what this run proved (under `pytest -n`, the controller, which gets every report)."""
    if hasattr(session.config, "workerinput"):
        return
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(_results, indent=1, sort_keys=True))


def catalogue() -> list[str]:
    """Every requirement id, in catalogue order."""
    return [m.group(1) for line in CATALOGUE.read_text().splitlines() if (m := _ID.match(line))]


class Classification(msgspec.Struct, kw_only=True):
    """The catalogue split by what the tests prove; each list in catalogue order."""

    whole: list[str]  # a whole-marked test, and every marked test passed
    partial: list[str]  # only partial-marked tests, all passed
    failing: list[str]  # some marked test did not pass
    unproven: list[str]  # no marked test
    unknown: list[str]  # marked ids that are not in the catalogue


def classify(ids: list[str], results: Results) -> Classification:
    """Sort every requirement into exactly one of whole, partial, failing or unproven."""
    whole, partial, failing, unproven = [], [], [], []
    for req in ids:
        tests = results.get(req, {}).values()
        if not tests:
            unproven.append(req)
        elif any(t["outcome"] != "passed" for t in tests):
            failing.append(req)
        elif any(not t["partial"] for t in tests):
            whole.append(req)
        else:
            partial.append(req)
    unknown = sorted(set(results) - set(ids))
    return Classification(
        whole=whole, partial=partial, failing=failing, unproven=unproven, unknown=unknown
    )


def _by_area(ids: list[str]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for req in ids:
        counts[req.split("-")[0]] += 1
    return ", ".join(f"{area} {n}" for area, n in counts.items())


def main() -> int:
    """Print the classification; fail when a marked test failed or names no requirement."""
    ids = catalogue()
    results: Results = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    c = classify(ids, results)
    print(f"\nRequirements proven whole by passing tests: {len(c.whole)} of {len(ids)}")
    for req in c.whole:
        print(f"  ✓ {req}  ({len(results[req])} tests)")
    print(f"Proven only in part (every test a slice): {len(c.partial)}")
    for req in c.partial:
        print(f"  ½ {req}  ({len(results[req])} tests)")
    if c.failing:
        print(f"Failing: {len(c.failing)}")
        for req in c.failing:
            print(f"  ✗ {req}  has failing tests")
    if c.unknown:
        print("  ? markers naming no requirement:", ", ".join(c.unknown))
    print(f"Not proven at all: {len(c.unproven)}, by area: {_by_area(c.unproven)}")
    return 1 if c.unknown or c.failing else 0


if __name__ == "__main__":
    sys.exit(main())
