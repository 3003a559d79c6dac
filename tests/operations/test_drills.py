"""Drill and training records: a manager records a fire drill with its staff participants and
emergency plan, adds photos and files (checked by their bytes and size, in the object store),
writes the evaluation afterwards; staff read them; the list filters; scope."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar

from api.alarms.tables import EmergencyPlan
from api.core.auth import Role
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, audit_rows

URL = "/api/v1/operations/drills"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + bytes(200)
PDF = b"%PDF-1.7\n" + bytes(100)


def _file(name: str, content_type: str, data: bytes) -> dict[str, str]:
    return {"name": name, "content_type": content_type, "data": base64.b64encode(data).decode()}


@pytest.mark.req("LNK-16", partial=True)
@pytest.mark.req("IAM-14", partial=True)
@pytest.mark.req("OPS-01", partial=True)
async def test_a_drill_is_recorded_with_participants_plan_photos_and_evaluation(
    as_role: AsRole, world: World, app: Litestar
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    guard, fixer = world.a.users[Role.GUARD], world.a.users[Role.MAINTENANCE]
    plan = EmergencyPlan(
        community=world.a.community,
        alarm_type="fire",
        title="火警处置预案",
        steps=["确认", "疏散"],
        updated_at=datetime.now(UTC),
    )
    await plan.save()
    held = datetime.now(UTC) - timedelta(days=1)
    r = await manager.post(
        URL,
        json={
            "kind": "emergency_plan_drill",
            "title": "3栋消防疏散演练",
            "held_at": held.isoformat(),
            "location": "3栋及北广场",
            "plan_id": str(plan.id),
            "content": "模拟 3 栋 12 层起火，疏散及初起火灾扑救",
            "participant_ids": [str(guard.id), str(fixer.id), str(guard.id)],
        },
    )
    assert r.status_code == 201, r.text
    drill = r.json()
    assert drill["plan_title"] == "火警处置预案"
    assert [p["id"] for p in drill["participants"]] == [str(guard.id), str(fixer.id)]

    r = await manager.post(
        f"{URL}/{drill['id']}/attachments", json=_file("现场.jpg", "image/jpeg", JPEG)
    )
    assert r.status_code == 201, r.text
    r = await manager.post(
        f"{URL}/{drill['id']}/attachments", json=_file("签到表.pdf", "application/pdf", PDF)
    )
    files = r.json()["attachments"]
    assert [(f["name"], f["size"]) for f in files] == [
        ("现场.jpg", len(JPEG)),
        ("签到表.pdf", len(PDF)),
    ]
    keys = await app.state.objects.keys(f"drills/{world.a.community}/{drill['id']}/")
    assert len(keys) == 2
    assert await app.state.objects.get(sorted(k for k in keys if k.endswith(".pdf"))[0]) == PDF

    r = await manager.patch(
        f"{URL}/{drill['id']}", json={"evaluation": "疏散用时 6 分钟，达标；2 单元广播偏弱"}
    )
    assert r.json()["evaluation"].startswith("疏散用时")
    assert [a["action"] for a in await _audit(drill["id"])] == [
        "drill.created",
        "drill.attachment_added",
        "drill.attachment_added",
        "drill.updated",
    ]

    # staff read it; a participant finds it among theirs
    staff = await as_role(Role.GUARD)
    r = await staff.get(URL, params={"mine": True})
    assert [d["id"] for d in r.json()["items"]] == [drill["id"]]
    r = await staff.get(f"{URL}/{drill['id']}")
    assert len(r.json()["attachments"]) == 2 and r.json()["attachments"][0]["url"]
    assert_error(
        await staff.patch(f"{URL}/{drill['id']}", json={"evaluation": "x"}), 404, "not_found"
    )


async def _audit(drill_id: str) -> list[dict]:
    rows = []
    for action in ("drill.created", "drill.attachment_added", "drill.updated"):
        rows += await audit_rows(action, drill_id)
    return sorted(rows, key=lambda r: r["id"])


async def test_drill_input_is_checked_files_by_their_bytes_and_size(
    as_role: AsRole, world: World, app: Litestar
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    body = {
        "kind": "training",
        "title": "数据安全培训",
        "held_at": datetime.now(UTC).isoformat(),
        "content": "个人信息保护法要点",
    }
    r = await manager.post(
        URL, json=body | {"participant_ids": [str(world.a.users[Role.RESIDENT].id)]}
    )
    assert_error(r, 400, "unknown_staff")
    r = await manager.post(
        URL, json=body | {"participant_ids": [str(world.b.users[Role.GUARD].id)]}
    )
    assert_error(r, 400, "unknown_staff")
    assert_error(await manager.post(URL, json=body | {"kind": "party"}), 422, "invalid_body")
    assert_error(await manager.post(URL, json=body | {"content": ""}), 422, "invalid_body")
    r = await manager.post(URL, json=body | {"plan_id": str(world.a.community)})
    assert_error(r, 400, "unknown_plan")
    drill = (await manager.post(URL, json=body)).json()
    at = f"{URL}/{drill['id']}/attachments"
    assert_error(
        await manager.post(at, json=_file("x.pdf", "application/pdf", JPEG)),
        400,
        "invalid_attachment",
    )
    assert_error(
        await manager.post(at, json=_file("x.exe", "application/x-msdownload", PDF)),
        422,
        "invalid_body",
    )
    big = _file("big.jpg", "image/jpeg", JPEG + bytes(700_001))
    r = await manager.post(at, json=big)
    assert r.status_code in (413, 422), r.text  # over 700 kB: refused before it is stored
    assert await app.state.objects.keys(f"drills/{world.a.community}/{drill['id']}/") == []


async def test_the_drill_list_filters_and_other_communities_get_404(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    now = datetime.now(UTC)
    made = []
    for kind, title, days in (
        ("fire_drill", "消防演练", 40),
        ("training", "安防培训", 10),
        ("training", "数据安全培训", 1),
    ):
        r = await manager.post(
            URL,
            json={
                "kind": kind,
                "title": title,
                "held_at": (now - timedelta(days=days)).isoformat(),
                "content": title,
            },
        )
        made.append(r.json()["id"])

    async def ids(**params: str) -> list[str]:
        r = await manager.get(URL, params=params)
        assert r.status_code == 200, r.text
        return [d["id"] for d in r.json()["items"]]

    assert await ids() == made[::-1]  # latest held first
    assert await ids(kind="training") == [made[2], made[1]]
    assert await ids(since=(now - timedelta(days=30)).isoformat()) == [made[2], made[1]]
    assert await ids(until=(now - timedelta(days=30)).isoformat()) == [made[0]]
    assert await ids(q="数据") == [made[2]]
    assert_error(await manager.get(URL, params={"kind": "party"}), 400, "invalid_parameters")

    other = await as_role(Role.PROPERTY_MANAGER, "b")
    for r in (
        await other.get(f"{URL}/{made[0]}"),
        await other.patch(f"{URL}/{made[0]}", json={"evaluation": "x"}),
        await other.post(f"{URL}/{made[0]}/attachments", json=_file("a.jpg", "image/jpeg", JPEG)),
        await other.get(URL, params={"community_id": str(world.a.community)}),
    ):
        assert_error(r, 404, "not_found")
    assert (await other.get(URL)).json()["total"] == 0
    resident = await as_role(Role.RESIDENT)
    assert_error(await resident.get(URL), 404, "not_found")
