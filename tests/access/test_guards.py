"""Guards: remote opening with a reason, emergency release; door alarms from device events."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from api.access.tables import AccessRecord
from api.alarms.tables import Alarm
from api.communities.tables import Building
from api.core.auth import Role
from api.devices.tables import Device
from device_bridge import protocol
from tests.access.helpers import Link
from tests.devices.peer import EnrolledBridge, ScriptedBridge, door_event
from tests.fixtures import AsRole
from tests.helpers import ApiClient, Login, World, assert_error, audit_rows, eventually


async def answer_commands(
    site: ScriptedBridge, count: int, status: str = "ok"
) -> list[protocol.Command]:
    """Answer the next `count` commands the platform sends the bridge."""
    seen = []
    for _ in range(count):
        command = await site.next_of(protocol.Command)
        seen.append(command)
        await site.peer.send(protocol.CommandResult(id=command.id, status=status))
    return seen


async def device_id(bridge: EnrolledBridge, external: str) -> str:
    row = (
        await Device.select(Device.id)
        .where((Device.bridge == bridge.id) & (Device.external_id == external))
        .first()
    )
    assert row is not None
    return str(row["id"])


@pytest.fixture
async def guard(as_role: AsRole) -> ApiClient:
    """Community A's guard."""
    return await as_role(Role.GUARD)


class TestRemoteOpen:
    @pytest.mark.req("ACC-06")
    @pytest.mark.req("IAM-01", partial=True)
    async def test_a_reason_is_required_and_everything_is_on_record(
        self, link: Link, guard: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        site = await link(bridge)
        await site.settle()
        gate = await device_id(bridge, "gate-north")
        r = await guard.post(f"/api/v1/doors/{gate}/remote-open", json={"direction": "in"})
        assert_error(r, 422, "invalid_body")
        task = asyncio.create_task(
            guard.post(f"/api/v1/doors/{gate}/remote-open", json={"reason": "快递员送件"})
        )
        (command,) = await answer_commands(site, 1)
        r = await task
        assert r.status_code == 200 and r.json()["result"] == "granted", r.text
        assert command.action == "open" and command.args["method"] == "remote"
        row = await AccessRecord.select().where(AccessRecord.id == r.json()["record_id"]).first()
        assert row is not None and row["method"] == "remote" and row["reason"] == "快递员送件"
        assert row["account"] == world.a.users[Role.GUARD].id
        (entry,) = await audit_rows("door.remote_open", gate)
        assert entry["purpose"] == "快递员送件" and entry["actor_role"] == "guard"
        # The door reports the opening it was told to do: that is the same pass, not a second one.
        event = door_event(1, "access.granted", method="remote", direction="in", person=None)
        await site.peer.send(protocol.EventBatch(events=[event]))
        await site.next_of(protocol.Ack)
        assert await AccessRecord.count().where(AccessRecord.device == gate) == 1

    async def test_outside_scope_and_residents_get_404(
        self, link: Link, login: Login, world: World, bridge: EnrolledBridge
    ) -> None:
        site = await link(bridge)
        await site.settle()
        gate = await device_id(bridge, "gate-north")
        for who in (world.b.users[Role.GUARD], world.a.users[Role.RESIDENT]):
            api = await login(who)
            r = await api.post(f"/api/v1/doors/{gate}/remote-open", json={"reason": "test it"})
            assert_error(r, 404, "not_found")
        await site.close()


class TestEmergencyRelease:
    @pytest.mark.req("ACC-15", partial=True)
    async def test_every_door_unlocks_then_locks_again_audited(
        self, link: Link, guard: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        site = await link(bridge)
        await site.settle()
        body = {"community_id": str(world.a.community), "reason": "3栋火警疏散"}
        task = asyncio.create_task(guard.post("/api/v1/access/emergency-release", json=body))
        commands = await answer_commands(site, 3)
        r = await task
        assert r.status_code == 200, r.text
        assert r.json() == {"doors": 3, "ok": 3, "failed": [], "barriers": 0}
        assert {c.device for c in commands} == {"door-1-1", "gate-north", "parcel-room"}
        assert {c.action for c in commands} == {"unlock"}
        task = asyncio.create_task(guard.post("/api/v1/access/emergency-release/end", json=body))
        ends = await answer_commands(site, 3)
        assert (await task).json()["ok"] == 3 and {c.action for c in ends} == {"lock"}
        for phase in ("start", "end"):
            (entry,) = await audit_rows(f"access.emergency_release.{phase}", world.a.community)
            assert entry["purpose"] == "3栋火警疏散"

    async def test_bad_input_and_scope(
        self, as_role: AsRole, guard: ApiClient, world: World
    ) -> None:
        r = await guard.post(
            "/api/v1/access/emergency-release",
            json={"community_id": str(world.a.community), "reason": "x y", "scope": "building"},
        )
        assert_error(r, 422, "invalid_body")  # a building release names its building
        other = await as_role(Role.GUARD, "b")
        r = await other.post(
            "/api/v1/access/emergency-release",
            json={"community_id": str(world.a.community), "reason": "not mine"},
        )
        assert_error(r, 404, "not_found")

    async def test_another_communitys_building_is_not_found_and_nothing_is_audited(
        self, guard: ApiClient, world: World
    ) -> None:
        theirs = await Building.select(Building.id).where(Building.community == world.b.community)
        for path in ("/api/v1/access/emergency-release", "/api/v1/access/emergency-release/end"):
            body = {
                "community_id": str(world.a.community),
                "reason": "not my building",
                "building_id": str(theirs[0]["id"]),
            }
            if path.endswith("release"):
                body["scope"] = "building"
            assert_error(await guard.post(path, json=body), 404, "not_found")
            for phase in ("start", "end"):
                target = theirs[0]["id"]
                assert await audit_rows(f"access.emergency_release.{phase}", target) == []


class TestDoorAlarms:
    @pytest.mark.req("ACC-12", "ACC-18", partial=True)
    @pytest.mark.parametrize(
        ("kind", "data", "alarm_type"),
        [
            ("door.unauthorized_open", {}, "door_unauthorized"),
            ("access.failed_reads", {"count": 5, "method": "card"}, "access_failed_reads"),
            ("access.passback", {"credential": "c", "person": ""}, "access_passback"),
            ("access.tailgating", {"count": 2}, "access_tailgating"),
            ("door.forced", {}, "door_forced"),
            ("door.held_open", {}, "door_held_open"),
            ("door.close_timeout", {}, "door_close_timeout"),
        ],
    )
    async def test_device_events_raise_alarms(
        self,
        link: Link,
        live_url: str,
        world: World,
        bridge: EnrolledBridge,
        kind: str,
        data: dict[str, Any],
        alarm_type: str,
    ) -> None:
        site = await link(bridge)
        await site.settle()
        event = protocol.Event(seq=1, kind=kind, device="door-1-1", at=time.time(), data=data)
        await site.peer.send(protocol.EventBatch(events=[event]))
        await site.next_of(protocol.Ack)
        alarm = await eventually(
            lambda: (
                Alarm.select(Alarm.type, Alarm.source_device)
                .where(Alarm.community == world.a.community)
                .first()
            )
        )
        assert alarm["type"] == alarm_type
        assert str(alarm["source_device"]) == await device_id(bridge, "door-1-1")

    async def test_refusals_alone_raise_nothing(
        self, link: Link, world: World, bridge: EnrolledBridge
    ) -> None:
        site = await link(bridge)
        await site.settle()
        events = [
            door_event(seq, "access.denied", "door-1-1", method="card", reason="unknown")
            for seq in range(1, 5)
        ]
        await site.peer.send(protocol.EventBatch(events=events))
        await site.next_of(protocol.Ack)
        assert not await Alarm.exists().where(Alarm.community == world.a.community)
