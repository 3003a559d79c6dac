"""Work orders on the phone: a simulated door controller goes offline and maintenance takes the
order it opened through to done with a photo; a resident files a repair request and follows it
to closed, then rates it; maintenance ticks a preventive order's checklist and signs it done."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from litestar import Litestar
from playwright.async_api import Page, Route, expect

from api.alarms.catalogue import SITE_TIMEZONE
from api.core.auth import Role
from api.workorders.tables import WorkOrder
from device_bridge.settings import BridgeSettings
from e2e.conftest import GATE, artifact, gate_device
from e2e.pages import HomePage, LoginPage, photo
from tests.helpers import ApiClient, World, eventually, running
from tests.workorders.helpers import make_assets

URL = "/api/v1/workorders"


async def _as(app: Litestar, world: World, role: Role) -> ApiClient:
    api = ApiClient.for_app(app)
    await api.login(world.a.users[role])
    return api


@pytest.mark.req("OPS-16", partial=True)
async def test_a_door_goes_offline_and_maintenance_takes_its_order_to_done_with_a_photo(
    phone: Page, app: Litestar, world: World, site_settings: BridgeSettings, live_url: str
) -> None:
    async with running(site_settings) as bridge:
        assert bridge.sim is not None
        gate = await gate_device(site_settings)
        await bridge.sim.set_fault(GATE, offline=True)
        order = await eventually(
            lambda: WorkOrder.select().where(WorkOrder.device == gate).first(), timeout=15
        )
    assert (order["fault"], order["state"]) == ("device_offline", "new")
    manager = await _as(app, world, Role.PROPERTY_MANAGER)
    staff = world.a.users[Role.MAINTENANCE]
    r = await manager.post(f"{URL}/{order['id']}/assign", json={"assignee_id": str(staff.id)})
    assert r.status_code == 200, r.text

    # Presigned URLs name the configured public address; the test server has its own port.
    async def to_live_server(route: Route) -> None:
        url = urlsplit(route.request.url)
        await route.fulfill(response=await route.fetch(url=f"{live_url}{url.path}?{url.query}"))

    await phone.route("http://127.0.0.1:8000/api/v1/objects/**", to_live_server)
    await (await LoginPage(phone).open()).log_in(staff)
    await (await HomePage(phone, "maintenance").wait()).open_capability("work_orders")
    item = phone.locator(f"[data-test=wo-item][data-order-id='{order['id']}']")
    await expect(item).to_contain_text("设备离线")
    await expect(item).to_contain_text("已派单")
    await phone.screenshot(path=artifact("workorders-mine.png"))
    await item.click()
    await expect(phone.locator("[data-test=wo-detail]")).to_contain_text("设备离线")
    await phone.locator("[data-test=wo-action-in_progress]").click()
    await expect(phone.locator("[data-test=wo-state]")).to_have_text("处理中")
    await phone.locator("[data-test=wo-photo-input-after]").set_input_files(
        {"name": "fixed.png", "mimeType": "image/png", "buffer": photo(1600, 1200)}
    )
    await expect(phone.locator("[data-test=wo-photos] figure")).to_have_count(1)
    await expect(phone.locator("[data-test=wo-photos] img")).to_have_js_property(
        "naturalWidth", 1280
    )
    await phone.locator("[data-test=wo-action-done]").click()
    await phone.locator("[data-test=wo-confirm]").click()  # the report is missing: not sent
    await expect(phone.locator("[data-test=wo-cause-input]")).to_contain_text("请填写此项")
    await phone.locator("[data-test=wo-cause-input] input").fill("交换机端口故障")
    await phone.locator("[data-test=wo-report-input] textarea").fill("更换交换机端口，门禁恢复在线")
    await phone.locator("[data-test=wo-confirm]").click()
    await expect(phone.locator("[data-test=wo-state]")).to_have_text("已完成")
    await expect(phone.locator("[data-test=wo-cause]")).to_have_text("交换机端口故障")
    await phone.screenshot(path=artifact("workorder-done.png"))
    await phone.locator("[data-test=wo-asset-history]").click()
    await expect(phone.locator("[data-test=fault-item]")).to_contain_text("交换机端口故障")
    await phone.go_back()  # and the asset's ledger record, its whole history, one tap away
    await phone.locator("[data-test=wo-asset-record]").click()
    await expect(phone.locator("[data-test=asset-history]")).to_be_visible()
    await expect(phone.locator("[data-test=asset-fault]").first).to_contain_text("设备离线")

    row = await WorkOrder.select().where(WorkOrder.id == order["id"]).first()
    assert row is not None
    assert (row["state"], row["assignee"], row["cause"]) == ("done", staff.id, "交换机端口故障")


@pytest.mark.req("OPS-21", partial=True)
async def test_a_resident_files_a_repair_request_and_follows_it_to_closed(
    phone: Page, app: Litestar, world: World
) -> None:
    await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
    await (await HomePage(phone, "resident").wait()).open_capability("feedback")
    await phone.locator("[data-test=wo-new]").click()
    await phone.locator("[data-test=wo-new-title] input").fill("楼道灯不亮")
    await phone.locator("[data-test=wo-new-description] textarea").fill("1栋1单元3楼楼道灯")
    await phone.locator("[data-test=wo-new-photo-input]").set_input_files(
        {"name": "light.png", "mimeType": "image/png", "buffer": photo(1600, 1200)}
    )
    await expect(phone.locator("[data-test=wo-new-photo]")).to_contain_text("已添加 1 张照片")
    await phone.locator("[data-test=wo-new-submit]").click()
    await expect(phone.locator("[data-test=wo-state]")).to_have_text("待派单")
    await phone.screenshot(path=artifact("workorder-request.png"))
    order_id = phone.url.rsplit("/", 1)[-1]
    assert UUID(order_id)

    manager = await _as(app, world, Role.PROPERTY_MANAGER)
    fixer = await _as(app, world, Role.MAINTENANCE)
    staff = world.a.users[Role.MAINTENANCE]
    await manager.post(f"{URL}/{order_id}/assign", json={"assignee_id": str(staff.id)})
    await fixer.post(f"{URL}/{order_id}/moves", json={"to": "in_progress"})
    r = await fixer.post(
        f"{URL}/{order_id}/moves", json={"to": "done", "cause": "灯泡损坏", "report": "已更换灯泡"}
    )
    assert r.status_code == 200, r.text
    await manager.post(f"{URL}/{order_id}/moves", json={"to": "closed"})

    await phone.reload()
    await expect(phone.locator("[data-test=wo-state]")).to_have_text("已验收")
    await phone.locator("[data-test=wo-action-rate]").click()
    await phone.locator("[data-test=wo-note] input").fill("很及时")
    await phone.locator("[data-test=wo-confirm]").click()
    await expect(phone.locator("[data-test=wo-rating]")).to_contain_text("评价：5 星")
    await phone.screenshot(path=artifact("workorder-closed.png"))
    await phone.goto("/workorders")
    await expect(phone.locator(f"[data-test=wo-item][data-order-id='{order_id}']")).to_be_visible()
    await expect(phone.locator("[data-test=wo-item]")).to_have_count(1)


async def test_maintenance_signs_a_preventive_order_done_on_the_phone(
    phone: Page, app: Litestar, world: World, live_url: str
) -> None:
    manager = await _as(app, world, Role.PROPERTY_MANAGER)
    staff = world.a.users[Role.MAINTENANCE]
    await make_assets(world.a.community, "hydrant", 1)
    r = await manager.post(
        f"{URL}/plans",
        json={
            "community_id": str(world.a.community),
            "name": "消火栓月检",
            "asset_kind": "hydrant",
            "frequency": "monthly",
            "starts_on": (datetime.now(SITE_TIMEZONE).date() + timedelta(days=1)).isoformat(),
            "assignee_id": str(staff.id),
            "checklist": ["水压正常", "阀门无渗漏"],
            "signature_required": True,
        },
    )
    assert r.status_code == 201, r.text
    order = await WorkOrder.select().where(WorkOrder.plan == r.json()["id"]).first()
    assert order is not None

    async def to_live_server(route: Route) -> None:
        url = urlsplit(route.request.url)
        await route.fulfill(response=await route.fetch(url=f"{live_url}{url.path}?{url.query}"))

    await phone.route("http://127.0.0.1:8000/api/v1/objects/**", to_live_server)
    await (await LoginPage(phone).open()).log_in(staff)
    await HomePage(phone, "maintenance").wait()
    await phone.goto(f"{live_url}/workorders/{order['id']}")
    await expect(phone.locator("[data-test=wo-checklist] li")).to_have_count(2)
    await phone.locator("[data-test=wo-action-in_progress]").click()
    await expect(phone.locator("[data-test=wo-state]")).to_have_text("处理中")
    await phone.locator("[data-test=wo-action-done]").click()
    await phone.locator("[data-test=wo-cause-input] input").fill("例行保养")
    await phone.locator("[data-test=wo-report-input] textarea").fill("两项检查完成")
    await phone.locator("[data-test=wo-step-0]").check()
    await phone.locator("[data-test=wo-step-1]").check()
    await phone.locator("[data-test=wo-confirm]").click()  # not signed: not sent
    await expect(phone.locator("[data-test=wo-form] [role=alert]")).to_contain_text("需要签名")
    canvas = phone.locator("[data-test=wo-signature-pad-canvas]")
    await canvas.scroll_into_view_if_needed()  # the mouse draws where the viewport shows it
    box = await canvas.bounding_box()
    assert box is not None
    await phone.mouse.move(box["x"] + 20, box["y"] + 40)
    await phone.mouse.down()
    for step in range(1, 12):
        await phone.mouse.move(box["x"] + 20 + step * 20, box["y"] + 40 + (step % 3) * 15)
    await phone.mouse.up()
    await phone.screenshot(path=artifact("workorder-signature-pad.png"))
    await phone.locator("[data-test=wo-confirm]").click()
    await expect(phone.locator("[data-test=wo-state]")).to_have_text("已完成")
    await expect(phone.locator("[data-test=wo-signature]")).to_be_visible()
    await expect(phone.locator("[data-test=wo-signature]")).not_to_have_js_property(
        "naturalWidth", 0
    )
    await expect(phone.locator("[data-test=wo-checklist] li[data-done=true]")).to_have_count(2)
    await phone.screenshot(path=artifact("workorder-signed.png"))
