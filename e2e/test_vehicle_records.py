"""The police's 车辆 screens on the phone: a plate typed one character off finds the pass of their
jurisdiction with its lane, time and snapshot, never another community's; the screen says every
search is audited, and the search is in the audit log. Their statistics count the jurisdiction's
seeded passes (per day, by decision, by hour, each car park's count now), each read audited."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from playwright.async_api import Page, Route, expect

from api.alarms.catalogue import SITE_TIMEZONE
from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.core.storage import RetentionClass
from api.vehicles.tables import CarPark
from e2e.conftest import artifact
from e2e.pages import HomePage, LoginPage, photo
from tests.helpers import ApiClient, World
from tests.vehicles.helpers import car_park_with_lanes, store_pass


@pytest.mark.req("VEH-13", partial=True)
async def test_police_search_a_plate_fuzzy_and_see_the_pass_with_its_snapshot(
    app: Litestar, phone: Page, world: World, live_url: str
) -> None:
    async with ApiClient.for_app(app) as manager:
        await manager.login(world.a.users[Role.PROPERTY_MANAGER])
        park, lane_in, _ = await car_park_with_lanes(manager, world.a.community, name="北门车库")
    key = f"vehicles/{uuid.uuid4().hex}.png"
    await app.state.objects.put(
        key, photo(320, 200), content_type="image/png", retention=RetentionClass.RECORD_6M
    )
    record = await store_pass(
        app,
        world.a.community,
        "川A12345",
        decision="denied",
        reason="blacklisted",
        lane=lane_in["id"],
        car_park=park["id"],
        image=key,
    )
    await store_pass(app, world.b.community, "川A12345")  # not their jurisdiction's

    # Presigned URLs name the configured public address; the test server has its own port.
    async def to_live_server(route: Route) -> None:
        url = urlsplit(route.request.url)
        await route.fulfill(response=await route.fetch(url=f"{live_url}{url.path}?{url.query}"))

    await phone.route("http://127.0.0.1:8000/api/v1/objects/**", to_live_server)
    police = world.a.users[Role.POLICE]
    await (await LoginPage(phone).open()).log_in(police)
    await (await HomePage(phone, "police").wait()).open_capability("vehicles")
    await expect(phone.locator("[data-test=police-vehicles-audit-notice]")).to_contain_text(
        "审计日志"
    )
    await phone.locator("[data-test=police-vehicles-plate] input").fill("川A12346")
    await phone.locator("[data-test=police-vehicles-search]").click()

    hit = phone.locator("[data-test=police-vehicle-hit]")
    await expect(hit).to_have_count(1)
    await expect(hit).to_have_attribute("data-record-id", str(record))
    await expect(hit).to_contain_text("川A***45")
    await expect(hit).to_contain_text("北门车库入口")
    await expect(hit).to_contain_text("拒绝")
    image = hit.locator("img")
    await expect(image).to_be_visible()
    await expect(image).to_have_js_property("naturalWidth", 320)
    await expect(phone.locator("[data-test=police-vehicles-total]")).to_contain_text("共 1 条")
    await phone.screenshot(path=artifact("police-vehicle-search.png"), full_page=True)

    [audited] = (
        await AuditEntry.select()
        .where((AuditEntry.action == "vehicle_pass.searched") & (AuditEntry.actor_id == police.id))
        .output(load_json=True)
    )
    assert audited["details"]["plate"] == "川A***46"
    assert audited["details"]["fuzzy"] is True
    assert audited["details"]["found"] == 1


@pytest.mark.req("VEH-13", partial=True)
async def test_police_see_the_statistics_of_their_jurisdictions_passes(
    app: Litestar, phone: Page, world: World
) -> None:
    async with ApiClient.for_app(app) as manager:
        await manager.login(world.a.users[Role.PROPERTY_MANAGER])
        park, lane_in, lane_out = await car_park_with_lanes(
            manager, world.a.community, name="北门车库"
        )
    # yesterday (site time): two cars in at 08:xx, one out at 18:xx, one refused; B's not counted
    day = datetime.now(SITE_TIMEZONE).date() - timedelta(days=1)

    def at(hh: int, mm: int) -> datetime:
        return datetime.combine(day, time(hh, mm), SITE_TIMEZONE)

    at_in = {"lane": lane_in["id"], "car_park": park["id"]}
    await store_pass(app, world.a.community, "川A12345", at=at(8, 10), **at_in)
    await store_pass(app, world.a.community, "川A22345", at=at(8, 40), **at_in)
    await store_pass(
        app,
        world.a.community,
        "川A12345",
        at=at(18, 5),
        direction="out",
        lane=lane_out["id"],
        car_park=park["id"],
    )
    await store_pass(
        app,
        world.a.community,
        "川B88888",
        at=at(9, 0),
        decision="denied",
        reason="blacklisted",
        **at_in,
    )
    await store_pass(app, world.b.community, "川A12345", at=at(8, 30))
    await CarPark.update({CarPark.occupied: 1}).where(CarPark.id == park["id"])

    police = world.a.users[Role.POLICE]
    await (await LoginPage(phone).open()).log_in(police)
    await (await HomePage(phone, "police").wait()).open_capability("vehicles")
    await phone.locator("[data-test=police-vehicles-stats-link]").click()
    await expect(phone.locator("[data-test=police-vehicle-stats-audit-notice]")).to_contain_text(
        "审计日志"
    )
    await expect(phone.locator("[data-test=police-vehicle-stats-total]")).to_have_text("4")
    await expect(phone.locator("[data-test=police-vehicle-stats-entries]")).to_have_text("2")
    await expect(phone.locator("[data-test=police-vehicle-stats-exits]")).to_have_text("1")
    await expect(phone.locator("[data-test=police-vehicle-stats-peak]")).to_have_text("08:00")
    decisions = phone.locator("[data-test=police-vehicle-stats-decisions]")
    await expect(decisions).to_have_attribute("aria-label", "放行 3，拒绝 1")
    [only] = await phone.locator("[data-test=police-vehicle-stats-park]").all()
    await expect(only).to_contain_text("北门车库")
    await expect(only).to_contain_text("在场 1 / 车位 100")
    for chart in ("daily", "decisions", "hourly", "parks"):
        await expect(phone.locator(f"[data-test=police-vehicle-stats-{chart}]")).to_have_attribute(
            "data-ready", "true"
        )
    # one community picked: the same figures (B is not theirs, so not offered)
    picker = phone.locator("[data-test=police-vehicle-stats-community]")
    await expect(picker.locator("option")).to_have_count(2)
    await picker.select_option(str(world.a.community))
    await expect(phone.locator("[data-test=police-vehicle-stats-total]")).to_have_text("4")
    await phone.wait_for_timeout(1_500)  # the charts' growing animation ends, for the picture
    await phone.screenshot(path=artifact("police-vehicle-stats.png"), full_page=True)

    reads = list(
        await AuditEntry.select()
        .where(
            (AuditEntry.action == "vehicle_pass.stats_read") & (AuditEntry.actor_id == police.id)
        )
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )
    assert len(reads) == 2
    assert reads[1]["community_id"] == world.a.community
