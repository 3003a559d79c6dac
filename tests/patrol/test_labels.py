"""Printable checkpoint labels: a route's sheet holds its points in walking order, each QR code
reads as the point's code and a scan of what it reads counts; an area's sheet holds its points;
only managers print, each sheet audited; other communities' routes are 404."""

from __future__ import annotations

import io
from uuid import UUID

import pytest
from pypdf import PdfReader

from api.core.auth import Role
from api.devices.ledger import labels as printer
from api.settings import Settings
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, audit_rows, pdf_qr_texts
from tests.patrol.helpers import POINTS, Patrol, scan_body

LABELS = "/api/v1/patrol/checkpoints/labels"


@pytest.mark.req("PAT-02", partial=True)
async def test_a_routes_label_sheet_reads_as_its_codes_in_walking_order_and_each_scans(
    patrol: Patrol, as_role: AsRole, settings: Settings
) -> None:
    answer = await patrol.manager.get(LABELS, params={"route_id": patrol.route})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert "patrol-labels-route.pdf" in answer.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(answer.content))
    assert len(reader.pages) == 1
    assert pdf_qr_texts(answer.content) == patrol.codes  # each label, in walking order
    text = reader.pages[0].extract_text().replace("\n", "")
    for code in patrol.codes:
        assert code in text  # printed beside the QR, for a phone that cannot read it
    if printer.label_font(settings.label_font) is not None:
        assert all(name in text for name, _, _ in POINTS)
        assert "夜间外围 1/3" in text
    [entry] = await audit_rows("patrol.labels_printed", patrol.route)
    assert entry["details"] == {"checkpoints": 3}

    guard = await as_role(Role.GUARD)
    read_off_the_sheet = pdf_qr_texts(answer.content)[0]
    scan = await guard.post(
        "/api/v1/patrol/scans", json=scan_body(read_off_the_sheet, round_id=patrol.round)
    )
    assert scan.status_code == 201, scan.text
    assert scan.json()["checkpoint_id"] == patrol.checkpoints[0]


async def test_an_areas_label_sheet_holds_its_points_over_pages_of_21(patrol: Patrol) -> None:
    for i in range(20):  # 23 points in the area: two pages
        r = await patrol.manager.post(
            "/api/v1/patrol/checkpoints", json={"area_id": patrol.area, "name": f"楼道 {i:02d}"}
        )
        assert r.status_code == 201, r.text
    listed = await patrol.manager.get(
        "/api/v1/patrol/checkpoints", params={"area_id": patrol.area, "page_size": 100}
    )
    codes = sorted(c["code"] for c in listed.json()["items"])

    answer = await patrol.manager.get(LABELS, params={"area_id": patrol.area})

    assert answer.status_code == 200, answer.text
    assert len(PdfReader(io.BytesIO(answer.content)).pages) == 2
    assert sorted(pdf_qr_texts(answer.content)) == codes
    assert len(await audit_rows("patrol.labels_printed", UUID(patrol.area))) == 1


async def test_labels_are_the_managers_of_the_community_and_need_a_route_or_an_area(
    patrol: Patrol, as_role: AsRole, world: World
) -> None:
    guard = await as_role(Role.GUARD)
    assert (await guard.get(LABELS, params={"route_id": patrol.route})).status_code == 404
    b_manager = await as_role(Role.PROPERTY_MANAGER, "b")
    assert (await b_manager.get(LABELS, params={"route_id": patrol.route})).status_code == 404
    assert (await b_manager.get(LABELS, params={"area_id": patrol.area})).status_code == 404
    resident = await as_role(Role.RESIDENT)
    assert (await resident.get(LABELS, params={"area_id": patrol.area})).status_code == 404

    manager = patrol.manager
    assert_error(await manager.get(LABELS), 400, "invalid_input")
    both = {"route_id": patrol.route, "area_id": patrol.area}
    assert_error(await manager.get(LABELS, params=both), 400, "invalid_input")
    assert_error(await manager.get(LABELS, params={"route_id": "x"}), 400, "invalid_parameters")
    assert (
        await manager.get(LABELS, params={"route_id": str(world.a.community)})
    ).status_code == 404
    empty = await manager.post(
        "/api/v1/patrol/areas", json={"community_id": str(world.a.community), "name": "空区"}
    )
    assert_error(
        await manager.get(LABELS, params={"area_id": empty.json()["id"]}), 409, "no_checkpoints"
    )
