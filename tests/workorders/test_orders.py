"""Work orders by hand and by request: opening, scope, assignment (with push), the state moves
and their history and audit, the time log, photos, the closing report, the fault archive,
the requester's rating and SLA escalation."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from api.core.auth import Role
from api.push.tables import Notification
from api.workorders import escalation
from api.workorders.catalogue import ABSORBING_STATES, TRANSITIONS
from api.workorders.faults import UPSERT
from api.workorders.tables import WorkOrder, WorkOrderEntry
from tests.fixtures import AsRole, Login
from tests.helpers import ApiClient, World, assert_error, audit_rows, make_account, subscribe
from tests.workorders.helpers import PHOTO, make_device

URL = "/api/v1/workorders"


async def _open(api: ApiClient, world: World, **body: object) -> dict:
    payload: dict[str, object] = {
        "kind": "manual",
        "title": "2栋楼道灯不亮",
        "community_id": str(world.a.community),
    }
    payload.update(body)
    r = await api.post(URL, json=payload)
    assert r.status_code == 201, r.text
    return r.json()


async def _pushes(account: UUID, order_id: str) -> list[dict]:
    rows = await Notification.select().where(Notification.account == account).output(load_json=True)
    return [r for r in rows if r["payload"]["data"].get("work_order_id") == order_id]


@pytest.mark.req("OPS-16", partial=True)
async def test_an_order_is_assigned_worked_done_with_photos_and_report_then_verified(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    staff = world.a.users[Role.MAINTENANCE]
    await subscribe(staff)
    device = await make_device(world.a.community, "2栋 楼道灯")
    order = await _open(manager, world, device_id=str(device), priority="high")
    assert order["state"] == "new"
    assert order["device_name"] == "2栋 楼道灯"
    created = datetime.fromisoformat(order["created_at"])
    assert datetime.fromisoformat(order["due_at"]) - created == timedelta(hours=8)

    r = await manager.get(f"{URL}/staff", params={"community_id": str(world.a.community)})
    assert [s["id"] for s in r.json()] == [str(staff.id)]
    r = await manager.post(f"{URL}/{order['id']}/assign", json={"assignee_id": str(staff.id)})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "assigned" and r.json()["assignee_id"] == str(staff.id)
    pushed = sorted(p["payload"]["title"] for p in await _pushes(staff.id, order["id"]))
    assert pushed == ["【工单派给您】2栋楼道灯不亮", "【新工单】2栋楼道灯不亮"]

    mine = (await fixer.get(URL, params={"mine": "true"})).json()
    assert [o["id"] for o in mine["items"]] == [order["id"]]
    oid = order["id"]
    assert (await fixer.post(f"{URL}/{oid}/moves", json={"to": "in_progress"})).status_code == 200
    r = await fixer.post(f"{URL}/{oid}/time", json={"action": "start"})
    assert r.json()["working"] is True
    assert_error(
        await fixer.post(f"{URL}/{oid}/time", json={"action": "start"}), 409, "work_running"
    )
    r = await fixer.post(f"{URL}/{oid}/photos", json={"stage": "before", **PHOTO})
    assert r.status_code == 201, r.text
    r = await fixer.post(
        f"{URL}/{oid}/moves", json={"to": "waiting", "waiting_for": "parts", "note": "等灯管"}
    )
    assert r.json()["waiting_for"] == "parts"
    assert (await fixer.post(f"{URL}/{oid}/moves", json={"to": "in_progress"})).status_code == 200
    assert_error(
        await fixer.post(f"{URL}/{oid}/moves", json={"to": "done", "cause": "灯管老化"}),
        400,
        "report_required",
    )
    await fixer.post(f"{URL}/{oid}/photos", json={"stage": "after", **PHOTO})
    r = await fixer.post(
        f"{URL}/{oid}/moves", json={"to": "done", "cause": "灯管老化", "report": "更换灯管"}
    )
    done = r.json()
    assert done["state"] == "done" and done["done_at"] and done["working"] is False
    assert [p["stage"] for p in done["photos"]] == ["before", "after"]
    assert done["time"][0]["stopped_at"] is not None  # done stops the clock
    assert_error(await fixer.post(f"{URL}/{oid}/moves", json={"to": "closed"}), 403, "forbidden")
    r = await manager.post(f"{URL}/{oid}/moves", json={"to": "closed", "note": "已验收"})
    closed = r.json()
    assert closed["state"] == "closed" and closed["closed_at"]
    assert [(h["from_state"], h["to_state"]) for h in closed["history"] if h["to_state"]] == [
        ("", "new"),
        ("new", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "waiting"),
        ("waiting", "in_progress"),
        ("in_progress", "done"),
        ("done", "closed"),
    ]
    moved = await audit_rows("workorder.moved", oid)
    assert [(a["details"]["state"], a["details"]["to"]) for a in moved] == [
        ("assigned", "in_progress"),
        ("in_progress", "waiting"),
        ("waiting", "in_progress"),
        ("in_progress", "done"),
        ("done", "closed"),
    ]
    assert len(await audit_rows("workorder.assigned", oid)) == 1

    archive = (await fixer.get(f"{URL}/faults", params={"device_id": str(device)})).json()
    assert [(o["id"], o["cause"], o["report"]) for o in archive["items"]] == [
        (oid, "灯管老化", "更换灯管")
    ]


async def test_moves_the_state_does_not_allow_answer_409_with_a_stable_code(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    order = await _open(manager, world)
    for to in ("in_progress", "waiting", "done", "closed"):
        r = await manager.post(f"{URL}/{order['id']}/moves", json={"to": to})
        assert_error(r, 409, "transition_not_allowed")
        assert r.json()["extra"] == {"state": "new", "to": to}
    r = await manager.post(f"{URL}/{order['id']}/moves", json={"to": "cancelled"})
    assert r.json()["state"] == "cancelled"
    r = await manager.post(
        f"{URL}/{order['id']}/assign",
        json={"assignee_id": str(world.a.users[Role.MAINTENANCE].id)},
    )
    assert_error(r, 409, "transition_not_allowed")
    assert await WorkOrder.count().where(WorkOrder.id == order["id"]) == 1


def test_the_upsert_absorbs_in_exactly_the_states_the_catalogue_names() -> None:
    spelt = "state IN (" + ", ".join(f"'{s}'" for s in ABSORBING_STATES) + ")"
    assert spelt in UPSERT
    assert set(TRANSITIONS) <= {"assigned", "in_progress", "waiting", "done", "closed", "cancelled"}


async def test_maintenance_take_a_new_order_and_only_the_assignee_works_it(
    as_role: AsRole, login: Login, world: World
) -> None:
    guard = await as_role(Role.GUARD)
    fixer = await as_role(Role.MAINTENANCE)
    manager = await as_role(Role.PROPERTY_MANAGER)
    staff = world.a.users[Role.MAINTENANCE]
    colleague = await login(await make_account(Role.MAINTENANCE, community=world.a.community))
    order = await _open(guard, world, title="消防通道堵塞")
    oid = order["id"]

    r = await fixer.post(f"{URL}/{oid}/assign", json={"assignee_id": str(staff.id)})
    assert r.json()["state"] == "assigned"
    assert_error(  # taken: no longer new, so only a manager re-assigns
        await colleague.post(f"{URL}/{oid}/assign", json={"assignee_id": str(staff.id)}),
        403,
        "forbidden",
    )
    assert (await colleague.get(f"{URL}/{oid}")).status_code == 200
    assert_error(
        await colleague.post(f"{URL}/{oid}/moves", json={"to": "in_progress"}), 409, "not_assignee"
    )
    assert_error(
        await colleague.post(f"{URL}/{oid}/time", json={"action": "start"}), 409, "not_assignee"
    )
    assert_error(
        await guard.post(f"{URL}/{oid}/moves", json={"to": "in_progress"}), 409, "not_assignee"
    )
    guard_id = str(world.a.users[Role.GUARD].id)
    assert_error(
        await manager.post(f"{URL}/{oid}/assign", json={"assignee_id": guard_id}),
        400,
        "unknown_assignee",
    )


async def test_a_resident_files_a_request_with_a_photo_sees_only_their_own_and_rates_it(
    as_role: AsRole, world: World
) -> None:
    resident = await as_role(Role.RESIDENT)
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    await subscribe(world.a.users[Role.RESIDENT])
    r = await resident.post(
        URL,
        json={
            "kind": "repair",
            "title": "厨房水管漏水",
            "description": "水槽下方",
            "priority": "urgent",
            "photos": [PHOTO],
        },
    )
    assert r.status_code == 201, r.text
    request = r.json()
    assert request["priority"] == "normal"  # a manager sets it
    assert request["household_id"] == str(world.a.households[0])
    assert [p["stage"] for p in request["photos"]] == ["request"]
    staff_order = await _open(manager, world, title="仅员工可见")

    seen = (await resident.get(URL)).json()
    assert [o["id"] for o in seen["items"]] == [request["id"]]
    assert_error(await resident.get(f"{URL}/{staff_order['id']}"), 404, "not_found")
    assert (await resident.get(f"{URL}/faults")).json()["items"] == []
    assert_error(
        await resident.post(URL, json={"kind": "fault", "title": "x"}), 400, "kind_not_allowed"
    )
    oid = request["id"]
    assert_error(await resident.post(f"{URL}/{oid}/rating", json={"stars": 5}), 409, "not_ratable")

    staff = world.a.users[Role.MAINTENANCE]
    await manager.post(f"{URL}/{oid}/assign", json={"assignee_id": str(staff.id)})
    await fixer.post(f"{URL}/{oid}/moves", json={"to": "in_progress"})
    await fixer.post(
        f"{URL}/{oid}/moves", json={"to": "done", "cause": "接头松动", "report": "已紧固"}
    )
    assert len(await _pushes(world.a.users[Role.RESIDENT].id, oid)) == 1  # told it is done
    r = await resident.post(f"{URL}/{oid}/rating", json={"stars": 4, "note": "及时"})
    assert (r.json()["rating"], r.json()["rating_note"]) == (4, "及时")
    assert_error(await resident.post(f"{URL}/{oid}/rating", json={"stars": 5}), 409, "not_ratable")
    assert len(await audit_rows("workorder.rated", oid)) == 1


async def test_another_communitys_orders_answer_404_and_lists_hold_none_of_them(
    as_role: AsRole, world: World
) -> None:
    manager_a = await as_role(Role.PROPERTY_MANAGER)
    order = await _open(manager_a, world)
    oid = order["id"]
    for role in (Role.PROPERTY_MANAGER, Role.MAINTENANCE, Role.GUARD, Role.RESIDENT):
        other = await as_role(role, "b")
        assert_error(await other.get(f"{URL}/{oid}"), 404, "not_found")
        assert (await other.get(URL)).json()["total"] == 0
        for path, body in (
            ("assign", {"assignee_id": str(world.b.users[Role.MAINTENANCE].id)}),
            ("moves", {"to": "cancelled"}),
            ("time", {"action": "start"}),
            ("photos", {"stage": "before", **PHOTO}),
            ("rating", {"stars": 3}),
        ):
            assert_error(await other.post(f"{URL}/{oid}/{path}", json=body), 404, "not_found")
    manager_b = await as_role(Role.PROPERTY_MANAGER, "b")
    r = await manager_b.post(
        URL, json={"kind": "manual", "title": "x", "community_id": str(world.a.community)}
    )
    assert_error(r, 404, "not_found")
    r = await manager_b.get(f"{URL}/staff", params={"community_id": str(world.a.community)})
    assert_error(r, 404, "not_found")
    device_a = await make_device(world.a.community)
    r = await manager_b.post(
        URL,
        json={
            "kind": "manual",
            "title": "x",
            "community_id": str(world.b.community),
            "device_id": str(device_a),
        },
    )
    assert_error(r, 400, "unknown_device")
    for admin in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
        api = await as_role(admin)
        assert_error(await api.get(f"{URL}/{oid}"), 404, "not_found")
        assert_error(await api.get(URL), 404, "not_found")


async def test_bad_input_is_refused_and_writes_nothing(as_role: AsRole, world: World) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    before = await WorkOrder.count()
    for body, status in (
        ({"kind": "nonsense", "title": "x", "community_id": str(world.a.community)}, 422),
        ({"kind": "manual", "title": "", "community_id": str(world.a.community)}, 422),
        ({"kind": "manual", "title": "x" * 201, "community_id": str(world.a.community)}, 422),
        ({"kind": "manual", "title": "x", "community_id": "not-a-uuid"}, 422),
        ({"kind": "manual", "title": "x", "extra": 1}, 422),
    ):
        assert (await manager.post(URL, json=body)).status_code == status
    fake = {"content_type": "image/png", "data": base64.b64encode(b"GIF89a-not-png").decode()}
    r = await manager.post(
        URL,
        json={
            "kind": "manual",
            "title": "x",
            "community_id": str(world.a.community),
            "photos": [fake],
        },
    )
    assert_error(r, 400, "invalid_photo")
    assert await WorkOrder.count() == before
    order = await _open(manager, world)
    assert_error(
        await manager.post(f"{URL}/{order['id']}/moves", json={"to": "flying"}), 422, "invalid_body"
    )
    assert_error(
        await manager.post(f"{URL}/{order['id']}/assign", json={"assignee_id": "x"}),
        422,
        "invalid_body",
    )
    r = await manager.get(URL, params={"state": "flying"})
    assert_error(r, 400, "invalid_parameters")
    r = await manager.get(URL, params={"page_size": 0})
    assert_error(r, 400, "invalid_parameters")
    staff = world.a.users[Role.MAINTENANCE]
    await manager.post(f"{URL}/{order['id']}/assign", json={"assignee_id": str(staff.id)})
    fixer = await as_role(Role.MAINTENANCE)
    await fixer.post(f"{URL}/{order['id']}/moves", json={"to": "in_progress"})
    assert_error(
        await fixer.post(f"{URL}/{order['id']}/moves", json={"to": "waiting"}),
        400,
        "waiting_for_required",
    )
    big = {
        "stage": "after",
        "content_type": "image/jpeg",
        "data": base64.b64encode(bytes(700_001)).decode(),
    }
    assert (await fixer.post(f"{URL}/{order['id']}/photos", json=big)).status_code == 422
    r = await fixer.post(f"{URL}/{order['id']}/photos", json={"stage": "after", **fake})
    assert_error(r, 400, "invalid_photo")


async def test_the_list_filters_and_pages_soonest_due_first(as_role: AsRole, world: World) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    low = await _open(manager, world, priority="low", title="低")
    urgent = await _open(manager, world, priority="urgent", title="急")
    complaint = await _open(manager, world, kind="complaint", title="投诉")
    page = (await manager.get(URL, params={"page_size": 2})).json()
    assert page["total"] == 3
    assert [o["id"] for o in page["items"]] == [urgent["id"], complaint["id"]]
    page2 = (await manager.get(URL, params={"page_size": 2, "page": 2})).json()
    assert [o["id"] for o in page2["items"]] == [low["id"]]
    only = (await manager.get(URL, params={"kind": "complaint"})).json()
    assert [o["id"] for o in only["items"]] == [complaint["id"]]
    only = (await manager.get(URL, params={"priority": "urgent", "state": "new"})).json()
    assert [o["id"] for o in only["items"]] == [urgent["id"]]


async def test_my_work_orders_are_the_ones_assigned_to_me_soonest_due_first(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    staff = world.a.users[Role.MAINTENANCE]
    low = await _open(manager, world, priority="low", title="换灯泡")
    urgent = await _open(manager, world, priority="urgent", title="电梯困人")
    await _open(manager, world, priority="high", title="无人领取")  # not mine
    for order in (low, urgent):
        r = await manager.post(f"{URL}/{order['id']}/assign", json={"assignee_id": str(staff.id)})
        assert r.status_code == 200, r.text

    mine = (await fixer.get(URL, params={"mine": "true"})).json()

    assert [o["id"] for o in mine["items"]] == [urgent["id"], low["id"]]
    assert mine["total"] == 2


@pytest.mark.req("OPS-16", partial=True)
async def test_an_order_past_its_sla_escalates_once_to_the_managers(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    boss = world.a.users[Role.PROPERTY_MANAGER]
    await subscribe(boss)
    order = await _open(manager, world, priority="urgent")
    later = datetime.now(UTC) + timedelta(hours=2, minutes=1)

    first = await escalation.escalate_due(later)
    again = await escalation.escalate_due(later + timedelta(minutes=5))

    assert first and not again
    pushes = await _pushes(boss.id, order["id"])
    assert [p["payload"]["title"][:6] for p in pushes] == ["【工单超时】"]
    detail = (await manager.get(f"{URL}/{order['id']}")).json()
    assert detail["escalated_at"] is not None
    assert (
        await WorkOrderEntry.count().where(
            (WorkOrderEntry.work_order == order["id"]) & (WorkOrderEntry.kind == "escalated")
        )
        == 1
    )
    assert len(await audit_rows("workorder.escalated", order["id"])) == 1
