"""QR label sheets: the PDF parses, shows each asset's name, code and place, and each QR code
reads as the asset's report address; the font is found, or the sheet prints Latin-only."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest
from pypdf import PdfReader

from api.core.auth import Role
from api.devices.ledger import labels
from api.devices.ledger.assets import LABEL_LENGTH, find_by_label
from api.devices.ledger.schemas import AssetRead
from api.devices.tables import Device
from api.settings import Settings
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, pdf_qr_texts

ASSETS = "/api/v1/ledger/assets"


async def add(api: ApiClient, world: World, n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        answer = await api.post(
            ASSETS,
            json={
                "community_id": str(world.a.community),
                "kind": "hydrant",
                "name": f"室外消火栓 {i + 1}号",
                "location_text": "北门内侧",
            },
        )
        assert answer.status_code == 201, answer.text
        out.append(answer.json())
    return out


@pytest.mark.req("OPS-13", partial=True)
async def test_a_label_sheet_shows_each_asset_and_its_qr_reads_its_report_address(
    as_role: AsRole, world: World, settings: Settings
) -> None:
    maintenance = await as_role(Role.MAINTENANCE)
    assets = await add(maintenance, world, 23)  # 21 a page: two pages
    answer = await maintenance.post(
        f"{ASSETS}/labels", json={"asset_ids": [a["id"] for a in assets]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.content))
    assert len(reader.pages) == 2
    text = "".join(p.extract_text() for p in reader.pages)
    for asset in assets:
        assert asset["asset_code"] in text
    if labels.label_font(settings.label_font) is not None:  # else Latin only (the next tests)
        assert "室外消火栓 23号" in text and "北门内侧" in text
    base = settings.public_url.rstrip("/")
    assert sorted(pdf_qr_texts(answer.content)) == sorted(
        f"{base}/report/{a['label_code']}" for a in assets
    )


async def test_a_device_reported_before_the_ledger_gets_its_label_code_when_printed(
    as_role: AsRole, world: World
) -> None:
    maintenance = await as_role(Role.MAINTENANCE)
    [asset] = await add(maintenance, world, 1)
    await Device.update({Device.label_code: None}).where(Device.id == asset["id"])
    answer = await maintenance.post(f"{ASSETS}/labels", json={"asset_ids": [asset["id"]]})
    assert answer.status_code == 200
    code = (await maintenance.get(f"{ASSETS}/{asset['id']}")).json()["label_code"]
    assert code and len(code) == LABEL_LENGTH
    assert pdf_qr_texts(answer.content)[0].endswith(f"/report/{code}")


async def test_bad_label_requests(as_role: AsRole, world: World) -> None:
    maintenance = await as_role(Role.MAINTENANCE)
    assert_error(
        await maintenance.post(f"{ASSETS}/labels", json={"asset_ids": []}), 422, "invalid_body"
    )
    assert_error(
        await maintenance.post(f"{ASSETS}/labels", json={"asset_ids": ["x"]}), 422, "invalid_body"
    )
    ids = [str(world.a.community)] * 201
    assert_error(
        await maintenance.post(f"{ASSETS}/labels", json={"asset_ids": ids}), 422, "invalid_body"
    )
    unknown = await maintenance.post(
        f"{ASSETS}/labels", json={"asset_ids": [str(world.a.community)]}
    )
    assert unknown.status_code == 404


def sample(name: str) -> AssetRead:

    return msgspec.convert(
        {
            "id": "00000000-0000-0000-0000-000000000001",
            "asset_code": "AJ000001",
            "community_id": "00000000-0000-0000-0000-000000000002",
            "community_name": "测试小区",
            "kind": "light",
            "name": name,
            "bridged": False,
            "online": None,
            "building_id": None,
            "building_name": None,
            "unit_id": None,
            "unit_number": None,
            "floor": None,
            "location_text": "",
            "owner_party": "",
            "user_party": "",
            "om_party": "",
            "vendor": "",
            "model": "",
            "serial_no": "",
            "install_date": None,
            "warranty_end": None,
            "purchase_cost": None,
            "status": "in_service",
            "label_code": "abcdefghjkmn",
            "notes": "",
            "created_at": "2026-12-01T00:00:00Z",
        },
        AssetRead,
    )


def test_without_a_chinese_font_the_sheet_still_prints_and_scans() -> None:
    pdf = labels.sheet([(sample("路灯 Light 7"), "")], public_url="https://x.example", font=None)
    reader = PdfReader(io.BytesIO(pdf))
    assert "AJ000001" in reader.pages[0].extract_text()
    assert "Light 7" in reader.pages[0].extract_text()
    assert pdf_qr_texts(pdf) == ["https://x.example/report/abcdefghjkmn"]


def test_the_font_is_the_setting_then_fontconfig_then_known_paths(tmp_path: Path) -> None:
    not_a_font = tmp_path / "bad.ttf"
    not_a_font.write_bytes(b"not a font")
    labels.label_font.cache_clear()
    found = labels.label_font(not_a_font)  # unusable: passed over for the machine's font
    if found is None:
        pytest.skip("this machine has no font with Chinese glyphs (labels print Latin only)")
    assert labels.has_chinese(found)
    assert labels.label_font(found) == found
    assert not labels.has_chinese(not_a_font)


async def test_a_label_code_finds_its_asset_until_it_is_retired(
    as_role: AsRole, world: World
) -> None:
    maintenance = await as_role(Role.MAINTENANCE)
    [asset] = await add(maintenance, world, 1)
    found = await find_by_label(asset["label_code"])
    assert found is not None
    assert (found.id, found.asset_code, found.location) == (
        UUID(asset["id"]),
        asset["asset_code"],
        "北门内侧",
    )
    assert await find_by_label("nosuchcode23") is None
    await Device.update({Device.status: "retired"}).where(Device.id == asset["id"])
    assert await find_by_label(asset["label_code"]) is None
