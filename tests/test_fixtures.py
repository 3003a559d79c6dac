"""The test set-up itself: one platform per run, whichever folders the run spans."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_each_session_fixture_is_set_up_once_across_tests_and_e2e() -> None:
    """A session fixture defined twice (imported into a second conftest) runs twice: two embedded
    PostgreSQL handles, the first torn down stopping the server the other still needs."""
    plan = subprocess.run(
        [sys.executable, "-m", "pytest", "--setup-plan", "-q", "-p", "no:logging", "tests", "e2e"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert plan.returncode == 0, plan.stdout[-2000:] + plan.stderr[-2000:]
    setups = Counter(re.findall(r"^\s*SETUP\s+S (\w+)", plan.stdout, flags=re.MULTILINE))
    assert {"services", "settings", "app", "live_url", "chromium"} <= setups.keys()
    assert {name: n for name, n in setups.items() if n > 1} == {}
