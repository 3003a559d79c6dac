"""SOS from a resident's phone: everyone on duty hears at once; the resident sees who answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from api.alarms.tables import Alarm
from api.core.auth import Role
from tests.devices.peer import ScriptedBridge
from tests.fixtures import AsRole
from tests.helpers import (
    World,
    assert_error,
    live_socket,
    make_account,
    next_event,
    notified,
    on_duty,
    subscribe,
)
from tests.jobs import Jobs


@pytest.mark.req("ALM-21")
class TestSos:
    @pytest.mark.req("ALM-19")
    @pytest.mark.req("LNK-14")
    async def test_on_duty_guards_and_managers_are_told_and_resident_sees_who_answered(
        self, live_url: str, login: Callable, world: World, jobs: Jobs
    ) -> None:
        guard, manager = world.a.users[Role.GUARD], world.a.users[Role.PROPERTY_MANAGER]
        off_duty = await make_account(Role.GUARD, community=world.a.community)
        await on_duty(guard, world.a.community)
        await subscribe(guard, manager, off_duty, world.b.users[Role.GUARD])
        resident_user = world.a.users[Role.RESIDENT]
        resident = await login(resident_user)
        raised = await resident.post(
            "/api/v1/sos",
            json={"note": "老人摔倒", "location": {"lat": 30.65, "lon": 104.08, "accuracy": 12}},
        )
        assert raised.status_code == 201, raised.text
        sos = raised.json()
        assert (sos["state"], sos["acknowledged_by"]) == ("new", None)
        alarm = await Alarm.select().where(Alarm.id == sos["id"]).output(load_json=True).first()
        assert alarm is not None
        assert (alarm["type"], alarm["severity"], alarm["retention"]) == ("sos", "critical", "1y")
        assert alarm["household"] == world.a.households[0]
        assert alarm["location"]["lat"] == 30.65
        # Pushed at once to the guard on duty and the manager; not to the guard off duty.
        [push] = await notified(guard.id, sos["id"])
        assert push["urgency"] == "high"
        assert push["payload"]["title"] == "【紧急求助】1栋1单元0101"
        assert push["payload"]["url"] == f"/alarms/{sos['id']}"
        assert await notified(manager.id, sos["id"])
        assert await notified(off_duty.id, sos["id"]) == []
        assert await notified(world.b.users[Role.GUARD].id, sos["id"]) == []

        async with live_socket(live_url, resident_user) as ws:
            handler = await login(guard)
            answer = await handler.post(f"/api/v1/alarms/{sos['id']}/acknowledge")
            assert answer.status_code == 200, answer.text
            event = await next_event(ws, lambda e: e["type"] == "alarm.acknowledged")
        assert event["alarm_id"] == sos["id"]
        assert event["by"] == guard.username and event["at"]
        seen = (await resident.get(f"/api/v1/sos/{sos['id']}")).json()
        assert seen["state"] == "acknowledged"
        assert seen["acknowledged_by"] == guard.username
        assert [e["kind"] for e in seen["timeline"]] == ["raised", "acknowledged"]

    async def test_second_press_joins_the_first(self, as_role: AsRole, jobs: Jobs) -> None:
        resident = await as_role(Role.RESIDENT)
        first = (await resident.post("/api/v1/sos", json={})).json()
        second = (await resident.post("/api/v1/sos", json={"note": "快来"})).json()
        assert second["id"] == first["id"]
        assert [e["kind"] for e in second["timeline"]] == ["raised", "repeated"]

    async def test_a_press_after_acknowledgement_alerts_the_guards_again(
        self, as_role: AsRole, live_url: str, login: Callable, world: World, jobs: Jobs
    ) -> None:
        guard, manager = world.a.users[Role.GUARD], world.a.users[Role.PROPERTY_MANAGER]
        await on_duty(guard, world.a.community)
        await subscribe(guard, manager)
        resident = await as_role(Role.RESIDENT)
        sos = (await resident.post("/api/v1/sos", json={})).json()
        handler = await login(guard)
        assert (await handler.post(f"/api/v1/alarms/{sos['id']}/acknowledge")).status_code == 200

        async with live_socket(live_url, guard) as ws:
            again = await resident.post("/api/v1/sos", json={"note": "又摔倒了"})
            board = await next_event(
                ws, lambda e: e["type"] == "alarm" and e["alarm"]["id"] == sos["id"]
            )

        assert again.status_code == 201, again.text
        assert again.json()["id"] == sos["id"]
        assert board["alarm"]["state"] == "acknowledged"
        assert [e["kind"] for e in again.json()["timeline"]] == [
            "raised",
            "acknowledged",
            "repeated",
        ]
        for account in (guard.id, manager.id):
            first, repeat = await notified(account, sos["id"])
            assert repeat["payload"]["body"] == "又摔倒了"
            assert repeat["urgency"] == "high"
            # A tag of its own: under the first one's the browser would replace it silently.
            assert repeat["payload"]["tag"] != first["payload"]["tag"]
        detail = (await handler.get(f"/api/v1/alarms/{sos['id']}")).json()
        [renotified] = [e for e in detail["timeline"] if e["data"].get("repeat")]
        assert renotified["kind"] == "notified"
        assert renotified["data"]["accounts"] == 2

    async def test_a_press_while_unacknowledged_is_recorded_but_not_pushed_again(
        self, as_role: AsRole, live_url: str, world: World, jobs: Jobs
    ) -> None:
        guard = world.a.users[Role.GUARD]
        await on_duty(guard, world.a.community)
        await subscribe(guard)
        resident = await as_role(Role.RESIDENT)
        sos = (await resident.post("/api/v1/sos", json={})).json()

        async with live_socket(live_url, guard) as ws:
            again = (await resident.post("/api/v1/sos", json={})).json()
            board = await next_event(
                ws, lambda e: e["type"] == "alarm" and e["alarm"]["id"] == sos["id"]
            )

        assert board["alarm"]["state"] == "new"
        assert [e["kind"] for e in again["timeline"]] == ["raised", "repeated"]
        assert len(await notified(guard.id, sos["id"])) == 1

    async def test_nobody_rostered_means_every_guard(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        second_guard = await make_account(Role.GUARD, community=world.a.community)
        await subscribe(world.a.users[Role.GUARD], second_guard)
        resident = await as_role(Role.RESIDENT)
        sos = (await resident.post("/api/v1/sos", json={})).json()
        assert await notified(world.a.users[Role.GUARD].id, sos["id"])
        assert await notified(second_guard.id, sos["id"])

    async def test_only_residents_and_only_their_own(
        self, as_role: AsRole, login: Callable, world: World, jobs: Jobs
    ) -> None:
        resident = await as_role(Role.RESIDENT)
        sos = (await resident.post("/api/v1/sos", json={})).json()
        neighbour = await make_account(
            Role.RESIDENT, community=world.a.community, household=world.a.households[1]
        )
        for user in (neighbour, world.a.users[Role.GUARD], world.b.users[Role.RESIDENT]):
            api = await login(user)
            assert_error(await api.get(f"/api/v1/sos/{sos['id']}"), 404, "not_found")
        guard = await as_role(Role.GUARD)
        assert_error(await guard.post("/api/v1/sos", json={}), 404, "not_found")

    async def test_bad_input(self, as_role: AsRole, world: World, jobs: Jobs) -> None:
        resident = await as_role(Role.RESIDENT)
        far = await resident.post("/api/v1/sos", json={"location": {"lat": 95, "lon": 0}})
        assert far.status_code == 422
        assert (await resident.post("/api/v1/sos", json={"panic": True})).status_code == 422
        assert_error(
            await resident.post("/api/v1/sos", json={"household_id": str(world.a.households[1])}),
            400,
            "unknown_household",
        )
        assert_error(await resident.get("/api/v1/sos/not-a-uuid"), 404, "not_found")


class TestRoomZones:
    @pytest.mark.req("ALM-12")
    async def test_each_room_is_its_own_zone_and_its_alarm_names_the_room(
        self, login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        guard = world.a.users[Role.GUARD]
        await on_duty(guard, world.a.community)
        await subscribe(guard)
        manager = await login(world.a.users[Role.PROPERTY_MANAGER])
        household = world.a.households[0]
        zones = {}
        for name, room, button in (
            ("主卧", "bedroom", "panic-0101"),
            ("卫生间", "bathroom", "panic-0101-bath"),
        ):
            made = await manager.post(
                "/api/v1/zones",
                json={
                    "community_id": str(world.a.community),
                    "name": name,
                    "kind": "household_sos",
                    "household_id": str(household),
                    "room": room,
                    "devices": [str(site.devices[button])],
                },
            )
            assert made.status_code == 201, made.text
            assert (made.json()["room"], made.json()["armed"]) == (room, True)
            zones[room] = made.json()["id"]
        resident = await login(world.a.users[Role.RESIDENT])
        listed = (await resident.get("/api/v1/zones", params={"kind": "household_sos"})).json()
        assert {z["room"]: z["id"] for z in listed["items"]} == zones

        # The phone is in no room: its SOS belongs to none of the rooms' zones.
        sos = (await resident.post("/api/v1/sos", json={})).json()
        assert await Alarm.select(Alarm.zone).where(Alarm.id == sos["id"]).first() == {"zone": None}

        await site.event("alarm.panic", "panic-0101-bath", {})
        await site.event("alarm.panic", "panic-0101", {})
        bath, bed = (
            await Alarm.select()
            .where(
                Alarm.source_device.is_in(
                    [site.devices["panic-0101-bath"], site.devices["panic-0101"]]
                )
                & (Alarm.raised_at >= datetime.fromisoformat(sos["raised_at"]))
            )
            .order_by(Alarm.raised_at)
            .output(load_json=True)
        )
        assert (str(bath["zone"]), bath["household"]) == (zones["bathroom"], household)
        assert bath["location"]["text"] == "1栋1单元0101 · 卫生间 · 0101 卫生间按钮"
        assert (bath["location"]["room"], bath["location"]["room_name"]) == ("bathroom", "卫生间")
        assert (str(bed["zone"]), bed["household"]) == (zones["bedroom"], household)
        assert bed["location"]["text"] == "1栋1单元0101 · 主卧（卧室） · 0101 紧急按钮"
        [push] = await notified(guard.id, bath["id"])
        assert push["payload"]["title"] == "【紧急求助】1栋1单元0101 · 卫生间 · 0101 卫生间按钮"

    async def test_only_a_households_zone_has_a_room(
        self, login: Callable, world: World, jobs: Jobs
    ) -> None:
        manager = await login(world.a.users[Role.PROPERTY_MANAGER])
        body = {"community_id": str(world.a.community), "name": "卧室", "kind": "household_sos"}
        household = {"household_id": str(world.a.households[0])}
        for bad in (
            {**body, **household, "room": "attic"},
            {**body, "kind": "perimeter", "room": "bedroom"},
        ):
            assert_error(await manager.post("/api/v1/zones", json=bad), 422, "invalid_body")
