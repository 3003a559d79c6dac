"""Access points, schedules and groups: automatic points, configuration, scope and bad input."""

from __future__ import annotations

import uuid

import pytest

from api.access.tables import CredentialChange
from api.core.auth import Role
from tests.access.helpers import Link, enrol_card, unique_card
from tests.devices.peer import EnrolledBridge
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows, counting_queries


class TestAutomaticPoints:
    @pytest.mark.req("ACC-01", "ACC-02", "ACC-03", partial=True)
    async def test_inventory_gives_each_door_a_point_once(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        for _ in range(2):  # a second inventory adds nothing
            site = await link(bridge)
            await site.settle()
            await site.close()
        items = (await manager.get("/api/v1/access-points")).json()["items"]
        assert sorted((p["name"], p["kind"]) for p in items) == [
            ("1栋1单元 单元门", "unit_door"),
            ("北门", "gate"),
            ("快递间", "key_room"),
        ]
        unit_door = next(p for p in items if p["kind"] == "unit_door")
        assert unit_door["building_id"] and unit_door["unit_id"]


class TestConfiguration:
    async def test_points_schedules_groups_round_trip_audited(
        self, manager: ApiClient, world: World
    ) -> None:
        community = str(world.a.community)
        point = await manager.post(
            "/api/v1/access-points",
            json={"community_id": community, "name": "设备间", "kind": "key_room"},
        )
        assert point.status_code == 201, point.text
        pid = point.json()["id"]
        r = await manager.patch(f"/api/v1/access-points/{pid}", json={"direction": "in"})
        assert r.status_code == 200 and r.json()["direction"] == "in", r.text
        schedule = await manager.post(
            "/api/v1/access-schedules",
            json={
                "community_id": community,
                "name": "夜班",
                "windows": [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "22:00", "end": "06:00"}],
            },
        )
        assert schedule.status_code == 201, schedule.text
        sid = schedule.json()["id"]
        group = await manager.post(
            "/api/v1/access-groups",
            json={
                "community_id": community,
                "name": "维修",
                "point_ids": [pid],
                "schedule_id": sid,
            },
        )
        assert group.status_code == 201, group.text
        gid = group.json()["id"]
        assert group.json()["point_ids"] == [pid]
        listed = (await manager.get("/api/v1/access-groups")).json()
        assert [g["id"] for g in listed] == [gid]
        assert (await manager.delete(f"/api/v1/access-schedules/{sid}")).status_code == 204
        assert (await manager.get("/api/v1/access-groups")).json()[0]["schedule_id"] is None
        assert (await manager.delete(f"/api/v1/access-points/{pid}")).status_code == 204
        assert (await manager.get("/api/v1/access-groups")).json()[0]["point_ids"] == []
        assert (await manager.delete(f"/api/v1/access-groups/{gid}")).status_code == 204
        for action, target in (
            ("access_point.create", pid),
            ("access_point.update", pid),
            ("access_point.delete", pid),
            ("access_schedule.create", sid),
            ("access_group.create", gid),
            ("access_group.delete", gid),
        ):
            assert await audit_rows(action, target), action

    async def test_bad_input(self, manager: ApiClient, world: World) -> None:
        community = str(world.a.community)
        for body in (
            {
                "community_id": community,
                "name": "x",
                "windows": [{"days": [8], "start": "08:00", "end": "18:00"}],
            },
            {
                "community_id": community,
                "name": "x",
                "windows": [{"days": [1], "start": "8am", "end": "18:00"}],
            },
            {
                "community_id": community,
                "name": "x",
                "windows": [{"days": [1], "start": "08:00", "end": "08:00"}],
            },
        ):
            r = await manager.post("/api/v1/access-schedules", json=body)
            assert_error(r, 422, "invalid_body")
        r = await manager.post(
            "/api/v1/access-points",
            json={"community_id": community, "name": "x", "kind": "window"},
        )
        assert_error(r, 422, "invalid_body")
        r = await manager.post(
            "/api/v1/access-groups",
            json={"community_id": community, "name": "x", "point_ids": [str(uuid.uuid4())]},
        )
        assert_error(r, 400, "unknown_reference")


class TestQueries:
    async def test_a_schedule_change_costs_the_same_queries_however_many_groups_use_it(
        self, manager: ApiClient, world: World
    ) -> None:
        community = str(world.a.community)
        counts = []
        for groups in (1, 5):
            schedule = await manager.post(
                "/api/v1/access-schedules",
                json={
                    "community_id": community,
                    "name": f"{groups}组",
                    "windows": [{"days": [1], "start": "08:00", "end": "18:00"}],
                },
            )
            assert schedule.status_code == 201, schedule.text
            sid = schedule.json()["id"]
            cards = []
            for n in range(groups):
                group = await manager.post(
                    "/api/v1/access-groups",
                    json={"community_id": community, "name": f"组{n}", "schedule_id": sid},
                )
                assert group.status_code == 201, group.text
                card = await enrol_card(
                    manager,
                    world.a.persons[1],
                    unique_card(),
                    household_access=False,
                    group_ids=[group.json()["id"]],
                )
                cards.append(uuid.UUID(card["id"]))
            with counting_queries() as seen:
                listed = await manager.get("/api/v1/access-groups")
                r = await manager.patch(f"/api/v1/access-schedules/{sid}", json={"name": "改"})
            assert listed.status_code == 200 and r.status_code == 200, r.text
            counts.append(len(seen))
            changed = await CredentialChange.select(CredentialChange.credential).where(
                CredentialChange.credential.is_in(cards)
            )
            # Enrolled once, then changed by the schedule: every group's card is sent again.
            assert sorted(c["credential"] for c in changed) == sorted(cards * 2)
        assert counts[0] == counts[1], counts


class TestScope:
    async def test_other_communities_and_residents_get_404(
        self, as_role: AsRole, manager: ApiClient, world: World
    ) -> None:
        point = await manager.post(
            "/api/v1/access-points",
            json={"community_id": str(world.a.community), "name": "东门", "kind": "gate"},
        )
        pid = point.json()["id"]
        other = await as_role(Role.PROPERTY_MANAGER, "b")
        assert_error(await other.get(f"/api/v1/access-points/{pid}"), 404, "not_found")
        assert_error(
            await other.patch(f"/api/v1/access-points/{pid}", json={"name": "mine"}),
            404,
            "not_found",
        )
        assert_error(await other.delete(f"/api/v1/access-points/{pid}"), 404, "not_found")
        r = await other.post(
            "/api/v1/access-points",
            json={"community_id": str(world.a.community), "name": "x", "kind": "gate"},
        )
        assert_error(r, 404, "not_found")
        assert (await other.get("/api/v1/access-points")).json()["total"] == 0
        police = await as_role(Role.POLICE)  # filters the jurisdiction's access log
        listed = (await police.get("/api/v1/access-points", params={"page_size": 200})).json()
        assert pid in [p["id"] for p in listed["items"]]
        assert_error(
            await police.patch(f"/api/v1/access-points/{pid}", json={"name": "x"}), 404, "not_found"
        )
        resident = await as_role(Role.RESIDENT)
        assert_error(await resident.get("/api/v1/access-points"), 404, "not_found")
        assert_error(await resident.get("/api/v1/access-groups"), 404, "not_found")
        guard = await as_role(Role.GUARD)
        assert (await guard.get(f"/api/v1/access-points/{pid}")).status_code == 200
        assert_error(
            await guard.patch(f"/api/v1/access-points/{pid}", json={"name": "x"}), 404, "not_found"
        )
