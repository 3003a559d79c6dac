"""The police's 车辆 search on the phone: a plate typed one character off finds the pass of their
jurisdiction with its lane, time and snapshot, never another community's; the screen says every
search is audited, and the search is in the audit log."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from playwright.async_api import Page, Route, expect

from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.core.storage import RetentionClass
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
