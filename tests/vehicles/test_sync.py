"""Plates reach the bridges through the access credential sync: an authorised car as a `plate`
entry at every barrier, a blacklisted plate as `plate_block`, a visitor's car for the pass's
window; a cancelled car is removed with the next delta."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.access.credential_keys import bridge_digest
from api.core.auth import Role
from api.vehicles.tables import PassRecord
from device_bridge import protocol
from tests.devices.peer import enrol
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, eventually
from tests.plugins.site import LinkBridge
from tests.vehicles.helpers import register

LANE = [
    protocol.DeviceInfo(id="barrier-north", kind="barrier", name="北门道闸", driver="sim"),
    protocol.DeviceInfo(id="lpr-north", kind="plate_camera", name="北门车牌", driver="sim"),
    protocol.DeviceInfo(
        id="gate-north", kind="door_controller", name="北门", driver="sim", attrs={"role": "gate"}
    ),
]


def _by_kind(
    held: dict[str, protocol.CredentialEntry], kind: str
) -> list[protocol.CredentialEntry]:
    return [e for e in held.values() if e.kind == kind]


@pytest.mark.req("VEH-07", partial=True)
@pytest.mark.req("VEH-23", partial=True)
async def test_authorised_and_blacklisted_plates_reach_the_barriers_and_a_cancelled_one_leaves(
    as_role: AsRole,
    resident: ApiClient,
    admin: ApiClient,
    world: World,
    scripted_bridge: LinkBridge,
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    site = await scripted_bridge(await enrol(admin, world.a.community), LANE)
    car = await register(resident, plate="川A12345")
    assert _by_kind(site.held(), "plate") == []  # registered, not authorised yet
    r = await manager.post(f"/api/v1/vehicles/{car['id']}/authorise", json={})
    assert r.status_code == 200, r.text
    entry = (await eventually(lambda: _by_kind(site.held(), "plate")))[0]
    key = site.credentials[-1].key
    assert entry.doors == ["barrier-north"]  # the barriers only, not the pedestrian gate
    assert entry.digests == [bridge_digest(key, "plate", "川A12345")]
    assert "川A12345".encode() not in protocol.encode(site.credentials[-1])
    banned = await register(
        manager,
        plate="京A99999",
        vehicle_class="blacklisted",
        community_id=str(world.a.community),
        reason="冲卡",
    )
    block = (await eventually(lambda: _by_kind(site.held(), "plate_block")))[0]
    assert block.digests == [bridge_digest(key, "plate", "京A99999")]
    assert block.valid_until == 0.0
    r = await manager.post(f"/api/v1/vehicles/{car['id']}/cancel", json={"reason": "sold"})
    assert r.status_code == 200
    await eventually(lambda: entry.id in site.removed())
    assert [e.id for e in _by_kind(site.held(), "plate_block")] == [block.id]
    assert banned["status"] == "active"


async def test_an_extension_and_a_change_reissue_the_plate_for_the_new_window(
    as_role: AsRole,
    resident: ApiClient,
    admin: ApiClient,
    world: World,
    scripted_bridge: LinkBridge,
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    site = await scripted_bridge(await enrol(admin, world.a.community), LANE)
    car = await register(resident, plate="川A54321")
    until = datetime.now(UTC) + timedelta(days=1)
    await manager.post(
        f"/api/v1/vehicles/{car['id']}/authorise", json={"valid_until": until.isoformat()}
    )
    first = (await eventually(lambda: _by_kind(site.held(), "plate")))[0]
    assert first.valid_until == pytest.approx(until.timestamp())
    later = until + timedelta(days=30)
    r = await manager.post(
        f"/api/v1/vehicles/{car['id']}/extend", json={"valid_until": later.isoformat()}
    )
    assert r.status_code == 200, r.text

    def extended() -> list[protocol.CredentialEntry]:
        return [e for e in _by_kind(site.held(), "plate") if e.valid_until > until.timestamp()]

    assert (await eventually(extended))[0].valid_until == pytest.approx(later.timestamp())
    assert len(_by_kind(site.held(), "plate")) == 1
    r = await manager.patch(
        f"/api/v1/vehicles/{car['id']}", json={"vehicle_class": "blacklisted", "reason": "欠费"}
    )
    assert r.status_code == 200, r.text
    await eventually(lambda: _by_kind(site.held(), "plate_block"))
    assert _by_kind(site.held(), "plate") == []


async def test_a_visitor_pass_with_a_plate_lets_the_car_in_for_its_window_unless_blacklisted(
    as_role: AsRole,
    resident: ApiClient,
    admin: ApiClient,
    world: World,
    scripted_bridge: LinkBridge,
) -> None:
    site = await scripted_bridge(await enrol(admin, world.a.community), LANE)
    start = datetime.now(UTC)
    body = {
        "visitor_name": "王小明",
        "visitor_phone": "13711111111",
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(hours=4)).isoformat(),
        "plate": "川A8D123",
    }
    r = await resident.post("/api/v1/visitor-passes", json=body)
    assert r.status_code == 201, r.text
    visit = r.json()
    entry = (await eventually(lambda: _by_kind(site.held(), "plate")))[0]
    assert entry.visitor_pass == visit["id"] and entry.doors == ["barrier-north"]
    assert entry.valid_until == pytest.approx((start + timedelta(hours=4)).timestamp())
    # Blacklisting the plate takes the visitor's car off the barriers.
    manager = await as_role(Role.PROPERTY_MANAGER)
    await register(
        manager,
        plate="川A8D123",
        vehicle_class="blacklisted",
        community_id=str(world.a.community),
        reason="冲卡",
    )
    await eventually(lambda: entry.id in site.removed())
    await eventually(lambda: _by_kind(site.held(), "plate_block"))
    # A revoked pass takes its plate with it.
    r = await resident.post(
        "/api/v1/visitor-passes", json={**body, "plate": "川A7E456", "visitor_phone": "13722222222"}
    )
    second = r.json()
    plate = next(
        e
        for e in await eventually(lambda: _by_kind(site.held(), "plate"))
        if e.visitor_pass == second["id"]
    )
    await resident.post(f"/api/v1/visitor-passes/{second['id']}/revoke", json={})
    await eventually(lambda: plate.id in site.removed())


async def test_odd_plate_reads_from_a_bridge_are_recorded_with_a_reason_and_replays_once(
    admin: ApiClient, world: World, scripted_bridge: LinkBridge
) -> None:
    site = await scripted_bridge(await enrol(admin, world.a.community), LANE)
    reads: list[dict] = [
        {"plate": 12345, "confidence": "high"},  # a camera with odd types; no lane on platform
        {"plate": "川A12345", "decision": "opened", "reason": "x" * 80},
        {"plate": "", "decision": "held", "reason": "malformed_plate"},
        {},
        {"plate": "川" * 500, "colour": "a very long colour name"},
    ]
    seqs = [await site.event("plate.read", "lpr-north", data) for data in reads]
    await site.replay(seqs[1], "plate.read", "lpr-north")  # a replay after a lost ack
    rows = (
        await PassRecord.select()
        .where(PassRecord.community == world.a.community)
        .order_by(PassRecord.device_event)
    )
    assert len(rows) == 5
    assert [(r["decision"], r["reason"]) for r in rows] == [
        ("ignored", "unknown_lane"),
        ("held", "unknown_decision:opened"),
        ("held", "malformed_plate"),
        ("ignored", "unknown_lane"),
        ("ignored", "unknown_lane"),
    ]
    assert rows[0]["confidence"] == 0.0 and rows[0]["lane"] is None
