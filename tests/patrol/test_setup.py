"""Setting a patrol up: areas → checkpoints → routes → plans, and the rounds plans make."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta
from uuid import UUID

import pytest

from api.alarms.catalogue import SITE_TIMEZONE
from api.core.auth import Role
from api.patrol import rounds, timing
from api.patrol.tables import PatrolRound
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, audit_rows
from tests.patrol.helpers import Patrol


def test_nights_are_patrolled_more_often_than_days() -> None:
    day_start = datetime(2026, 12, 3, 0, 0, tzinfo=SITE_TIMEZONE)

    starts = timing.round_starts(
        day_starts=time(6, 0),
        night_starts=time(20, 0),
        day_every=120,
        night_every=60,
        since=day_start,
        until=day_start + timedelta(days=1),
    )

    local = [s.astimezone(SITE_TIMEZONE) for s in starts]
    by_day = [s for s in local if time(6, 0) <= s.time() < time(20, 0)]
    by_night = [s for s in local if not time(6, 0) <= s.time() < time(20, 0)]
    assert [s.hour for s in by_day] == [6, 8, 10, 12, 14, 16, 18]
    assert [s.hour for s in by_night] == [0, 1, 2, 3, 4, 5, 20, 21, 22, 23]
    assert len(starts) == len(set(starts)) == 17


def test_a_night_that_begins_after_midnight_on_the_clock() -> None:
    day_start = datetime(2026, 12, 3, 0, 0, tzinfo=SITE_TIMEZONE)

    starts = timing.round_starts(
        day_starts=time(8, 0),
        night_starts=time(0, 30),  # "night" 00:30 → 08:00, "day" 08:00 → 00:30 next day
        day_every=240,
        night_every=150,
        since=day_start,
        until=day_start + timedelta(days=1),
    )

    assert [s.astimezone(SITE_TIMEZONE).strftime("%H:%M") for s in starts] == [
        "00:00",
        "00:30",
        "03:00",
        "05:30",
        "08:00",
        "12:00",
        "16:00",
        "20:00",
    ]


@pytest.mark.req("PAT-01", partial=True)
async def test_a_plan_makes_its_rounds_a_day_ahead_once_with_more_rounds_by_night(
    patrol: Patrol, world: World
) -> None:
    plan = UUID(patrol.plan)

    again = await rounds.make_rounds(plan)

    made = await PatrolRound.select().where(PatrolRound.plan == plan).output(load_json=True)
    assert again == 0  # the same rounds, made twice, are made once
    starts = sorted(r["starts_at"] for r in made)
    gaps = {b - a for a, b in itertools.pairwise(starts)}
    assert gaps <= {timedelta(minutes=120), timedelta(minutes=60)}
    # day 12 h at 2 h, night 12 h at 1 h, plus the round under way
    assert 17 <= len(made) <= 19
    first = made[0]
    assert [c["name"] for c in first["checkpoints"]] == ["东门岗亭", "地下车库入口", "北侧围墙"]
    assert first["guards"] == [str(world.a.users[Role.GUARD].id)]
    assert first["due_at"] - first["starts_at"] == timedelta(minutes=30)
    assert first["closes_at"] - first["due_at"] == timedelta(minutes=10)
    assert await audit_rows("patrol.plan_created", patrol.plan)


async def test_a_guard_sees_the_round_but_not_the_codes_of_the_labels(
    patrol: Patrol, as_role: AsRole
) -> None:
    guard = await as_role(Role.GUARD)

    mine = await guard.get("/api/v1/patrol/rounds", params={"mine": True, "page_size": 200})
    point = await guard.get(f"/api/v1/patrol/checkpoints/{patrol.checkpoints[0]}")
    one = await guard.get(f"/api/v1/patrol/rounds/{patrol.round}")

    assert mine.status_code == 200
    assert patrol.round in {r["id"] for r in mine.json()["items"]}
    assert point.status_code == 200 and point.json()["code"] is None
    body = one.json()
    assert body["status"] == "open"
    assert body["next_checkpoint_id"] == patrol.checkpoints[0]
    assert [c["name"] for c in body["checkpoints"]] == ["东门岗亭", "地下车库入口", "北侧围墙"]


async def test_another_communitys_staff_and_a_guard_get_404_on_every_patrol_endpoint(
    patrol: Patrol, as_role: AsRole, world: World
) -> None:
    outsiders = [
        await as_role(Role.PROPERTY_MANAGER, "b"),
        await as_role(Role.GUARD, "b"),
        await as_role(Role.RESIDENT),
        await as_role(Role.SYSTEM_ADMIN),
    ]
    a_guard = await as_role(Role.GUARD)
    paths = [
        f"/api/v1/patrol/areas/{patrol.area}",
        f"/api/v1/patrol/checkpoints/{patrol.checkpoints[0]}",
        f"/api/v1/patrol/routes/{patrol.route}",
        f"/api/v1/patrol/plans/{patrol.plan}",
        f"/api/v1/patrol/rounds/{patrol.round}",
    ]

    for api in outsiders:
        for path in paths:
            assert_error(await api.get(path), 404, "not_found")
            if "rounds" not in path:
                assert_error(await api.patch(path, json={"name": "x"}), 404, "not_found")
        assert_error(await api.delete(paths[3]), 404, "not_found")
        listed = await api.get("/api/v1/patrol/rounds")
        assert listed.status_code == 404 or listed.json()["items"] == []
    # A's guard reads, but does not set up
    assert_error(await a_guard.patch(paths[0], json={"name": "x"}), 404, "not_found")
    create = {"community_id": str(world.a.community), "name": "x"}
    assert_error(await a_guard.post("/api/v1/patrol/areas", json=create), 404, "not_found")


async def test_a_manager_cannot_use_another_communitys_points_or_guards(
    patrol: Patrol, as_role: AsRole, world: World
) -> None:
    b_manager = await as_role(Role.PROPERTY_MANAGER, "b")
    b_area = (
        await b_manager.post(
            "/api/v1/patrol/areas", json={"community_id": str(world.b.community), "name": "B"}
        )
    ).json()["id"]

    into_a = await patrol.manager.post(
        "/api/v1/patrol/checkpoints", json={"area_id": b_area, "name": "x"}
    )
    route = await patrol.manager.post(
        "/api/v1/patrol/routes",
        json={
            "community_id": str(world.b.community),
            "name": "x",
            "checkpoints": patrol.checkpoints,
        },
    )
    b_guard = await patrol.manager.post(
        "/api/v1/patrol/plans",
        json={
            "route_id": patrol.route,
            "name": "x",
            "guards": [str(world.b.users[Role.GUARD].id)],
            "day_starts": "06:00:00",
            "night_starts": "20:00:00",
        },
    )

    assert_error(into_a, 400, "unknown_area")
    assert_error(route, 404, "not_found")
    assert_error(b_guard, 400, "unknown_guard")


async def test_bad_input_is_refused_with_a_code(patrol: Patrol, world: World) -> None:
    api = patrol.manager
    community = str(world.a.community)

    overlapping = await api.post(
        "/api/v1/patrol/plans",
        json={
            "route_id": patrol.route,
            "name": "x",
            "guards": [],
            "day_starts": "06:00:00",
            "night_starts": "20:00:00",
            "night_every": 30,
        },
    )
    repeated = await api.post(
        "/api/v1/patrol/routes",
        json={"community_id": community, "name": "x", "checkpoints": [patrol.checkpoints[0]] * 2},
    )
    half_position = await api.post(
        "/api/v1/patrol/checkpoints", json={"area_id": patrol.area, "name": "x", "lat": 30.1}
    )
    no_area = await api.post("/api/v1/patrol/checkpoints", json={"area_id": community, "name": "x"})
    in_use = await api.delete(f"/api/v1/patrol/areas/{patrol.area}")
    used_route = await api.delete(f"/api/v1/patrol/routes/{patrol.route}")
    patch_overlap = await api.patch(f"/api/v1/patrol/plans/{patrol.plan}", json={"day_every": 20})

    assert_error(overlapping, 422, "invalid_body")  # 30 + 10 minutes do not fit in 30
    assert_error(repeated, 422, "invalid_body")
    assert_error(half_position, 422, "invalid_body")
    assert_error(no_area, 400, "unknown_area")
    assert_error(in_use, 409, "patrol_in_use")
    assert_error(used_route, 409, "patrol_in_use")
    assert_error(patch_overlap, 400, "invalid_plan")


async def test_changing_a_plan_remakes_the_rounds_not_yet_begun(patrol: Patrol) -> None:
    plan = UUID(patrol.plan)
    before = await PatrolRound.count().where(PatrolRound.plan == plan)

    r = await patrol.manager.patch(f"/api/v1/patrol/plans/{patrol.plan}", json={"night_every": 120})
    await rounds.make_rounds(plan)

    after = await PatrolRound.select(PatrolRound.starts_at).where(PatrolRound.plan == plan)
    assert r.status_code == 200, r.text
    assert r.json()["night_every"] == 120
    assert len(after) < before
    assert await PatrolRound.exists().where(PatrolRound.id == UUID(patrol.round))  # begun: kept
    assert await audit_rows("patrol.plan_updated", patrol.plan)


async def test_a_new_code_retires_the_old_label_and_everything_is_audited(
    patrol: Patrol,
) -> None:
    cp = patrol.checkpoints[0]

    r = await patrol.manager.patch(f"/api/v1/patrol/checkpoints/{cp}", json={"new_code": True})

    assert r.status_code == 200, r.text
    assert r.json()["code"] != patrol.codes[0]
    assert r.json()["code"].startswith("anju-cp:")
    for action, target in (
        ("patrol.area_created", patrol.area),
        ("patrol.checkpoint_created", cp),
        ("patrol.checkpoint_updated", cp),
        ("patrol.route_created", patrol.route),
    ):
        assert await audit_rows(action, target), action


async def test_a_manager_lists_the_guards_a_plan_may_name_and_no_one_elses(
    patrol: Patrol, as_role: AsRole, world: World
) -> None:
    guard = await as_role(Role.GUARD)

    mine = await patrol.manager.get(
        "/api/v1/patrol/plans/guards", params={"community_id": str(world.a.community)}
    )
    theirs = await patrol.manager.get(
        "/api/v1/patrol/plans/guards", params={"community_id": str(world.b.community)}
    )
    by_guard = await guard.get(
        "/api/v1/patrol/plans/guards", params={"community_id": str(world.a.community)}
    )
    missing = await patrol.manager.get("/api/v1/patrol/plans/guards")

    assert mine.status_code == 200
    assert [g["id"] for g in mine.json()] == [str(world.a.users[Role.GUARD].id)]
    assert_error(theirs, 404, "not_found")
    assert_error(by_guard, 404, "not_found")
    assert_error(missing, 400, "invalid_parameters")
