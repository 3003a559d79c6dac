"""The equipment ledger in the browser: maintenance, on a phone, adds an extinguisher, moves it
through its lifecycle (each move kept in its history), prints its QR label and a sheet for
several assets; the PDF that downloads reads back and its QR codes scan as the report address.
A manager's 1440×900 console shows the same ledger beside the side navigation."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
import zxingcpp
from litestar import Litestar
from playwright.async_api import Browser, Page, expect
from pypdf import PdfReader

from api.core.auth import Role
from api.devices.tables import Device
from e2e.conftest import artifact
from e2e.pages import HomePage, LoginPage
from tests.fixtures import AsRole
from tests.helpers import World

DESKTOP = {"width": 1440, "height": 900}


def qr_texts(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [
        code.text
        for page in reader.pages
        for image in page.images
        for code in zxingcpp.read_barcodes(image.image)
    ]


async def downloaded(page: Page, button: str) -> bytes:
    async with page.expect_download() as info:
        await page.locator(button).click()
    path = await (await info.value).path()
    return await asyncio.to_thread(Path(path).read_bytes)


async def signed_in(page: Page, world: World, role: Role) -> None:
    await (await LoginPage(page).open()).log_in(world.a.users[role])
    await HomePage(page, role.value).wait()


async def move(page: Page, status: str, shown: str) -> None:
    await page.locator(f"[data-test=asset-move-{status}]").click()
    await page.locator(".van-dialog__confirm").click()
    await expect(page.locator("[data-test=asset-status]")).to_have_text(shown)


@pytest.mark.req("OPS-14", partial=True)
async def test_maintenance_adds_an_asset_moves_it_through_its_lifecycle_and_prints_labels(
    phone: Page, world: World, app: Litestar, as_role: AsRole
) -> None:
    api = await as_role(Role.MAINTENANCE)  # a hydrant already in the ledger
    hydrant = await api.post(
        "/api/v1/ledger/assets",
        json={"community_id": str(world.a.community), "kind": "hydrant", "name": "北门消火栓"},
    )
    assert hydrant.status_code == 201, hydrant.text
    await signed_in(phone, world, Role.MAINTENANCE)
    await phone.locator("[data-test=cap-device_ledger]").click()
    await expect(phone.locator("[data-test=ledger-page]")).to_be_visible()

    await phone.locator("[data-test=ledger-add]").click()
    await phone.locator("[data-test=asset-form-save]").click()
    await expect(phone.locator("[data-test=asset-form-sheet]")).to_contain_text("请填写名称")
    await phone.locator("[data-test=asset-form-name] input").fill("3层 干粉灭火器")
    await phone.locator("[data-test=asset-form-kind]").select_option("extinguisher")
    await phone.locator("[data-test=asset-form-building]").select_option(label="1栋")
    await phone.locator("[data-test=asset-form-floor] input").fill("3")
    await phone.locator("[data-test=asset-form-om_party] input").fill("蓉城消防维保")
    await phone.locator("[data-test=asset-form-purchase-cost] input").fill("1280.5")  # yuan
    await phone.locator("[data-test=asset-form-save]").click()

    await expect(phone.locator("[data-test=asset-page]")).to_be_visible()
    await expect(phone.locator("[data-test=asset-status]")).to_have_text("库存")
    await expect(phone.locator("[data-test=asset-field-place]")).to_contain_text("1栋 3层")
    await expect(phone.locator("[data-test=asset-field-om]")).to_contain_text("蓉城消防维保")
    await expect(phone.locator("[data-test=asset-field-purchaseCost]")).to_contain_text("¥1,280.50")
    await expect(phone.locator("[data-test=asset-cost-purchase]")).to_have_text("¥1,280.50")
    await expect(phone.locator("[data-test=asset-cost-maintenance]")).to_have_text("¥0.00")
    for status, shown in (
        ("installed", "已安装"),
        ("in_service", "在用"),
        ("faulty", "故障"),
        ("under_repair", "维修中"),
        ("in_service", "在用"),
    ):
        await move(phone, status, shown)
    history = phone.locator("[data-test=asset-history-entry]")
    await expect(history).to_have_count(6)  # added, then five moves
    await expect(history.first).to_contain_text("维修中 → 在用")
    await phone.screenshot(path=artifact("ledger-asset-phone.png"), full_page=True)

    asset_id = phone.url.rstrip("/").rsplit("/", 1)[-1]
    row = await Device.select(Device.label_code).where(Device.id == asset_id).first()
    report = f"{app.state.settings.public_url.rstrip('/')}/report/{row['label_code']}"
    label = await downloaded(phone, "[data-test=asset-print]")
    assert qr_texts(label) == [report]
    assert "3层 干粉灭火器" in PdfReader(io.BytesIO(label)).pages[0].extract_text()

    # A sheet for several: back to the list, pick two, print.
    await phone.locator("[data-test=asset-back]").click()
    await phone.locator("[data-test=ledger-select]").click()
    await phone.locator("[data-test=ledger-pick]").nth(0).click()
    await phone.locator("[data-test=ledger-pick]").nth(1).click()
    await expect(phone.locator("[data-test=ledger-print]")).to_contain_text("打印 2 个标签")
    await phone.screenshot(path=artifact("ledger-list-phone.png"), full_page=True)
    sheet = await downloaded(phone, "[data-test=ledger-print]")
    scanned = qr_texts(sheet)
    assert len(scanned) == 2
    assert report in scanned


async def test_spare_parts_stock_in_and_out_on_a_manager_console(
    chromium: Browser, live_url: str, world: World
) -> None:
    context = await chromium.new_context(viewport=DESKTOP, base_url=live_url, locale="zh-CN")
    page = await context.new_page()
    try:
        await signed_in(page, world, Role.PROPERTY_MANAGER)
        await page.goto("/ledger")
        await expect(page.locator("[data-test=side-nav]")).to_be_visible()
        await page.locator(".ledger-tab-parts").click()
        await page.locator("[data-test=parts-add]").click()
        await page.locator("[data-test=part-form-code] input").fill("RD-01")
        await page.locator("[data-test=part-form-name] input").fill("门禁读卡器")
        await page.locator("[data-test=part-form-stock] input").fill("3")
        await page.locator("[data-test=part-form-min] input").fill("2")
        await page.locator("[data-test=part-form-save]").click()
        item = page.locator("[data-test=part-item][data-part-code=RD-01]")
        await expect(item.locator("[data-test=part-stock]")).to_contain_text("库存 3")

        await item.locator("[data-test=part-out]").click()
        await page.locator("[data-test=stock-form-quantity] input").fill("4")
        await page.locator("[data-test=stock-form-save]").click()
        await expect(page.locator("[data-test=stock-form-sheet]")).to_contain_text("库存不足")
        await page.locator("[data-test=stock-form-quantity] input").fill("2")
        await expect(page.locator("[data-test=stock-form-after]")).to_contain_text("1")
        await page.locator("[data-test=stock-form-save]").click()
        await expect(item.locator("[data-test=part-stock]")).to_contain_text("库存 1")
        await expect(item.locator("[data-test=part-low]")).to_be_visible()
        await page.screenshot(path=artifact("ledger-parts-desktop.png"))
    finally:
        await context.close()
