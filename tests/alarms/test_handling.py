"""Handling an alarm: the state machine, assignment, notes, photos; who may see and touch it."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest
from litestar import Litestar

from api.alarms.tables import AlarmEntry
from api.core.auth import Role
from api.core.storage import RetentionClass
from tests.fixtures import AsRole
from tests.helpers import JPEG, World, assert_error, audit_rows, notified, raise_alarm, subscribe
from tests.jobs import Jobs

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.mark.req("ALM-08")
class TestStateMachine:
    async def test_acknowledge_dispatch_resolve(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community)
        guard = await as_role(Role.GUARD)
        acked = await guard.post(f"/api/v1/alarms/{alarm}/acknowledge", json={"note": "看到了"})
        assert acked.status_code == 200, acked.text
        body = acked.json()
        assert body["state"] == "acknowledged"
        assert body["assigned_to_id"] == str(world.a.users[Role.GUARD].id)  # who took it
        manager = world.a.users[Role.PROPERTY_MANAGER]
        await subscribe(manager)
        sent = await guard.post(
            f"/api/v1/alarms/{alarm}/dispatch", json={"assignee_id": str(manager.id)}
        )
        assert sent.json()["state"] == "dispatched"
        assert sent.json()["assigned_to_id"] == str(manager.id)
        assert await notified(manager.id, alarm)  # the assignee is told
        done = await guard.post(f"/api/v1/alarms/{alarm}/resolve", json={"note": "已处理"})
        assert done.json()["state"] == "resolved"
        assert done.json()["resolved_at"] is not None
        kinds = [e["kind"] for e in done.json()["timeline"]]
        assert kinds[-4:] == ["acknowledged", "dispatched", "assigned", "resolved"]
        entry = done.json()["timeline"][-1]
        assert entry["actor_name"] == world.a.users[Role.GUARD].username and entry["at"]
        assert await audit_rows("alarm.resolved", alarm)

    async def test_resolving_twice_is_a_conflict(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community)
        guard = await as_role(Role.GUARD)
        await guard.post(f"/api/v1/alarms/{alarm}/acknowledge")
        assert (await guard.post(f"/api/v1/alarms/{alarm}/resolve")).status_code == 200
        again = await guard.post(f"/api/v1/alarms/{alarm}/resolve")
        assert_error(again, 409, "alarm_transition_not_allowed")
        assert again.json()["extra"]["state"] == "resolved"
        assert_error(
            await guard.post(f"/api/v1/alarms/{alarm}/false-alarm"),
            409,
            "alarm_transition_not_allowed",
        )

    async def test_new_cannot_skip_acknowledgement(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community)
        guard = await as_role(Role.GUARD)
        for step in ("resolve", "false-alarm", "dispatch"):
            assert_error(
                await guard.post(f"/api/v1/alarms/{alarm}/{step}"),
                409,
                "alarm_transition_not_allowed",
            )
        await guard.post(f"/api/v1/alarms/{alarm}/acknowledge")
        assert_error(
            await guard.post(f"/api/v1/alarms/{alarm}/acknowledge"),
            409,
            "alarm_transition_not_allowed",
        )
        closed = await guard.post(f"/api/v1/alarms/{alarm}/false-alarm", json={"note": "猫"})
        assert closed.json()["state"] == "false_alarm"

    async def test_bad_bodies_and_assignees(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community)
        guard = await as_role(Role.GUARD)
        await guard.post(f"/api/v1/alarms/{alarm}/acknowledge")
        bad = await guard.post(f"/api/v1/alarms/{alarm}/dispatch", json={"assignee": "x"})
        assert bad.status_code == 422
        resident = world.a.users[Role.RESIDENT]
        assert_error(
            await guard.post(
                f"/api/v1/alarms/{alarm}/dispatch", json={"assignee_id": str(resident.id)}
            ),
            400,
            "invalid_assignee",
        )
        assert_error(
            await guard.post(
                f"/api/v1/alarms/{alarm}/assign",
                json={"account_id": str(world.b.users[Role.GUARD].id)},
            ),
            400,
            "invalid_assignee",
        )
        assert_error(await guard.post(f"/api/v1/alarms/{UNKNOWN}/acknowledge"), 404, "not_found")


class TestNotesAndPhotos:
    async def test_note_and_photo_go_on_the_timeline(
        self, as_role: AsRole, app: Litestar, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community)
        guard = await as_role(Role.GUARD)
        noted = await guard.post(f"/api/v1/alarms/{alarm}/notes", json={"text": "东墙有攀爬痕迹"})
        assert noted.status_code == 201
        photo = await guard.post(
            f"/api/v1/alarms/{alarm}/media",
            json={
                "content_type": "image/jpeg",
                "data": base64.b64encode(JPEG).decode(),
                "caption": "现场",
            },
        )
        assert photo.status_code == 201, photo.text
        [media] = photo.json()["media"]
        assert (media["source"], media["caption"]) == ("upload", "现场")
        served = await guard.get(httpx.URL(media["url"]).raw_path.decode())
        assert served.status_code == 200 and served.content == JPEG
        entry = (
            await AlarmEntry.select()
            .where((AlarmEntry.alarm == alarm) & (AlarmEntry.kind == "media"))
            .output(load_json=True)
            .first()
        )
        assert entry is not None
        info = await app.state.objects.info(entry["data"]["key"])
        assert info.retention == RetentionClass.RECORD_6M
        assert await audit_rows("alarm.media", alarm)

    async def test_photo_must_be_what_it_says(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community)
        guard = await as_role(Role.GUARD)
        fake = base64.b64encode(b"<svg onload=alert(1)></svg>").decode()
        assert_error(
            await guard.post(
                f"/api/v1/alarms/{alarm}/media", json={"content_type": "image/png", "data": fake}
            ),
            400,
            "invalid_media",
        )
        svg = await guard.post(
            f"/api/v1/alarms/{alarm}/media", json={"content_type": "image/svg+xml", "data": fake}
        )
        assert svg.status_code == 422
        assert (
            await guard.post(f"/api/v1/alarms/{alarm}/notes", json={"text": ""})
        ).status_code == 422


class TestScope:
    async def test_residents_see_their_household_only(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        mine = await raise_alarm(world.a.community, "fire", household_id=world.a.households[0])
        theirs = await raise_alarm(world.a.community, "fire", household_id=world.a.households[1])
        public = await raise_alarm(world.a.community, "perimeter")
        resident = await as_role(Role.RESIDENT)
        listed = (await resident.get("/api/v1/alarms")).json()
        assert [a["id"] for a in listed["items"]] == [str(mine)]
        assert (await resident.get(f"/api/v1/alarms/{mine}")).status_code == 200
        for other in (theirs, public):
            assert_error(await resident.get(f"/api/v1/alarms/{other}"), 404, "not_found")
        # A resident may not handle even their own household's alarm.
        assert_error(await resident.post(f"/api/v1/alarms/{mine}/acknowledge"), 404, "not_found")

    async def test_police_see_their_jurisdiction_only(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        in_a = await raise_alarm(world.a.community, "perimeter")
        in_b = await raise_alarm(world.b.community, "perimeter")
        police = await as_role(Role.POLICE)
        ids = {a["id"] for a in (await police.get("/api/v1/alarms?page_size=200")).json()["items"]}
        assert str(in_a) in ids and str(in_b) not in ids
        assert (await police.get(f"/api/v1/alarms/{in_a}")).status_code == 200
        assert_error(await police.get(f"/api/v1/alarms/{in_b}"), 404, "not_found")
        assert_error(await police.post(f"/api/v1/alarms/{in_a}/acknowledge"), 404, "not_found")

    async def test_administrators_and_other_communities_see_nothing(
        self, login: Callable, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community, "perimeter")
        for user in (
            *world.admins.values(),
            world.b.users[Role.GUARD],
            world.a.users[Role.MAINTENANCE],
        ):
            api = await login(user)
            listed = await api.get("/api/v1/alarms")
            assert listed.status_code in (200, 404)
            if listed.status_code == 200:
                assert str(alarm) not in {a["id"] for a in listed.json()["items"]}
            assert_error(await api.get(f"/api/v1/alarms/{alarm}"), 404, "not_found")

    async def test_filters_and_bad_parameters(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community, "water_leak")
        guard = await as_role(Role.GUARD)
        found = await guard.get("/api/v1/alarms?type=water_leak&state=new")
        assert str(alarm) in {a["id"] for a in found.json()["items"]}
        none = await guard.get("/api/v1/alarms?type=water_leak&state=resolved")
        assert str(alarm) not in {a["id"] for a in none.json()["items"]}
        assert_error(await guard.get("/api/v1/alarms?state=bogus"), 400, "invalid_parameters")
        assert_error(await guard.get("/api/v1/alarms?type=bogus"), 400, "invalid_parameters")
        assert_error(await guard.get("/api/v1/alarms?page=0"), 400, "invalid_parameters")


class TestOutsideScope:
    async def test_every_handling_endpoint_answers_404_outside_scope(
        self, as_role: AsRole, login: Callable, world: World, jobs: Jobs
    ) -> None:
        alarm = await raise_alarm(world.a.community)
        photo = {"content_type": "image/jpeg", "data": base64.b64encode(JPEG).decode()}
        calls = [
            ("acknowledge", None),
            ("dispatch", None),
            ("resolve", None),
            ("false-alarm", None),
            ("assign", {"account_id": str(world.b.users[Role.GUARD].id)}),
            ("notes", {"text": "x"}),
            ("media", photo),
            ("steps/0", None),
        ]
        for user in (world.b.users[Role.GUARD], world.a.users[Role.POLICE]):
            api = await login(user)
            for path, body in calls:
                answer = await api.post(f"/api/v1/alarms/{alarm}/{path}", json=body)
                assert_error(answer, 404, "not_found")
        guard = await as_role(Role.GUARD)
        assert (await guard.get(f"/api/v1/alarms/{alarm}")).json()["state"] == "new"
