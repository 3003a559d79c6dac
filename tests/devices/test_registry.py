"""The device registry and the access log over the API: placement, scope, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from api.access.tables import AccessRecord
from api.core.auth import Role
from api.devices.tables import Device
from device_bridge import protocol
from tests.devices.inventory import DOORS
from tests.devices.peer import EnrolledBridge, Peer, door_event, enrol
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World


@pytest.fixture
async def linked(admin: ApiClient, world: World, live_url: str) -> AsyncIterator[EnrolledBridge]:
    """A bridge of community A, connected, with its doors registered."""
    bridge = await enrol(admin, world.a.community)
    async with Peer.authenticated(live_url, bridge, DOORS):
        yield bridge


async def door_of(bridge: EnrolledBridge, external_id: str = "door-1-1") -> str:
    row = (
        await Device.select(Device.id)
        .where((Device.bridge == bridge.id) & (Device.external_id == external_id))
        .first()
    )
    return str(row["id"])


class TestPlacement:
    @pytest.mark.req("MAP-01", partial=True)
    async def test_admin_places_a_device(self, admin: ApiClient, linked: EnrolledBridge) -> None:
        door = await door_of(linked)
        body = {"name": "1栋1单元门 (东)", "protection_zone": 3, "map_x": 0.25, "map_y": 0.5}
        answer = await admin.patch(f"/api/v1/devices/{door}", json=body)
        assert answer.status_code == 200, answer.text
        got = answer.json()
        assert (got["name"], got["protection_zone"], got["map_x"], got["map_y"]) == (
            "1栋1单元门 (东)",
            3,
            0.25,
            0.5,
        )

    async def test_inventory_places_by_building_and_unit(
        self, linked: EnrolledBridge, world: World
    ) -> None:
        row = (
            await Device.select(Device.building, Device.unit, Device.protection_zone)
            .where(Device.id == await door_of(linked))
            .first()
        )
        assert row["building"] is not None and row["unit"] is not None
        gate = (
            await Device.select(Device.protection_zone)
            .where(Device.id == await door_of(linked, "gate-north"))
            .first()
        )
        assert gate["protection_zone"] == 1

    @pytest.mark.parametrize(
        "body", [{"protection_zone": 5}, {"map_x": 1.5}, {"colour": "red"}, {"name": ""}]
    )
    async def test_bad_placement_is_refused(
        self, admin: ApiClient, linked: EnrolledBridge, body: dict[str, object]
    ) -> None:
        answer = await admin.patch(f"/api/v1/devices/{await door_of(linked)}", json=body)
        assert answer.status_code == 422
        assert answer.json()["code"] == "invalid_body"

    @pytest.mark.parametrize("role", [Role.GUARD, Role.PROPERTY_MANAGER, Role.RESIDENT])
    async def test_only_system_admin_places(
        self,
        as_role: AsRole,
        linked: EnrolledBridge,
        role: Role,
    ) -> None:
        api = await as_role(role)
        answer = await api.patch(f"/api/v1/devices/{await door_of(linked)}", json={"name": "x"})
        assert answer.status_code == 404


class TestBridgeList:
    async def test_admin_sees_link_state_and_device_count(
        self, admin: ApiClient, linked: EnrolledBridge
    ) -> None:
        items = (await admin.get("/api/v1/bridges", params={"page_size": 200})).json()["items"]
        mine = next(b for b in items if b["id"] == linked.id)
        assert (mine["online"], mine["devices"]) == (True, len(DOORS))

    async def test_other_community_staff_see_nothing_of_it(
        self,
        as_role: AsRole,
        linked: EnrolledBridge,
    ) -> None:
        guard_b = await as_role(Role.GUARD, "b")
        items = (await guard_b.get("/api/v1/bridges")).json()["items"]
        assert linked.id not in {b["id"] for b in items}

    async def test_residents_and_auditors_get_404(self, browser, world: World) -> None:
        for user in (world.a.users[Role.RESIDENT], world.admins[Role.AUDIT_ADMIN]):
            api = await browser()
            await api.login(user)
            assert (await api.get("/api/v1/bridges")).status_code == 404
            assert (await api.get("/api/v1/devices")).status_code == 404


@pytest.mark.req("ACC-13", partial=True)
class TestAccessLog:
    async def test_scope_of_each_role(
        self,
        browser,
        linked: EnrolledBridge,
        world: World,
        live_url: str,
    ) -> None:
        async with Peer.authenticated(live_url, linked, DOORS) as peer:  # a second link
            await peer.send(
                protocol.EventBatch(
                    events=[
                        door_event(
                            1, "access.granted", method="card", person=str(world.a.persons[1])
                        ),
                        door_event(2, "access.denied", method="card", reason="unknown card"),
                    ]
                )
            )
            assert await peer.recv() == protocol.Ack(seq=2)
        gate = await door_of(linked, "gate-north")

        async def seen(user: object) -> set[str]:
            api = await browser()
            await api.login(user)
            answer = await api.get("/api/v1/access-records", params={"device_id": gate})
            assert answer.status_code == 200, answer.text
            return {r["result"] for r in answer.json()["items"]}

        assert await seen(world.a.users[Role.GUARD]) == {"granted", "denied"}
        assert await seen(world.a.users[Role.POLICE]) == {"granted", "denied"}
        assert await seen(world.b.users[Role.GUARD]) == set()
        assert await seen(world.a.users[Role.RESIDENT]) == set()  # not their own passes
        records = await AccessRecord.select(AccessRecord.person, AccessRecord.method).where(
            AccessRecord.device == gate
        )
        assert {r["person"] for r in records} == {world.a.persons[1], None}

    async def test_filters_and_bad_parameters(self, as_role: AsRole, admin: ApiClient) -> None:
        guard = await as_role(Role.GUARD)
        assert (
            await guard.get("/api/v1/access-records", params={"result": "maybe"})
        ).status_code == 400
        answer = await guard.get(
            "/api/v1/access-records", params={"result": "denied", "page_size": 5}
        )
        assert answer.status_code == 200
        assert all(r["result"] == "denied" for r in answer.json()["items"])
        assert (
            await admin.get("/api/v1/access-records")
        ).status_code == 404  # system_admin: no PII
