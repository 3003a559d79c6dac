"""A real bridge with simulated devices against the platform: the issue's promises end to end."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable

import msgspec
import pytest
from litestar import Litestar

from api.access.tables import AccessRecord
from api.alarms.tables import Alarm
from api.biometrics.tables import FacePlacement
from api.core.auth import Role
from api.devices.tables import Device, DeviceEvent
from device_bridge.identity import load_bridge_id
from device_bridge.outbox import Outbox
from device_bridge.settings import BridgeSettings
from tests.device_bridge.helpers import bridge_process
from tests.fixtures import AsRole
from tests.helpers import (
    ApiClient,
    World,
    audit_rows,
    eventually,
    free_port,
    notified,
    released,
    running,
    serve,
    subscribe,
)


async def device_id(external_id: str, bridge_id: str) -> object:
    """The platform's id of a bridge's device, once the inventory is in."""

    async def find() -> object:
        row = (
            await Device.select(Device.id)
            .where((Device.external_id == external_id) & (Device.bridge == bridge_id))
            .first()
        )
        return row and row["id"]

    return await eventually(find)


async def stored(bridge_id: str, kind: str | None = None) -> int:
    """How many events of the bridge the platform holds."""
    where = DeviceEvent.bridge == bridge_id
    if kind:
        where &= DeviceEvent.kind == kind
    return await DeviceEvent.count().where(where & DeviceEvent.seq.is_not_null())


@pytest.mark.req("ACC-06")
@pytest.mark.req("ACC-07", partial=True)
@pytest.mark.req("ACC-10", partial=True)
class TestDoorFromPhone:
    async def test_resident_opens_own_unit_door_and_it_is_recorded(
        self,
        as_role: AsRole,
        site_settings: BridgeSettings,
        world: World,
    ) -> None:
        resident = await as_role(Role.RESIDENT)
        async with running(site_settings):
            bridge_id = load_bridge_id(site_settings)
            door = await device_id("door-1-1", bridge_id)
            doors = (await resident.get("/api/v1/doors")).json()
            assert {d["name"] for d in doors} >= {"1栋1单元 单元门", "北门 人行通道"}
            answer = await resident.post(f"/api/v1/doors/{door}/open", json={})
            assert answer.status_code == 200, answer.text
            assert answer.json()["result"] == "granted"
            record = (
                await AccessRecord.select()
                .where(AccessRecord.id == answer.json()["record_id"])
                .first()
            )
            assert (record["method"], record["result"], record["person"]) == (
                "app",
                "granted",
                world.a.persons[0],
            )
            # the simulated door really opened: its own event comes back over the link
            await eventually(lambda: stored(bridge_id, "door.opened"))
            history = (await resident.get("/api/v1/access-records")).json()["items"]
            assert history[0]["id"] == answer.json()["record_id"]

    @pytest.mark.req("ACC-12", partial=True)
    async def test_a_granted_door_that_does_not_open_raises_the_door_alarm_and_says_so(
        self, browser, site_settings: BridgeSettings, world: World
    ) -> None:
        resident = await browser()
        await resident.login(world.a.users[Role.RESIDENT])
        guard = world.a.users[Role.GUARD]
        await subscribe(guard)
        async with running(site_settings) as bridge:
            door = await device_id("door-1-1", load_bridge_id(site_settings))
            assert bridge.sim is not None
            await bridge.sim.set_fault("door-1-1", offline=True)
            answer = await resident.post(f"/api/v1/doors/{door}/open", json={})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["result"], answer.json()["guards_notified"]) == ("failed", True)
        [alarm] = (
            await Alarm.select(Alarm.id, Alarm.state, Alarm.location)
            .where((Alarm.type == "door_open_failed") & (Alarm.source_device == door))
            .output(load_json=True)
        )
        assert alarm["state"] == "new" and alarm["location"]["device"] == "1栋1单元 单元门"
        assert await notified(guard.id, alarm["id"])
        (audit,) = await audit_rows("door.open", door)
        assert audit["details"]["alarm"] == str(alarm["id"])

    async def test_other_buildings_door_refuses_with_a_reason(
        self,
        as_role: AsRole,
        site_settings: BridgeSettings,
    ) -> None:
        resident = await as_role(Role.RESIDENT)
        async with running(site_settings):
            door = await device_id("door-2-1", load_bridge_id(site_settings))
            answer = await resident.post(f"/api/v1/doors/{door}/open", json={})
            assert answer.status_code == 403
            assert answer.json()["code"] == "door_not_entitled"
            assert answer.json()["message"] == "not your building's door"
            record = (
                await AccessRecord.select()
                .where(AccessRecord.id == answer.json()["extra"]["record_id"])
                .first()
            )
            assert record["result"] == "denied"
            assert await stored(load_bridge_id(site_settings), "door.opened") == 0

    async def test_offline_site_fails_fast_and_the_attempt_is_recorded(
        self, as_role: AsRole, site_settings: BridgeSettings
    ) -> None:
        resident = await as_role(Role.RESIDENT)
        async with running(site_settings):
            door = await device_id("door-1-1", load_bridge_id(site_settings))
        await released(load_bridge_id(site_settings))
        answer = await asyncio.wait_for(  # a guard against hanging, not a timing assertion
            resident.post(f"/api/v1/doors/{door}/open", json={}), 5
        )
        assert answer.status_code == 503
        assert answer.json()["code"] == "bridge_offline"
        record = (
            await AccessRecord.select()
            .where(AccessRecord.id == answer.json()["extra"]["record_id"])
            .first()
        )
        assert (record["result"], record["reason"]) == ("failed", "bridge offline")

    async def test_resident_of_another_community_gets_404(
        self,
        as_role: AsRole,
        site_settings: BridgeSettings,
    ) -> None:
        stranger = await as_role(Role.RESIDENT, "b")
        async with running(site_settings):
            door = await device_id("gate-north", load_bridge_id(site_settings))
            assert (await stranger.post(f"/api/v1/doors/{door}/open", json={})).status_code == 404


@pytest.mark.req("PLAT-18")
class TestLinkOutages:
    async def test_bridge_stop_marks_devices_offline_and_back(
        self, admin: ApiClient, site_settings: BridgeSettings
    ) -> None:
        bridge_id = load_bridge_id(site_settings)

        async def online() -> list[bool]:
            items = (await admin.get("/api/v1/devices", params={"page_size": 200})).json()["items"]
            return [d["online"] for d in items if d["bridge_id"] == bridge_id]

        async with running(site_settings):
            assert all(await eventually(online))
        assert not any(await eventually(lambda: _none_online(online)))
        assert (
            await DeviceEvent.count().where(
                (DeviceEvent.bridge == bridge_id)
                & (DeviceEvent.kind == "device.offline")
                & DeviceEvent.seq.is_null()
            )
            == 1
        )
        async with running(site_settings):
            assert all(await eventually(online))

    async def test_api_restart_bridge_reconnects_and_delivers_what_happened_meanwhile(
        self, app: Litestar, site_settings: BridgeSettings
    ) -> None:
        port = free_port()
        settings = msgspec.structs.replace(site_settings, platform_url=f"http://127.0.0.1:{port}")
        bridge_id = load_bridge_id(settings)
        first = serve(app, port)
        await first.__aenter__()
        site = running(settings)
        bridge = await site.__aenter__()
        try:
            await device_id("door-1-1", bridge_id)
            await bridge.sim.present_credential(
                "door-1-1", method="card", person=None, granted=True
            )
            await eventually(lambda: stored(bridge_id, "access.granted"))
            await first.__aexit__(None, None, None)  # the api goes away: every instance
            await eventually(lambda: not bridge.link.authenticated.is_set())
            for _ in range(20):  # the site goes on while the platform is away
                await bridge.sim.present_credential(
                    "door-1-1", method="card", person=None, granted=True
                )
            async with serve(app, port):  # back on the same address
                await eventually(lambda: bridge.link.sessions >= 2, timeout=15)
                assert await eventually(
                    lambda: _equals(stored(bridge_id, "access.granted"), 21), timeout=15
                )
        finally:
            await site.__aexit__(None, None, None)


async def _equals(count: Awaitable[int], expected: int) -> bool:
    return await count == expected


async def _none_online(online) -> list[bool] | None:
    states = await online()
    return None if any(states) else states or None


class Relay:
    """A TCP relay that lets the bridge's traffic through slowly, so a kill lands mid-stream."""

    def __init__(self, target_port: int, bytes_per_second: int) -> None:
        self.target_port = target_port
        self.rate = bytes_per_second
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on a free port; return it."""
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening."""
        assert self.server
        self.server.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(
            self._pump(reader, up_writer, slow=True),
            self._pump(up_reader, writer, slow=False),
            return_exceptions=True,
        )

    async def _pump(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, slow: bool
    ) -> None:
        try:
            while chunk := await src.read(1024):
                dst.write(chunk)
                await dst.drain()
                if slow:
                    await asyncio.sleep(len(chunk) / self.rate)
        finally:
            dst.close()


@pytest.mark.req("PLAT-19", partial=True)
class TestKilledWhileSending:
    async def test_2000_events_stored_exactly_once_after_sigkill_and_restart(
        self, live_url: str, site_settings: BridgeSettings
    ) -> None:
        relay = Relay(int(live_url.rsplit(":", 1)[1]), bytes_per_second=40_000)
        settings = msgspec.structs.replace(
            site_settings, platform_url=f"http://127.0.0.1:{await relay.start()}"
        )
        bridge_id = load_bridge_id(settings)
        async with await Outbox.open(settings.outbox_file) as outbox:
            await outbox.append_many(
                [
                    ("access.granted", "door-1-1", None, {"n": n, "method": "card"})
                    for n in range(2000)
                ]
            )
        first = await bridge_process(settings, "--no-clock-sync", stderr=asyncio.subprocess.DEVNULL)
        await eventually(lambda: _count_at_least(stored(bridge_id), 400), timeout=30)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        at_kill = await stored(bridge_id)
        assert at_kill < 2000, "killed mid-stream"

        second = await bridge_process(
            settings, "--no-clock-sync", stderr=asyncio.subprocess.DEVNULL
        )
        await eventually(lambda: _equals(stored(bridge_id), 2000), timeout=60)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 15) == 0
        await relay.stop()

        rows = (
            await DeviceEvent.select(DeviceEvent.seq, DeviceEvent.data)
            .where((DeviceEvent.bridge == bridge_id) & DeviceEvent.seq.is_not_null())
            .output(load_json=True)
        )
        assert sorted(r["seq"] for r in rows) == list(range(1, 2001))
        assert sorted(r["data"]["n"] for r in rows) == list(range(2000))
        door = await device_id("door-1-1", bridge_id)
        assert await AccessRecord.count().where(AccessRecord.device == door) == 2000


async def _count_at_least(count: Awaitable[int], n: int) -> bool:
    return await count >= n


@pytest.mark.req("DATA-25", partial=True)
@pytest.mark.req("ACC-07", partial=True)
class TestFacesOnTheReaders:
    async def test_enrolled_face_opens_at_the_reader_and_erasing_it_takes_it_off(
        self, site_settings: BridgeSettings, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        jpeg = b"\xff\xd8\xff\xe0" + b"a face" * 80 + b"\xff\xd9"
        async with running(site_settings) as bridge:
            assert bridge.sim is not None
            bridge_id = load_bridge_id(site_settings)
            await device_id("door-1-1", bridge_id)
            r = await manager.post(
                "/api/v1/biometrics/faces",
                data={"person_id": str(world.a.persons[0])},
                files={"photo": ("face.jpg", jpeg, "image/jpeg")},
            )
            assert r.status_code == 201, r.text
            face = r.json()["face_id"]
            readers = [bridge.sim.fleet.get(d) for d in ("gate-north", "door-1-1")]
            await eventually(lambda: all(face in r.state.get("faces", {}) for r in readers))
            assert face not in bridge.sim.fleet.get("gate-south").state.get("faces", {})
            await eventually(lambda: _placed(face, {"enrolled"}))
            matched = await bridge.sim.show_face("door-1-1", face)
            assert matched is not None and matched.granted
            assert matched.person == str(world.a.persons[0])

            erased = await manager.delete(f"/api/v1/biometrics/faces/{face}")
            assert erased.status_code == 204, erased.text
            await eventually(lambda: all(face not in r.state["faces"] for r in readers))
            await eventually(lambda: _placed(face, {"removed"}))  # each reader confirmed
            assert await bridge.sim.show_face("door-1-1", face) is None


async def _placed(face: str, states: set[str]) -> bool:
    rows = await FacePlacement.select(FacePlacement.state).where(FacePlacement.face == face)
    return len(rows) == 2 and {r["state"] for r in rows} == states
