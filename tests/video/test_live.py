"""Live camera view: cameras in scope only, every view audited with who, which, when, how long."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar

from api.core.auth import Role
from api.devices.bus import CommandBus
from api.video import service as video
from api.video.tables import ViewSession
from device_bridge import protocol
from tests.devices.peer import OFFER, Peer, ScriptedBridge, answer_sdp, enrol
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, audit_rows, live_socket, next_event


async def session_row(session: str) -> dict:
    """The stored view session."""
    row = await ViewSession.select().where(ViewSession.id == session).first()
    assert row is not None
    return dict(row)


class TestCameraList:
    @pytest.mark.req("VID-07")
    @pytest.mark.req("VID-08", partial=True)
    async def test_guards_and_managers_see_their_community_cameras(
        self, as_role: AsRole, site: ScriptedBridge
    ) -> None:
        for role in (Role.GUARD, Role.PROPERTY_MANAGER):
            api = await as_role(role)
            page = (await api.get("/api/v1/cameras")).json()
            assert {c["name"] for c in page["items"]} == {"东侧 摄像机", "1栋 大堂 摄像机"}
            assert page["total"] == 2
            lobby = next(c for c in page["items"] if c["role"] == "lobby")
            assert lobby["online"] is True and lobby["viewers"] == 0
            filtered = (await api.get("/api/v1/cameras", params={"q": "大堂"})).json()
            assert [c["id"] for c in filtered["items"]] == [lobby["id"]]
        other = await as_role(Role.GUARD, "b")
        assert (await other.get("/api/v1/cameras")).json()["total"] == 0

    @pytest.mark.req("VID-15", partial=True)
    async def test_roles_without_live_view_get_404(
        self, login: Callable, world: World, site: ScriptedBridge
    ) -> None:
        camera = site.devices["cam-east"]
        for user in (
            world.a.users[Role.RESIDENT],
            world.a.users[Role.MAINTENANCE],
            world.admins[Role.SYSTEM_ADMIN],
        ):
            api = await login(user)
            assert_error(await api.get("/api/v1/cameras"), 404, "not_found")
            live = await api.post(f"/api/v1/cameras/{camera}/live", json={"sdp": OFFER})
            assert_error(live, 404, "not_found")
        assert site.sent("media.offer") == []

    @pytest.mark.req("NET-09", partial=True)
    async def test_police_see_their_jurisdiction_only(
        self, as_role: AsRole, live_url: str, world: World, site: ScriptedBridge
    ) -> None:
        admin = await as_role(Role.SYSTEM_ADMIN)
        bridge_b = await enrol(admin, world.b.community, name="site-b")
        camera_b = protocol.DeviceInfo(id="cam-b", kind="camera", name="B 摄像机", driver="sim")
        async with Peer.authenticated(live_url, bridge_b, [camera_b]):
            police = await as_role(Role.POLICE)
            page = (await police.get("/api/v1/cameras")).json()
            assert {c["community_id"] for c in page["items"]} == {str(world.a.community)}
            guard_b = await as_role(Role.GUARD, "b")
            (b,) = (await guard_b.get("/api/v1/cameras")).json()["items"]
            live = await police.post(f"/api/v1/cameras/{b['id']}/live", json={"sdp": OFFER})
            assert_error(live, 404, "not_found")
            assert_error(
                await police.post(f"/api/v1/cameras/{uuid.uuid4()}/live", json={"sdp": OFFER}),
                404,
                "not_found",
            )
            # A door station is not a camera of this list.
            station = site.devices["station-north"]
            live = await police.post(f"/api/v1/cameras/{station}/live", json={"sdp": OFFER})
            assert_error(live, 404, "not_found")


class TestLiveView:
    @pytest.mark.req("VID-02", partial=True)
    @pytest.mark.req("VID-05")
    @pytest.mark.req("VID-08", partial=True)
    @pytest.mark.req("NET-09", partial=True)
    async def test_a_view_is_audited_from_start_to_end(
        self, as_role: AsRole, login: Callable, world: World, site: ScriptedBridge
    ) -> None:
        police = world.a.users[Role.POLICE]
        api = await login(police)
        camera = site.devices["cam-lobby"]
        started = await api.post(f"/api/v1/cameras/{camera}/live", json={"sdp": OFFER})
        assert started.status_code == 200, started.text
        body = started.json()
        session = body["session"]
        assert body["sdp"] == answer_sdp(session) and body["camera_id"] == str(camera)
        (offer,) = site.sent("media.offer")
        assert offer.device == "cam-lobby"
        assert offer.args["kind"] == "live" and offer.args["session"] == session
        assert offer.args["sdp"] == OFFER and offer.args["max_duration_s"] == 1800
        (audit,) = await audit_rows("camera.view.started", camera)
        assert audit["actor_id"] == police.id and audit["details"]["session"] == session
        lobby = (await api.get("/api/v1/cameras", params={"q": "大堂"})).json()["items"][0]
        assert lobby["viewers"] == 1

        # Someone else cannot close another's view.
        guard = await as_role(Role.GUARD)
        other = await guard.delete(f"/api/v1/cameras/{camera}/live/{session}")
        assert_error(other, 404, "not_found")

        await asyncio.sleep(0.2)
        ended = await api.delete(f"/api/v1/cameras/{camera}/live/{session}")
        assert ended.status_code == 200, ended.text
        view = ended.json()
        assert view["end_reason"] == "closed" and view["duration_s"] >= 0.2
        assert [c.args for c in site.sent("media.close")] == [{"session": session}]
        (audit,) = await audit_rows("camera.view.ended", camera)
        assert audit["actor_id"] == police.id
        assert audit["details"]["duration_s"] == round(view["duration_s"], 1)
        row = await session_row(session)
        assert row["account"] == police.id and row["ended_at"] is not None
        # Closing again changes nothing and is not audited twice.
        again = await api.delete(f"/api/v1/cameras/{camera}/live/{session}")
        assert again.json()["duration_s"] == view["duration_s"]
        assert len(await audit_rows("camera.view.ended", camera)) == 1
        assert len(site.sent("media.close")) == 1

    async def test_a_failed_offer_ends_the_session(
        self, as_role: AsRole, site: ScriptedBridge
    ) -> None:
        site.failing["media.offer"] = "timeout"
        api = await as_role(Role.GUARD)
        camera = site.devices["cam-east"]
        live = await api.post(f"/api/v1/cameras/{camera}/live", json={"sdp": OFFER})
        assert_error(live, 502, "media_failed")
        rows = await ViewSession.select().where(ViewSession.camera == camera)
        assert [r["end_reason"] for r in rows] == ["failed"]
        assert len(await audit_rows("camera.view.ended", camera)) == 1

    async def test_bad_offer(self, as_role: AsRole, site: ScriptedBridge) -> None:
        api = await as_role(Role.GUARD)
        camera = site.devices["cam-east"]
        live = await api.post(f"/api/v1/cameras/{camera}/live", json={"sdp": "x"})
        assert_error(live, 422, "invalid_body")
        assert await ViewSession.count().where(ViewSession.camera == camera) == 0

    async def test_sweep_ends_views_past_the_limit(
        self, as_role: AsRole, app: Litestar, world: World, site: ScriptedBridge
    ) -> None:
        api = await as_role(Role.GUARD)
        camera = site.devices["cam-east"]
        session = (await api.post(f"/api/v1/cameras/{camera}/live", json={"sdp": OFFER})).json()[
            "session"
        ]
        bus = CommandBus(app.state.redis)
        assert await video.end_stale(bus, 1800) == 0
        await ViewSession.update(
            {ViewSession.started_at: datetime.now(UTC) - timedelta(hours=1)}
        ).where(ViewSession.id == session)
        assert await video.end_stale(bus, 1800) == 1
        row = await session_row(session)
        assert row["end_reason"] == "limit" and row["duration_s"] >= 3600
        (audit,) = await audit_rows("camera.view.ended", camera)
        assert audit["actor_name"] == "platform"
        assert audit["details"]["viewer"] == str(world.a.users[Role.GUARD].id)
        assert [c.args for c in site.sent("media.close")] == [{"session": session}]


class TestEndedAtTheBridge:
    @pytest.mark.req("VID-08", partial=True)
    async def test_a_view_the_bridge_ended_closes_at_once_and_the_viewer_is_told(
        self, live_url: str, login: Callable, world: World, site: ScriptedBridge
    ) -> None:
        guard = world.a.users[Role.GUARD]
        api = await login(guard)
        camera = site.devices["cam-east"]
        session = (await api.post(f"/api/v1/cameras/{camera}/live", json={"sdp": OFFER})).json()[
            "session"
        ]
        async with live_socket(live_url, guard) as ws:
            ended = {"session": session, "kind": "live", "reason": "network", "duration_s": 4.2}
            await site.event("media.ended", "cam-east", ended)
            told = await next_event(ws, lambda e: e["type"] == "video.live_ended")
        assert (told["session"], told["reason"]) == (session, "network")
        row = await session_row(session)
        assert row["end_reason"] == "network" and row["ended_at"] is not None
        (audit,) = await audit_rows("camera.view.ended", camera)
        assert audit["details"]["reason"] == "network"
        assert site.sent("media.close") == []  # the bridge closed it: nothing to send back

    async def test_another_devices_word_ends_no_view(
        self, login: Callable, world: World, site: ScriptedBridge
    ) -> None:
        api = await login(world.a.users[Role.GUARD])
        camera = site.devices["cam-east"]
        session = (await api.post(f"/api/v1/cameras/{camera}/live", json={"sdp": OFFER})).json()[
            "session"
        ]
        ended = {"session": session, "kind": "live", "reason": "limit", "duration_s": 1.0}
        await site.event("media.ended", "cam-lobby", ended)
        await site.event("media.ended", "cam-east", {**ended, "session": "not-a-uuid"})
        assert (await session_row(session))["ended_at"] is None
