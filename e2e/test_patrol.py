"""Patrol from the guard's phone: a round walked by scanning the checkpoints' QR labels (the
camera's decoded text typed in), one scan made without signal and delivered once when the phone is
back, one checkpoint missed — and the alarm on the board when the round ends."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from uuid import UUID

import pytest
from litestar import Litestar
from playwright.async_api import Page, expect

from api.core.auth import Role
from api.patrol import rounds
from api.patrol.tables import Checkpoint, PatrolPlan, PatrolRound, PatrolScan
from e2e.conftest import artifact
from e2e.pages import AlarmBoardPage, HomePage, LoginPage, PatrolPage, photo
from tests.helpers import ApiClient, World, eventually, pdf_qr_texts
from tests.patrol.helpers import Patrol, scan_body, set_up_patrol


async def _patrol(app: Litestar, world: World, points: int = 3) -> Patrol:
    manager = ApiClient.for_app(app)
    await manager.login(world.a.users[Role.PROPERTY_MANAGER])
    names = [("东门岗亭", None, None), ("地下车库入口", None, None), ("北侧围墙", None, None)]
    return await set_up_patrol(
        manager, world.a.community, [world.a.users[Role.GUARD].id], names[:points]
    )


async def _accepted(patrol: Patrol, checkpoint: str) -> int:
    return await PatrolScan.count().where(
        (PatrolScan.round == UUID(patrol.round))
        & (PatrolScan.checkpoint == UUID(checkpoint))
        & PatrolScan.accepted.eq(True)
    )


async def _open_patrol(phone: Page, world: World) -> PatrolPage:
    await (await LoginPage(phone).open()).log_in(world.a.users[Role.GUARD])
    await (await HomePage(phone, "guard").wait()).open_capability("patrol")
    return await PatrolPage(phone).wait()


@pytest.mark.req("PAT-01", "PAT-02", partial=True)
async def test_a_guard_walks_a_round_one_scan_offline_misses_one_and_sees_the_alarm(
    phone: Page, app: Litestar, world: World
) -> None:
    patrol = await _patrol(app, world)
    first, second, third = patrol.checkpoints
    await patrol.manager.patch(f"/api/v1/patrol/checkpoints/{first}", json={"needs_photo": True})
    reference = {"content_type": "image/png", "data": base64.b64encode(photo(320, 240)).decode()}
    r = await patrol.manager.put(f"/api/v1/patrol/checkpoints/{first}/photo", json=reference)
    assert r.status_code == 200, r.text
    screen = await _open_patrol(phone, world)
    await expect(screen.next).to_contain_text("东门岗亭")
    shown = screen.stop("东门岗亭").locator("[data-test=patrol-stop-photo]")  # what to look for
    await expect(shown).to_have_js_property("naturalWidth", 320)
    await expect(phone.locator("[data-test=patrol-photo]")).to_contain_text("此巡更点要求拍照")
    await phone.locator("[data-test=patrol-photo-input]").set_input_files(
        {"name": "gate.png", "mimeType": "image/png", "buffer": photo(2400, 1800)}
    )
    await expect(phone.locator("[data-test=patrol-photo]")).to_contain_text("已拍照")
    await expect(screen.left).to_contain_text("剩余")
    await expect(screen.stops).to_have_count(3)
    await phone.screenshot(path=artifact("patrol-round.png"))

    await screen.scan(patrol.codes[0])
    await expect(screen.stop("东门岗亭")).to_have_attribute("data-state", "done")
    await expect(screen.next).to_contain_text("地下车库入口")

    await phone.context.set_offline(True)
    await screen.scan(patrol.codes[1])
    await expect(screen.pending).to_contain_text("1 条签到尚未发送")
    await phone.screenshot(path=artifact("patrol-offline.png"))
    assert await _accepted(patrol, second) == 0  # still only on the phone
    await phone.context.set_offline(False)
    await expect(screen.pending).to_be_hidden(timeout=20_000)
    await expect(screen.stop("地下车库入口")).to_have_attribute("data-state", "done")
    await expect(screen.next).to_contain_text("北侧围墙")
    await phone.screenshot(path=artifact("patrol-back-online.png"))
    await phone.reload()  # the queue is read again on opening: nothing is left to send twice
    await PatrolPage(phone).wait()
    await expect(screen.stop("地下车库入口")).to_have_attribute("data-state", "done")
    assert await _accepted(patrol, first) == 1
    assert await _accepted(patrol, second) == 1
    with_photo = (
        await PatrolScan.select()
        .where(PatrolScan.checkpoint == UUID(first))
        .output(load_json=True)
        .first()
    )
    assert with_photo is not None
    assert with_photo["photo"].endswith(".jpg")
    assert with_photo["flags"] == []
    assert await PatrolScan.count().where(PatrolScan.round == UUID(patrol.round)) == 2

    # 北侧围墙 is never reached: when the round's grace is over the sweep ends it
    row = await PatrolRound.select().where(PatrolRound.id == UUID(patrol.round)).first()
    assert row is not None
    await rounds.end_due(now=row["closes_at"])
    ended = await eventually(
        lambda: (
            PatrolRound.select(PatrolRound.alarm)
            .where(PatrolRound.id == UUID(patrol.round))
            .first()
        )
    )
    assert ended["alarm"] is not None
    assert await _accepted(patrol, third) == 0

    await phone.goto("/alarms")
    board = await AlarmBoardPage(phone).wait()
    missed = board.alarm(ended["alarm"])
    await expect(missed).to_contain_text("巡更漏检")
    await expect(missed).to_contain_text("夜间外围")
    await phone.screenshot(path=artifact("patrol-missed-alarm.png"))

    await phone.goto("/patrol")
    screen = await PatrolPage(phone).wait()  # the next round is the one to walk now
    await phone.locator(f"[data-test=patrol-round-item][data-round-id='{patrol.round}']").click()
    await expect(phone.locator("[data-test=patrol-summary]")).to_contain_text("漏检：北侧围墙")


@pytest.mark.req("PAT-01", partial=True)
async def test_a_scan_queued_when_the_page_was_closed_is_delivered_once_when_it_opens_again(
    phone: Page, app: Litestar, world: World
) -> None:
    patrol = await _patrol(app, world, points=2)
    screen = await _open_patrol(phone, world)
    context = phone.context

    await context.set_offline(True)
    await screen.scan(patrol.codes[0])
    await expect(screen.pending).to_be_visible()
    await phone.close()  # the browser tab is gone with the scan queued
    await context.set_offline(False)
    reopened = await context.new_page()
    await reopened.goto("/patrol")
    again = await PatrolPage(reopened).wait()

    await expect(again.stop("东门岗亭")).to_have_attribute("data-state", "done", timeout=20_000)
    await expect(again.pending).to_be_hidden()
    assert await _accepted(patrol, patrol.checkpoints[0]) == 1


@pytest.mark.req("PAT-01", partial=True)
async def test_a_manager_sets_a_patrol_up_on_the_phone_and_the_guard_gets_its_rounds(
    phone: Page, world: World
) -> None:
    await (await LoginPage(phone).open()).log_in(world.a.users[Role.PROPERTY_MANAGER])
    await (await HomePage(phone, "property_manager").wait()).open_capability("patrol_admin")
    await expect(phone.locator("[data-test=patrol-admin-page]")).to_be_visible()

    await phone.locator("[data-test=patrol-area-name] input").fill("地下车库")
    await phone.locator("[data-test=patrol-area-add]").click()
    area = phone.locator("[data-test=patrol-area]").filter(has_text="地下车库")
    for name in ("车库入口", "车库出口"):
        await area.locator("[data-test=patrol-point-name] input").fill(name)
        await area.locator("[data-test=patrol-point-add]").click()
        await expect(area.locator("[data-test=patrol-point]").filter(has_text=name)).to_be_visible()
    await expect(area.locator("[data-test=patrol-point] img")).to_have_count(2)  # the QR labels

    await phone.locator("[data-test=patrol-route-name] input").fill("车库巡查")
    routes = phone.locator("[data-test=patrol-routes]")
    await routes.get_by_label("车库出口").check()
    await routes.get_by_label("车库入口").check()
    await phone.locator("[data-test=patrol-route-add]").click()
    await expect(phone.locator("[data-test=patrol-route]")).to_contain_text("车库出口 → 车库入口")
    async with phone.expect_download() as info:  # the route's labels, to print and stick up
        await phone.locator("[data-test=patrol-route-labels]").click()
    sheet = await asyncio.to_thread(Path(await (await info.value).path()).read_bytes)
    codes = {
        c["name"]: c["code"]
        for c in await Checkpoint.select(Checkpoint.name, Checkpoint.code).where(
            Checkpoint.name.is_in(["车库入口", "车库出口"])
        )
    }
    assert pdf_qr_texts(sheet) == [codes["车库出口"], codes["车库入口"]]  # in walking order

    plans = phone.locator("[data-test=patrol-plans]")
    await phone.locator("[data-test=patrol-plan-name] input").fill("车库夜巡")
    await phone.locator("[data-test=patrol-plan-route]").select_option(label="车库巡查")
    await plans.get_by_label(world.a.users[Role.GUARD].username).check()
    await phone.locator("[data-test=patrol-plan-add]").click()
    await expect(phone.locator("[data-test=patrol-plan]")).to_contain_text("车库夜巡 · 车库巡查")
    await phone.screenshot(path=artifact("patrol-admin.png"), full_page=True)

    plan = await eventually(
        lambda: PatrolPlan.select(PatrolPlan.id).where(PatrolPlan.name == "车库夜巡").first()
    )
    await rounds.make_rounds(plan["id"])  # what the job queued after commit does
    made = await PatrolRound.select().where(PatrolRound.plan == plan["id"]).output(load_json=True)
    assert made
    assert [c["name"] for c in made[0]["checkpoints"]] == ["车库出口", "车库入口"]
    assert made[0]["guards"] == [str(world.a.users[Role.GUARD].id)]


@pytest.mark.req("PAT-01", partial=True)
async def test_a_manager_reads_compliance_per_guard_and_route_on_a_phone_and_a_desk(
    phone: Page, app: Litestar, world: World
) -> None:
    patrol = await _patrol(app, world, points=2)
    guard = ApiClient.for_app(app)
    await guard.login(world.a.users[Role.GUARD])
    r = await guard.post("/api/v1/patrol/scans", json=scan_body(patrol.codes[0]))
    assert r.status_code == 201, r.text
    row = await PatrolRound.select().where(PatrolRound.id == UUID(patrol.round)).first()
    assert row is not None
    await rounds.end_due(now=row["closes_at"])  # 地下车库入口 missed

    await (await LoginPage(phone).open()).log_in(world.a.users[Role.PROPERTY_MANAGER])
    await (await HomePage(phone, "property_manager").wait()).open_capability("patrol_admin")
    section = phone.locator("[data-test=patrol-compliance]")
    guard_row = section.locator("[data-test=compliance-row]").filter(
        has_text=world.a.users[Role.GUARD].username
    )
    await expect(guard_row).to_be_visible(timeout=10_000)
    await section.scroll_into_view_if_needed()
    await phone.screenshot(path=artifact("patrol-compliance-phone.png"))
    await phone.locator("[data-test=compliance-by-route]").click()
    route_row = section.locator("[data-test=compliance-row]").filter(has_text="夜间外围")
    await expect(route_row).to_contain_text("%")
    href = await phone.locator("[data-test=compliance-csv]").get_attribute("href")
    assert href is not None
    assert href.startswith("/api/v1/patrol/compliance/csv?")
    assert "by=route" in href
    csv = await phone.request.get(href)
    assert csv.status == 200
    assert "夜间外围" in (await csv.text())
    await phone.set_viewport_size({"width": 1440, "height": 900})
    await section.scroll_into_view_if_needed()
    await phone.screenshot(path=artifact("patrol-compliance-desktop.png"))


@pytest.mark.req("PAT-01", partial=True)
async def test_a_manager_renames_a_point_reorders_a_route_and_pauses_a_plan(
    phone: Page, app: Litestar, world: World
) -> None:
    patrol = await _patrol(app, world)
    await (await LoginPage(phone).open()).log_in(world.a.users[Role.PROPERTY_MANAGER])
    await (await HomePage(phone, "property_manager").wait()).open_capability("patrol_admin")

    wall = phone.locator("[data-test=patrol-point]").filter(has_text="北侧围墙")
    await wall.locator("[data-test=patrol-point-rename]").click()
    await phone.locator("[data-test=patrol-rename-name] input").fill("北墙")  # one at a time
    await phone.locator("[data-test=patrol-rename-save]").click()
    await expect(phone.locator("[data-test=patrol-point]").filter(has_text="北墙")).to_be_visible()

    route = phone.locator("[data-test=patrol-route]").filter(has_text="夜间外围")
    await route.locator("[data-test=patrol-route-edit]").click()
    stops = phone.locator("[data-test=patrol-routes]")
    await stops.get_by_label("东门岗亭").uncheck()  # first → last
    await stops.get_by_label("东门岗亭").check()
    await phone.locator("[data-test=patrol-route-save]").click()
    await expect(route).to_contain_text("地下车库入口 → 北墙 → 东门岗亭")

    plan = phone.locator("[data-test=patrol-plan]").filter(has_text="外围巡更")
    await plan.locator("[data-test=patrol-plan-pause]").click()
    await expect(plan).to_contain_text("已暂停")
    await phone.screenshot(path=artifact("patrol-admin-edited.png"), full_page=True)

    got = (await patrol.manager.get(f"/api/v1/patrol/routes/{patrol.route}")).json()
    assert [c["name"] for c in got["checkpoints"]] == ["地下车库入口", "北墙", "东门岗亭"]
    assert (await patrol.manager.get(f"/api/v1/patrol/plans/{patrol.plan}")).json()[
        "active"
    ] is False
