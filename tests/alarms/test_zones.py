"""Zones: configured by managers, armed by hand or schedule, household SOS zones never disarmed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest

from api.alarms import schedules
from api.alarms.tables import IntrusionZone, ZoneSchedule
from api.core.auth import Role
from api.devices.bus import CommandBus
from api.devices.tables import DeviceCommand
from tests.devices.peer import ScriptedBridge
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, audit_rows
from tests.jobs import Jobs

SHANGHAI = timedelta(hours=8)


def zone_body(world: World, **body: object) -> dict:
    return {"community_id": str(world.a.community), "name": "西侧周界", "kind": "perimeter", **body}


class TestConfiguration:
    @pytest.mark.req("ALM-03")
    async def test_manager_creates_edits_and_deletes_a_zone(
        self, as_role: AsRole, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        made = await manager.post(
            "/api/v1/zones", json=zone_body(world, devices=[str(site.devices["zone-east"])])
        )
        assert made.status_code == 201, made.text
        zone = made.json()
        assert zone["cameras"] == 0  # flagged: no camera covers this zone (6.4.6)
        camera = str(site.devices["cam-east"])
        changed = await manager.patch(
            f"/api/v1/zones/{zone['id']}",
            json={"devices": [str(site.devices["zone-east"]), camera], "entry_delay": 5},
        )
        assert (changed.json()["cameras"], changed.json()["entry_delay"]) == (1, 5)
        assert await audit_rows("zone.updated", zone["id"])
        guard = await as_role(Role.GUARD)
        assert (await guard.get(f"/api/v1/zones/{zone['id']}")).status_code == 200
        assert_error(
            await guard.patch(f"/api/v1/zones/{zone['id']}", json={"name": "x"}), 404, "not_found"
        )
        assert (await manager.delete(f"/api/v1/zones/{zone['id']}")).status_code == 204
        assert_error(await manager.get(f"/api/v1/zones/{zone['id']}"), 404, "not_found")

    async def test_bad_input(self, as_role: AsRole, world: World, site: ScriptedBridge) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        stranger = "00000000-0000-4000-8000-000000000000"
        assert_error(
            await manager.post("/api/v1/zones", json=zone_body(world, devices=[stranger])),
            400,
            "unknown_device",
        )
        other = await as_role(Role.PROPERTY_MANAGER, "b")
        assert_error(await other.post("/api/v1/zones", json=zone_body(world)), 404, "not_found")
        household_zone = zone_body(world, kind="household", household_id=str(world.b.households[0]))
        assert_error(
            await manager.post("/api/v1/zones", json=household_zone), 400, "unknown_household"
        )
        no_household = await manager.post("/api/v1/zones", json=zone_body(world, kind="household"))
        assert no_household.status_code == 422
        assert (
            await manager.post("/api/v1/zones", json=zone_body(world, entry_delay=-1))
        ).status_code == 422
        assert (
            await manager.post("/api/v1/zones", json=zone_body(world, kind="garden"))
        ).status_code == 422


class TestHouseholdZones:
    @pytest.mark.req("ALM-15", partial=True)
    async def test_sos_zone_is_never_disarmed_and_holds_four_devices(
        self, as_role: AsRole, login: Callable, world: World, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        sos = await manager.post(
            "/api/v1/zones",
            json=zone_body(
                world,
                name="0101 紧急求助",
                kind="household_sos",
                household_id=str(world.a.households[0]),
                armed=False,
            ),
        )
        assert sos.status_code == 201 and sos.json()["armed"] is True
        zone_id = sos.json()["id"]
        for user in (world.a.users[Role.RESIDENT], world.a.users[Role.PROPERTY_MANAGER]):
            api = await login(user)
            assert_error(
                await api.post(f"/api/v1/zones/{zone_id}/disarm"), 409, "zone_cannot_be_disarmed"
            )
        assert_error(
            await manager.post(
                f"/api/v1/zones/{zone_id}/schedules",
                json={"arm_at": "22:00:00", "disarm_at": "06:00:00"},
            ),
            409,
            "zone_cannot_be_disarmed",
        )
        assert await IntrusionZone.select(IntrusionZone.armed).where(
            IntrusionZone.id == zone_id
        ).first() == {"armed": True}

    @pytest.mark.req("ALM-13")
    async def test_sos_zone_holds_at_most_four_devices(
        self, as_role: AsRole, world: World, site: ScriptedBridge
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        five = [str(d) for d in list(site.devices.values())[:5]]
        body = zone_body(
            world, kind="household_sos", household_id=str(world.a.households[0]), devices=five
        )
        assert_error(await manager.post("/api/v1/zones", json=body), 400, "too_many_devices")

    @pytest.mark.req("ALM-22")
    async def test_resident_arms_and_disarms_own_household_zone_only(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        own = IntrusionZone(
            community=world.a.community,
            household=world.a.households[0],
            name="0101 门窗",
            kind="household",
        )
        neighbours = IntrusionZone(
            community=world.a.community,
            household=world.a.households[1],
            name="0102 门窗",
            kind="household",
        )
        await own.save()
        await neighbours.save()
        resident = await as_role(Role.RESIDENT)
        off = await resident.post(f"/api/v1/zones/{own.id}/disarm")
        assert off.status_code == 200 and off.json()["zone"]["armed"] is False
        assert await audit_rows("zone.disarmed", own.id)
        listed = (await resident.get("/api/v1/zones")).json()["items"]
        assert [z["id"] for z in listed] == [str(own.id)]
        assert_error(await resident.post(f"/api/v1/zones/{neighbours.id}/disarm"), 404, "not_found")
        assert_error(await resident.get(f"/api/v1/zones/{neighbours.id}"), 404, "not_found")


class TestSchedules:
    def test_changes_fall_on_their_weekdays_and_windows_wrap_midnight(self) -> None:
        schedule = {"weekdays": [0], "arm_at": time(22, 0), "disarm_at": time(6, 0)}
        monday_22 = datetime(2026, 11, 23, 22, 0, 30) - SHANGHAI  # a Monday, site time
        assert schedules.scheduled_changes(schedule, monday_22.replace(tzinfo=UTC)) == [
            (datetime(2026, 11, 23, 14, 0, tzinfo=UTC), True)
        ]
        tuesday_6 = (datetime(2026, 11, 24, 6, 1) - SHANGHAI).replace(tzinfo=UTC)
        [(at, armed)] = schedules.scheduled_changes(schedule, tuesday_6)
        assert armed is False and at == datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
        wednesday_22 = (datetime(2026, 11, 25, 22, 0, 30) - SHANGHAI).replace(tzinfo=UTC)
        assert schedules.scheduled_changes(schedule, wednesday_22) == []

    @pytest.mark.req("ALM-22")
    async def test_schedule_arms_once_and_a_later_hand_change_stands(
        self, as_role: AsRole, app: object, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        zone = (
            await manager.post(
                "/api/v1/zones",
                json=zone_body(world, armed=False, devices=[str(site.devices["zone-east"])]),
            )
        ).json()
        # Made a while ago (a hand change after the scheduled moment would win over it).
        await IntrusionZone.update(
            {IntrusionZone.state_changed_at: datetime.now(UTC) - timedelta(minutes=5)}
        ).where(IntrusionZone.id == zone["id"])
        local = (datetime.now(UTC) + SHANGHAI).replace(second=0, microsecond=0)
        made = await manager.post(
            f"/api/v1/zones/{zone['id']}/schedules",
            json={
                "arm_at": local.time().isoformat(),
                "disarm_at": (local + timedelta(hours=8)).time().isoformat(),
                "weekdays": [local.weekday()],
            },
        )
        assert made.status_code == 201, made.text
        listed = await manager.get(f"/api/v1/zones/{zone['id']}/schedules")
        assert [s["id"] for s in listed.json()] == [made.json()["id"]]
        bus = CommandBus(app.state.redis)  # type: ignore[attr-defined]
        await schedules.apply_schedules(bus)
        armed = await IntrusionZone.select().where(IntrusionZone.id == zone["id"]).first()
        assert armed is not None and armed["armed"] is True
        assert await audit_rows("zone.armed", zone["id"])
        assert [c.action for c in site.commands] == ["arm"]
        guard = await as_role(Role.GUARD)
        await guard.post(f"/api/v1/zones/{zone['id']}/disarm")
        await schedules.apply_schedules(bus)
        kept = await IntrusionZone.select().where(IntrusionZone.id == zone["id"]).first()
        assert kept is not None and kept["armed"] is False
        assert (
            await DeviceCommand.count().where(DeviceCommand.device == site.devices["zone-east"])
            == 2
        )

    async def test_schedule_bad_input_and_scope(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        zone = IntrusionZone(community=world.a.community, name="区域", kind="area")
        await zone.save()
        manager = await as_role(Role.PROPERTY_MANAGER)
        same = {"arm_at": "08:00:00", "disarm_at": "08:00:00"}
        assert (
            await manager.post(f"/api/v1/zones/{zone.id}/schedules", json=same)
        ).status_code == 422
        days = {"arm_at": "08:00:00", "disarm_at": "18:00:00", "weekdays": [7]}
        assert (
            await manager.post(f"/api/v1/zones/{zone.id}/schedules", json=days)
        ).status_code == 422
        guard = await as_role(Role.GUARD)
        ok = {"arm_at": "08:00:00", "disarm_at": "18:00:00"}
        assert_error(
            await guard.post(f"/api/v1/zones/{zone.id}/schedules", json=ok), 404, "not_found"
        )
        made = (await manager.post(f"/api/v1/zones/{zone.id}/schedules", json=ok)).json()
        assert made["weekdays"] == [0, 1, 2, 3, 4, 5, 6]
        assert (
            await manager.delete(f"/api/v1/zones/{zone.id}/schedules/{made['id']}")
        ).status_code == 204
        assert await ZoneSchedule.count().where(ZoneSchedule.zone == zone.id) == 0


class TestOutsideScope:
    async def test_zone_endpoints_outside_scope_and_bad_input(
        self, as_role: AsRole, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        zone = (await manager.post("/api/v1/zones", json=zone_body(world))).json()
        made = await manager.post(
            f"/api/v1/zones/{zone['id']}/schedules",
            json={"arm_at": "22:00:00", "disarm_at": "06:00:00"},
        )
        schedule = made.json()["id"]
        other = await as_role(Role.PROPERTY_MANAGER, "b")
        assert_error(await other.get(f"/api/v1/zones/{zone['id']}"), 404, "not_found")
        assert_error(await other.delete(f"/api/v1/zones/{zone['id']}"), 404, "not_found")
        assert_error(await other.get(f"/api/v1/zones/{zone['id']}/schedules"), 404, "not_found")
        assert_error(
            await other.delete(f"/api/v1/zones/{zone['id']}/schedules/{schedule}"),
            404,
            "not_found",
        )
        assert zone["id"] not in {
            z["id"] for z in (await other.get("/api/v1/zones")).json()["items"]
        }
        admin = await as_role(Role.SYSTEM_ADMIN)
        assert_error(await admin.get("/api/v1/zones"), 404, "not_found")
        assert_error(await manager.get("/api/v1/zones?kind=garden"), 400, "invalid_parameters")
        assert_error(
            await manager.patch(
                f"/api/v1/zones/{zone['id']}",
                json={"devices": ["00000000-0000-4000-8000-000000000000"]},
            ),
            400,
            "unknown_device",
        )
        assert_error(
            await manager.delete(f"/api/v1/zones/{zone['id']}/schedules/{zone['id']}"),
            404,
            "not_found",
        )
        await manager.post(
            "/api/v1/plans",
            json={
                "community_id": str(world.a.community),
                "alarm_type": "perimeter",
                "title": "东墙",
                "steps": ["看"],
                "zone_id": zone["id"],
            },
        )
        assert_error(await manager.delete(f"/api/v1/zones/{zone['id']}"), 409, "zone_in_use")
