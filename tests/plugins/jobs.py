"""The `jobs` fixture: the app's job queue, private to the test, and a burst worker for its jobs.

Which jobs the worker runs is the `job_functions` fixture of the folder (or module) using it:
tests of alarms and visitors run the alarm jobs, tests of intercom calls the intercom jobs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from litestar import Litestar

from api.settings import Settings
from tests.jobs import Jobs, private_queue


@pytest.fixture
async def jobs(
    app: Litestar,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    job_functions: Sequence[Callable[..., Any]],
) -> AsyncIterator[Jobs]:
    """The app's job queue, private to this test, and a burst worker for `job_functions`."""
    async with private_queue(app, settings, monkeypatch, job_functions) as queue:
        yield queue
