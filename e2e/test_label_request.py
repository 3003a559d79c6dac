"""A repair request from an asset's QR label, in the browser: a resident finds the lobby light
broken, opens its label's page without logging in (the camera-less test opens the URL the QR
code encodes), reports it with a photo; the manager accepts it on a phone from the 扫码报修
queue; maintenance takes the order, notes the spare parts used, returns one not needed and
finishes it; the resident,
logged in, follows it in 报事报修 to closed and rates it, and the tracking page says done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from playwright.async_api import Browser, Page, Route, expect

from api.core.auth import Role
from api.devices.ledger.labels import report_url
from api.devices.tables import SparePart
from api.workorders.tables import WorkOrder
from e2e.conftest import artifact, open_phone
from e2e.pages import HomePage, LoginPage, photo
from tests.helpers import ApiClient, World

RESIDENT_PHONE = "13812345678"  # 张三's, the world's resident of site A's 0101


@pytest.fixture
async def fresh_budgets(app: Litestar) -> None:
    """Every browser here is 127.0.0.1: start with the report budgets of earlier runs unspent."""
    async for key in app.state.redis.scan_iter("anju:report:budget:*"):
        await app.state.redis.delete(key)


@pytest.fixture
async def staff_phone(chromium: Browser, live_url: str) -> AsyncIterator[Page]:
    """A second phone, for the manager and then maintenance; photos come from the test server."""
    page = await open_phone(chromium, live_url)

    async def to_live_server(route: Route) -> None:  # presigned URLs name the public address
        url = urlsplit(route.request.url)
        await route.fulfill(response=await route.fetch(url=f"{live_url}{url.path}?{url.query}"))

    await page.route("http://127.0.0.1:8000/api/v1/objects/**", to_live_server)
    yield page
    await page.context.close()


@pytest.mark.req("OPS-21", partial=True)
@pytest.mark.usefixtures("fresh_budgets")
async def test_a_resident_reports_a_broken_light_by_its_label_and_follows_it_to_closed(
    app: Litestar, phone: Page, staff_phone: Page, world: World
) -> None:
    async with ApiClient.for_app(app) as manager_api:
        await manager_api.login(world.a.users[Role.PROPERTY_MANAGER])
        made = await manager_api.post(
            "/api/v1/ledger/assets",
            json={
                "community_id": str(world.a.community),
                "kind": "light",
                "name": "2栋大堂吸顶灯",
                "location_text": "2栋一楼大堂",
            },
        )
        assert made.status_code == 201, made.text
        part = await manager_api.post(
            "/api/v1/ledger/parts",
            json={"community_id": str(world.a.community), "code": "LED-T8", "name": "LED灯管"}
            | {"unit": "根", "stock": 4},
        )
        assert part.status_code == 201, part.text
    asset = made.json()

    # The resident scans the label: the QR code encodes the public report page.
    scanned = urlsplit(report_url("http://127.0.0.1:8000", asset["label_code"]))
    await phone.goto(scanned.path)
    page = phone.locator("[data-test=report-page]")
    await expect(page.locator("[data-test=report-asset]")).to_contain_text("2栋大堂吸顶灯")
    await expect(page.locator("[data-test=report-asset]")).to_contain_text("2栋一楼大堂")
    await phone.locator("[data-test=report-submit]").click()  # nothing filled in: not sent
    await expect(phone.locator("[data-test=report-description]")).to_contain_text("请描述一下问题")
    await phone.locator("[data-test=report-description] textarea").fill("大堂吸顶灯不亮了")
    await phone.locator("[data-test=report-phone] input").fill(RESIDENT_PHONE)
    await phone.locator("[data-test=report-photo-input]").set_input_files(
        {"name": "light.png", "mimeType": "image/png", "buffer": photo(1600, 1200)}
    )
    await expect(phone.locator(".report__thumbs img")).to_have_count(1)
    await phone.screenshot(path=artifact("label-report.png"))
    await phone.locator("[data-test=report-submit]").click()
    await expect(phone.locator("[data-test=report-filed]")).to_be_visible()
    tracking = await phone.locator("[data-test=report-tracking-code]").inner_text()
    assert tracking.strip()
    await phone.screenshot(path=artifact("label-report-filed.png"))
    await phone.locator("[data-test=report-track]").click()
    await expect(phone.locator("[data-test=track-step]")).to_have_text("等待物业审核")

    # The manager accepts it from the 扫码报修 queue.
    await (await LoginPage(staff_phone).open()).log_in(world.a.users[Role.PROPERTY_MANAGER])
    await (await HomePage(staff_phone, "property_manager").wait()).open_capability("work_orders")
    await staff_phone.locator("[data-test=label-requests-open]").click()
    item = staff_phone.locator("[data-test=label-item][data-asset='2栋大堂吸顶灯']")
    await expect(item).to_contain_text("大堂吸顶灯不亮了")
    await expect(item.locator("[data-test=label-resident]")).to_be_visible()
    await expect(item).to_contain_text("138****5678")
    await expect(item.locator("[data-test=label-photos] img")).to_have_js_property(
        "naturalWidth", 1280
    )
    await staff_phone.screenshot(path=artifact("label-requests.png"))
    await staff_phone.locator("[data-test=label-priority-high]").click()
    await item.locator("[data-test=label-approve]").click()
    await expect(item).to_have_count(0)
    order = await WorkOrder.select().where(WorkOrder.device == asset["id"]).first()
    assert order is not None
    assert (order["kind"], order["priority"], order["state"]) == ("repair", "high", "new")

    # Maintenance takes it, notes the tube used and finishes it.
    await staff_phone.context.clear_cookies()
    await (await LoginPage(staff_phone).open()).log_in(world.a.users[Role.MAINTENANCE])
    await HomePage(staff_phone, "maintenance").wait()
    await staff_phone.goto(f"/workorders/{order['id']}")
    await expect(staff_phone.locator("[data-test=wo-photos] figure")).to_have_count(1)
    await staff_phone.locator("[data-test=wo-action-take]").click()
    await expect(staff_phone.locator("[data-test=wo-state]")).to_have_text("已派单")
    await staff_phone.locator("[data-test=wo-action-in_progress]").click()
    await expect(staff_phone.locator("[data-test=wo-state]")).to_have_text("处理中")
    await staff_phone.locator("[data-test=wo-parts-open]").click()
    await staff_phone.locator("[data-test=wo-part-quantity]").fill("2")
    await staff_phone.locator("[data-test=wo-parts-save]").click()
    await expect(staff_phone.locator("[data-test=wo-part]")).to_contain_text("LED灯管 ×2根")
    # one tube was not needed: it goes back to stock from the order
    await staff_phone.locator("[data-test=wo-part-return]").click()
    await staff_phone.locator("[data-test=wo-return-quantity]").fill("1")
    await staff_phone.locator("[data-test=wo-return-save]").click()
    returned = staff_phone.locator("[data-test=wo-part][data-kind=returned]")
    await expect(returned).to_contain_text("退回LED灯管 ×1根")
    await expect(staff_phone.locator("[data-test=wo-part-return]")).to_have_count(1)
    await staff_phone.locator("[data-test=wo-action-done]").click()
    await staff_phone.locator("[data-test=wo-cause-input] input").fill("灯管老化")
    await staff_phone.locator("[data-test=wo-report-input] textarea").fill("更换两根灯管")
    await staff_phone.locator("[data-test=wo-confirm]").click()
    await expect(staff_phone.locator("[data-test=wo-state]")).to_have_text("已完成")
    await expect(staff_phone.locator("[data-test=wo-parts-summary]")).to_have_text("LED灯管 ×1根")
    await staff_phone.screenshot(path=artifact("label-order-done.png"), full_page=True)
    stock = await SparePart.select(SparePart.stock).where(SparePart.id == part.json()["id"]).first()
    assert stock is not None
    assert stock["stock"] == 3

    async with ApiClient.for_app(app) as manager_api:
        await manager_api.login(world.a.users[Role.PROPERTY_MANAGER])
        closed = await manager_api.post(
            f"/api/v1/workorders/{order['id']}/moves", json={"to": "closed"}
        )
        assert closed.status_code == 200, closed.text

    # The resident follows it in 报事报修 to closed, and rates it.
    await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
    await (await HomePage(phone, "resident").wait()).open_capability("feedback")
    mine = phone.locator(f"[data-test=wo-item][data-order-id='{order['id']}']")
    await expect(mine).to_contain_text("2栋大堂吸顶灯报修")
    await mine.click()
    await expect(phone.locator("[data-test=wo-state]")).to_have_text("已验收")
    await phone.locator("[data-test=wo-action-rate]").click()
    await phone.locator("[data-test=wo-confirm]").click()
    await expect(phone.locator("[data-test=wo-rating]")).to_contain_text("评价：5 星")
    await phone.screenshot(path=artifact("label-request-closed.png"))
    await phone.goto(f"/track/{tracking.strip()}")
    await expect(phone.locator("[data-test=track-step]")).to_have_text("已完成")
    await phone.screenshot(path=artifact("label-track-closed.png"))
