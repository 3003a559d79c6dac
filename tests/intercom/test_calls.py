"""Door-station calls: who rings, who may answer, unlock and see, what the station is told."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from litestar.channels import ChannelsPlugin

from api.access.tables import AccessRecord
from api.core.auth import Role
from api.core.effects import AppOutlet
from api.core.storage import ObjectNotFound, RetentionClass
from api.devices.bus import CommandBus
from api.intercom import upkeep
from api.intercom.tables import Call
from api.push.tables import Notification
from tests.devices.peer import OFFER, ScriptedBridge, answer_sdp
from tests.fixtures import AsRole
from tests.helpers import (
    World,
    assert_error,
    audit_rows,
    live_socket,
    make_account,
    next_event,
    on_duty,
    subscribe,
)
from tests.intercom.helpers import Household
from tests.jobs import Jobs


def is_call(call: str, kind: str = "call.incoming") -> Callable[[dict], bool]:
    """Matches the live event of one call."""
    return lambda e: e["type"] == kind and e["call_id"] == call


async def call_row(call: str) -> dict:
    """The stored call."""
    row = await Call.select().where(Call.id == call).first()
    assert row is not None
    return dict(row)


async def pushes(account: uuid.UUID, call: str) -> list[dict]:
    """Push notifications owed to an account for one call."""
    rows = await Notification.select().where(Notification.account == account).output(load_json=True)
    return [r for r in rows if r["payload"].get("data", {}).get("call_id") == call]


class TestIncoming:
    @pytest.mark.req("ICM-01")
    @pytest.mark.req("ICM-12")
    @pytest.mark.req("ICM-20", partial=True)
    async def test_every_member_and_only_members_get_the_call(
        self, live_url: str, world: World, family: Household, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        await subscribe(family.first, family.second, family.neighbour)
        async with (
            live_socket(live_url, family.first) as first,
            live_socket(live_url, family.second) as second,
            live_socket(live_url, family.neighbour) as neighbour,
        ):
            call = await site.ring(room="1-1-0101")
            for ws in (first, second):
                event = await next_event(ws, is_call(call))
                assert event["station"] == "北门 门口机"
                assert event["door_name"] == "北门 门禁"
                assert event["household_label"] == "1栋1单元0101"
                assert event["target"] == "household"
            # The neighbour's first call event is their own household's call, not 0101's.
            theirs = await site.ring(room="1-1-0102")
            event = await next_event(neighbour, lambda e: e["type"] == "call.incoming")
            assert event["call_id"] == theirs
        for member in (family.first, family.second):
            (push,) = await pushes(member.id, call)
            assert push["urgency"] == "high"
            assert push["payload"]["url"] == f"/calls/{call}"
        assert await pushes(family.neighbour.id, call) == []
        row = await call_row(call)
        assert row["household"] == world.a.households[0] and row["state"] == "ringing"
        assert row["station"] == site.devices["station-north"]

    @pytest.mark.req("ICM-02", partial=True)
    async def test_unknown_room_is_recorded_and_the_station_hangs_up(
        self, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        call = await site.ring(room="9-9-9999")
        row = await call_row(call)
        assert (row["state"], row["outcome"], row["household"]) == ("ended", "unknown_room", None)
        await jobs.run()
        (hangup,) = site.sent("intercom.hangup")
        assert hangup.args == {"call": call, "outcome": "declined"}  # the station's word for it

    async def test_unit_station_only_calls_its_own_unit(self, site: ScriptedBridge) -> None:
        call = await site.ring(station="station-1-1", room="2-1-0101")
        assert (await call_row(call))["outcome"] == "unknown_room"
        call = await site.ring(station="station-1-1", room="1-1-0101")
        assert (await call_row(call))["state"] == "ringing"

    async def test_replayed_start_makes_one_call(self, site: ScriptedBridge) -> None:
        call = await site.ring()
        await site.event(
            "intercom.call_started", "station-north", {"call": call, "room": "1-1-0102"}
        )
        assert await Call.count().where(Call.id == call) == 1
        assert (await call_row(call))["room"] == "1-1-0101"


class TestAnswer:
    @pytest.mark.req("ICM-04")
    @pytest.mark.req("ICM-05")
    @pytest.mark.req("ICM-09")
    async def test_answer_relays_the_offer_and_returns_the_answer(
        self, live_url: str, login: Callable, family: Household, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        call = await site.ring()
        async with (
            live_socket(live_url, family.second) as other,
            live_socket(live_url, family.first) as own,
        ):
            first = await login(family.first)
            answer = await first.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["sdp"] == answer_sdp(call)
            assert body["max_duration_s"] == 90 and body["ice_servers"] == []
            ended = await next_event(other, is_call(call, "call.ended"))
            assert ended["outcome"] == "answered_elsewhere"
            taken = await next_event(own, is_call(call, "call.answered"))
            assert taken["account_id"] == str(family.first.id)  # its other phones stop ringing
        (offer,) = site.sent("media.offer")
        assert offer.device == "station-north"
        assert offer.args == {
            "session": call,
            "sdp": OFFER,
            "kind": "call",
            "max_duration_s": 90,
            "ice_servers": [],
        }
        row = await call_row(call)
        assert row["state"] == "live" and row["answered_by"] == family.first.id
        assert len(await audit_rows("call.answered", call)) == 1
        # The platform's own end of the duration limit waits for its moment.
        (limit,) = await jobs.queued("end_call_at_limit")
        assert limit.kwargs == {"call_id": uuid.UUID(call)}

    @pytest.mark.req("ICM-05")
    async def test_first_answer_wins(
        self, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call = await site.ring()
        first, second = await login(family.first), await login(family.second)
        answers = await asyncio.gather(
            first.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER}),
            second.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER}),
        )
        assert sorted(a.status_code for a in answers) == [200, 409]
        loser = next(a for a in answers if a.status_code == 409)
        assert_error(loser, 409, "call_taken")
        assert len(site.sent("media.offer")) == 1

    @pytest.mark.req("ICM-05")
    async def test_outsiders_cannot_see_or_join(
        self, login: Callable, world: World, family: Household, site: ScriptedBridge
    ) -> None:
        call = await site.ring()
        for user in (
            family.neighbour,
            world.b.users[Role.RESIDENT],
            world.a.users[Role.GUARD],  # a household's call is not the guard room's
            world.a.users[Role.MAINTENANCE],
            world.a.users[Role.POLICE],
        ):
            api = await login(user)
            assert_error(await api.get(f"/api/v1/calls/{call}"), 404, "not_found")
            answer = await api.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
            assert_error(answer, 404, "not_found")
            assert_error(await api.post(f"/api/v1/calls/{call}/decline"), 404, "not_found")
        assert site.sent("media.offer") == []
        assert (await call_row(call))["state"] == "ringing"

    async def test_bad_offer_and_unknown_call(
        self, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call = await site.ring()
        api = await login(family.first)
        bad = await api.post(f"/api/v1/calls/{call}/answer", json={"sdp": ""})
        assert_error(bad, 422, "invalid_body")
        extra = await api.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER, "x": 1})
        assert_error(extra, 422, "invalid_body")
        missing = await api.post(f"/api/v1/calls/{uuid.uuid4()}/answer", json={"sdp": OFFER})
        assert_error(missing, 404, "not_found")

    async def test_a_failed_offer_leaves_the_call_ringing(
        self, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call = await site.ring()
        site.failing["media.offer"] = "failed"
        api = await login(family.first)
        answer = await api.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
        assert_error(answer, 502, "media_failed")
        assert (await call_row(call))["state"] == "ringing"
        del site.failing["media.offer"]
        second = await login(family.second)
        answer = await second.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
        assert answer.status_code == 200, answer.text


async def answered(login: Callable, user: object, site: ScriptedBridge, **ring: str) -> tuple:
    """A call answered by a user: (call id, the user's browser)."""
    call = await site.ring(**ring)
    api = await login(user)
    answer = await api.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
    assert answer.status_code == 200, answer.text
    return call, api


class TestUnlock:
    @pytest.mark.req("ICM-10")
    @pytest.mark.req("ICM-13", partial=True)
    @pytest.mark.req("ICM-18")
    @pytest.mark.req("VIS-06")
    @pytest.mark.req("VIS-02")
    async def test_answerer_opens_the_station_door_while_live(
        self, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call, api = await answered(login, family.first, site)
        opened = await api.post(f"/api/v1/calls/{call}/unlock")
        assert opened.status_code == 200, opened.text
        body = opened.json()
        assert body["result"] == "granted" and body["door_name"] == "北门 门禁"
        (command,) = site.sent("open")
        assert command.device == "gate-north"
        assert command.args["method"] == "intercom" and command.args["call"] == call
        record = await AccessRecord.select().where(AccessRecord.id == body["record_id"]).first()
        assert record is not None
        assert (record["method"], record["result"], record["account"]) == (
            "intercom",
            "granted",
            family.first.id,
        )
        assert record["device"] == site.devices["gate-north"]
        (audit,) = await audit_rows("call.unlock", call)
        assert audit["actor_id"] == family.first.id and audit["outcome"] == "ok"
        row = await call_row(call)
        assert row["unlocked_by"] == family.first.id and row["unlocked_at"] is not None

    @pytest.mark.req("ICM-05")
    @pytest.mark.req("ICM-13", partial=True)
    async def test_unlock_needs_a_live_call_and_the_answerer(
        self, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call = await site.ring()
        first = await login(family.first)
        assert_error(await first.post(f"/api/v1/calls/{call}/unlock"), 409, "call_not_live")
        await first.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
        second = await login(family.second)
        assert_error(await second.post(f"/api/v1/calls/{call}/unlock"), 403, "call_not_answerer")
        neighbour = await login(family.neighbour)
        assert_error(await neighbour.post(f"/api/v1/calls/{call}/unlock"), 404, "not_found")
        assert (await first.post(f"/api/v1/calls/{call}/hangup")).status_code == 200
        assert_error(await first.post(f"/api/v1/calls/{call}/unlock"), 409, "call_not_live")
        assert site.sent("open") == []

    async def test_unit_station_opens_itself(
        self, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call, api = await answered(login, family.first, site, station="station-1-1")
        assert (await api.post(f"/api/v1/calls/{call}/unlock")).json()["result"] == "granted"
        assert site.sent("open")[0].device == "station-1-1"

    async def test_a_door_that_does_not_open_is_recorded_as_failed(
        self, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call, api = await answered(login, family.first, site)
        site.failing["open"] = "failed"
        body = (await api.post(f"/api/v1/calls/{call}/unlock")).json()
        assert body["result"] == "failed"
        assert (await call_row(call))["unlocked_at"] is None


class TestEnding:
    async def test_decline_stops_every_member_and_the_station(
        self, live_url: str, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call = await site.ring()
        async with live_socket(live_url, family.second) as other:
            api = await login(family.first)
            declined = await api.post(f"/api/v1/calls/{call}/decline")
            assert declined.status_code == 200, declined.text
            assert declined.json()["outcome"] == "declined"
            event = await next_event(other, is_call(call, "call.ended"))
        assert event["outcome"] == "declined"
        (hangup,) = site.sent("intercom.hangup")
        assert hangup.args == {"call": call, "outcome": "declined"}
        assert site.sent("media.close") == []
        row = await call_row(call)
        assert (row["state"], row["outcome"], row["ended_by"]) == (
            "ended",
            "declined",
            family.first.id,
        )
        assert_error(await api.post(f"/api/v1/calls/{call}/decline"), 409, "call_not_ringing")
        answer = await api.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
        assert_error(answer, 409, "call_not_ringing")

    async def test_hangup_closes_the_peer(
        self, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call, api = await answered(login, family.first, site)
        second = await login(family.second)
        assert_error(await second.post(f"/api/v1/calls/{call}/hangup"), 403, "call_not_answerer")
        ended = await api.post(f"/api/v1/calls/{call}/hangup")
        assert ended.status_code == 200, ended.text
        assert ended.json()["outcome"] == "hangup"
        assert [c.args for c in site.sent("media.close")] == [{"session": call}]
        assert site.sent("intercom.hangup")[0].args == {"call": call, "outcome": "hangup"}
        row = await call_row(call)
        assert row["duration_s"] is not None and row["duration_s"] >= 0

    @pytest.mark.req("ICM-04")
    async def test_the_station_end_is_stored(
        self, app, live_url: str, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call, _ = await answered(login, family.first, site)
        async with live_socket(live_url, family.first) as ws:
            await site.end(call, "limit", duration_s=90.0, clip=False)
            event = await next_event(ws, is_call(call, "call.ended"))
        assert event["outcome"] == "limit"
        row = await call_row(call)
        assert (row["state"], row["outcome"], row["duration_s"]) == ("ended", "limit", 90.0)
        assert row["media"] == "none"
        # The platform's limit job finds the call ended and does nothing more.
        effects = await upkeep.end_at_limit(CommandBus(app.state.redis), uuid.UUID(call), 0)
        assert not effects and site.sent("intercom.hangup") == []

    async def test_a_dropped_network_ends_the_call_on_both_sides(
        self, live_url: str, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call, api = await answered(login, family.first, site)
        async with live_socket(live_url, family.first) as ws:
            await site.end(call, "network", duration_s=12.5, clip=False)
            event = await next_event(ws, is_call(call, "call.ended"))
        assert event["outcome"] == "network"
        row = await call_row(call)
        assert (row["outcome"], row["duration_s"]) == ("network", 12.5)
        assert_error(await api.post(f"/api/v1/calls/{call}/unlock"), 409, "call_not_live")

    @pytest.mark.req("ICM-04")
    async def test_the_platform_ends_a_call_past_its_limit(
        self, app, live_url: str, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call, _ = await answered(login, family.first, site)
        async with live_socket(live_url, family.first) as ws:
            effects = await upkeep.end_at_limit(CommandBus(app.state.redis), uuid.UUID(call), 0)
            await effects.apply(
                AppOutlet(app.plugins.get(ChannelsPlugin), app.state.redis, app.state.queue)
            )
            event = await next_event(ws, is_call(call, "call.ended"))
        assert event["outcome"] == "limit"
        assert (await call_row(call))["outcome"] == "limit"
        assert [c.args for c in site.sent("media.close")] == [{"session": call}]
        assert site.sent("intercom.hangup")[0].args == {"call": call, "outcome": "limit"}

    @pytest.mark.req("ICM-07")
    @pytest.mark.req("ICM-22")
    @pytest.mark.req("VIS-04", partial=True)
    async def test_unanswered_call_keeps_snapshot_and_message(
        self, app, login: Callable, family: Household, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        call = await site.ring()
        await site.end(call, "unanswered")
        row = await call_row(call)
        assert (row["outcome"], row["media"]) == ("unanswered", "pending")
        await jobs.run()
        (fetch,) = site.sent("intercom.media")
        assert fetch.args == {"call": call} and fetch.device == "station-north"
        row = await call_row(call)
        assert row["media"] == "stored"
        store = app.state.objects
        for key, content_type in (
            (row["snapshot_key"], "image/jpeg"),
            (row["clip_key"], "video/webm"),
        ):
            info = await store.info(key)
            assert info.content_type == content_type
            assert info.retention == RetentionClass.RECORD_6M
        api = await login(family.second)
        body = (await api.get(f"/api/v1/calls/{call}")).json()
        assert body["outcome"] == "unanswered" and body["clip_type"] == "video/webm"
        snapshot = await api.get(body["snapshot_url"])
        assert snapshot.status_code == 200 and snapshot.content.startswith(b"\xff\xd8")
        clip = await api.get(body["clip_url"])
        assert clip.status_code == 200 and clip.headers["content-type"] == "video/webm"
        assert len(await audit_rows("call.media.viewed", call)) == 1

    async def test_media_fetch_gives_up_when_the_station_has_none(
        self, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        call = await site.ring()
        site.failing["intercom.media"] = "unsupported"
        await site.end(call, "unanswered")
        await jobs.run()
        assert (await call_row(call))["media"] == "failed"


class TestHistory:
    @pytest.mark.req("ICM-22")
    async def test_history_is_scoped_and_filtered(
        self, as_role: AsRole, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        mine = [await site.ring() for _ in range(3)]
        await site.end(mine[0], "unanswered", clip=False)
        theirs = await site.ring(room="1-1-0102")
        guard_room = await site.ring(target="guard_room")

        first = await login(family.first)
        page = (await first.get("/api/v1/calls", params={"page_size": 2})).json()
        assert page["total"] == 3 and len(page["items"]) == 2
        assert page["items"][0]["id"] == mine[2]  # newest first
        seen = {c["id"] for c in (await first.get("/api/v1/calls")).json()["items"]}
        assert seen == set(mine)
        unanswered = (await first.get("/api/v1/calls", params={"outcome": "unanswered"})).json()
        assert [c["id"] for c in unanswered["items"]] == [mine[0]]
        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert (await first.get("/api/v1/calls", params={"since": future})).json()["total"] == 0
        bad = await first.get("/api/v1/calls", params={"outcome": "nonsense"})
        assert bad.status_code == 400

        neighbour = await login(family.neighbour)
        assert [c["id"] for c in (await neighbour.get("/api/v1/calls")).json()["items"]] == [theirs]
        guard = await as_role(Role.GUARD)
        assert [c["id"] for c in (await guard.get("/api/v1/calls")).json()["items"]] == [guard_room]
        manager = await as_role(Role.PROPERTY_MANAGER)
        assert (await manager.get("/api/v1/calls")).json()["total"] == 5
        other = await as_role(Role.PROPERTY_MANAGER, "b")
        assert (await other.get("/api/v1/calls")).json()["total"] == 0
        police = await as_role(Role.POLICE)
        assert_error(await police.get("/api/v1/calls"), 404, "not_found")


class TestGuardRoom:
    @pytest.mark.req("ICM-18")
    @pytest.mark.req("ICM-20", partial=True)
    async def test_gate_call_rings_the_guards_on_duty(
        self, as_role: AsRole, live_url: str, login: Callable, world: World, site: ScriptedBridge
    ) -> None:
        rostered = world.a.users[Role.GUARD]
        off_duty = await make_account(Role.GUARD, community=world.a.community)
        await on_duty(rostered, world.a.community)
        await subscribe(rostered, off_duty)
        async with (
            live_socket(live_url, rostered) as ws,
            live_socket(live_url, world.a.users[Role.RESIDENT]) as resident,
        ):
            call = await site.ring(target="guard_room")
            event = await next_event(ws, is_call(call))
            assert event["target"] == "guard_room" and event["household_label"] is None
            # A resident's socket never carries a guard-room call.
            mine = await site.ring()
            assert (await next_event(resident, lambda e: e["type"] == "call.incoming"))[
                "call_id"
            ] == mine
        assert len(await pushes(rostered.id, call)) == 1
        assert await pushes(off_duty.id, call) == []
        off = await login(off_duty)
        answer = await off.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
        assert_error(answer, 403, "not_on_duty")
        resident_api = await as_role(Role.RESIDENT)
        answer = await resident_api.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
        assert_error(answer, 404, "not_found")
        guard = await login(rostered)
        answer = await guard.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
        assert answer.status_code == 200, answer.text
        assert (await guard.post(f"/api/v1/calls/{call}/unlock")).json()["result"] == "granted"

    @pytest.mark.req("ICM-17", partial=True)
    async def test_lift_emergency_call_reaches_the_guard_room(
        self, live_url: str, login: Callable, world: World, site: ScriptedBridge
    ) -> None:
        guard = world.a.users[Role.GUARD]
        await subscribe(guard)
        async with live_socket(live_url, guard) as ws:
            call = await site.ring(station="lift-1-1", target="guard_room", reason="lift_emergency")
            event = await next_event(ws, is_call(call))
        assert event["reason"] == "lift_emergency" and event["station"] == "1栋1单元 电梯"
        assert event["door_name"] is None
        (push,) = await pushes(guard.id, call)
        assert push["payload"]["title"].startswith("【电梯紧急呼叫】")
        api = await login(guard)
        answer = await api.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER})
        assert answer.status_code == 200, answer.text
        assert site.sent("media.offer")[0].device == "lift-1-1"
        assert_error(await api.post(f"/api/v1/calls/{call}/unlock"), 409, "call_has_no_door")


class TestMediaSettings:
    async def test_ice_servers_for_logged_in_browsers(self, as_role: AsRole, client) -> None:
        assert (await client.get("/api/v1/media/ice-servers")).status_code == 401
        api = await as_role(Role.RESIDENT)
        answer = await api.get("/api/v1/media/ice-servers")
        assert answer.status_code == 200 and answer.json() == {"ice_servers": []}

    def test_ice_servers_setting_is_checked(self) -> None:
        from api.settings import from_environ

        servers = json.dumps(
            [
                {"urls": ["stun:stun.example.org"]},
                {"urls": "turn:t", "username": "u", "credential": "c"},
            ]
        )
        settings = from_environ({"ANJU_ICE_SERVERS": servers, "ANJU_CALL_MAX_DURATION_S": "60"})
        assert settings.call_max_duration_s == 60
        assert [s.urls for s in settings.ice_server_list] == [["stun:stun.example.org"], "turn:t"]
        with pytest.raises(msgspec.ValidationError, match="ANJU_ICE_SERVERS"):
            from_environ({"ANJU_ICE_SERVERS": '[{"url": 1}]'})


class TestRetention:
    @pytest.mark.req("VIS-04", "DATA-18", "DATA-28", partial=True)
    async def test_purge_only_past_six_months(self, app, site: ScriptedBridge) -> None:
        store = app.state.objects
        now = datetime.now(UTC)
        kept, old = await site.ring(), await site.ring()
        for call, age in ((kept, 180), (old, 190)):
            key = f"intercom/test/{call}/snapshot.jpg"
            await store.put(
                key, b"x", content_type="image/jpeg", retention=RetentionClass.RECORD_6M
            )
            await Call.update(
                {
                    Call.state: "ended",
                    Call.ended_at: now - timedelta(days=age),
                    Call.snapshot_key: key,
                }
            ).where(Call.id == call)
        assert await upkeep.purge_expired(store) >= 1
        assert await Call.exists().where(Call.id == kept)
        assert not await Call.exists().where(Call.id == old)
        await store.info(f"intercom/test/{kept}/snapshot.jpg")
        with pytest.raises(ObjectNotFound):
            await store.info(f"intercom/test/{old}/snapshot.jpg")


class TestSweep:
    @pytest.mark.req("ICM-04")
    async def test_sweep_ends_calls_whose_end_was_lost(
        self, login: Callable, family: Household, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        ringing = await site.ring()
        live, _ = await answered(login, family.first, site)
        fresh = await site.ring(room="1-1-0102")
        long_ago = datetime.now(UTC) - timedelta(minutes=10)
        await Call.update({Call.started_at: long_ago}).where(Call.id == ringing)
        await Call.update({Call.answered_at: long_ago}).where(Call.id == live)
        await jobs.drop("end_call_at_limit")  # the limit job is lost: the sweep stands in
        await jobs.pool.enqueue_job("sweep_calls")
        await jobs.run()
        assert (await call_row(ringing))["outcome"] == "network"
        row = await call_row(live)
        assert (row["outcome"], row["duration_s"]) == ("limit", 90.0)
        assert (await call_row(fresh))["state"] == "ringing"
        told = {(c.args["call"], c.args["outcome"]) for c in site.sent("intercom.hangup")}
        assert told == {(ringing, "network"), (live, "limit")}

    async def test_sweep_ends_a_call_at_the_limit_of_the_workers_own_settings(
        self, login: Callable, family: Household, site: ScriptedBridge, jobs: Jobs
    ) -> None:
        live, _ = await answered(login, family.first, site)
        long_ago = datetime.now(UTC) - timedelta(minutes=10)
        await Call.update({Call.answered_at: long_ago}).where(Call.id == live)
        await jobs.drop("end_call_at_limit")
        jobs.settings = msgspec.structs.replace(jobs.settings, call_max_duration_s=120)
        await jobs.pool.enqueue_job("sweep_calls")
        await jobs.run()
        row = await call_row(live)
        assert (row["outcome"], row["duration_s"]) == ("limit", 120.0)

    async def test_station_door_event_is_not_recorded_twice(
        self, login: Callable, family: Household, site: ScriptedBridge
    ) -> None:
        call, api = await answered(login, family.first, site)
        await api.post(f"/api/v1/calls/{call}/unlock")
        # The door reports the opening the platform commanded: the platform's record stands alone.
        await site.event("access.granted", "gate-north", {"method": "intercom", "direction": "in"})
        rows = await AccessRecord.select().where(AccessRecord.device == site.devices["gate-north"])
        assert [(r["method"], r["account"]) for r in rows] == [("intercom", family.first.id)]


async def connect_when_offered(ws: object, api: object, answer: str = "v=0 caller answer") -> dict:
    """The caller's browser: wait for the answering side's offer, post its own answer back."""
    offer = await next_event(ws, lambda e: e["type"] == "call.offer", timeout=10)
    connected = await api.post(f"/api/v1/calls/{offer['call_id']}/connect", json={"sdp": answer})  # type: ignore[attr-defined]
    assert connected.status_code == 204, connected.text
    return offer


class TestPlacedInTheApp:
    @pytest.mark.req("ICM-08", partial=True)
    async def test_the_guard_room_calls_a_household_and_a_member_answers(
        self,
        live_url: str,
        login: Callable,
        world: World,
        family: Household,
        site: ScriptedBridge,
        jobs: Jobs,
    ) -> None:
        guard_user = world.a.users[Role.GUARD]
        await subscribe(family.first, family.second, family.neighbour)
        guard = await login(guard_user)
        async with (
            live_socket(live_url, family.first) as first,
            live_socket(live_url, family.second) as second,
            live_socket(live_url, guard_user) as guard_ws,
        ):
            placed = await guard.post(
                "/api/v1/calls",
                json={"target": "household", "household_id": str(world.a.households[0])},
            )
            assert placed.status_code == 201, placed.text
            call = placed.json()["id"]
            assert placed.json()["placed_by_me"] and placed.json()["state"] == "ringing"
            for ws in (first, second):  # the same incoming-call event a door station's call rings
                event = await next_event(ws, is_call(call))
                assert event["station"] == f"管理处 · {guard_user.username}"
                assert (event["target"], event["from_app"], event["door_name"]) == (
                    "household",
                    True,
                    None,
                )
                assert event["household_label"] == "1栋1单元0101"
            member = await login(family.first)
            answered, offer = await asyncio.gather(
                member.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER}),
                connect_when_offered(guard_ws, guard),
            )
            assert answered.status_code == 200, answered.text
            assert answered.json()["sdp"] == "v=0 caller answer"
            assert (offer["sdp"], offer["call_id"], offer["max_duration_s"]) == (OFFER, call, 90)
            assert (await next_event(second, is_call(call, "call.ended")))["outcome"] == (
                "answered_elsewhere"
            )
            assert_error(await member.post(f"/api/v1/calls/{call}/unlock"), 409, "call_has_no_door")
            ended = await guard.post(f"/api/v1/calls/{call}/hangup")
            assert ended.status_code == 200, ended.text
            assert (await next_event(first, is_call(call, "call.ended")))["outcome"] == "hangup"
        (push,) = await pushes(family.second.id, call)
        assert push["payload"]["title"] == f"【管理处来电】管理处 · {guard_user.username}"
        assert await pushes(family.neighbour.id, call) == []
        row = await call_row(call)
        assert (row["station"], row["caller"], row["household"]) == (
            None,
            guard_user.id,
            world.a.households[0],
        )
        assert (row["answered_by"], row["outcome"], row["media"]) == (
            family.first.id,
            "hangup",
            "none",
        )
        (started,) = await audit_rows("call.started", call)
        assert started["actor_id"] == guard_user.id
        assert len(await audit_rows("call.answered", call)) == 1
        assert len(await audit_rows("call.hangup", call)) == 1
        # Both sides' histories hold it; the neighbour's does not.
        for user in (guard_user, family.first, family.second):
            listed = (await (await login(user)).get("/api/v1/calls")).json()["items"]
            assert call in [c["id"] for c in listed], user
        neighbour = await login(family.neighbour)
        assert call not in [c["id"] for c in (await neighbour.get("/api/v1/calls")).json()["items"]]
        assert site.sent("media.offer") == [] and site.sent("intercom.hangup") == []

    @pytest.mark.req("ICM-08", partial=True)
    async def test_a_resident_calls_the_guard_room(
        self, live_url: str, login: Callable, world: World, family: Household, jobs: Jobs
    ) -> None:
        guard_on_duty = world.a.users[Role.GUARD]
        await on_duty(guard_on_duty, world.a.community)
        off_duty = await make_account(Role.GUARD, community=world.a.community)
        await subscribe(guard_on_duty, off_duty)
        resident = await login(family.first)
        async with (
            live_socket(live_url, guard_on_duty) as guard_ws,
            live_socket(live_url, family.first) as caller_ws,
        ):
            placed = await resident.post("/api/v1/calls", json={"target": "guard_room"})
            assert placed.status_code == 201, placed.text
            call = placed.json()["id"]
            event = await next_event(guard_ws, is_call(call))
            assert event["station"] == f"1栋1单元0101 · {family.first.username}"
            assert (event["target"], event["household_label"]) == ("guard_room", "1栋1单元0101")
            guard = await login(guard_on_duty)
            answered, _ = await asyncio.gather(
                guard.post(f"/api/v1/calls/{call}/answer", json={"sdp": OFFER}),
                connect_when_offered(caller_ws, resident),
            )
            assert answered.status_code == 200, answered.text
            ended = await resident.post(f"/api/v1/calls/{call}/hangup")
            assert ended.json()["outcome"] == "hangup"
        assert len(await pushes(guard_on_duty.id, call)) == 1
        assert await pushes(off_duty.id, call) == []
        row = await call_row(call)
        assert (row["target"], row["caller"], row["answered_by"]) == (
            "guard_room",
            family.first.id,
            guard_on_duty.id,
        )
        manager = await login(world.a.users[Role.PROPERTY_MANAGER])
        assert call in [c["id"] for c in (await manager.get("/api/v1/calls")).json()["items"]]

    async def test_a_caller_who_gives_up_leaves_an_unanswered_call(
        self, live_url: str, login: Callable, world: World, family: Household, jobs: Jobs
    ) -> None:
        guard = await login(world.a.users[Role.GUARD])
        async with live_socket(live_url, family.first) as ws:
            placed = await guard.post(
                "/api/v1/calls",
                json={"target": "household", "household_id": str(world.a.households[0])},
            )
            call = placed.json()["id"]
            await next_event(ws, is_call(call))
            assert (await guard.post(f"/api/v1/calls/{call}/hangup")).json()["outcome"] == (
                "unanswered"
            )
            assert (await next_event(ws, is_call(call, "call.ended")))["outcome"] == "unanswered"
        row = await call_row(call)
        assert (row["state"], row["media"]) == ("ended", "none")  # no station, no message
        await jobs.run()
        assert await jobs.queued("fetch_call_media") == []

    @pytest.mark.req("ICM-08", partial=True)
    async def test_only_the_own_community_and_the_own_home(
        self, login: Callable, world: World, family: Household
    ) -> None:
        household = {"target": "household", "household_id": str(world.a.households[0])}
        for user in (
            world.b.users[Role.GUARD],  # another community's guard room
            family.first,  # residents call the guard room, not other homes
            world.a.users[Role.POLICE],
            world.a.users[Role.MAINTENANCE],
        ):
            api = await login(user)
            assert_error(await api.post("/api/v1/calls", json=household), 404, "not_found")
        resident = await login(family.first)
        theirs = {"target": "guard_room", "household_id": str(world.a.households[1])}
        assert_error(await resident.post("/api/v1/calls", json=theirs), 404, "not_found")
        guard = await login(world.a.users[Role.GUARD])
        assert_error(
            await guard.post("/api/v1/calls", json={"target": "guard_room"}), 404, "not_found"
        )
        bad = await guard.post("/api/v1/calls", json={"target": "household"})
        assert_error(bad, 422, "invalid_body")
        unknown = {"target": "household", "household_id": str(uuid.uuid4())}
        assert_error(await guard.post("/api/v1/calls", json=unknown), 404, "not_found")
        # Only the caller connects, and only a call somebody answered.
        call = (await guard.post("/api/v1/calls", json=household)).json()["id"]
        assert_error(
            await resident.post(f"/api/v1/calls/{call}/connect", json={"sdp": OFFER}),
            404,
            "not_found",
        )
        assert_error(
            await guard.post(f"/api/v1/calls/{call}/connect", json={"sdp": OFFER}),
            409,
            "call_not_live",
        )
        other = await login(world.b.users[Role.GUARD])
        assert_error(await other.get(f"/api/v1/calls/{call}"), 404, "not_found")
