"""Emergency plans: the most specific comes with the alarm, steps are ticked, use is measured."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from api.alarms.tables import Alarm, IntrusionZone
from api.core.auth import Role
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows, raise_alarm
from tests.jobs import Jobs


async def plan(manager: ApiClient, world: World, **body: object) -> dict:
    answer = await manager.post(
        "/api/v1/plans",
        json={
            "community_id": str(world.a.community),
            "alarm_type": "perimeter",
            "title": "周界入侵处置",
            "steps": ["查看视频", "派人到场", "记录结果"],
            **body,
        },
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.mark.req("LNK-02")
class TestPlans:
    @pytest.mark.req("LNK-03")
    @pytest.mark.req("LNK-04")
    async def test_the_zones_own_plan_comes_with_the_alarm_and_steps_are_ticked(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        zone = IntrusionZone(community=world.a.community, name="东墙", kind="perimeter")
        await zone.save()
        await plan(manager, world)
        specific = await plan(
            manager, world, zone_id=str(zone.id), title="东墙预案", steps=["甲", "乙"]
        )
        alarm = await raise_alarm(world.a.community, "perimeter", zone_id=zone.id)
        elsewhere = await raise_alarm(world.a.community, "perimeter")
        guard = await as_role(Role.GUARD)
        detail = (await guard.get(f"/api/v1/alarms/{alarm}")).json()
        assert (detail["plan_id"], detail["plan_title"]) == (specific["id"], "东墙预案")
        assert [s["text"] for s in detail["checklist"]] == ["甲", "乙"]
        other = (await guard.get(f"/api/v1/alarms/{elsewhere}")).json()
        assert other["plan_title"] == "周界入侵处置"
        ticked = await guard.post(f"/api/v1/alarms/{alarm}/steps/1")
        assert ticked.status_code == 200, ticked.text
        step = ticked.json()[1]
        assert step["done"] and step["done_by"] == world.a.users[Role.GUARD].username
        assert step["done_at"] is not None and not ticked.json()[0]["done"]
        assert_error(await guard.post(f"/api/v1/alarms/{alarm}/steps/1"), 409, "plan_step_done")
        assert_error(await guard.post(f"/api/v1/alarms/{alarm}/steps/2"), 400, "invalid_step")
        assert_error(await guard.post(f"/api/v1/alarms/{alarm}/steps/-1"), 400, "invalid_step")
        assert await audit_rows("alarm.step_done", alarm)
        # Editing the plan later leaves the alarm's checklist as it was raised.
        await manager.patch(f"/api/v1/plans/{specific['id']}", json={"steps": ["丙"]})
        again = (await guard.get(f"/api/v1/alarms/{alarm}")).json()
        assert [s["text"] for s in again["checklist"]] == ["甲", "乙"]

    async def test_no_plan_and_closed_alarms(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community, "video_loss")
        guard = await as_role(Role.GUARD)
        assert_error(await guard.post(f"/api/v1/alarms/{alarm}/steps/0"), 409, "alarm_has_no_plan")
        manager = await as_role(Role.PROPERTY_MANAGER)
        await plan(manager, world, alarm_type="tamper")
        closed = await raise_alarm(world.a.community, "tamper")
        await guard.post(f"/api/v1/alarms/{closed}/acknowledge")
        await guard.post(f"/api/v1/alarms/{closed}/resolve")
        assert_error(await guard.post(f"/api/v1/alarms/{closed}/steps/0"), 409, "alarm_closed")

    async def test_crud_scope_and_bad_input(
        self, as_role: AsRole, login: Callable, world: World, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        made = await plan(manager, world)
        assert await audit_rows("plan.created", made["id"])
        listed = (await manager.get(f"/api/v1/plans?community_id={world.a.community}")).json()
        assert made["id"] in {p["id"] for p in listed["items"]}
        for user in (world.a.users[Role.GUARD], world.b.users[Role.PROPERTY_MANAGER]):
            api = await login(user)
            assert_error(
                await api.patch(f"/api/v1/plans/{made['id']}", json={"title": "x"}),
                404,
                "not_found",
            )
        other = await as_role(Role.PROPERTY_MANAGER, "b")
        assert_error(await other.get(f"/api/v1/plans/{made['id']}"), 404, "not_found")
        assert_error(await other.delete(f"/api/v1/plans/{made['id']}"), 404, "not_found")
        foreign = await other.post(
            "/api/v1/plans",
            json={
                "community_id": str(world.a.community),
                "alarm_type": "fire",
                "title": "x",
                "steps": ["a"],
            },
        )
        assert_error(foreign, 404, "not_found")
        resident = await as_role(Role.RESIDENT)
        assert (await resident.get("/api/v1/plans")).json()["items"] == []
        bad_zone = await manager.post(
            "/api/v1/plans",
            json={
                "community_id": str(world.a.community),
                "alarm_type": "fire",
                "title": "x",
                "steps": ["a"],
                "zone_id": "00000000-0000-4000-8000-000000000000",
            },
        )
        assert_error(bad_zone, 400, "unknown_zone")
        no_steps = await manager.post(
            "/api/v1/plans",
            json={
                "community_id": str(world.a.community),
                "alarm_type": "fire",
                "title": "x",
                "steps": [],
            },
        )
        assert no_steps.status_code == 422
        assert (await manager.delete(f"/api/v1/plans/{made['id']}")).status_code == 204
        assert_error(await manager.get(f"/api/v1/plans/{made['id']}"), 404, "not_found")


@pytest.mark.req("LNK-02")
class TestPlanStats:
    async def test_use_of_each_plan(
        self, as_role: AsRole, login: Callable, world: World, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        made = await plan(manager, world, steps=["一", "二"])
        guard = await as_role(Role.GUARD)
        now = datetime.now(UTC)
        for ack_after, resolve_after, steps in (
            (10, 100, [0, 1]),
            (30, 300, [0]),
            (None, None, []),
        ):
            alarm = await raise_alarm(world.a.community, "perimeter")
            for index in steps:
                await guard.post(f"/api/v1/alarms/{alarm}/steps/{index}")
            raised = now - timedelta(hours=1)
            await Alarm.update(
                {
                    Alarm.raised_at: raised,
                    Alarm.acknowledged_at: raised + timedelta(seconds=ack_after)
                    if ack_after
                    else None,
                    Alarm.resolved_at: raised + timedelta(seconds=resolve_after)
                    if resolve_after
                    else None,
                }
            ).where(Alarm.id == alarm)
        stats = await manager.get(f"/api/v1/alarms/plan-stats?community_id={world.a.community}")
        assert stats.status_code == 200, stats.text
        [row] = [s for s in stats.json() if s["plan_id"] == made["id"]]
        assert row["alarms"] == 3
        assert row["steps_completed_pct"] == 50.0  # 3 of 6 steps
        assert row["median_acknowledge_s"] == 20.0
        assert row["median_resolve_s"] == 200.0
        police = await as_role(Role.POLICE)
        assert (
            await police.get(f"/api/v1/alarms/plan-stats?community_id={world.a.community}")
        ).status_code == 200
        for user in (world.a.users[Role.RESIDENT], world.b.users[Role.PROPERTY_MANAGER]):
            api = await login(user)
            assert_error(
                await api.get(f"/api/v1/alarms/plan-stats?community_id={world.a.community}"),
                404,
                "not_found",
            )
        assert_error(
            await manager.get(
                f"/api/v1/alarms/plan-stats?community_id={world.a.community}"
                f"&since={now.isoformat().replace('+00:00', 'Z')}"
                f"&until={(now - timedelta(days=1)).isoformat().replace('+00:00', 'Z')}"
            ),
            400,
            "invalid_input",
        )
        # A missing query parameter: 4xx (api/core/errors.py calls it an undecodable body, 422).
        missing = await manager.get("/api/v1/alarms/plan-stats")
        assert 400 <= missing.status_code < 500
