"""`anju worker`, on the queue named by ANJU_TEST_QUEUE: the crash test's worker process.

Exactly what `api.cli.cmd_worker` runs, except the queue: test runs share one Redis.
"""

from __future__ import annotations

import os

from arq import run_worker

from workers.settings import WorkerSettings, redis_settings

if __name__ == "__main__":
    run_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_settings=redis_settings(),
        queue_name=os.environ["ANJU_TEST_QUEUE"],
    )
