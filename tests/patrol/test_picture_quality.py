"""Video patrol measures each snapshot: too dark or bright, covered, blurred, frozen; a bad picture
raises the camera's alarm and opens its fault work order once, as a guard's report does."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from api.alarms.tables import Alarm, AlarmEntry
from api.core.auth import Role
from api.patrol import quality
from api.patrol.tables import TourCheck
from api.workorders.tables import WorkOrder
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows
from tests.patrol.helpers import make_cameras, tour_body

TOURS = "/api/v1/patrol/tours"
RUNS = "/api/v1/patrol/tour-runs"


def chart(size: tuple[int, int] = (1280, 720)) -> Image.Image:
    """A camera's view of a test chart: a checkerboard with rings, and sensor noise (σ 3) drawn
    afresh on every call, as a live camera's frames differ."""
    w, h = size
    chart = Image.new("RGB", size)
    draw = ImageDraw.Draw(chart)
    for x in range(0, w, 80):
        for y in range(0, h, 80):
            tone = (200, 200, 200) if (x // 80 + y // 80) % 2 else (40, 60, 80)
            draw.rectangle([x, y, x + 79, y + 79], fill=tone)
    for r in range(20, h // 2, 30):
        draw.ellipse([w // 2 - r, h // 2 - r, w // 2 + r, h // 2 + r], outline=(255, 0, 0), width=3)
    noise = Image.effect_noise(size, 3.0).convert("RGB")
    return ImageChops.add(chart, noise, scale=1, offset=-128)


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


CLEAR = chart()
DARK = CLEAR.point(lambda v: v // 8)  # the iris shut, or night without the IR light
BRIGHT = CLEAR.point(lambda v: 235 + v // 16)  # facing the sun
BLURRED = CLEAR.filter(ImageFilter.GaussianBlur(8))  # out of focus, a fogged dome
COVERED = Image.new("RGB", (1280, 720), (90, 90, 90))  # a cap, a wall, a blank encoder


@pytest.mark.req("PAT-07", partial=True)
@pytest.mark.parametrize(
    ("picture", "flags"),
    [
        (CLEAR, []),
        (DARK, ["dark"]),
        (BRIGHT, ["bright"]),
        (BLURRED, ["blurred"]),
        (COVERED, ["covered"]),
        (CLEAR.point(lambda v: 120 + v // 40), ["covered"]),
    ],
    ids=["clear", "dark", "bright", "blurred", "uniform", "low_contrast"],
)
def test_a_clear_test_chart_passes_and_a_dark_bright_blurred_or_covered_one_is_flagged(
    picture: Image.Image, flags: list[str]
) -> None:
    measures, _ = quality.measure(jpeg(picture))

    assert measures.flags == flags, measures


@pytest.mark.req("PAT-07", partial=True)
def test_the_same_frame_again_is_frozen_and_a_live_frame_of_the_same_scene_is_not() -> None:
    first, print_ = quality.measure(jpeg(CLEAR))
    same, again = quality.measure(jpeg(CLEAR))
    live, moved = quality.measure(jpeg(chart()))
    smaller, resized = quality.measure(jpeg(CLEAR.resize((640, 480))))

    assert quality.against(first, print_, None).flags == []
    assert quality.against(same, again, print_).flags == ["frozen"]
    assert quality.against(same, again, print_).change == 0.0
    live_check = quality.against(live, moved, print_)
    assert live_check.flags == [] and live_check.change is not None
    assert live_check.change > quality.FROZEN_MAX_DIFF
    assert quality.against(smaller, resized, print_).change is None  # another shape: no verdict


def test_bytes_that_do_not_decode_are_not_a_picture() -> None:
    with pytest.raises(quality.NotAPicture):
        quality.measure(b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9")


# -- through the API -------------------------------------------------------------------------------


def snapshot(image: Image.Image) -> dict[str, str]:
    return {"content_type": "image/jpeg", "data": base64.b64encode(jpeg(image)).decode()}


async def _due_run(
    manager: ApiClient, guard: ApiClient, community: UUID, cameras: list[UUID]
) -> dict:
    r = await manager.post(TOURS, json=tour_body(community, cameras))
    assert r.status_code == 201, r.text
    until = datetime.now(UTC).isoformat()
    listed = await guard.get(RUNS, params={"tour_id": r.json()["id"], "until": until})
    [due] = [x for x in listed.json()["items"] if x["status"] == "due"]
    return due


async def _check(guard: ApiClient, run: dict, camera: UUID, picture: Image.Image) -> dict:
    r = await guard.post(
        f"{RUNS}/{run['id']}/checks",
        json={"camera_id": str(camera), "result": "normal", "snapshot": snapshot(picture)},
    )
    assert r.status_code == 201, r.text
    [stop] = [c for c in r.json()["cameras"] if c["id"] == str(camera)]
    return stop


async def _orders(camera: UUID) -> list[dict]:
    return await WorkOrder.select().where(WorkOrder.device == camera).order_by(WorkOrder.created_at)


@pytest.mark.req("PAT-07", partial=True)
async def test_a_dark_picture_a_guard_called_normal_raises_the_cameras_alarm_and_one_work_order(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    north, garage = await make_cameras(world.a.community, ["北门 摄像机", "车库 摄像机"])
    run = await _due_run(manager, guard, world.a.community, [north, garage])

    fine = await _check(guard, run, north, CLEAR)
    dark = await _check(guard, run, garage, DARK)

    assert fine["quality"]["flags"] == [] and fine["alarm_id"] is None
    assert fine["quality"]["sharpness"] > quality.BLURRED_LAPLACIAN
    assert await _orders(north) == []
    assert dark["result"] == "normal"  # the guard's word stays; the measure speaks beside it
    assert dark["quality"]["flags"] == ["dark"]
    assert dark["quality"]["luminance"] < quality.DARK_MEAN
    alarm = await Alarm.select().where(Alarm.id == UUID(dark["alarm_id"])).first()
    assert alarm is not None
    assert (alarm["type"], alarm["source_device"]) == ("video_patrol_issue", garage)
    texts = [e["text"] for e in await AlarmEntry.select().where(AlarmEntry.alarm == alarm["id"])]
    assert any("车库 摄像机 自动检测：画面过暗" in t for t in texts), texts
    detail = (await manager.get(f"/api/v1/alarms/{alarm['id']}")).json()
    assert [m["caption"] for m in detail["media"]] == ["视频巡查截图：车库 摄像机"]
    [order] = await _orders(garage)
    assert (order["kind"], order["fault"], order["state"]) == ("fault", "video_quality", "new")
    assert order["title"] == "画面质量异常 · 车库 摄像机"
    assert "自动检测：画面过暗" in order["description"]
    [audit] = [
        a for a in await audit_rows("patrol.tour_check", run["id"]) if a["details"]["quality"]
    ]
    assert audit["details"]["quality"] == ["dark"]

    # the next tour finds it dark again: the same order counts the repeat, no second one
    again = await _due_run(manager, guard, world.a.community, [garage])
    await _check(guard, again, garage, DARK)
    [order] = await _orders(garage)
    assert order["repeats"] == 2


@pytest.mark.req("PAT-07", partial=True)
async def test_a_camera_showing_the_same_frame_as_its_last_check_is_flagged_frozen(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    [gate] = await make_cameras(world.a.community, ["南门 摄像机"])
    first = await _due_run(manager, guard, world.a.community, [gate])
    second = await _due_run(manager, guard, world.a.community, [gate])
    third = await _due_run(manager, guard, world.a.community, [gate])

    await _check(guard, first, gate, CLEAR)
    soon = await _check(guard, second, gate, CLEAR)  # a minute later a still scene may not move
    assert soon["quality"]["change"] is None and soon["quality"]["flags"] == []
    await TourCheck.update({TourCheck.at: TourCheck.at - timedelta(minutes=10)}).where(
        TourCheck.camera == gate
    )
    stuck = await _check(guard, third, gate, CLEAR)

    assert stuck["quality"]["flags"] == ["frozen"]
    assert stuck["quality"]["change"] == 0.0
    alarm = await Alarm.select().where(Alarm.id == UUID(stuck["alarm_id"])).first()
    assert alarm is not None
    assert alarm["type"] == "video_patrol_issue"
    [order] = await _orders(gate)
    assert order["fault"] == "video_quality" and "冻结" in order["description"]


@pytest.mark.req("PAT-07", partial=True)
async def test_a_live_camera_checked_again_later_is_not_frozen_and_opens_nothing(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    [gate] = await make_cameras(world.a.community, ["西门 摄像机"])
    first = await _due_run(manager, guard, world.a.community, [gate])
    later = await _due_run(manager, guard, world.a.community, [gate])
    await _check(guard, first, gate, CLEAR)
    await TourCheck.update({TourCheck.at: TourCheck.at - timedelta(minutes=10)}).where(
        TourCheck.camera == gate
    )

    live = await _check(guard, later, gate, chart())

    assert live["quality"]["flags"] == [] and live["quality"]["change"] > 0.5
    assert live["alarm_id"] is None
    assert await _orders(gate) == []
    assert await Alarm.count().where(Alarm.source_device == gate) == 0


async def test_a_snapshot_that_is_not_a_decodable_picture_is_refused_and_nothing_stored(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    [gate] = await make_cameras(world.a.community, ["东门 摄像机"])
    run = await _due_run(manager, guard, world.a.community, [gate])
    broken = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"  # a JPEG's first bytes, no picture

    r = await guard.post(
        f"{RUNS}/{run['id']}/checks",
        json={
            "camera_id": str(gate),
            "result": "normal",
            "snapshot": {"content_type": "image/jpeg", "data": base64.b64encode(broken).decode()},
        },
    )

    assert_error(r, 400, "invalid_photo")
    assert await TourCheck.count().where(TourCheck.camera == gate) == 0
    assert await _orders(gate) == []


@pytest.mark.req("PAT-07", partial=True)
async def test_a_guards_report_of_a_camera_fault_opens_its_work_order_and_another_problem_does_not(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    fogged, dead, scene = await make_cameras(
        world.a.community, ["甲 摄像机", "乙 摄像机", "丙 摄像机"]
    )
    run = await _due_run(manager, guard, world.a.community, [fogged, dead, scene])
    url = f"{RUNS}/{run['id']}/checks"

    for camera, problem, note in (
        (fogged, "unclear", "镜头起雾"),
        (dead, "no_image", ""),
        (scene, "other", "有人翻墙"),
    ):
        body = {"camera_id": str(camera), "result": "problem", "problem": problem, "note": note}
        r = await guard.post(url, json=body)
        assert r.status_code == 201, r.text

    [unclear] = await _orders(fogged)
    assert (unclear["fault"], unclear["priority"]) == ("video_quality", "normal")
    assert "画面不清晰" in unclear["description"] and "镜头起雾" in unclear["description"]
    [lost] = await _orders(dead)
    assert (lost["fault"], lost["priority"]) == ("video_loss", "high")
    assert await _orders(scene) == []  # something wrong in the scene is no camera fault
