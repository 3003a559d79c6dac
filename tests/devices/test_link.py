"""The platform's end of the bridge link: enrolment, authentication, ingest, commands, status."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import pytest
import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from httpx import ASGITransport
from litestar import Litestar, Router
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect
from litestar.stores.memory import MemoryStore

from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.core.errors import EXCEPTION_HANDLERS
from api.devices.bus import BridgeOffline, CommandBus
from api.devices.link import Link
from api.devices.routes import BridgeEnrolController, enrol_rate_limit
from api.devices.tables import Bridge, Device, DeviceCommand, DeviceEvent
from device_bridge import protocol
from tests.devices.inventory import DOORS
from tests.devices.peer import EnrolledBridge, Peer, enrol
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, counting_queries, live_socket


@pytest.fixture
async def bridge(admin: ApiClient, world: World) -> EnrolledBridge:
    """A bridge of community A."""
    return await enrol(admin, world.a.community)


def event(seq: int, device: str = "door-1-1", kind: str = "door.opened") -> protocol.Event:
    return protocol.Event(seq=seq, kind=kind, device=device, at=time.time())


class TestEnrolment:
    async def test_token_works_once(self, admin: ApiClient, world: World) -> None:
        token = (
            await admin.post(
                "/api/v1/bridges/enrolment-tokens", json={"community_id": str(world.a.community)}
            )
        ).json()["token"]
        public = base64.b64encode(
            Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        ).decode()
        body = {"token": token, "public_key": public, "name": "site"}
        assert (await admin.post("/api/v1/bridges/enroll", json=body)).status_code == 200
        again = await admin.post("/api/v1/bridges/enroll", json=body)
        assert again.status_code == 401
        assert again.json()["code"] == "invalid_enrolment_token"

    async def test_bad_public_key_is_refused(self, admin: ApiClient, world: World) -> None:
        token = (
            await admin.post(
                "/api/v1/bridges/enrolment-tokens", json={"community_id": str(world.a.community)}
            )
        ).json()["token"]
        answer = await admin.post(
            "/api/v1/bridges/enroll", json={"token": token, "public_key": "A" * 44, "name": "x"}
        )
        assert answer.status_code == 400

    async def test_a_refused_token_is_audited_and_the_endpoint_is_rate_limited(
        self, client: ApiClient
    ) -> None:
        name = f"guess-{uuid.uuid4().hex[:8]}"
        public = base64.b64encode(
            Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        ).decode()
        body = {"token": "no-such-enrolment-token", "public_key": public, "name": name}
        r = await client.post("/api/v1/bridges/enroll", json=body)
        assert_error(r, 401, "invalid_enrolment_token")
        assert "ratelimit-limit" in r.headers  # create_app mounts the limiter on it
        entries = await AuditEntry.select(AuditEntry.outcome, AuditEntry.ip).where(
            (AuditEntry.action == "bridge.enrol.failed") & (AuditEntry.actor_name == name)
        )
        assert [e["outcome"] for e in entries] == ["denied"]

    async def test_the_third_enrolment_in_a_minute_is_refused_unread(self) -> None:
        """The limiter as create_app mounts it, with a budget of 2 a minute."""
        small = Litestar(
            route_handlers=[
                Router(
                    path="/",
                    route_handlers=[BridgeEnrolController],
                    middleware=[enrol_rate_limit(2).middleware],
                )
            ],
            exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
            stores={"rate_limit": MemoryStore()},
        )
        body = {"token": "no-such-enrolment-token", "public_key": "A" * 44, "name": "x"}
        async with ApiClient(transport=ASGITransport(app=small), base_url="http://t") as api:
            for _ in range(2):
                assert_error(
                    await api.post("/api/v1/bridges/enroll", json=body), 400, "invalid_input"
                )
            assert_error(await api.post("/api/v1/bridges/enroll", json=body), 429, "rate_limited")

    async def test_only_system_admin_issues_tokens(self, as_role: AsRole, world: World) -> None:
        for role in (Role.GUARD, Role.PROPERTY_MANAGER):
            api = await as_role(role)
            answer = await api.post(
                "/api/v1/bridges/enrolment-tokens", json={"community_id": str(world.a.community)}
            )
            assert answer.status_code == 404, role


@pytest.mark.req("SEC-04", partial=True)
class TestLinkAuthentication:
    async def test_wrong_key_is_refused(self, live_url: str, bridge: EnrolledBridge) -> None:
        async with Peer.open(live_url) as peer:
            await peer.send(peer.hello(bridge, key=Ed25519PrivateKey.generate()))
            refused = await peer.recv()
            assert isinstance(refused, protocol.Refused)
            assert refused.reason == "bad signature"
            with pytest.raises(websockets.ConnectionClosed):
                await peer.recv()

    async def test_replayed_answer_is_refused(self, live_url: str, bridge: EnrolledBridge) -> None:
        async with Peer.authenticated(live_url, bridge, DOORS) as first:
            replay = first.hello(bridge)  # valid for the first link's nonce only
        async with Peer.open(live_url) as second:
            await second.send(replay)
            assert isinstance(await second.recv(), protocol.Refused)

    async def test_unknown_bridge_is_refused(self, live_url: str, bridge: EnrolledBridge) -> None:
        stranger = EnrolledBridge(
            id="00000000-0000-0000-0000-000000000001",
            community_id="",
            key=Ed25519PrivateKey.generate(),
        )
        async with Peer.open(live_url) as peer:
            await peer.send(peer.hello(stranger))
            assert isinstance(await peer.recv(), protocol.Refused)


class TestIngest:
    @pytest.mark.req("PLAT-19", partial=True)
    async def test_events_stored_once_and_acked(
        self, live_url: str, bridge: EnrolledBridge
    ) -> None:
        batch = protocol.EventBatch(events=[event(seq) for seq in range(1, 51)])
        async with Peer.authenticated(live_url, bridge, DOORS) as peer:
            assert peer.welcome and peer.welcome.last_seq == 0
            await peer.send(batch)
            assert await peer.recv() == protocol.Ack(seq=50)
            await peer.send(batch)  # a replay after a crash
            assert await peer.recv() == protocol.Ack(seq=50)
            assert await DeviceEvent.count().where(DeviceEvent.bridge == bridge.id) == 50
        async with Peer.authenticated(live_url, bridge, DOORS) as again:
            assert again.welcome and again.welcome.last_seq == 50  # it resumes after what is stored

    async def test_unknown_device_rejected_link_stays_up(
        self, live_url: str, bridge: EnrolledBridge
    ) -> None:
        async with Peer.authenticated(live_url, bridge, DOORS) as peer:
            await peer.send(
                protocol.EventBatch(events=[event(1), event(2, device="ghost"), event(3)])
            )
            assert await peer.recv() == protocol.Ack(seq=3)
            reject = await peer.recv()
            assert isinstance(reject, protocol.Reject)
            assert reject.seq == 2 and "ghost" in reject.reason
            seqs = [
                r["seq"]
                for r in await DeviceEvent.select(DeviceEvent.seq)
                .where(DeviceEvent.bridge == bridge.id)
                .order_by(DeviceEvent.seq)
            ]
            assert seqs == [1, 3]
            await peer.send(protocol.Heartbeat(sent_at=time.time()))
            assert isinstance(await peer.recv(), protocol.HeartbeatAck)

    async def test_malformed_frame_rejected_link_stays_up(
        self, live_url: str, bridge: EnrolledBridge
    ) -> None:
        async with Peer.authenticated(live_url, bridge, DOORS) as peer:
            await peer.ws.send(b"\x81\xa1t\xa5bogus")
            reject = await peer.recv()
            assert isinstance(reject, protocol.Reject) and "malformed" in reject.reason
            await peer.send(protocol.EventBatch(events=[event(1)]))
            assert await peer.recv() == protocol.Ack(seq=1)


@pytest.mark.req("PLAT-09")
class TestCommands:
    async def test_command_round_trip_recorded_with_asker(
        self, live_url: str, admin: ApiClient, bridge: EnrolledBridge, world: World
    ) -> None:
        async with Peer.authenticated(live_url, bridge, DOORS) as peer:
            device = (
                await Device.select(Device.id)
                .where((Device.bridge == bridge.id) & (Device.external_id == "door-1-1"))
                .first()
            )

            async def answer() -> protocol.Command:
                command = await peer.recv()
                assert isinstance(command, protocol.Command)
                result = protocol.CommandResult(id=command.id, status="ok", data={"clock": 1})
                await peer.send(result)
                return command

            answering = asyncio.create_task(answer())
            response = await admin.post(
                f"/api/v1/devices/{device['id']}/commands",
                json={"action": "time.sync", "args": {"server_time": 1.0}},
            )
            command = await answering
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ok"
        assert (command.device, command.action) == ("door-1-1", "time.sync")
        row = await DeviceCommand.select().where(DeviceCommand.id == command.id).first()
        assert row["status"] == "ok"
        assert row["requested_by"] == world.admins[Role.SYSTEM_ADMIN].id

    async def test_unanswered_command_times_out(
        self, live_url: str, admin: ApiClient, bridge: EnrolledBridge
    ) -> None:
        async with Peer.authenticated(live_url, bridge, DOORS):
            device = await Device.select(Device.id).where(Device.bridge == bridge.id).first()
            response = await admin.post(
                f"/api/v1/devices/{device['id']}/commands",
                json={"action": "status", "timeout": 0.5},
            )
        assert response.json()["status"] == "timeout"

    async def test_offline_bridge_fails_fast(
        self, live_url: str, admin: ApiClient, bridge: EnrolledBridge
    ) -> None:
        async with Peer.authenticated(live_url, bridge, DOORS) as peer:
            await peer.close()  # hangs up and waits until the platform has let go of the link
        device = await Device.select(Device.id).where(Device.bridge == bridge.id).first()
        response = await asyncio.wait_for(  # a guard against hanging, not a timing assertion
            admin.post(f"/api/v1/devices/{device['id']}/commands", json={"action": "status"}), 3
        )
        assert response.status_code == 503
        assert response.json()["code"] == "bridge_offline"

    async def test_a_command_the_closing_link_cannot_pass_on_fails_at_once(
        self, app: Litestar, bridge: EnrolledBridge
    ) -> None:
        """The bridge went, but its link has not let go yet: the asker hears so at once."""

        class Closed:  # the socket of a link whose bridge has just hung up
            async def send_bytes(self, data: bytes) -> None:
                raise WebSocketDisconnect(detail="gone")

        bus = CommandBus(app.state.redis)
        row = await Bridge.objects().where(Bridge.id == bridge.id).first()
        link = Link(Closed(), row, bus, app.plugins.get(ChannelsPlugin), app.state.link_hooks)  # type: ignore[arg-type]
        async with bus.listen(bridge.id) as messages:
            forwarding = asyncio.create_task(link._forward(messages))
            command = protocol.Command(
                id=str(uuid.uuid4()), device="door-1-1", action="open", deadline=time.time() + 30
            )
            try:
                with pytest.raises(BridgeOffline):
                    await bus.send(bridge.id, command, wait=30)
            finally:
                forwarding.cancel()


async def door_1_1(admin: ApiClient, bridge: EnrolledBridge) -> dict[str, Any]:
    """This bridge's door-1-1 as the API shows it (the community has many test bridges)."""
    row = (
        await Device.select(Device.id)
        .where((Device.bridge == bridge.id) & (Device.external_id == "door-1-1"))
        .first()
    )
    assert row is not None
    response = await admin.get(f"/api/v1/devices/{row['id']}")
    assert response.status_code == 200, response.text
    return dict(response.json())


class TestStatus:
    @pytest.mark.req("PLAT-09")
    @pytest.mark.req("OPS-03", "PLAT-25", partial=True)
    async def test_link_loss_marks_offline_and_records_it(
        self, live_url: str, admin: ApiClient, bridge: EnrolledBridge
    ) -> None:
        async with Peer.authenticated(live_url, bridge, DOORS) as peer:
            assert (await door_1_1(admin, bridge))["online"] is True
            await peer.ws.close()  # the bridge hangs up: the subject of this test
            for _ in range(50):
                if not (await Bridge.select(Bridge.online).where(Bridge.id == bridge.id).first())[
                    "online"
                ]:
                    break
                await asyncio.sleep(0.05)
            assert (await door_1_1(admin, bridge))["online"] is False
        offline = await DeviceEvent.select().where(
            (DeviceEvent.bridge == bridge.id) & (DeviceEvent.kind == "device.offline")
        )
        assert len(offline) == 1 and offline[0]["seq"] is None

    async def test_device_list_is_scoped(
        self,
        as_role: AsRole,
        bridge: EnrolledBridge,
        world: World,
        live_url: str,
    ) -> None:
        guard_b = await as_role(Role.GUARD, "b")
        async with Peer.authenticated(live_url, bridge, DOORS):
            items = (await guard_b.get("/api/v1/devices")).json()["items"]
            assert all(d["community_id"] != str(world.a.community) for d in items)
            device = await Device.select(Device.id).where(Device.bridge == bridge.id).first()
            assert (await guard_b.get(f"/api/v1/devices/{device['id']}")).status_code == 404


@pytest.mark.req("PLAT-15")
class TestClockSkew:
    async def test_device_skew_is_against_the_platform_clock(
        self, live_url: str, admin: ApiClient, bridge: EnrolledBridge
    ) -> None:
        """A bridge 100 s fast reporting a device 5 s slow against it: the device is 95 s fast."""
        async with Peer.authenticated(live_url, bridge, DOORS) as peer:
            await peer.send(
                protocol.Heartbeat(sent_at=time.time() + 100, device_skew={"door-1-1": -5.0})
            )
            assert isinstance(await peer.recv(), protocol.HeartbeatAck)
            answer = await admin.get("/api/v1/bridges", params={"page_size": 200})
            bridges = answer.json()["items"]
            assert 99 < next(b for b in bridges if b["id"] == bridge.id)["clock_skew"] < 101
            assert 94 < (await door_1_1(admin, bridge))["clock_skew"] < 96

    async def test_a_heartbeat_of_500_devices_writes_their_skews_in_one_statement(
        self, live_url: str, bridge: EnrolledBridge
    ) -> None:
        devices = [
            protocol.DeviceInfo(id=f"cam-{n}", kind="camera", name=f"摄像机 {n}", driver="sim")
            for n in range(500)
        ]
        skews = {d.id: n / 100 for n, d in enumerate(devices)}
        async with Peer.authenticated(live_url, bridge, devices) as peer:
            with counting_queries() as seen:
                await peer.send(protocol.Heartbeat(sent_at=time.time(), device_skew=skews))
                assert isinstance(await peer.recv(), protocol.HeartbeatAck)
        assert len([q for q in seen if "clock_skew" in q]) == 1
        stored = {
            r["external_id"]: r["clock_skew"]
            for r in await Device.select(Device.external_id, Device.clock_skew).where(
                Device.bridge == bridge.id
            )
        }
        assert stored.keys() == skews.keys()
        assert all(abs(stored[k] - skews[k]) < 1 for k in skews)  # within the link latency
        assert stored["cam-499"] > stored["cam-0"] + 4


class TestLiveDeviceEvents:
    async def test_a_global_administrator_follows_every_community(
        self, live_url: str, bridge: EnrolledBridge, world: World
    ) -> None:
        async with (
            live_socket(live_url, world.admins[Role.SYSTEM_ADMIN]) as ws,
            Peer.authenticated(live_url, bridge, DOORS) as peer,
        ):
            await peer.send(protocol.EventBatch(events=[event(1)]))
            assert await peer.recv() == protocol.Ack(seq=1)
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert (message["type"], message["kind"]) == ("device.event", "door.opened")
