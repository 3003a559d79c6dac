"""O&M records: each kind through its states with the fields each step needs, the manager's
moves, invalid moves (409 with a code), history and audit, links to alarms, work orders and
other records, the list's filters, and scope (another community's ids are 404)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.core.auth import Role
from api.operations.catalogue import STATES, allowed
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows, raise_alarm

URL = "/api/v1/operations/records"

CHANGE = {
    "kind": "change",
    "scope": "东门、西门门禁控制器固件",
    "risk": "medium",
    "rollback_plan": "回刷 v2.3.1 固件，约 10 分钟",
}


async def _file(api: ApiClient, world: World, details: dict[str, Any], **body: Any) -> dict:
    payload = {
        "title": body.pop("title", "监控中心存储阵列告警"),
        "details": details,
        "community_id": str(world.a.community),
        **body,
    }
    r = await api.post(URL, json=payload)
    assert r.status_code == 201, r.text
    return r.json()


async def _move(api: ApiClient, record: dict, to: str, **body: Any) -> Any:
    return await api.post(f"{URL}/{record['id']}/moves", json={"to": to, **body})


@pytest.mark.req("OPS-04", partial=True)
async def test_an_incident_is_investigated_resolved_evaluated_and_closed_with_its_summary(
    as_role: AsRole, world: World
) -> None:
    guard = await as_role(Role.GUARD)
    manager = await as_role(Role.PROPERTY_MANAGER)
    alarm = await raise_alarm(world.a.community, "video_loss")
    incident = await _file(
        guard,
        world,
        {"kind": "incident", "impact": "3栋 12 路视频中断"},
        severity="major",
        category="hardware",
        links=[{"target_type": "alarm", "target_id": str(alarm)}],
    )
    assert incident["state"] == "new" and incident["kind"] == "incident"
    assert incident["severity"] == "major" and incident["category"] == "hardware"
    assert incident["links"] == [
        {"target_type": "alarm", "target_id": str(alarm), "label": "video_loss", "state": "new"}
    ]
    assert incident["moves"] == ["investigating", "resolved"]  # closing is the manager's

    r = await _move(guard, incident, "investigating")
    assert r.status_code == 200, r.text
    r = await _move(guard, incident, "resolved")
    assert_error(r, 400, "fields_required")
    assert r.json()["extra"]["fields"] == ["resolution"]
    details = {"kind": "incident", "impact": "3栋 12 路视频中断", "resolution": "更换交换机电源"}
    r = await _move(guard, incident, "resolved", details=details)
    assert r.json()["state"] == "resolved"
    assert_error(await _move(guard, incident, "closed", details=details), 403, "forbidden")

    r = await _move(manager, incident, "closed", details=details)
    assert_error(r, 400, "fields_required")
    assert r.json()["extra"]["fields"] == ["evaluation", "summary"]
    details |= {"evaluation": "40 分钟内恢复，达标", "summary": "电源老化；已排查同批次设备"}
    r = await _move(manager, incident, "closed", details=details, note="同意关闭")
    closed = r.json()
    assert closed["state"] == "closed" and closed["ended_at"] is not None
    assert closed["details"]["summary"] == "电源老化；已排查同批次设备"
    assert closed["moves"] == []
    assert [(h["kind"], h["from_state"], h["to_state"]) for h in closed["history"]] == [
        ("created", "", "new"),
        ("linked", "", ""),
        ("moved", "new", "investigating"),
        ("moved", "investigating", "resolved"),
        ("moved", "resolved", "closed"),
    ]
    moves = await audit_rows("ops_record.moved", incident["id"])
    assert [(m["details"]["state"], m["details"]["to"]) for m in moves] == [
        ("new", "investigating"),
        ("investigating", "resolved"),
        ("resolved", "closed"),
    ]
    created = (await audit_rows("ops_record.created", incident["id"]))[0]
    assert created["community_id"] == world.a.community
    # a closed record is final
    r = await guard.patch(f"{URL}/{incident['id']}", json={"title": "改"})
    assert_error(r, 409, "record_final")


@pytest.mark.req("OPS-05", partial=True)
async def test_a_problem_links_its_incidents_becomes_a_known_error_and_is_found_by_its_cause(
    as_role: AsRole, world: World
) -> None:
    maintenance = await as_role(Role.MAINTENANCE)
    manager = await as_role(Role.PROPERTY_MANAGER)
    first = await _file(maintenance, world, {"kind": "incident"}, title="东门人脸机离线")
    second = await _file(maintenance, world, {"kind": "incident"}, title="西门人脸机离线")
    problem = await _file(
        maintenance,
        world,
        {"kind": "problem"},
        title="人脸机反复离线",
        links=[{"target_type": "record", "target_id": first["id"]}],
    )
    r = await maintenance.post(
        f"{URL}/{problem['id']}/links", json={"target_type": "record", "target_id": second["id"]}
    )
    assert [link["label"] for link in r.json()["links"]] == ["东门人脸机离线", "西门人脸机离线"]
    # linking twice keeps one link
    r = await maintenance.post(
        f"{URL}/{problem['id']}/links", json={"target_type": "record", "target_id": second["id"]}
    )
    assert len(r.json()["links"]) == 2
    r = await maintenance.get(f"{URL}/{first['id']}")
    assert [link["target_id"] for link in r.json()["linked_from"]] == [problem["id"]]

    await _move(maintenance, problem, "investigating")
    r = await _move(maintenance, problem, "known_error")
    assert r.json()["extra"]["fields"] == ["root_cause", "workaround"]
    known = {"kind": "problem", "root_cause": "PoE 交换机端口过热降功率", "workaround": "重启端口"}
    r = await _move(maintenance, problem, "known_error", details=known)
    assert r.json()["state"] == "known_error"
    # the knowledge base: known errors found by their cause
    r = await manager.get(URL, params={"kind": "problem", "q": "PoE 交换机"})
    assert [i["id"] for i in r.json()["items"]] == [problem["id"]]
    assert r.json()["items"][0]["details"]["workaround"] == "重启端口"
    r = await _move(maintenance, problem, "resolved", details=known | {"solution": "加装风扇"})
    assert r.json()["state"] == "resolved"
    r = await _move(manager, problem, "closed", details=known | {"solution": "加装风扇"})
    assert r.json()["state"] == "closed"


@pytest.mark.req("OPS-06", partial=True)
async def test_a_change_is_requested_with_risk_and_rollback_approved_implemented_and_reviewed(
    as_role: AsRole, world: World
) -> None:
    maintenance = await as_role(Role.MAINTENANCE)
    manager = await as_role(Role.PROPERTY_MANAGER)
    r = await maintenance.post(
        URL,
        json={
            "title": "门禁固件升级",
            "details": {"kind": "change", "scope": "东门", "risk": "medium"},
            "community_id": str(world.a.community),
        },
    )
    assert_error(r, 422, "invalid_body")  # a change names its rollback plan
    change = await _file(maintenance, world, CHANGE, title="门禁固件升级 v2.4")
    assert change["state"] == "requested"
    assert_error(await _move(maintenance, change, "approved"), 403, "forbidden")
    assert_error(await _move(maintenance, change, "implemented"), 409, "transition_not_allowed")
    r = await _move(manager, change, "approved", note="周二 02:00 窗口")
    assert r.json()["state"] == "approved"
    r = await _move(maintenance, change, "implemented")
    assert r.json()["extra"]["fields"] == ["outcome", "implementation"]
    done = CHANGE | {"outcome": "rolled_back", "implementation": "西门升级后读卡失败，已回退"}
    r = await _move(maintenance, change, "implemented", details=done)
    assert r.json()["details"]["outcome"] == "rolled_back"
    r = await _move(manager, change, "reviewed", details=done | {"review": "需先在测试机验证"})
    assert r.json()["state"] == "reviewed" and r.json()["ended_at"]
    approved = (await audit_rows("ops_record.moved", change["id"]))[0]
    assert approved["actor_id"] == world.a.users[Role.PROPERTY_MANAGER].id

    rejected = await _file(maintenance, world, CHANGE, title="关闭西门夜间通道")
    r = await _move(manager, rejected, "rejected", note="影响夜班住户")
    assert r.json()["state"] == "rejected"
    assert_error(await _move(manager, rejected, "approved"), 409, "transition_not_allowed")


@pytest.mark.req("OPS-08", partial=True)
async def test_a_release_is_planned_released_with_its_result_and_verified_with_its_analysis(
    as_role: AsRole, world: World
) -> None:
    maintenance = await as_role(Role.MAINTENANCE)
    manager = await as_role(Role.PROPERTY_MANAGER)
    plan = {"kind": "release", "version": "3.2.0", "plan": "先 1 栋，再全小区"}
    release = await _file(maintenance, world, plan, title="访客系统 3.2.0")
    assert release["state"] == "planned"
    r = await _move(maintenance, release, "released", details=plan | {"result": "全部上线"})
    assert r.json()["state"] == "released"
    assert_error(await _move(maintenance, release, "verified"), 403, "forbidden")
    r = await _move(manager, release, "verified", details=plan | {"result": "全部上线"})
    assert r.json()["extra"]["fields"] == ["analysis"]
    full = plan | {"result": "全部上线", "analysis": "登记耗时降 30%"}
    r = await _move(manager, release, "verified", details=full)
    assert r.json()["state"] == "verified"


@pytest.mark.req("OPS-09", partial=True)
async def test_a_defect_is_fixed_sent_back_when_the_fix_fails_and_verified_with_a_plan(
    as_role: AsRole, world: World
) -> None:
    maintenance = await as_role(Role.MAINTENANCE)
    manager = await as_role(Role.PROPERTY_MANAGER)
    defect = await _file(
        maintenance, world, {"kind": "defect", "component": "车牌识别"}, title="夜间误识别"
    )
    assert defect["state"] == "found"
    await _move(maintenance, defect, "fixing")
    fix = {"kind": "defect", "component": "车牌识别", "fix": "调整补光阈值"}
    await _move(maintenance, defect, "fixed", details=fix)
    r = await _move(manager, defect, "fixing", note="仍有误识别")  # the fix did not hold
    assert r.json()["state"] == "fixing"
    await _move(maintenance, defect, "fixed", details=fix)
    full = fix | {"analysis": "补光不足", "improvement_plan": "雨季前巡检补光灯"}
    r = await _move(manager, defect, "verified", details=full)
    assert r.json()["state"] == "verified"
    assert [h["to_state"] for h in r.json()["history"] if h["kind"] == "moved"] == [
        "fixing",
        "fixed",
        "fixing",
        "fixed",
        "verified",
    ]


def test_every_move_of_the_catalogue_reaches_a_state_of_its_kind() -> None:
    for kind, (start, moves) in STATES.items():
        known = {start, *moves}
        for target, sources in moves.items():
            assert set(sources) <= known, kind
            assert all(allowed(kind, s, target) for s in sources)
        assert not allowed(kind, start, start)


async def test_invalid_moves_and_details_of_another_kind_are_refused_with_codes(
    as_role: AsRole, world: World
) -> None:
    guard = await as_role(Role.GUARD)
    incident = await _file(guard, world, {"kind": "incident"})
    r = await _move(guard, incident, "closed")
    assert_error(r, 409, "transition_not_allowed")
    assert r.json()["extra"] == {"state": "new", "to": "closed"}
    assert_error(await _move(guard, incident, "approved"), 409, "transition_not_allowed")
    r = await _move(guard, incident, "resolved", details={"kind": "defect", "fix": "x"})
    assert_error(r, 400, "kind_mismatch")
    r = await guard.patch(f"{URL}/{incident['id']}", json={"details": CHANGE})
    assert_error(r, 400, "kind_mismatch")
    r = await guard.post(URL, json={"title": "x", "details": {"kind": "bogus"}})
    assert_error(r, 422, "invalid_body")
    r = await guard.post(f"{URL}/{incident['id']}/moves", json={"to": "x" * 40})
    assert_error(r, 422, "invalid_body")
    r = await guard.get(URL, params={"kind": "bogus"})
    assert_error(r, 400, "invalid_parameters")
    # an owner must be staff of the community
    r = await guard.patch(
        f"{URL}/{incident['id']}", json={"owner_id": str(world.a.users[Role.RESIDENT].id)}
    )
    assert_error(r, 400, "unknown_staff")
    r = await guard.patch(
        f"{URL}/{incident['id']}",
        json={"owner_id": str(world.a.users[Role.MAINTENANCE].id), "severity": "critical"},
    )
    assert r.json()["owner_name"] == world.a.users[Role.MAINTENANCE].username
    assert (await audit_rows("ops_record.updated", incident["id"]))[0]["details"]["fields"] == [
        "owner_id",
        "severity",
    ]


async def test_the_list_filters_by_kind_state_date_text_and_owner_and_pages(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    me = world.a.users[Role.PROPERTY_MANAGER].id
    a = await _file(manager, world, {"kind": "incident"}, title="电梯困人", owner_id=str(me))
    b = await _file(manager, world, CHANGE, title="更换道闸")
    c = await _file(manager, world, {"kind": "defect", "impact": "电梯门误开"}, title="门机")
    await _move(manager, b, "approved")

    async def ids(**params: Any) -> list[str]:
        r = await manager.get(URL, params={"community_id": str(world.a.community), **params})
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await ids() == [c["id"], b["id"], a["id"]]  # newest first
    assert await ids(kind="change") == [b["id"]]
    assert await ids(state="approved") == [b["id"]]
    assert await ids(q="电梯") == [c["id"], a["id"]]  # the title or the kind's fields
    assert await ids(mine=True) == [a["id"]]
    assert await ids(open=True, kind="change") == [b["id"]]
    since = datetime.fromisoformat(b["created_at"])
    assert await ids(since=since.isoformat()) == [c["id"], b["id"]]
    assert await ids(until=since.isoformat()) == [a["id"]]
    assert await ids(since=(datetime.now(UTC) + timedelta(days=1)).isoformat()) == []
    r = await manager.get(URL, params={"page_size": 2, "page": 2})
    assert r.json()["total"] == 3 and [i["id"] for i in r.json()["items"]] == [a["id"]]


async def test_records_of_another_community_are_not_found_and_residents_see_none(
    as_role: AsRole, world: World
) -> None:
    guard = await as_role(Role.GUARD)
    other = await as_role(Role.PROPERTY_MANAGER, "b")
    incident = await _file(guard, world, {"kind": "incident"})
    for r in (
        await other.get(f"{URL}/{incident['id']}"),
        await other.patch(f"{URL}/{incident['id']}", json={"title": "x"}),
        await _move(other, incident, "investigating"),
        await other.post(
            f"{URL}/{incident['id']}/links",
            json={"target_type": "record", "target_id": incident["id"]},
        ),
        await other.get(URL, params={"community_id": str(world.a.community)}),
        await other.post(
            URL,
            json={
                "title": "x",
                "details": {"kind": "incident"},
                "community_id": str(world.a.community),
            },
        ),
    ):
        assert_error(r, 404, "not_found")
    r = await other.get(URL)
    assert r.json()["total"] == 0
    # a link to another community's alarm is no link
    alarm_b = await raise_alarm(world.b.community)
    r = await guard.post(
        f"{URL}/{incident['id']}/links", json={"target_type": "alarm", "target_id": str(alarm_b)}
    )
    assert_error(r, 400, "unknown_link_target")
    for role in (Role.RESIDENT, Role.SYSTEM_ADMIN):
        outsider = await as_role(role)
        assert_error(await outsider.get(f"{URL}/{incident['id']}"), 404, "not_found")
        assert_error(await outsider.get(URL), 404, "not_found")
