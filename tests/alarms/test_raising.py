"""Device events become alarms: on the board at once, once per event, only in armed zones."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from api.alarms.catalogue import alarm_type_of
from api.alarms.tables import Alarm, AlarmEntry
from api.core.auth import Role
from api.devices.tables import DeviceEvent
from tests.devices.peer import ScriptedBridge
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, live_socket, next_event, notified, subscribe
from tests.jobs import Jobs


async def make_zone(login: Callable, world: World, site: ScriptedBridge, **body: object) -> dict:
    """A zone of community A made by its property manager through the API."""
    manager = await login(world.a.users[Role.PROPERTY_MANAGER])
    devices = [str(site.devices[d]) for d in body.pop("devices", ["zone-east", "cam-east"])]
    answer = await manager.post(
        "/api/v1/zones",
        json={
            "community_id": str(world.a.community),
            "name": "东侧周界",
            "kind": "perimeter",
            "devices": devices,
            **body,
        },
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def alarms_of(site: ScriptedBridge, device: str) -> list[dict]:
    """Alarms raised by one device of the site."""
    return list(
        await Alarm.select()
        .where(Alarm.source_device == site.devices[device])
        .output(load_json=True)
    )


class TestEventToBoard:
    @pytest.mark.req("ALM-04")
    @pytest.mark.req("ALM-07", partial=True)
    @pytest.mark.req("ALM-10")
    @pytest.mark.req("ALM-19")
    async def test_perimeter_trip_reaches_the_guards_board_at_once(
        self, live_url: str, login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        zone = await make_zone(login, world, site)
        guard = world.a.users[Role.GUARD]
        await subscribe(guard)
        async with live_socket(live_url, guard) as ws:
            await site.event("alarm.intrusion", "zone-east")
            event = await next_event(ws, lambda e: e["type"] == "alarm")
        alarm = event["alarm"]
        assert alarm["type"] == "perimeter"
        assert alarm["state"] == "new"
        assert alarm["zone_id"] == zone["id"]
        assert alarm["source_device_id"] == str(site.devices["zone-east"])
        assert alarm["location"]["text"] == "东侧周界 · 东侧周界 防区"
        # Recorded with time, place and type (6.4.11), and the guard was pushed at once.
        row = (await alarms_of(site, "zone-east"))[0]
        assert row["event"] is not None and row["retention"] == "6m"
        assert len(await notified(guard.id, alarm["id"])) == 1
        assert len(await jobs.queued()) >= 1  # the linkage job waits for the worker

    async def test_other_community_does_not_see_it(
        self, live_url: str, login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        await make_zone(login, world, site)
        async with live_socket(live_url, world.b.users[Role.GUARD]) as ws:
            await site.event("alarm.intrusion", "zone-east")
            with pytest.raises(TimeoutError):
                await next_event(ws, lambda e: e["type"] == "alarm", timeout=0.5)


class TestOncePerEvent:
    async def test_replayed_event_raises_no_second_alarm(
        self, login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        seq = await site.event("door.forced", "door-1-1")
        await site.replay(seq, "door.forced", "door-1-1")
        assert len(await alarms_of(site, "door-1-1")) == 1

    async def test_repeats_join_the_open_alarm(
        self, login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        for _ in range(3):
            await site.event("door.forced", "door-1-1")
        [alarm] = await alarms_of(site, "door-1-1")
        repeats = await AlarmEntry.count().where(
            (AlarmEntry.alarm == alarm["id"]) & (AlarmEntry.kind == "repeated")
        )
        assert repeats == 2


class TestKinds:
    def test_event_kinds_map_to_alarm_types(self) -> None:
        cases = [
            ("sensor.alarm", {"kind": "smoke"}, "smoke_sensor", "fire"),
            ("sensor.alarm", {"kind": "gas"}, None, "gas"),
            ("sensor.alarm", {}, "water_sensor", "water_leak"),
            ("sensor.alarm", {"kind": "humidity"}, None, None),
            ("video.analytics", {"kind": "ebike_in_lift"}, "camera", "ebike_in_lift"),
            ("video.analytics", {"kind": "falling_object"}, "camera", "falling_object"),
            ("video.analytics", {"kind": "face"}, "camera", None),
            ("door.held_open", {}, None, "door_held_open"),
            ("door.close_timeout", {}, None, "door_close_timeout"),
            ("door.open_failed", {}, "door_controller", "door_open_failed"),
            ("alarm.panic", {}, "panic_button", "sos"),
            ("device.offline", {}, "camera", "device_offline"),
            ("door.opened", {}, None, None),
        ]
        for kind, data, device, expected in cases:
            assert alarm_type_of(kind, data, device) == expected, (kind, data)

    @pytest.mark.req("FIRE-02")
    @pytest.mark.req("FIRE-10", partial=True)
    @pytest.mark.req("FIRE-19")
    async def test_smoke_alarm_raises_a_fire_alarm_for_the_household(
        self, login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        resident = world.a.users[Role.RESIDENT]
        await subscribe(resident, world.a.users[Role.PROPERTY_MANAGER])
        await make_zone(
            login,
            world,
            site,
            name="0101 住户",
            kind="household",
            household_id=str(world.a.households[0]),
            devices=["smoke-0101"],
        )
        await site.event("sensor.alarm", "smoke-0101", {"kind": "smoke", "value": 3.1})
        [alarm] = await alarms_of(site, "smoke-0101")
        assert (alarm["type"], alarm["severity"]) == ("fire", "critical")
        assert alarm["household"] == world.a.households[0]
        # The household hears of its own smoke detector (B4.2.5), managers of every fire.
        assert await notified(resident.id, alarm["id"])
        assert await notified(world.a.users[Role.PROPERTY_MANAGER].id, alarm["id"])


class TestArming:
    @pytest.mark.req("ALM-22")
    async def test_disarmed_zone_raises_nothing(
        self, login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        zone = await make_zone(login, world, site, armed=False)
        assert zone["armed"] is False
        await site.event("alarm.intrusion", "zone-east")
        await jobs.run()
        assert await alarms_of(site, "zone-east") == []

    async def test_entry_delay_is_honoured(
        self, login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        await make_zone(
            login, world, site, kind="area", name="大堂", devices=["zone-hall"], entry_delay=1
        )
        await site.event("alarm.intrusion", "zone-hall")
        assert await alarms_of(site, "zone-hall") == []  # not before the delay
        await jobs.run()  # waits for the deferred check
        [alarm] = await alarms_of(site, "zone-hall")
        assert alarm["type"] == "intrusion"
        trip = (
            await DeviceEvent.select(DeviceEvent.at).where(DeviceEvent.id == alarm["event"]).first()
        )
        assert (alarm["raised_at"] - trip["at"]).total_seconds() >= 1

    async def test_disarm_within_the_delay_cancels_the_trip(
        self, as_role: AsRole, login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        zone = await make_zone(
            login, world, site, kind="area", name="大堂", devices=["zone-hall"], entry_delay=1
        )
        await site.event("alarm.intrusion", "zone-hall")
        guard = await as_role(Role.GUARD)
        disarmed = await guard.post(f"/api/v1/zones/{zone['id']}/disarm")
        assert disarmed.status_code == 200, disarmed.text
        # The detector was told too, through the bridge.
        assert [c.action for c in site.commands] == ["disarm"]
        assert disarmed.json()["commands"] == [
            {"device_id": str(site.devices["zone-hall"]), "status": "ok"}
        ]
        rearmed = await guard.post(f"/api/v1/zones/{zone['id']}/arm")
        assert rearmed.json()["zone"]["armed"] is True
        await jobs.run()
        assert await alarms_of(site, "zone-hall") == []

    async def test_arming_outside_scope_and_unknown_zone(
        self, as_role: AsRole, login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        zone = await make_zone(login, world, site)
        for user in (world.b.users[Role.GUARD], world.a.users[Role.RESIDENT]):
            api = await login(user)
            assert_error(await api.post(f"/api/v1/zones/{zone['id']}/disarm"), 404, "not_found")
        guard = await as_role(Role.GUARD)
        unknown = "00000000-0000-4000-8000-000000000000"
        assert_error(await guard.post(f"/api/v1/zones/{unknown}/arm"), 404, "not_found")
        assert_error(await guard.post("/api/v1/zones/not-a-uuid/arm"), 404, "not_found")
