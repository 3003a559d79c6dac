"""Rounds end with a summary; missed or late checkpoints raise an alarm on the board."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from piccolo.columns.combination import WhereRaw

from api.alarms.tables import Alarm
from api.core.auth import Role
from api.patrol import rounds
from api.patrol.tables import PatrolRound
from tests.fixtures import AsRole
from tests.helpers import World, audit_rows
from tests.jobs import Jobs
from tests.patrol.helpers import Patrol, scan_body, set_up_patrol
from workers.tasks import patrol as patrol_jobs

SCANS = "/api/v1/patrol/scans"


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The patrol jobs run by the `jobs` worker."""
    return [patrol_jobs.make_patrol_rounds]


async def _round(round_id: str) -> dict[str, Any]:
    row = await PatrolRound.select().where(PatrolRound.id == UUID(round_id)).first()
    assert row is not None
    return row


@pytest.mark.req("PAT-01", partial=True)
async def test_a_missed_checkpoint_raises_one_alarm_on_the_board_when_the_round_ends(
    patrol: Patrol, as_role: AsRole, world: World
) -> None:
    guard = await as_role(Role.GUARD)
    for code in patrol.codes[:2]:  # the third point, 北侧围墙, is never reached
        assert (await guard.post(SCANS, json=scan_body(code))).status_code == 201
    closes = (await _round(patrol.round))["closes_at"]

    # (rounds of other tests may end in the same sweeps: look at this one's)
    await rounds.end_due(now=closes - timedelta(seconds=1))
    before = await _round(patrol.round)
    ended = await rounds.end_due(now=closes)
    await rounds.end_due(now=closes + timedelta(minutes=1))

    assert before["ended_at"] is None  # not before its grace is over
    body = (await guard.get(f"/api/v1/patrol/rounds/{patrol.round}")).json()
    assert body["status"] == "ended"
    assert body["summary"] == {
        "total": 3,
        "scanned": 2,
        "missed": ["北侧围墙"],
        "late": [],
        "flags": body["summary"]["flags"],
    }
    alarm = await Alarm.select().where(Alarm.id == UUID(body["alarm_id"])).first()
    assert alarm["type"] == "patrol_missed"
    assert alarm["community"] == world.a.community
    assert alarm["title"] == "巡更漏检 · 夜间外围 巡更路线"
    board = await guard.get("/api/v1/alarms", params={"page_size": 200})
    assert body["alarm_id"] in {a["id"] for a in board.json()["items"]}
    assert UUID(body["alarm_id"]) in ended.keys("alarms.board")  # shown on the board live
    raised = WhereRaw("location->>'patrol_round' = {}", patrol.round)
    assert await Alarm.count().where(raised) == 1  # once, however often the sweep runs
    assert await audit_rows("patrol.round_ended", patrol.round)


@pytest.mark.req("PAT-01", partial=True)
async def test_points_scanned_after_the_round_was_due_count_as_late_and_raise_a_late_alarm(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    overdue = await set_up_patrol(
        manager,
        world.a.community,
        [world.a.users[Role.GUARD].id],
        [("东门", None, None), ("西门", None, None)],
        started_ago=35,  # due 5 minutes ago, still counted (late) for 5 more
    )
    answers = [await guard.post(SCANS, json=scan_body(c)) for c in overdue.codes]

    await rounds.end_due(now=(await _round(overdue.round))["closes_at"])

    assert all(a.status_code == 201 and a.json()["late"] for a in answers)
    body = (await guard.get(f"/api/v1/patrol/rounds/{overdue.round}")).json()
    assert body["summary"]["missed"] == [] and body["summary"]["late"] == ["东门", "西门"]
    alarm = await Alarm.select().where(Alarm.id == UUID(body["alarm_id"])).first()
    assert alarm["type"] == "patrol_late"


async def test_a_round_walked_whole_and_in_time_ends_without_an_alarm(
    patrol: Patrol, as_role: AsRole
) -> None:
    guard = await as_role(Role.GUARD)
    for i, code in enumerate(patrol.codes):
        await guard.post(SCANS, json=scan_body(code, ago=180 - 60 * i))

    await rounds.end_due(now=(await _round(patrol.round))["closes_at"])

    body = (await guard.get(f"/api/v1/patrol/rounds/{patrol.round}")).json()
    assert body["summary"] == {"total": 3, "scanned": 3, "missed": [], "late": [], "flags": []}
    assert body["alarm_id"] is None


async def test_a_scan_that_arrives_after_its_round_ended_is_refused_and_recorded(
    patrol: Patrol, as_role: AsRole
) -> None:
    guard = await as_role(Role.GUARD)
    round_ = await _round(patrol.round)
    await PatrolRound.update({PatrolRound.ended_at: round_["starts_at"]}).where(
        PatrolRound.id == round_["id"]
    )

    late = await guard.post(SCANS, json=scan_body(patrol.codes[0]))

    assert late.status_code == 409
    assert late.json()["extra"]["reason"] == "round_ended"


async def test_saving_a_plan_queues_the_job_that_makes_its_rounds(
    patrol: Patrol, jobs: Jobs
) -> None:
    plan = UUID(patrol.plan)
    await PatrolRound.delete().where(PatrolRound.plan == plan)

    await patrol.manager.patch(f"/api/v1/patrol/plans/{patrol.plan}", json={"name": "外围"})
    assert [j.kwargs for j in await jobs.queued("make_patrol_rounds")] == [{"plan_id": plan}]
    await jobs.run()

    assert await PatrolRound.count().where(PatrolRound.plan == plan) >= 17
