"""Video patrol: camera tours set up by managers, run by guards camera by camera; a reported
camera raises an alarm; due tours remind the guards on duty; missed tours raise an alarm."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from litestar import Litestar
from PIL import Image

from api.alarms.catalogue import RETENTION
from api.alarms.tables import Alarm, AlarmEntry
from api.core.auth import Role
from api.patrol import tour_runs, tours
from api.patrol.tables import TourRun
from api.push.tables import Notification, PushSubscription
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows
from tests.patrol.helpers import make_cameras, tour_body

TOURS = "/api/v1/patrol/tours"
RUNS = "/api/v1/patrol/tour-runs"


async def _tour(manager: ApiClient, world: World) -> tuple[dict, list[UUID]]:
    cameras = await make_cameras(world.a.community, ["北门 摄像机", "车库 摄像机"])
    r = await manager.post(TOURS, json=tour_body(world.a.community, cameras))
    assert r.status_code == 201, r.text
    return r.json(), cameras


async def _current_run(client: ApiClient, tour_id: str) -> dict:
    r = await client.get(RUNS, params={"tour_id": tour_id, "until": datetime.now(UTC).isoformat()})
    assert r.status_code == 200, r.text
    due = [x for x in r.json()["items"] if x["status"] == "due"]
    assert len(due) == 1, r.text
    return due[0]


@pytest.mark.req("PAT-05", partial=True)
async def test_a_tour_makes_its_runs_a_day_ahead_once_with_more_runs_by_night(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    tour, cameras = await _tour(manager, world)

    again = await tours.make_runs(UUID(tour["id"]))

    made = await TourRun.select().where(TourRun.tour == UUID(tour["id"])).output(load_json=True)
    assert again == 0
    # day 12 h every 4 h (3), night 12 h every 2 h (6), plus the one under way
    assert 9 <= len(made) <= 10
    assert [c["name"] for c in made[0]["cameras"]] == ["北门 摄像机", "车库 摄像机"]
    assert tour["cameras"] == [
        {"id": str(cameras[0]), "name": "北门 摄像机"},
        {"id": str(cameras[1]), "name": "车库 摄像机"},
    ]
    assert await audit_rows("patrol.tour_created", tour["id"])


@pytest.mark.req("PAT-05", "PAT-07", partial=True)
async def test_a_guard_confirms_one_camera_and_reports_the_other_which_raises_an_alarm(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    tour, (north, garage) = await _tour(manager, world)
    run = await _current_run(guard, tour["id"])
    assert run["next_camera_id"] == str(north)

    ok = await guard.post(
        f"{RUNS}/{run['id']}/checks", json={"camera_id": str(north), "result": "normal"}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "due"
    assert ok.json()["next_camera_id"] == str(garage)
    assert ok.json()["guard_id"] == str(world.a.users[Role.GUARD].id)
    again = await guard.post(
        f"{RUNS}/{run['id']}/checks", json={"camera_id": str(north), "result": "normal"}
    )
    assert_error(again, 409, "camera_checked")

    bad = await guard.post(
        f"{RUNS}/{run['id']}/checks",
        json={
            "camera_id": str(garage),
            "result": "problem",
            "problem": "unclear",
            "note": "镜头起雾",
        },
    )
    assert bad.status_code == 201, bad.text
    body = bad.json()
    assert body["status"] == "done"
    assert body["ended_at"] is not None
    stop = body["cameras"][1]
    assert (stop["result"], stop["problem"], stop["note"]) == ("problem", "unclear", "镜头起雾")
    alarm = await Alarm.select().where(Alarm.id == UUID(stop["alarm_id"])).first()
    assert alarm["type"] == "video_patrol_issue"
    assert alarm["source_device"] == garage
    assert alarm["community"] == world.a.community
    board = await guard.get("/api/v1/alarms", params={"page_size": 200})
    assert stop["alarm_id"] in {a["id"] for a in board.json()["items"]}
    assert len(await audit_rows("patrol.tour_check", run["id"])) == 2
    late = await guard.post(
        f"{RUNS}/{run['id']}/checks", json={"camera_id": str(garage), "result": "normal"}
    )
    assert_error(late, 409, "tour_closed")


@pytest.mark.req("PAT-07", partial=True)
async def test_a_camera_with_no_image_raises_a_video_loss_alarm_on_that_camera(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    tour, (north, _) = await _tour(manager, world)
    run = await _current_run(guard, tour["id"])

    r = await guard.post(
        f"{RUNS}/{run['id']}/checks",
        json={"camera_id": str(north), "result": "problem", "problem": "no_image"},
    )

    assert r.status_code == 201, r.text
    alarm = await Alarm.select().where(Alarm.id == UUID(r.json()["cameras"][0]["alarm_id"])).first()
    assert (alarm["type"], alarm["source_device"]) == ("video_loss", north)


@pytest.mark.req("PAT-07", partial=True)
async def test_a_reported_cameras_snapshot_is_kept_on_its_alarm_under_the_alarms_retention(
    as_role: AsRole, world: World, app: Litestar
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    tour, (north, _) = await _tour(manager, world)
    run = await _current_run(guard, tour["id"])
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 90)).save(picture, "JPEG")  # (flat: flagged covered)
    jpeg = picture.getvalue()
    frame = {"content_type": "image/jpeg", "data": base64.b64encode(jpeg).decode()}

    r = await guard.post(
        f"{RUNS}/{run['id']}/checks",
        json={
            "camera_id": str(north),
            "result": "problem",
            "problem": "unclear",
            "note": "画面模糊",
            "snapshot": frame,
        },
    )

    assert r.status_code == 201, r.text
    alarm_id = r.json()["cameras"][0]["alarm_id"]
    detail = (await manager.get(f"/api/v1/alarms/{alarm_id}")).json()
    [shown] = detail["media"]
    assert shown["caption"] == "视频巡查截图：北门 摄像机"
    assert shown["device_id"] == str(north)
    assert shown["content_type"] == "image/jpeg" and shown["url"]
    [entry] = (
        await AlarmEntry.select()
        .where((AlarmEntry.alarm == UUID(alarm_id)) & (AlarmEntry.kind == "media"))
        .output(load_json=True)
    )
    key = entry["data"]["key"]
    assert key.startswith(f"alarms/{world.a.community}/{alarm_id}/")
    assert await app.state.objects.get(key) == jpeg
    alarm = await Alarm.select(Alarm.retention).where(Alarm.id == UUID(alarm_id)).first()
    assert await app.state.objects.retention_of(key) == RETENTION[alarm["retention"]]
    [audit] = await audit_rows("patrol.tour_check", run["id"])
    assert audit["details"]["snapshot"] is True


@pytest.mark.req("PAT-05")
async def test_a_due_tour_reminds_the_guards_on_duty_once_and_a_missed_one_raises_an_alarm(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    await PushSubscription(
        account=world.a.users[Role.GUARD].id,
        endpoint=f"https://push.example/{world.a.community}",
        p256dh="x" * 87,
        auth="y" * 22,
    ).save()
    tour, (north, _) = await _tour(manager, world)
    run = await _current_run(guard, tour["id"])
    await guard.post(
        f"{RUNS}/{run['id']}/checks", json={"camera_id": str(north), "result": "normal"}
    )
    row = await TourRun.select().where(TourRun.id == UUID(run["id"])).first()
    assert row is not None

    # (runs of other tests may be swept too: look at this one's)
    first = await tour_runs.sweep(now=row["starts_at"] + timedelta(seconds=1))
    second = await tour_runs.sweep(now=row["starts_at"] + timedelta(seconds=31))
    pushed = (
        await Notification.select()
        .where(Notification.account == world.a.users[Role.GUARD].id)
        .output(load_json=True)
    )
    mine = [n for n in pushed if n["payload"]["data"].get("tour_run_id") == run["id"]]
    assert [n["payload"]["title"] for n in mine] == ["视频巡查到时"]  # once, not every sweep
    assert any(e["type"] == "video_tour_due" and e["run_id"] == run["id"] for e, _ in first.events)
    assert not any(e.get("run_id") == run["id"] for e, _ in second.events)

    await tour_runs.sweep(now=row["due_at"] - timedelta(seconds=1))
    assert (await guard.get(f"{RUNS}/{run['id']}")).json()["ended_at"] is None
    ended = await tour_runs.sweep(now=row["due_at"])
    await tour_runs.sweep(now=row["due_at"] + timedelta(minutes=1))

    body = (await guard.get(f"{RUNS}/{run['id']}")).json()
    assert body["status"] == "missed"
    alarm = await Alarm.select().where(Alarm.id == UUID(body["alarm_id"])).first()
    assert alarm["type"] == "patrol_missed"
    assert alarm["title"] == "巡更漏检 · 监控室巡查 视频巡查"
    raised = await AlarmEntry.select(AlarmEntry.text).where(AlarmEntry.alarm == alarm["id"])
    assert any("未查看：车库 摄像机" in e["text"] for e in raised)
    assert UUID(body["alarm_id"]) in ended.keys("alarms.board")
    assert await Alarm.count().where(Alarm.id == UUID(body["alarm_id"])) == 1
    assert await audit_rows("patrol.tour_missed", run["id"])


@pytest.mark.req("PAT-05", partial=True)
async def test_pausing_a_tour_drops_its_runs_not_started_and_a_change_remakes_them(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    tour, (_, garage) = await _tour(manager, world)
    tid = UUID(tour["id"])

    r = await manager.patch(f"{TOURS}/{tour['id']}", json={"active": False})
    assert r.status_code == 200, r.text
    assert await TourRun.count().where(TourRun.tour == tid) == 0
    r = await manager.patch(
        f"{TOURS}/{tour['id']}", json={"active": True, "cameras": [str(garage)]}
    )
    assert r.status_code == 200, r.text
    made = await TourRun.select().where(TourRun.tour == tid).output(load_json=True)
    assert made
    assert {c["name"] for m in made for c in m["cameras"]} == {"车库 摄像机"}
    assert await audit_rows("patrol.tour_updated", tour["id"])

    assert (await manager.delete(f"{TOURS}/{tour['id']}")).status_code == 204
    assert await TourRun.count().where(TourRun.tour == tid) == 0


async def test_tours_and_runs_of_another_community_answer_404(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    tour, (north, _) = await _tour(manager, world)
    run = await _current_run(manager, tour["id"])
    other_manager = await as_role(Role.PROPERTY_MANAGER, community="b")
    other_guard = await as_role(Role.GUARD, community="b")
    resident = await as_role(Role.RESIDENT)

    for client in (other_manager, other_guard, resident):
        assert (await client.get(f"{TOURS}/{tour['id']}")).status_code == 404
        assert (await client.get(f"{RUNS}/{run['id']}")).status_code == 404
        listed = await client.get(RUNS)
        assert run["id"] not in {x["id"] for x in listed.json().get("items", [])}
    assert (
        await other_manager.patch(f"{TOURS}/{tour['id']}", json={"name": "x"})
    ).status_code == 404
    assert (await other_manager.delete(f"{TOURS}/{tour['id']}")).status_code == 404
    check = {"camera_id": str(north), "result": "normal"}
    assert (await other_guard.post(f"{RUNS}/{run['id']}/checks", json=check)).status_code == 404
    # a manager reads runs but does not run them
    assert (await manager.post(f"{RUNS}/{run['id']}/checks", json=check)).status_code == 404
    # a tour of B's manager may not name A's cameras
    r = await other_manager.post(TOURS, json=tour_body(world.b.community, [north]))
    assert_error(r, 400, "unknown_camera")
    r = await other_manager.post(TOURS, json=tour_body(world.a.community, [north]))
    assert r.status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"cameras": []},
        {"dwell_seconds": 2},
        {"run_minutes": 500},
        {"day_every": 5},
        {"night_starts": None},
        {"cameras": ["not-a-uuid"]},
        {"surprise": 1},
    ],
)
async def test_a_bad_tour_is_refused(as_role: AsRole, world: World, change: dict) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    cameras = await make_cameras(world.a.community, ["北门 摄像机"])
    body = tour_body(world.a.community, cameras) | change
    if change.get("night_starts", 1) is None:
        body["night_starts"] = body["day_starts"]

    r = await manager.post(TOURS, json=body)

    assert_error(r, 422, "invalid_body")


async def test_bad_checks_are_refused(as_role: AsRole, world: World) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard = await as_role(Role.GUARD)
    tour, (north, _) = await _tour(manager, world)
    run = await _current_run(guard, tour["id"])
    other = (await make_cameras(world.a.community, ["别处"]))[0]
    url = f"{RUNS}/{run['id']}/checks"

    for body in (
        {"camera_id": str(north), "result": "problem"},  # what problem?
        {"camera_id": str(north), "result": "problem", "problem": "other"},  # note needed
        {"camera_id": str(north), "result": "normal", "problem": "unclear"},
        {"camera_id": str(north), "result": "fine"},
    ):
        assert_error(await guard.post(url, json=body), 422, "invalid_body")
    assert_error(
        await guard.post(url, json={"camera_id": str(other), "result": "normal"}),
        400,
        "unknown_camera",
    )
    not_a_picture = {"content_type": "image/png", "data": base64.b64encode(b"%PDF-1.4 x").decode()}
    r = await guard.post(
        url,
        json={
            "camera_id": str(north),
            "result": "problem",
            "problem": "unclear",
            "snapshot": not_a_picture,
        },
    )
    assert_error(r, 400, "invalid_photo")
    assert await Alarm.count().where(Alarm.source_device == north) == 0  # nothing half-done
    r = await manager.patch(f"{TOURS}/{tour['id']}", json={"run_minutes": 200})
    assert_error(r, 400, "invalid_plan")
