"""The warnings' thresholds are each community's own (ANA-06): managers change them within their
ranges (audited), guards only read them, anyone else is told 404; the scan counts with them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from litestar import Litestar

from api.alarms.catalogue import SITE_TIMEZONE
from api.core.auth import Role
from api.vehicles import warnings
from api.vehicles.tables import VehicleWarning, WarningSettings
from api.visitors.tables import VisitorPass
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows
from tests.vehicles.helpers import store_pass

DEFAULTS = {
    "visitor_grace_minutes": 30,
    "night_start_hour": 23,
    "night_end_hour": 5,
    "night_min_nights": 3,
    "night_window_days": 7,
}


def _url(community: uuid.UUID) -> str:
    return f"/api/v1/vehicle-warning-settings/{community}"


async def _put(api: ApiClient, community: uuid.UUID, **changes: int) -> httpx.Response:
    return await api.put(_url(community), json={**DEFAULTS, **changes})


async def _open(community: uuid.UUID, kind: str) -> list[str]:
    rows = await VehicleWarning.select(VehicleWarning.plate_masked).where(
        (VehicleWarning.community == community)
        & (VehicleWarning.status == "open")
        & (VehicleWarning.kind == kind)
    )
    return sorted(r["plate_masked"] for r in rows)


@pytest.mark.req("ANA-06", partial=True)
async def test_a_manager_changes_the_thresholds_within_their_ranges_and_the_change_is_audited(
    as_role: AsRole, world: World
) -> None:
    a = world.a.community
    manager = await as_role(Role.PROPERTY_MANAGER)
    r = await manager.get(_url(a))
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: body[k] for k in DEFAULTS} == DEFAULTS and body["custom"] is False
    assert body["limits"]["night_start_hour"] == [0, 23]

    # out of range, named with the field and its range; nothing is written
    for field, value in (
        ("visitor_grace_minutes", 1441),
        ("visitor_grace_minutes", -1),
        ("night_start_hour", 24),
        ("night_end_hour", -1),
        ("night_min_nights", 0),
        ("night_window_days", 32),
    ):
        r = await _put(manager, a, **{field: value})
        assert_error(r, 400, "threshold_out_of_range")
        assert r.json()["extra"]["field"] == field
    assert_error(await _put(manager, a, night_end_hour=23), 400, "night_window_empty")
    assert_error(
        await _put(manager, a, night_min_nights=8, night_window_days=7),
        400,
        "night_min_exceeds_window",
    )
    assert (await manager.put(_url(a), json={"night_start_hour": 22})).status_code == 422
    assert (await manager.put(_url(a), json={**DEFAULTS, "odd": 1})).status_code == 422
    assert await WarningSettings.count().where(WarningSettings.community == a) == 0

    r = await _put(manager, a, visitor_grace_minutes=90, night_start_hour=22, night_min_nights=2)
    assert r.status_code == 200, r.text
    assert r.json()["visitor_grace_minutes"] == 90 and r.json()["custom"] is True
    [entry] = await audit_rows("vehicle_warning.settings_changed", a)
    assert entry["details"]["from"] == DEFAULTS
    assert entry["details"]["to"] == {
        **DEFAULTS,
        "visitor_grace_minutes": 90,
        "night_start_hour": 22,
        "night_min_nights": 2,
    }
    # changed again: one row, a second audit entry from the first change
    assert (await _put(manager, a, night_window_days=14)).json()["night_window_days"] == 14
    assert await WarningSettings.count().where(WarningSettings.community == a) == 1
    assert len(await audit_rows("vehicle_warning.settings_changed", a)) == 2
    # B's own are untouched
    b_manager = await as_role(Role.PROPERTY_MANAGER, "b")
    r = await b_manager.get(_url(world.b.community))
    assert r.json()["custom"] is False and r.json()["visitor_grace_minutes"] == 30


async def test_guards_only_read_the_thresholds_and_other_communities_and_roles_get_404(
    as_role: AsRole, world: World
) -> None:
    a = world.a.community
    guard = await as_role(Role.GUARD)
    assert (await guard.get(_url(a))).json()["night_start_hour"] == 23
    assert_error(await _put(guard, a, night_start_hour=22), 404, "not_found")
    for role, site in (
        (Role.PROPERTY_MANAGER, "b"),
        (Role.GUARD, "b"),
        (Role.RESIDENT, "a"),
        (Role.POLICE, "a"),
        (Role.SYSTEM_ADMIN, "a"),
    ):
        api = await as_role(role, site)
        assert_error(await api.get(_url(a)), 404, "not_found")
        assert_error(await _put(api, a, night_start_hour=22), 404, "not_found")
    manager = await as_role(Role.PROPERTY_MANAGER)
    assert_error(await manager.get(_url(uuid.uuid4())), 404, "not_found")
    assert_error(await manager.get("/api/v1/vehicle-warning-settings/nope"), 404, "not_found")
    assert await WarningSettings.count().where(WarningSettings.community == a) == 0


async def _visitor_pass(app: Litestar, world: World, site: str, ended: datetime) -> uuid.UUID:
    place = getattr(world, site)
    vp = VisitorPass(
        community=place.community,
        household=place.households[0],
        created_by=place.users[Role.RESIDENT].id,
        visitor_name="王小明",
        phone=app.state.cipher.encrypt("13800000000", context="visitors.phone"),
        phone_index=uuid.uuid4().hex,
        valid_from=ended - timedelta(hours=4),
        valid_until=ended,
        status="expired",
        created_at=ended,
        updated_at=ended,
    )
    await vp.save()
    return vp.id


@pytest.mark.req("ANA-06", partial=True)
async def test_the_scan_counts_a_visitors_grace_with_the_communitys_own_setting(
    app: Litestar, as_role: AsRole, world: World
) -> None:
    a, b = world.a.community, world.b.community
    now = datetime.now(UTC)
    ended = now - timedelta(minutes=45)  # past the default 30 minutes
    for site, community, plate in (("a", a, "川A51515"), ("b", b, "川A52525")):
        vp = await _visitor_pass(app, world, site, ended)
        await store_pass(
            app, community, plate, at=ended - timedelta(hours=1), reason="visitor", visitor_pass=vp
        )
    manager = await as_role(Role.PROPERTY_MANAGER)
    assert (await _put(manager, a, visitor_grace_minutes=60)).status_code == 200
    await warnings.scan(now)
    assert await _open(a, "visitor_overstay") == []  # A allows an hour
    assert await _open(b, "visitor_overstay") == ["川A***25"]  # B the default half hour
    assert (await _put(manager, a, visitor_grace_minutes=44)).status_code == 200
    await warnings.scan(now)
    assert await _open(a, "visitor_overstay") == ["川A***15"]
    [found] = (
        await VehicleWarning.select()
        .where((VehicleWarning.community == a) & (VehicleWarning.kind == "visitor_overstay"))
        .output(load_json=True)
    )
    assert found["details"]["grace_minutes"] == 44


def _night(days_ago: int, hh: int, mm: int) -> datetime:
    day = datetime.now(SITE_TIMEZONE).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hh, mm), SITE_TIMEZONE)


@pytest.mark.req("ANA-06", partial=True)
async def test_the_scan_counts_night_visits_with_the_communitys_hours_and_nights(
    app: Litestar, as_role: AsRole, world: World
) -> None:
    a = world.a.community
    for days_ago in (5, 4, 3):  # three evenings at 22:30: not night by default
        await store_pass(app, a, "川A61616", at=_night(days_ago, 22, 30), reason="temporary")
    for days_ago in (5, 3):  # two nights at 23:30: too few by default
        await store_pass(app, a, "川A62626", at=_night(days_ago, 23, 30), reason="temporary")
    await warnings.scan(datetime.now(UTC))
    assert await _open(a, "night_frequent") == []

    manager = await as_role(Role.PROPERTY_MANAGER)
    assert (await _put(manager, a, night_min_nights=2)).status_code == 200
    await warnings.scan(datetime.now(UTC))
    assert await _open(a, "night_frequent") == ["川A***26"]
    [found] = await VehicleWarning.select().where(
        (VehicleWarning.community == a) & (VehicleWarning.status == "open")
    )
    assert "2 个夜间" in found["reason"]

    # the night from 22:00, three nights needed: the evenings count, two nights no longer do
    assert (await _put(manager, a, night_start_hour=22)).status_code == 200
    await warnings.scan(datetime.now(UTC))
    assert await _open(a, "night_frequent") == ["川A***16"]
    [found] = await VehicleWarning.select().where(
        (VehicleWarning.community == a) & (VehicleWarning.status == "open")
    )
    assert "（22:00–05:00）" in found["reason"] and "3 个夜间" in found["reason"]

    # a window of 4 days: the evening 5 days ago falls out, fewer than three are left
    assert (await _put(manager, a, night_start_hour=22, night_window_days=4)).status_code == 200
    await warnings.scan(datetime.now(UTC))
    assert await _open(a, "night_frequent") == []
