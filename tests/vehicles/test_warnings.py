"""Long-stay and abnormal-entry warnings (VEH-04, ANA-06): each kind is raised with its reason
by the periodic scan, once per car and kind, cleared when the car leaves, told to the managers,
and dismissed with a reason (audited) without coming back for the same thing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from litestar import Litestar

from api.alarms.catalogue import SITE_TIMEZONE
from api.core.auth import Role
from api.push.tables import Notification
from api.vehicles import warnings
from api.vehicles.tables import VehicleWarning
from api.visitors.tables import VisitorPass
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows, subscribe
from tests.vehicles.helpers import car_park_with_lanes, register, store_pass


async def _open(community: uuid.UUID, kind: str | None = None) -> list[dict]:
    where = (VehicleWarning.community == community) & (VehicleWarning.status == "open")
    if kind is not None:
        where &= VehicleWarning.kind == kind
    return list(await VehicleWarning.select().where(where).output(load_json=True))


async def _pushed(account: uuid.UUID, warning_id: object) -> int:
    rows = await Notification.select().where(Notification.account == account).output(load_json=True)
    return sum(r["payload"]["data"].get("warning_id") == str(warning_id) for r in rows)


@pytest.mark.req("VEH-04", partial=True)
@pytest.mark.req("ANA-06")
async def test_a_car_parked_past_its_car_parks_limit_is_warned_of_once_and_cleared_when_it_leaves(
    app: Litestar, as_role: AsRole, resident: ApiClient, world: World
) -> None:
    a = world.a.community
    manager_user = world.a.users[Role.PROPERTY_MANAGER]
    await subscribe(manager_user)
    manager = await as_role(Role.PROPERTY_MANAGER)
    park, lane_in, lane_out = await car_park_with_lanes(manager, a, long_stay_days=3)
    now = datetime.now(UTC)
    entry = {"lane": lane_in["id"], "car_park": park["id"]}
    stray = await store_pass(
        app, a, "川A11111", at=now - timedelta(days=5), reason="temporary", **entry
    )
    # not long enough; left again; a resident's own car at home: none of these
    await store_pass(app, a, "川A22222", at=now - timedelta(days=2), **entry)
    await store_pass(app, a, "川A33333", at=now - timedelta(days=6), **entry)
    await store_pass(
        app,
        a,
        "川A33333",
        at=now - timedelta(days=4),
        direction="out",
        lane=lane_out["id"],
        car_park=park["id"],
    )
    car = await register(resident, plate="川A44444")
    await store_pass(app, a, "川A44444", at=now - timedelta(days=9), vehicle=car["id"], **entry)

    await warnings.scan(now)  # the pushes are rows now, sent after commit
    [found] = await _open(a)
    assert found["kind"] == "long_stay" and found["plate_masked"] == "川A***11"
    assert found["entry"] == stray and str(found["car_park"]) == park["id"]
    assert "已停放 5 天" in found["reason"] and "超过 3 天" in found["reason"]
    assert found["details"]["days"] == 5 and found["details"]["limit_days"] == 3
    assert await _pushed(manager_user.id, found["id"]) == 1
    assert len(await audit_rows("vehicle_warning.raised", found["id"])) == 1
    # the scan again, an hour later: the same one warning, told once
    await warnings.scan(now + timedelta(hours=1))
    assert [w["id"] for w in await _open(a)] == [found["id"]]
    assert await _pushed(manager_user.id, found["id"]) == 1
    # the manager reads it; a guard too; B's manager does not
    r = await manager.get("/api/v1/vehicle-warnings", params={"status": "open"})
    assert [w["id"] for w in r.json()["items"]] == [str(found["id"])]
    assert r.json()["items"][0]["plate"] == "川A***11" and r.json()["items"][0]["reason"]
    r = await (await as_role(Role.GUARD)).get("/api/v1/vehicle-warnings")
    assert [w["id"] for w in r.json()["items"]] == [str(found["id"])]
    r = await (await as_role(Role.PROPERTY_MANAGER, "b")).get("/api/v1/vehicle-warnings")
    assert r.json()["items"] == []
    # it leaves: the warning is cleared, not left open
    await store_pass(
        app,
        a,
        "川A11111",
        at=now + timedelta(hours=2),
        direction="out",
        lane=lane_out["id"],
        car_park=park["id"],
    )
    await warnings.scan(now + timedelta(hours=3))
    assert await _open(a) == []
    [row] = await VehicleWarning.select().where(VehicleWarning.id == found["id"])
    assert row["status"] == "cleared" and row["open_key"] is None


@pytest.mark.req("VEH-04", partial=True)
@pytest.mark.req("ANA-06")
async def test_a_visitors_car_still_inside_after_its_pass_ended_is_warned_of(
    app: Litestar, world: World
) -> None:
    a = world.a.community
    now = datetime.now(UTC)
    passes = []
    for ended in (now - timedelta(hours=2), now + timedelta(hours=2)):
        vp = VisitorPass(
            community=a,
            household=world.a.households[0],
            created_by=world.a.users[Role.RESIDENT].id,
            visitor_name="王小明",
            phone=app.state.cipher.encrypt("13800000000", context="visitors.phone"),
            phone_index=uuid.uuid4().hex,
            valid_from=now - timedelta(hours=6),
            valid_until=ended,
            status="expired" if ended < now else "active",
            created_at=now,
            updated_at=now,
        )
        await vp.save()
        passes.append(vp.id)
    over = await store_pass(
        app, a, "川A55555", at=now - timedelta(hours=5), reason="visitor", visitor_pass=passes[0]
    )
    await store_pass(  # still within its pass
        app, a, "川A66666", at=now - timedelta(hours=5), reason="visitor", visitor_pass=passes[1]
    )
    await warnings.scan(now)
    [found] = await _open(a, "visitor_overstay")
    assert found["visitor_pass"] == passes[0] and found["entry"] == over
    assert "王小明" in found["reason"] and "未离场" in found["reason"]
    await warnings.scan(now)
    assert len(await _open(a, "visitor_overstay")) == 1


def _night(days_ago: int, hh: int, mm: int) -> datetime:
    day = datetime.now(SITE_TIMEZONE).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hh, mm), SITE_TIMEZONE)


@pytest.mark.req("VEH-04", partial=True)
@pytest.mark.req("ANA-06")
async def test_a_plate_seen_on_three_nights_of_a_week_is_warned_of_unless_a_residents(
    app: Litestar, resident: ApiClient, world: World
) -> None:
    a = world.a.community
    # three nights: 23:30, 02:10 after midnight (the night before), 04:50
    for days_ago, hh, mm in ((5, 23, 30), (3, 2, 10), (2, 4, 50)):
        await store_pass(app, a, "川A77777", at=_night(days_ago, hh, mm), reason="temporary")
    # the same plate's daytime reads and a second read of one night do not add nights
    await store_pass(app, a, "川A88888", at=_night(4, 23, 10), reason="temporary")
    await store_pass(app, a, "川A88888", at=_night(3, 1, 0), reason="temporary")  # same night
    await store_pass(app, a, "川A88888", at=_night(2, 12, 0), reason="temporary")
    car = await register(resident, plate="川A99999")  # a resident's car coming home late
    for days_ago in (5, 4, 3):
        await store_pass(
            app,
            a,
            "川A99999",
            at=_night(days_ago, 23, 45),
            vehicle=car["id"],
            household=world.a.households[0],
        )
    await warnings.scan(datetime.now(UTC))
    [found] = await _open(a, "night_frequent")
    assert found["plate_masked"] == "川A***77" and found["details"]["nights"] == 3
    assert "3 个夜间" in found["reason"] and "非本小区住户" in found["reason"]


@pytest.mark.req("VEH-04", partial=True)
async def test_a_manager_dismisses_a_warning_with_a_reason_and_it_does_not_come_back(
    app: Litestar, as_role: AsRole, world: World
) -> None:
    a = world.a.community
    manager = await as_role(Role.PROPERTY_MANAGER)
    park, lane_in, _ = await car_park_with_lanes(manager, a, long_stay_days=1)
    now = datetime.now(UTC)
    await store_pass(
        app, a, "川A12121", at=now - timedelta(days=3), lane=lane_in["id"], car_park=park["id"]
    )
    await warnings.scan(now)
    [found] = await _open(a)
    url = f"/api/v1/vehicle-warnings/{found['id']}/dismiss"
    # others' managers, guards: 404; no reason: 400
    assert_error(
        await (await as_role(Role.PROPERTY_MANAGER, "b")).post(url, json={"reason": "x"}),
        404,
        "not_found",
    )
    assert_error(
        await (await as_role(Role.GUARD)).post(url, json={"reason": "x"}), 404, "not_found"
    )
    assert_error(await manager.post(url, json={"reason": "  "}), 400, "reason_required")
    assert (await manager.post(url, json={})).status_code in (400, 422)
    r = await manager.post(url, json={"reason": "业主亲属长期借用车位"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dismissed" and r.json()["close_reason"] == "业主亲属长期借用车位"
    [entry] = await audit_rows("vehicle_warning.dismissed", found["id"])
    assert entry["purpose"] == "业主亲属长期借用车位"
    assert_error(await manager.post(url, json={"reason": "again"}), 409, "warning_not_open")
    # the car is still there: the scan does not raise it again
    await warnings.scan(now + timedelta(hours=1))
    assert await _open(a) == []
    r = await manager.get("/api/v1/vehicle-warnings", params={"status": "dismissed"})
    assert [w["id"] for w in r.json()["items"]] == [str(found["id"])]
    assert_error(
        await manager.post(
            f"/api/v1/vehicle-warnings/{uuid.uuid4()}/dismiss", json={"reason": "x"}
        ),
        404,
        "not_found",
    )
    assert (
        await manager.get("/api/v1/vehicle-warnings", params={"kind": "odd"})
    ).status_code == 400
