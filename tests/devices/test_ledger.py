"""The equipment ledger over the API: bridge devices in it on their own, assets added by hand,
the lifecycle and its history, filters, fault history, scope and bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest

from api.communities.tables import Building
from api.core.auth import Role
from api.devices.ledger.lifecycle import MOVES, STATUSES
from api.devices.ledger.schemas import ManualKind
from api.devices.tables import AssetHistory, Device
from device_bridge import protocol
from tests.devices.inventory import DOORS
from tests.devices.peer import EnrolledBridge, Peer, enrol
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows, raise_alarm

ASSETS = "/api/v1/ledger/assets"


@pytest.fixture
async def linked(admin: ApiClient, world: World, live_url: str) -> AsyncIterator[EnrolledBridge]:
    """A bridge of community A, connected, with its doors registered."""
    bridge = await enrol(admin, world.a.community)
    async with Peer.authenticated(live_url, bridge, DOORS):
        yield bridge


async def building_of(world: World, site: str = "a") -> str:
    row = (
        await Building.select(Building.id)
        .where(Building.community == getattr(world, site).community)
        .first()
    )
    return str(row["id"])


def extinguisher(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "community_id": str(world.a.community),
        "kind": "extinguisher",
        "name": "干粉灭火器 4kg",
        "floor": 3,
        "location_text": "消防栓箱旁",
        "owner_party": "业主委员会",
        "user_party": "全体业主",
        "om_party": "蓉城消防维保公司",
        "vendor": "淮海",
        "model": "MFZ/ABC4",
        "serial_no": "HH-2026-0001",
        "install_date": "2026-01-10",
        "warranty_end": (datetime.now(UTC).date() + timedelta(days=20)).isoformat(),
        **extra,
    }


@pytest.fixture
async def maintenance(as_role: AsRole) -> ApiClient:
    return await as_role(Role.MAINTENANCE)


async def add(api: ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = await api.post(ASSETS, json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


class TestLedger:
    @pytest.mark.req("OPS-13")
    async def test_bridge_devices_are_assets_with_a_code_and_parties(
        self, maintenance: ApiClient, linked: EnrolledBridge
    ) -> None:
        items = (await maintenance.get(ASSETS, params={"bridged": True})).json()["items"]
        assert {i["name"] for i in items} == {d.name for d in DOORS}
        door = items[0]
        assert door["bridged"] and door["status"] == "in_service" and door["online"] is True
        assert door["asset_code"].startswith("AJ") and len(door["label_code"]) == 12
        answer = await maintenance.patch(
            f"{ASSETS}/{door['id']}",
            json={"owner_party": "开发商", "user_party": "物业", "om_party": "海康维保"},
        )
        assert answer.status_code == 200, answer.text
        got = answer.json()
        assert (got["owner_party"], got["user_party"], got["om_party"]) == (
            "开发商",
            "物业",
            "海康维保",
        )
        # the asset id is the device id: the registry and the ledger name the same row
        row = await Device.select(Device.bridge).where(Device.id == door["id"]).first()
        assert str(row["bridge"]) == linked.id

    @pytest.mark.req("OPS-13")
    @pytest.mark.req("FIRE-27", partial=True)  # the ledger of public facilities
    async def test_an_asset_added_by_hand_is_a_device_without_a_bridge(
        self, maintenance: ApiClient, world: World
    ) -> None:
        building = await building_of(world)
        asset = await add(maintenance, extinguisher(world, building_id=building))
        assert asset["bridged"] is False and asset["online"] is None
        assert asset["status"] == "in_stock" and asset["building_name"] == "1栋"
        row = (
            await Device.select(Device.bridge, Device.kind).where(Device.id == asset["id"]).first()
        )
        assert row == {"bridge": None, "kind": "extinguisher"}
        # it is the ledger's, not the bridge registry's: no commands, not in /devices
        admin_list = await maintenance.get("/api/v1/devices")
        assert asset["id"] not in {d["id"] for d in admin_list.json()["items"]}
        assert (
            await maintenance.post(
                f"/api/v1/devices/{asset['id']}/commands", json={"action": "status"}
            )
        ).status_code == 404
        assert await audit_rows("asset.created", asset["id"])

    def test_hand_added_kinds_are_not_bridge_kinds(self) -> None:
        assert not set(get_args(ManualKind)) & set(get_args(protocol.DeviceKind))

    @pytest.mark.req("OPS-14")
    async def test_lifecycle_moves_are_kept_as_history(
        self, maintenance: ApiClient, world: World
    ) -> None:
        asset = await add(maintenance, extinguisher(world))
        path = ["installed", "in_service", "faulty", "under_repair", "in_service", "retired"]
        for status in path:
            answer = await maintenance.post(
                f"{ASSETS}/{asset['id']}/status", json={"status": status, "note": f"→{status}"}
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == status
        history = (await maintenance.get(f"{ASSETS}/{asset['id']}/history")).json()
        moves = [(h["from_status"], h["to_status"]) for h in reversed(history["items"])]
        assert moves == [("", "in_stock"), *zip(["in_stock", *path[:-1]], path, strict=True)]
        assert len(await audit_rows("asset.status", asset["id"])) == len(path)
        # retired is the end
        again = await maintenance.post(
            f"{ASSETS}/{asset['id']}/status", json={"status": "in_service"}
        )
        assert_error(again, 409, "transition_not_allowed")

    @pytest.mark.req("OPS-14")
    @pytest.mark.parametrize(
        ("start", "target"),
        [(s, t) for s in STATUSES for t in STATUSES if t not in MOVES[s]][:12],
    )
    async def test_moves_off_the_graph_are_refused(
        self, maintenance: ApiClient, world: World, start: str, target: str
    ) -> None:
        asset = await add(maintenance, extinguisher(world))
        await Device.update({Device.status: start}).where(Device.id == asset["id"])
        answer = await maintenance.post(f"{ASSETS}/{asset['id']}/status", json={"status": target})
        assert_error(answer, 409, "transition_not_allowed")
        assert await AssetHistory.count().where(AssetHistory.device == asset["id"]) == 1

    async def test_edits_are_history_with_old_and_new(
        self, maintenance: ApiClient, world: World
    ) -> None:
        asset = await add(maintenance, extinguisher(world))
        answer = await maintenance.patch(
            f"{ASSETS}/{asset['id']}", json={"vendor": "鲁消", "floor": None}
        )
        assert answer.status_code == 200, answer.text
        latest = (await maintenance.get(f"{ASSETS}/{asset['id']}/history")).json()["items"][0]
        assert latest["action"] == "updated"
        assert latest["changes"] == {"vendor": ["淮海", "鲁消"], "floor": [3, None]}

    async def test_name_and_place_of_a_bridge_device_come_from_its_bridge(
        self, maintenance: ApiClient, linked: EnrolledBridge
    ) -> None:
        door = (await maintenance.get(ASSETS, params={"bridged": True})).json()["items"][0]
        answer = await maintenance.patch(f"{ASSETS}/{door['id']}", json={"name": "改名"})
        assert_error(answer, 409, "bridge_managed_field")

    @pytest.mark.req("FIRE-16", partial=True)  # extinguishers' place, date, expiry list
    async def test_filters_and_search(self, maintenance: ApiClient, world: World) -> None:
        building = await building_of(world)
        soon = await add(maintenance, extinguisher(world, building_id=building))
        later = await add(
            maintenance,
            extinguisher(
                world, kind="pump", name="生活水泵", serial_no="PUMP-9", warranty_end="2030-01-01"
            ),
        )
        await maintenance.post(f"{ASSETS}/{later['id']}/status", json={"status": "installed"})

        async def ids(**params: Any) -> set[str]:
            answer = await maintenance.get(
                ASSETS, params={"community_id": str(world.a.community), **params}
            )
            assert answer.status_code == 200, answer.text
            return {i["id"] for i in answer.json()["items"]}

        assert await ids(kind="pump") == {later["id"]}
        assert await ids(status="installed") == {later["id"]}
        assert await ids(building_id=building) == {soon["id"]}
        assert await ids(warranty_within=30) == {soon["id"]}
        assert await ids(q="pump-9") == {later["id"]}
        assert await ids(q=later["asset_code"].lower()) == {later["id"]}
        assert await ids(bridged=False) == {soon["id"], later["id"]}
        page = (await maintenance.get(ASSETS, params={"page_size": 1})).json()
        assert page["total"] >= 2 and len(page["items"]) == 1

    async def test_fault_history_is_the_devices_alarms(
        self, as_role: AsRole, maintenance: ApiClient, linked: EnrolledBridge, world: World
    ) -> None:
        door = (await maintenance.get(ASSETS, params={"bridged": True})).json()["items"][0]
        await raise_alarm(world.a.community, "door_forced", device_id=door["id"])
        faults = await maintenance.get(f"/api/v1/alarms/device-faults/{door['id']}")
        assert faults.status_code == 200, faults.text
        assert [f["type"] for f in faults.json()["items"]] == ["door_forced"]
        guard_b = await as_role(Role.GUARD, "b")
        assert (await guard_b.get(f"/api/v1/alarms/device-faults/{door['id']}")).status_code == 404


class TestScope:
    async def test_guards_read_and_may_not_write(
        self, as_role: AsRole, maintenance: ApiClient, world: World
    ) -> None:
        asset = await add(maintenance, extinguisher(world))
        guard = await as_role(Role.GUARD)
        assert (await guard.get(f"{ASSETS}/{asset['id']}")).status_code == 200
        assert (
            await guard.patch(f"{ASSETS}/{asset['id']}", json={"vendor": "x"})
        ).status_code == 404
        assert (await guard.post(ASSETS, json=extinguisher(world))).status_code == 404
        assert (
            await guard.post(f"{ASSETS}/{asset['id']}/status", json={"status": "installed"})
        ).status_code == 404

    @pytest.mark.parametrize("role", [Role.MAINTENANCE, Role.PROPERTY_MANAGER, Role.GUARD])
    async def test_another_communitys_assets_are_404(
        self, as_role: AsRole, maintenance: ApiClient, world: World, role: Role
    ) -> None:
        asset = await add(maintenance, extinguisher(world))
        other = await as_role(role, "b")
        for answer in (
            await other.get(f"{ASSETS}/{asset['id']}"),
            await other.get(f"{ASSETS}/{asset['id']}/history"),
            await other.patch(f"{ASSETS}/{asset['id']}", json={"vendor": "x"}),
            await other.post(f"{ASSETS}/{asset['id']}/status", json={"status": "installed"}),
            await other.post(f"{ASSETS}/labels", json={"asset_ids": [asset["id"]]}),
        ):
            assert answer.status_code == 404, answer.text
        assert asset["id"] not in {i["id"] for i in (await other.get(ASSETS)).json()["items"]}
        if role is not Role.GUARD:
            assert (await other.post(ASSETS, json=extinguisher(world))).status_code == 404

    @pytest.mark.parametrize("role", [Role.RESIDENT, Role.SYSTEM_ADMIN, Role.POLICE])
    async def test_roles_without_the_ledger_get_404(self, as_role: AsRole, role: Role) -> None:
        api = await as_role(role)
        assert (await api.get(ASSETS)).status_code == 404


class TestBadInput:
    @pytest.mark.parametrize(
        "change",
        [
            {"kind": "camera"},  # a bridge kind
            {"kind": "spaceship"},
            {"name": ""},
            {"floor": 999},
            {"status": "retired"},  # not a starting status
            {"install_date": "yesterday"},
            {"colour": "red"},
        ],
    )
    async def test_bad_assets_are_refused(
        self, maintenance: ApiClient, world: World, change: dict[str, Any]
    ) -> None:
        answer = await maintenance.post(ASSETS, json=extinguisher(world, **change))
        assert_error(answer, 422, "invalid_body")

    async def test_a_place_of_another_community_is_refused(
        self, maintenance: ApiClient, world: World
    ) -> None:
        answer = await maintenance.post(
            ASSETS, json=extinguisher(world, building_id=await building_of(world, "b"))
        )
        assert_error(answer, 400, "invalid_place")
        high = await maintenance.post(
            ASSETS, json=extinguisher(world, building_id=await building_of(world), floor=40)
        )
        assert_error(high, 400, "invalid_place")

    async def test_bad_moves_edits_and_queries(self, maintenance: ApiClient, world: World) -> None:
        asset = await add(maintenance, extinguisher(world))
        base = f"{ASSETS}/{asset['id']}"
        assert_error(
            await maintenance.post(f"{base}/status", json={"status": "lost"}), 422, "invalid_body"
        )
        assert_error(
            await maintenance.patch(base, json={"serial_no": "x" * 101}), 422, "invalid_body"
        )
        assert (await maintenance.get(ASSETS, params={"status": "lost"})).status_code == 400
        assert (await maintenance.get(ASSETS, params={"warranty_within": -1})).status_code == 400
        assert (await maintenance.get(f"{ASSETS}/not-a-uuid")).status_code == 404
