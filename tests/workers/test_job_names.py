"""Every job the API can enqueue is a function the worker registers under that name.

The API enqueues by name (it never imports the worker), so a misspelt or renamed job would only
show in production, as a job arq cannot find. The names come from `api.core.jobs`; a scan of the
source catches a name written as a literal at an enqueue call instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

from arq.worker import func

from api.core import jobs
from workers.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]
ENQUEUERS = {"enqueue_job", "job"}  # arq's pool, and `Effects.job`


def registered() -> dict[str, object]:
    """The worker's jobs by the name arq runs them under, each mapped to its coroutine."""
    functions = [func(f) for f in WorkerSettings.functions]
    return {f.name: f.coroutine for f in functions}


def literal_names(paths: Iterable[Path]) -> Iterator[tuple[str, str]]:
    """(where, name) of every enqueue call in these files that names its job by a literal."""
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ENQUEUERS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                yield f"{path.name}:{node.lineno}", node.args[0].value


def test_every_job_the_api_can_enqueue_is_registered_with_the_worker() -> None:
    names = {f"api.core.jobs.{k}": v for k, v in vars(jobs).items() if k.isupper()}
    names.update(literal_names(sorted([*ROOT.glob("api/**/*.py"), *ROOT.glob("workers/**/*.py")])))

    unknown = {where: name for where, name in names.items() if name not in registered()}

    assert jobs.CONFIRM_TRIP in names.values()
    assert unknown == {}, "enqueued, but no worker function of that name"


def test_the_scan_finds_a_job_named_by_a_literal(tmp_path: Path) -> None:
    source = tmp_path / "enqueues.py"
    source.write_text(
        "async def f(effects, queue):\n"
        '    effects.job("some_job", call_id=1, job_id="x")\n'
        '    await queue.enqueue_job("other_job", _job_id="y")\n'
        "    await queue.enqueue_job(jobs.CONFIRM_TRIP)\n"
    )

    assert list(literal_names([source])) == [
        ("enqueues.py:2", "some_job"),
        ("enqueues.py:3", "other_job"),
    ]


def test_the_worker_registers_each_name_once() -> None:
    names = [func(f).name for f in WorkerSettings.functions]

    assert sorted(names) == sorted(set(names))


def test_every_cron_job_runs_a_registered_function() -> None:
    coroutines = set(registered().values())

    assert WorkerSettings.cron_jobs
    assert [c.name for c in WorkerSettings.cron_jobs if c.coroutine not in coroutines] == []
