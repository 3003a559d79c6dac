"""Linkage rules: snapshots, doors, broadcasts, notifications and escalation — each once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar

from api.alarms.defaults import seed_defaults
from api.alarms.tables import Alarm, AlarmEntry, BridgeRules, LinkageRun
from api.core.auth import Role
from api.core.storage import RetentionClass
from api.devices.tables import DeviceCommand
from device_bridge import protocol
from tests.devices.peer import Peer, ScriptedBridge
from tests.fixtures import AsRole
from tests.helpers import (
    JPEG,
    ApiClient,
    World,
    assert_error,
    audit_rows,
    eventually,
    live_socket,
    next_event,
    notified,
    raise_alarm,
    subscribe,
)
from tests.jobs import Jobs
from workers.tasks.alarms import sweep_alarm_timers


async def perimeter_zone(manager: ApiClient, world: World, site: ScriptedBridge) -> dict:
    made = await manager.post(
        "/api/v1/zones",
        json={
            "community_id": str(world.a.community),
            "name": "东侧周界",
            "kind": "perimeter",
            "devices": [str(site.devices["zone-east"]), str(site.devices["cam-east"])],
        },
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def rule(world: World, **body: object) -> dict:
    return {"community_id": str(world.a.community), "name": "规则", **body}


async def commands(site: ScriptedBridge, device: str, action: str) -> list[dict]:
    return list(
        await DeviceCommand.select()
        .where((DeviceCommand.device == site.devices[device]) & (DeviceCommand.action == action))
        .output(load_json=True)
    )


@pytest.mark.req("LNK-01")
class TestLinkageRun:
    @pytest.mark.req("ALM-06", partial=True)
    @pytest.mark.req("LNK-05", partial=True)
    @pytest.mark.req("LNK-06")
    async def test_actions_run_once_each(
        self,
        as_role: AsRole,
        app: Litestar,
        live_url: str,
        world: World,
        site: ScriptedBridge,
        jobs: Jobs,
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        await perimeter_zone(manager, world, site)
        police, manager_user = world.a.users[Role.POLICE], world.a.users[Role.PROPERTY_MANAGER]
        await subscribe(police, manager_user)
        made = await manager.post(
            "/api/v1/linkage-rules",
            json=rule(
                world,
                alarm_type="perimeter",
                actions=[
                    {"kind": "snapshot"},
                    {"kind": "unlock", "devices": [str(site.devices["door-1-1"])]},
                    {"kind": "broadcast", "text": "请注意，保安正在赶来", "devices": []},
                    {"kind": "notify", "roles": ["police"]},
                    {"kind": "escalate", "after": 1, "roles": ["property_manager"]},
                ],
            ),
        )
        assert made.status_code == 201, made.text
        assert await audit_rows("linkage_rule.created", made.json()["id"])
        await site.event("alarm.intrusion", "zone-east")
        [alarm] = await Alarm.select().where(Alarm.source_device == site.devices["zone-east"])
        async with live_socket(live_url, world.a.users[Role.GUARD]) as ws:
            await jobs.run()  # linkage now, the escalation a second later
            # The worker's changes reach the board too.
            escalated = await next_event(
                ws, lambda e: e["type"] == "alarm" and e["alarm"]["escalated_at"] is not None
            )
        assert escalated["alarm"]["id"] == str(alarm["id"])

        # The linked camera's picture is in the object store and on the alarm.
        [media] = (
            await AlarmEntry.select()
            .where((AlarmEntry.alarm == alarm["id"]) & (AlarmEntry.kind == "media"))
            .output(load_json=True)
        )
        assert media["data"]["source"] == "camera"
        assert media["data"]["device"] == str(site.devices["cam-east"])
        assert await app.state.objects.get(media["data"]["key"]) == JPEG
        info = await app.state.objects.info(media["data"]["key"])
        assert info.retention == RetentionClass.RECORD_6M
        # The door and the speaker (the whole community's, none being listed) were commanded.
        [unlock] = await commands(site, "door-1-1", "unlock")
        [broadcast] = await commands(site, "speaker-1", "broadcast")
        assert unlock["status"] == "ok" and broadcast["args"] == {"text": "请注意，保安正在赶来"}
        assert {c.action for c in site.commands} == {"snapshot", "unlock", "broadcast"}
        # Police of the jurisdiction were told; nobody acknowledged, so managers were too.
        assert await notified(police.id, alarm["id"])
        assert await notified(manager_user.id, alarm["id"])
        row = await Alarm.select().where(Alarm.id == alarm["id"]).first()
        assert row is not None and row["escalated_at"] is not None and row["linkage_at"]
        kinds = await AlarmEntry.select(AlarmEntry.kind).where(AlarmEntry.alarm == alarm["id"])
        assert sum(k["kind"] == "linkage" for k in kinds) == 5
        assert sum(k["kind"] == "escalated" for k in kinds) == 1
        runs = await LinkageRun.select(LinkageRun.status).where(LinkageRun.alarm == alarm["id"])
        assert sorted(r["status"] for r in runs) == ["ok"] * 5

        # The job again (arq delivers at least once): nothing happens twice.
        await Alarm.update({Alarm.linkage_at: None}).where(Alarm.id == alarm["id"])
        await jobs.pool.enqueue_job("run_linkage", alarm_id=alarm["id"])
        await jobs.run()
        assert len(await commands(site, "door-1-1", "unlock")) == 1
        assert len(await commands(site, "cam-east", "snapshot")) == 1
        assert len(site.commands) == 3

    async def test_no_escalation_when_acknowledged_in_time(
        self, as_role: AsRole, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        await manager.post(
            "/api/v1/linkage-rules",
            json=rule(
                world,
                alarm_type="water_leak",
                actions=[{"kind": "escalate", "after": 1, "roles": ["property_manager"]}],
            ),
        )
        await subscribe(world.a.users[Role.PROPERTY_MANAGER])
        alarm = await raise_alarm(world.a.community, "water_leak")
        await jobs.pool.enqueue_job("run_linkage", alarm_id=alarm)
        guard = await as_role(Role.GUARD)
        await guard.post(f"/api/v1/alarms/{alarm}/acknowledge")
        await jobs.run()
        [run] = await LinkageRun.select().where(LinkageRun.alarm == alarm)
        assert (run["status"], run["detail"]) == ("skipped", "acknowledged in time")
        assert await notified(world.a.users[Role.PROPERTY_MANAGER].id, alarm) == []

    async def test_time_window_and_zone_limit_a_rule(
        self, as_role: AsRole, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        zone = await perimeter_zone(manager, world, site)
        local = datetime.now(UTC) + timedelta(hours=8)
        later = (local + timedelta(hours=2)).time().replace(microsecond=0).isoformat()
        latest = (local + timedelta(hours=3)).time().replace(microsecond=0).isoformat()
        notify = [{"kind": "notify", "roles": ["property_manager"]}]
        await manager.post(
            "/api/v1/linkage-rules",
            json=rule(
                world,
                alarm_type="tamper",
                actions=notify,
                active_from=later,
                active_until=latest,
            ),
        )
        await manager.post(
            "/api/v1/linkage-rules",
            json=rule(world, alarm_type="tamper", actions=notify, zone_id=zone["id"]),
        )
        alarm = await raise_alarm(world.a.community, "tamper")
        await jobs.pool.enqueue_job("run_linkage", alarm_id=alarm)
        await jobs.run()
        assert await LinkageRun.count().where(LinkageRun.alarm == alarm) == 0


@pytest.mark.req("LNK-01")
class TestRules:
    async def test_bad_rules_are_refused(
        self, as_role: AsRole, world: World, site: ScriptedBridge
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        camera = str(site.devices["cam-east"])
        assert_error(
            await manager.post(
                "/api/v1/linkage-rules",
                json=rule(
                    world, alarm_type="fire", actions=[{"kind": "unlock", "devices": [camera]}]
                ),
            ),
            400,
            "unknown_device",
        )
        assert_error(
            await manager.post(
                "/api/v1/linkage-rules",
                json=rule(
                    world,
                    alarm_type="intrusion",
                    failsafe=True,
                    actions=[{"kind": "unlock"}],
                ),
            ),
            400,
            "failsafe_not_supported",
        )
        assert_error(
            await manager.post(
                "/api/v1/linkage-rules",
                json=rule(
                    world,
                    alarm_type="fire",
                    zone_id="00000000-0000-4000-8000-000000000000",
                    actions=[{"kind": "unlock"}],
                ),
            ),
            400,
            "unknown_zone",
        )
        for actions in (
            [{"kind": "explode"}],
            [{"kind": "broadcast"}],
            [{"kind": "escalate", "after": 0, "roles": ["police"]}],
            [{"kind": "notify", "roles": ["mayor"]}],
            [],
        ):
            answer = await manager.post(
                "/api/v1/linkage-rules", json=rule(world, alarm_type="fire", actions=actions)
            )
            assert answer.status_code == 422, actions
        half_window = rule(
            world, alarm_type="fire", actions=[{"kind": "unlock"}], active_from="22:00:00"
        )
        assert (await manager.post("/api/v1/linkage-rules", json=half_window)).status_code == 422

    async def test_only_the_communitys_managers(
        self, as_role: AsRole, login: Callable, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        made = (
            await manager.post(
                "/api/v1/linkage-rules",
                json=rule(world, alarm_type="fire", actions=[{"kind": "unlock"}]),
            )
        ).json()
        for user in (world.a.users[Role.GUARD], world.b.users[Role.PROPERTY_MANAGER]):
            api = await login(user)
            assert_error(await api.get(f"/api/v1/linkage-rules/{made['id']}"), 404, "not_found")
            assert_error(
                await api.get(f"/api/v1/linkage-rules?community_id={world.a.community}"),
                404,
                "not_found",
            )
            assert_error(
                await api.post(
                    "/api/v1/linkage-rules",
                    json=rule(world, alarm_type="fire", actions=[{"kind": "unlock"}]),
                ),
                404,
                "not_found",
            )
            assert_error(
                await api.patch(f"/api/v1/linkage-rules/{made['id']}", json={"enabled": False}),
                404,
                "not_found",
            )
            assert_error(await api.delete(f"/api/v1/linkage-rules/{made['id']}"), 404, "not_found")
        bad = await manager.patch(
            f"/api/v1/linkage-rules/{made['id']}", json={"active_from": "22:00:00"}
        )
        assert bad.status_code == 422
        changed = await manager.patch(
            f"/api/v1/linkage-rules/{made['id']}", json={"enabled": False}
        )
        assert changed.json()["enabled"] is False
        assert (await manager.delete(f"/api/v1/linkage-rules/{made['id']}")).status_code == 204


@pytest.mark.req("LNK-07")
@pytest.mark.req("PLAT-18")
class TestFailsafeRulesReachTheBridge:
    async def test_pushed_on_change_and_sent_on_authentication(
        self, as_role: AsRole, live_url: str, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        zone = (
            await manager.post(
                "/api/v1/zones",
                json={
                    "community_id": str(world.a.community),
                    "name": "1栋 公共区域",
                    "kind": "area",
                    "devices": [
                        str(site.devices[d]) for d in ("smoke-0101", "door-1-1", "speaker-1")
                    ],
                },
            )
        ).json()
        made = await manager.post(
            "/api/v1/linkage-rules",
            json=rule(
                world,
                alarm_type="fire",
                zone_id=zone["id"],
                failsafe=True,
                actions=[
                    {"kind": "unlock"},
                    {"kind": "broadcast", "text": "火警，请疏散"},
                    {"kind": "notify", "roles": ["property_manager"]},
                ],
            ),
        )
        assert made.status_code == 201, made.text
        expected = protocol.LocalRule(
            id=made.json()["id"],
            when_kind="sensor.alarm",
            when_devices=["smoke-0101"],
            then=[
                protocol.RuleAction(
                    device="door-1-1", action="unlock", args={"reason": "alarm linkage"}
                ),
                protocol.RuleAction(
                    device="speaker-1", action="broadcast", args={"text": "火警，请疏散"}
                ),
            ],
        )

        async def pushed() -> list[protocol.Rules]:
            return site.rules

        [frame] = await eventually(pushed)
        assert frame.rules == [expected]
        # A new link gets the set right after Welcome, and its RulesApplied is recorded.
        await site.close()
        async with Peer.open(live_url) as peer:
            await peer.send(peer.hello(site.bridge))
            assert isinstance(await peer.recv(), protocol.Welcome)
            again = await peer.recv()
            assert isinstance(again, protocol.Rules)
            assert (again.version, again.rules) == (frame.version, [expected])
            await peer.send(protocol.RulesApplied(version=again.version))
            await peer.send(protocol.Heartbeat(sent_at=datetime.now(UTC).timestamp()))
            assert isinstance(await peer.recv(), protocol.HeartbeatAck)
            state = await BridgeRules.select().where(BridgeRules.bridge == site.bridge.id).first()
            assert state is not None and state["applied_version"] == again.version

    async def test_no_frame_for_communities_without_failsafe_rules(
        self, live_url: str, site: ScriptedBridge
    ) -> None:
        await site.close()
        async with Peer.authenticated(live_url, site.bridge, []) as peer:
            pass
        assert not site.rules and not peer.rules


class TestSweep:
    async def test_lost_linkage_jobs_are_enqueued_again(self, world: World, jobs: Jobs) -> None:
        alarm = await raise_alarm(world.a.community, "video_loss")
        await Alarm.update({Alarm.raised_at: datetime.now(UTC) - timedelta(minutes=5)}).where(
            Alarm.id == alarm
        )
        await jobs.pool.enqueue_job("sweep_alarm_timers")
        await jobs.run()
        row = await Alarm.select(Alarm.linkage_at).where(Alarm.id == alarm).first()
        assert row is not None and row["linkage_at"] is not None

    async def test_a_retried_sweep_enqueues_each_lost_job_once(
        self, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community, "video_loss")
        await Alarm.update({Alarm.raised_at: datetime.now(UTC) - timedelta(minutes=5)}).where(
            Alarm.id == alarm
        )
        await jobs.drop("run_linkage")  # the raise's own linkage job: lost

        # Alarms of earlier tests that no worker linked may be swept too: count this one's jobs.
        async def queued_for_alarm() -> int:
            queued = await jobs.queued("run_linkage")
            return sum(j.kwargs == {"alarm_id": alarm} for j in queued)

        ctx = {"redis": jobs.pool, "job_id": "cron:sweep_alarm_timers:1"}
        assert await sweep_alarm_timers(ctx) >= 1
        await sweep_alarm_timers(ctx)  # arq runs the same sweep again after a failure
        assert await queued_for_alarm() == 1
        await sweep_alarm_timers({**ctx, "job_id": "cron:sweep_alarm_timers:2"})
        assert await queued_for_alarm() == 2  # the next sweep tries again


class TestDefaults:
    async def test_a_new_community_gets_plans_and_a_fire_failsafe_rule(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        assert await seed_defaults(world.a.community) is True
        assert await seed_defaults(world.a.community) is False  # never twice
        manager = await as_role(Role.PROPERTY_MANAGER)
        rules = (
            await manager.get(f"/api/v1/linkage-rules?community_id={world.a.community}")
        ).json()["items"]
        [fire] = [r for r in rules if r["alarm_type"] == "fire"]
        assert fire["failsafe"] is True
        assert [a["kind"] for a in fire["actions"]] == ["unlock", "broadcast"]
        alarm = await raise_alarm(world.a.community, "fire")
        detail = (await manager.get(f"/api/v1/alarms/{alarm}")).json()
        assert detail["plan_title"] == "火警处置预案" and len(detail["checklist"]) == 6
