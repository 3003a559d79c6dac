"""Alarm kinds the board must carry: tampering and emergency buttons, video loss, a household's gas
alarm on its phones, a household fire alarm only cleared once the community verified it, and
perimeter alarms searched afterwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from api.alarms.tables import Alarm
from api.core.auth import Role
from tests.alarms.test_raising import alarms_of, make_zone
from tests.devices.peer import ScriptedBridge
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, notified, raise_alarm, subscribe
from tests.jobs import Jobs


@pytest.mark.req("ALM-04")
@pytest.mark.parametrize(
    ("kind", "device", "alarm_type"),
    [("alarm.tamper", "zone-east", "tamper"), ("alarm.panic", "panic-0101", "sos")],
)
async def test_tampering_and_an_emergency_button_raise_alarms_at_once(
    kind: str, device: str, alarm_type: str, world: World, site: ScriptedBridge, jobs: Jobs
) -> None:
    await site.event(kind, device)
    [alarm] = await alarms_of(site, device)
    assert (alarm["type"], alarm["state"]) == (alarm_type, "new")


@pytest.mark.req("VID-04")
async def test_a_camera_losing_its_video_raises_an_alarm_for_the_guards(
    login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
) -> None:
    guard = world.a.users[Role.GUARD]
    await subscribe(guard)
    await site.event("video.loss", "cam-east")
    [alarm] = await alarms_of(site, "cam-east")
    assert (alarm["type"], alarm["state"]) == ("video_loss", "new")
    assert await notified(guard.id, alarm["id"])
    board = await (await login(guard)).get("/api/v1/alarms?type=video_loss")
    assert str(alarm["id"]) in {a["id"] for a in board.json()["items"]}


@pytest.mark.req("FIRE-19", "ICM-12")
async def test_a_households_gas_alarm_reaches_its_phones(
    login: Callable, world: World, site: ScriptedBridge, jobs: Jobs
) -> None:
    resident = world.a.users[Role.RESIDENT]
    await subscribe(resident)
    await make_zone(
        login,
        world,
        site,
        name="0101 住户",
        kind="household",
        household_id=str(world.a.households[0]),
        devices=["smoke-0101"],
    )
    await site.event("sensor.alarm", "smoke-0101", {"kind": "gas", "value": 12})
    [alarm] = await alarms_of(site, "smoke-0101")
    assert (alarm["type"], alarm["household"]) == ("gas", world.a.households[0])
    assert await notified(resident.id, alarm["id"])


@pytest.mark.req("FIRE-18")
async def test_a_household_fire_alarm_is_cleared_only_after_the_community_verified_it(
    as_role: AsRole, world: World, jobs: Jobs
) -> None:
    alarm = await raise_alarm(world.a.community, "fire", household_id=world.a.households[0])
    resident = await as_role(Role.RESIDENT)
    guard = await as_role(Role.GUARD)
    for step in ("resolve", "false-alarm"):
        assert_error(await resident.post(f"/api/v1/alarms/{alarm}/{step}"), 404, "not_found")
        unverified = await guard.post(f"/api/v1/alarms/{alarm}/{step}")
        assert_error(unverified, 409, "alarm_transition_not_allowed")
    verified = await guard.post(f"/api/v1/alarms/{alarm}/acknowledge", json={"note": "已到场核实"})
    assert verified.json()["state"] == "acknowledged"
    closed = await guard.post(f"/api/v1/alarms/{alarm}/false-alarm", json={"note": "油烟误报"})
    assert closed.json()["state"] == "false_alarm"
    timeline = [(e["kind"], e["text"]) for e in closed.json()["timeline"]]
    assert timeline[-2:] == [("acknowledged", "已到场核实"), ("false_alarm", "油烟误报")]


@pytest.mark.req("ALM-09")
async def test_perimeter_alarms_are_searched_back_in_time_whatever_their_state(
    as_role: AsRole, world: World, jobs: Jobs
) -> None:
    old = await raise_alarm(world.a.community, "perimeter", place="东侧周界")
    recent = await raise_alarm(world.a.community, "perimeter", place="西侧周界")
    other = await raise_alarm(world.a.community, "intrusion")
    forty_days_ago = datetime.now(UTC) - timedelta(days=40)
    await Alarm.update({Alarm.raised_at: forty_days_ago, Alarm.state: "resolved"}).where(
        Alarm.id == old
    )
    guard = await as_role(Role.GUARD)

    def window(since: datetime, until: datetime) -> str:
        return f"since={since.isoformat()}&until={until.isoformat()}".replace("+", "%2B")

    month_before = window(forty_days_ago - timedelta(days=1), forty_days_ago + timedelta(days=1))
    found = await guard.get(f"/api/v1/alarms?type=perimeter&{month_before}")
    assert [a["id"] for a in found.json()["items"]] == [str(old)]
    every = await guard.get("/api/v1/alarms?type=perimeter")
    ids = [a["id"] for a in every.json()["items"]]
    assert ids.index(str(recent)) < ids.index(str(old))  # newest first
    assert str(other) not in ids


@pytest.mark.req("VID-02", partial=True)
async def test_a_camera_matching_a_watchlisted_face_raises_a_watchlist_alarm(
    world: World, site: ScriptedBridge, jobs: Jobs
) -> None:
    await site.event("video.analytics", "cam-east", {"kind": "watchlist", "list": "wl-3"})
    [alarm] = await alarms_of(site, "cam-east")
    assert (alarm["type"], alarm["state"]) == ("watchlist", "new")
