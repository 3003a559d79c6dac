"""Repair requests from an asset's QR label, without login: the public page, filing with a phone
and photos, the budgets per address and per label, the same answer for any unknown label, the
manager's approval (a work order of the asset, photos kept) or rejection, the resident whose
phone it was following the order to closed, the tracking code, scope and audit."""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from litestar import Litestar

from api.core.auth import Role
from api.devices.ledger.assets import LABEL_ALPHABET, LABEL_LENGTH
from api.workorders.label_requests import REPORTS_PER_ADDRESS, REPORTS_PER_LABEL
from api.workorders.tables import LabelRequest, WorkOrder, WorkOrderPhoto
from tests.fixtures import AsRole, Login
from tests.helpers import ApiClient, World, assert_error, audit_rows, make_account
from tests.workorders.helpers import JPEG, PHOTO

PUBLIC = "/api/v1/public"
REQUESTS = "/api/v1/label-requests"
ORDERS = "/api/v1/workorders"
ASSETS = "/api/v1/ledger/assets"
RESIDENT_PHONE = "13812345678"  # 张三's, the world's resident of household A 0101

Stranger = Callable[[], Awaitable[ApiClient]]


@pytest.fixture
async def stranger(app: Litestar) -> AsyncIterator[Stranger]:
    """A factory of logged-out phones, each from its own client address (the budgets count per
    address), with the report budgets cleared from Redis."""
    redis = app.state.redis
    async for key in redis.scan_iter("anju:report:*"):
        await redis.delete(key)
    opened: list[ApiClient] = []

    async def make() -> ApiClient:
        address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
        api = ApiClient(
            transport=httpx.ASGITransport(app=app, client=(address, 40000)),
            base_url="http://testserver",
        )
        await api.__aenter__()
        opened.append(api)
        return api

    yield make
    for api in opened:
        await api.__aexit__(None, None, None)


async def labelled_light(manager: ApiClient, community: uuid.UUID) -> dict[str, Any]:
    r = await manager.post(
        ASSETS,
        json={
            "community_id": str(community),
            "kind": "light",
            "name": "2栋大堂吸顶灯",
            "location_text": "2栋一楼大堂",
            "status": "in_service",
        },
    )
    assert r.status_code == 201, r.text
    asset = dict(r.json())
    assert asset["label_code"]
    return asset


def report(description: str = "大堂灯不亮了", phone: str = "13700001111", **extra: Any) -> dict:
    return {"description": description, "phone": phone, "photos": [PHOTO], **extra}


async def file(api: ApiClient, label: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post(f"{PUBLIC}/report/{label}/requests", json=body)
    assert r.status_code == 202, r.text
    return dict(r.json())


async def pending_of(manager: ApiClient, asset: dict[str, Any]) -> dict[str, Any]:
    page = (await manager.get(REQUESTS)).json()
    mine = [i for i in page["items"] if i["device_id"] == asset["id"]]
    assert len(mine) == 1, page
    return dict(mine[0])


@pytest.mark.req("OPS-21", partial=True)
async def test_a_stranger_reports_from_the_label_and_the_manager_approves_it_into_an_order(
    app: Litestar, as_role: AsRole, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    asset = await labelled_light(manager, world.a.community)
    phone = await stranger()

    page = await phone.get(f"{PUBLIC}/report/{asset['label_code']}")
    assert page.status_code == 200, page.text
    assert page.json() == {
        "asset_name": "2栋大堂吸顶灯",
        "asset_code": asset["asset_code"],
        "location": "2栋一楼大堂",
        "community_name": (await manager.get(f"/api/v1/communities/{world.a.community}")).json()[
            "name"
        ],
        "max_photos": 3,
    }
    filed = await file(phone, asset["label_code"], report(photos=[PHOTO, PHOTO]))
    assert filed["status"] == "pending"
    assert filed["track_path"] == "/track/" + filed["tracking_code"]
    stored = (
        await LabelRequest.select()
        .where(LabelRequest.device == asset["id"])
        .output(load_json=True)
        .first()
    )
    assert stored is not None
    assert "13700001111" not in str(stored)  # the phone is kept encrypted
    assert stored["household"] is None and stored["account"] is None
    assert stored["tracking_hash"] != filed["tracking_code"]
    filed_audit = await audit_rows("workorder.request_filed", stored["id"])
    assert len(filed_audit) == 1 and filed_audit[0]["ip"]

    track = (await phone.get(f"{PUBLIC}/track/{filed['tracking_code']}")).json()
    assert (track["status"], track["order_state"], track["asset_name"]) == (
        "pending",
        None,
        "2栋大堂吸顶灯",
    )

    pending = await pending_of(manager, asset)
    assert pending["phone"] == "137****1111"
    assert pending["from_resident"] is False
    assert len(pending["photos"]) == 2
    shown_at = urlsplit(pending["photos"][0]["url"])
    shown = await manager.get(f"{shown_at.path}?{shown_at.query}")
    assert shown.status_code == 200 and shown.content == JPEG

    r = await manager.post(f"{REQUESTS}/{pending['id']}/approve", json={"priority": "high"})
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "approved" and approved["work_order_id"]
    order = (await manager.get(f"{ORDERS}/{approved['work_order_id']}")).json()
    assert (order["kind"], order["priority"], order["state"]) == ("repair", "high", "new")
    assert (order["device_id"], order["title"]) == (asset["id"], "2栋大堂吸顶灯报修")
    assert order["description"] == "大堂灯不亮了"
    assert [p["stage"] for p in order["photos"]] == ["request", "request"]
    keys = {p["key"] for p in stored["photos"]}
    kept = await WorkOrderPhoto.select(WorkOrderPhoto.key).where(
        WorkOrderPhoto.work_order == order["id"]
    )
    assert {k["key"] for k in kept} == keys  # the same objects, not copies
    assert len(await audit_rows("workorder.request_approved", pending["id"])) == 1
    assert len(await audit_rows("workorder.created", order["id"])) == 1

    track = (await phone.get(f"{PUBLIC}/track/{filed['tracking_code']}")).json()
    assert (track["status"], track["order_state"]) == ("approved", "new")
    assert_error(
        await manager.post(f"{REQUESTS}/{pending['id']}/approve", json={}), 409, "not_pending"
    )
    assert_error(
        await manager.post(f"{REQUESTS}/{pending['id']}/reject", json={"reason": "x"}),
        409,
        "not_pending",
    )
    assert await WorkOrder.count().where(WorkOrder.device == asset["id"]) == 1


@pytest.mark.req("OPS-21", partial=True)
async def test_a_residents_phone_makes_the_order_theirs_to_follow_to_closed_and_rate(
    as_role: AsRole, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    resident = await as_role(Role.RESIDENT)
    asset = await labelled_light(manager, world.a.community)
    filed = await file(await stranger(), asset["label_code"], report(phone=RESIDENT_PHONE))
    pending = await pending_of(manager, asset)
    assert pending["from_resident"] is True
    approved = (await manager.post(f"{REQUESTS}/{pending['id']}/approve", json={})).json()
    oid = approved["work_order_id"]

    mine = (await resident.get(ORDERS)).json()["items"]
    assert [o["id"] for o in mine] == [oid]
    assert mine[0]["household_id"] == str(world.a.households[0])
    staff = world.a.users[Role.MAINTENANCE]
    await manager.post(f"{ORDERS}/{oid}/assign", json={"assignee_id": str(staff.id)})
    await fixer.post(f"{ORDERS}/{oid}/moves", json={"to": "in_progress"})
    await fixer.post(
        f"{ORDERS}/{oid}/moves", json={"to": "done", "cause": "灯管老化", "report": "换灯管"}
    )
    await manager.post(f"{ORDERS}/{oid}/moves", json={"to": "closed"})
    seen = (await resident.get(f"{ORDERS}/{oid}")).json()
    assert seen["state"] == "closed"
    r = await resident.post(f"{ORDERS}/{oid}/rating", json={"stars": 5})
    assert r.status_code == 200 and r.json()["rating"] == 5
    track = (await (await stranger()).get(f"{PUBLIC}/track/{filed['tracking_code']}")).json()
    assert (track["order_state"], track["closed_at"] is not None) == ("closed", True)
    # another community's resident with the same number is not matched to A's household
    other = await as_role(Role.RESIDENT, "b")
    assert (await other.get(ORDERS)).json()["total"] == 0


async def test_a_rejected_request_says_why_opens_nothing_and_is_audited(
    as_role: AsRole, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    asset = await labelled_light(manager, world.a.community)
    phone = await stranger()
    filed = await file(phone, asset["label_code"], report())
    pending = await pending_of(manager, asset)
    assert_error(
        await manager.post(f"{REQUESTS}/{pending['id']}/reject", json={"reason": ""}),
        422,
        "invalid_body",
    )
    r = await manager.post(f"{REQUESTS}/{pending['id']}/reject", json={"reason": "已有工单在修"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["reason"]) == ("rejected", "已有工单在修")
    assert await WorkOrder.count().where(WorkOrder.device == asset["id"]) == 0
    audit = await audit_rows("workorder.request_rejected", pending["id"])
    assert [a["details"]["reason"] for a in audit] == ["已有工单在修"]
    track = (await phone.get(f"{PUBLIC}/track/{filed['tracking_code']}")).json()
    assert (track["status"], track["reason"]) == ("rejected", "已有工单在修")
    decided = (await manager.get(REQUESTS, params={"status": "rejected"})).json()["items"]
    assert pending["id"] in [d["id"] for d in decided]
    assert pending["id"] not in [d["id"] for d in (await manager.get(REQUESTS)).json()["items"]]


async def test_an_unknown_retired_or_malformed_label_answers_the_same_and_stores_nothing(
    as_role: AsRole, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    asset = await labelled_light(manager, world.a.community)
    retired = await labelled_light(manager, world.a.community)
    r = await manager.post(f"{ASSETS}/{retired['id']}/status", json={"status": "retired"})
    assert r.status_code == 200, r.text
    unknown = "".join(secrets.choice(LABEL_ALPHABET) for _ in range(LABEL_LENGTH))
    before = await LabelRequest.count()
    phone = await stranger()
    answers = set()
    for code in (unknown, retired["label_code"], "0O1lI-bad", "x" * 300, asset["asset_code"]):
        page = await phone.get(f"{PUBLIC}/report/{code}")
        filed = await phone.post(f"{PUBLIC}/report/{code}/requests", json=report())
        assert page.status_code == filed.status_code == 404
        answers |= {page.text, filed.text}
    assert len(answers) == 1  # one body for every reason
    assert await LabelRequest.count() == before
    assert_error(await phone.get(f"{PUBLIC}/track/not-a-code"), 404, "not_found")


async def test_filing_is_budgeted_per_address_and_per_label(
    as_role: AsRole, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    asset = await labelled_light(manager, world.a.community)
    busy = await labelled_light(manager, world.a.community)
    per_address, _ = REPORTS_PER_ADDRESS
    phone = await stranger()
    for _ in range(per_address):
        await file(phone, asset["label_code"], report(photos=[]))
    r = await phone.post(f"{PUBLIC}/report/{busy['label_code']}/requests", json=report())
    assert_error(r, 429, "too_many_requests")  # the address's budget, whatever the label
    r = await phone.post(f"{PUBLIC}/report/{'2' * LABEL_LENGTH}/requests", json=report())
    assert_error(r, 429, "too_many_requests")  # probing unknown codes spends it too
    per_label, _ = REPORTS_PER_LABEL
    for _ in range(per_label):
        await file(await stranger(), busy["label_code"], report(photos=[]))
    r = await (await stranger()).post(
        f"{PUBLIC}/report/{busy['label_code']}/requests", json=report()
    )
    assert_error(r, 429, "too_many_requests")  # the label's budget, whatever the address
    assert await LabelRequest.count().where(LabelRequest.device == busy["id"]) == per_label


async def test_photos_are_size_and_type_checked_and_bad_input_stores_nothing(
    app: Litestar, as_role: AsRole, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    asset = await labelled_light(manager, world.a.community)
    url = f"{PUBLIC}/report/{asset['label_code']}/requests"
    phone = await stranger()
    big = {"content_type": "image/jpeg", "data": base64.b64encode(JPEG + bytes(700_000)).decode()}
    fake = {"content_type": "image/png", "data": base64.b64encode(b"GIF89a-not-a-png").decode()}
    before = await LabelRequest.count()
    keys_before = set(await app.state.objects.keys("workorders/"))
    assert_error(await phone.post(url, json=report(photos=[big])), 422, "invalid_body")
    assert_error(await phone.post(url, json=report(photos=[PHOTO, fake])), 400, "invalid_photo")
    assert_error(await phone.post(url, json=report(photos=[PHOTO] * 4)), 422, "invalid_body")
    assert_error(await phone.post(url, json=report(phone="12345")), 400, "invalid_phone")
    assert_error(await phone.post(url, json=report(description="")), 422, "invalid_body")
    assert_error(await phone.post(url, json={**report(), "name": "x"}), 422, "invalid_body")
    huge = await phone.post(url, json=report(photos=[big] * 4))
    assert huge.status_code == 413
    assert await LabelRequest.count() == before
    assert set(await app.state.objects.keys("workorders/")) == keys_before  # no orphan photo


async def test_another_communitys_requests_answer_404_and_only_managers_review(
    as_role: AsRole, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    asset = await labelled_light(manager, world.a.community)
    await file(await stranger(), asset["label_code"], report())
    pending = await pending_of(manager, asset)
    rid = pending["id"]
    other = await as_role(Role.PROPERTY_MANAGER, "b")
    assert all(i["id"] != rid for i in (await other.get(REQUESTS)).json()["items"])
    assert_error(await other.get(f"{REQUESTS}/{rid}"), 404, "not_found")
    assert_error(await other.post(f"{REQUESTS}/{rid}/approve", json={}), 404, "not_found")
    assert_error(
        await other.post(f"{REQUESTS}/{rid}/reject", json={"reason": "x"}), 404, "not_found"
    )
    for role in (Role.MAINTENANCE, Role.GUARD, Role.RESIDENT, Role.SYSTEM_ADMIN):
        api = await as_role(role)
        assert_error(await api.get(REQUESTS), 404, "not_found")
        assert_error(await api.post(f"{REQUESTS}/{rid}/approve", json={}), 404, "not_found")
    assert_error(await manager.get(REQUESTS, params={"status": "lost"}), 400, "invalid_parameters")
    assert_error(
        await manager.post(f"{REQUESTS}/{rid}/approve", json={"priority": "now"}),
        422,
        "invalid_body",
    )
    assert (await manager.get(f"{REQUESTS}/{rid}")).json()["status"] == "pending"


async def test_of_two_decisions_at_once_one_applies_and_one_order_at_most_is_opened(
    as_role: AsRole, login: Login, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    colleague = await login(await make_account(Role.PROPERTY_MANAGER, community=world.a.community))
    asset = await labelled_light(manager, world.a.community)
    await file(await stranger(), asset["label_code"], report())
    rid = (await pending_of(manager, asset))["id"]

    answers = await asyncio.gather(
        manager.post(f"{REQUESTS}/{rid}/approve", json={}),
        colleague.post(f"{REQUESTS}/{rid}/approve", json={}),
        colleague.post(f"{REQUESTS}/{rid}/reject", json={"reason": "重复"}),
    )

    assert sorted(a.status_code for a in answers) == [200, 409, 409]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"not_pending"}
    won = next(a.json() for a in answers if a.status_code == 200)
    orders = await WorkOrder.count().where(WorkOrder.device == asset["id"])
    assert orders == (1 if won["status"] == "approved" else 0)
    decided = await audit_rows("workorder.request_approved", rid) + await audit_rows(
        "workorder.request_rejected", rid
    )
    assert len(decided) == 1


def requests_of(page: dict[str, Any], asset: dict[str, Any]) -> list[dict[str, Any]]:
    """The asset's requests on a page, oldest first."""
    return [i for i in page["items"] if i["device_id"] == asset["id"]]


@pytest.mark.req("OPS-21", partial=True)
async def test_a_second_report_of_an_asset_is_kept_and_shown_to_the_manager_as_a_duplicate(
    as_role: AsRole, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    asset = await labelled_light(manager, world.a.community)
    first_phone, second_phone = await stranger(), await stranger()
    first = await file(first_phone, asset["label_code"], report("大堂灯不亮"))
    lone = (await first_phone.get(f"{PUBLIC}/track/{first['tracking_code']}")).json()
    second = await file(second_phone, asset["label_code"], report("大堂灯坏了", "13700002222"))

    # the public answers are the same as for a first report: nothing about the other one
    assert set(second) == set(first) and second["status"] == first["status"] == "pending"
    track = (await second_phone.get(f"{PUBLIC}/track/{second['tracking_code']}")).json()
    assert set(track) == set(lone) and track["status"] == "pending"
    assert "大堂灯不亮" not in str(track) and "duplicate" not in str(track)

    older, newer = requests_of((await manager.get(REQUESTS)).json(), asset)
    assert older["possible_duplicates"] == []  # the first is nobody's duplicate
    assert [(d["kind"], d["id"], d["title"], d["state"]) for d in newer["possible_duplicates"]] == [
        ("label_request", older["id"], "大堂灯不亮", "pending")
    ]
    one = (await manager.get(f"{REQUESTS}/{newer['id']}")).json()
    assert one["possible_duplicates"] == newer["possible_duplicates"]

    # approving the first turns the link into its order; rejecting the second as a duplicate
    approved = (await manager.post(f"{REQUESTS}/{older['id']}/approve", json={})).json()
    oid = approved["work_order_id"]
    one = (await manager.get(f"{REQUESTS}/{newer['id']}")).json()
    assert [(d["kind"], d["id"], d["state"]) for d in one["possible_duplicates"]] == [
        ("work_order", oid, "new")
    ]
    r = await manager.post(
        f"{REQUESTS}/{newer['id']}/reject", json={"reason": "重复报修，已在处理", "duplicate": True}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["possible_duplicates"]) == ("rejected", [])
    audit = await audit_rows("workorder.request_rejected", newer["id"])
    assert audit[0]["details"]["duplicate_of"] == [{"kind": "work_order", "id": oid}]
    assert await WorkOrder.count().where(WorkOrder.device == asset["id"]) == 1


async def test_a_duplicate_may_be_approved_anyway_and_a_closed_order_no_longer_counts(
    as_role: AsRole, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    asset = await labelled_light(manager, world.a.community)
    r = await manager.post(
        ORDERS,
        json={
            "kind": "manual",
            "title": "大堂灯巡检",
            "community_id": str(world.a.community),
            "device_id": asset["id"],
        },
    )
    open_order = r.json()["id"]
    await file(await stranger(), asset["label_code"], report())
    (pending,) = requests_of((await manager.get(REQUESTS)).json(), asset)
    assert [d["id"] for d in pending["possible_duplicates"]] == [open_order]
    r = await manager.post(f"{REQUESTS}/{pending['id']}/approve", json={"priority": "high"})
    assert r.status_code == 200 and r.json()["status"] == "approved"  # approved anyway
    assert await WorkOrder.count().where(WorkOrder.device == asset["id"]) == 2

    await manager.post(f"{ORDERS}/{open_order}/moves", json={"to": "cancelled"})
    await manager.post(f"{ORDERS}/{r.json()['work_order_id']}/moves", json={"to": "cancelled"})
    await file(await stranger(), asset["label_code"], report())
    (later,) = requests_of((await manager.get(REQUESTS)).json(), asset)
    assert later["possible_duplicates"] == []  # nothing of the asset is open any more
    # another community's manager sees none of it
    other = await as_role(Role.PROPERTY_MANAGER, "b")
    assert_error(await other.get(f"{REQUESTS}/{later['id']}"), 404, "not_found")


@pytest.mark.req("OPS-21", partial=True)
async def test_a_residents_repair_request_of_a_reported_asset_shows_its_manager_the_duplicate(
    as_role: AsRole, world: World, stranger: Stranger
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    resident = await as_role(Role.RESIDENT)
    fixer = await as_role(Role.MAINTENANCE)
    asset = await labelled_light(manager, world.a.community)
    await file(await stranger(), asset["label_code"], report("大堂灯一闪一闪"))
    (pending,) = requests_of((await manager.get(REQUESTS)).json(), asset)

    r = await resident.post(
        ORDERS, json={"kind": "repair", "title": "大堂灯坏了", "device_id": asset["id"]}
    )
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["state"] == "new" and mine["possible_duplicates"] == []  # not told
    oid = mine["id"]
    assert (await resident.get(f"{ORDERS}/{oid}")).json()["possible_duplicates"] == []
    assert (await fixer.get(f"{ORDERS}/{oid}")).json()["possible_duplicates"] == []
    seen = (await manager.get(f"{ORDERS}/{oid}")).json()
    assert [(d["kind"], d["id"]) for d in seen["possible_duplicates"]] == [
        ("label_request", pending["id"])
    ]
    # the request from the label came first: it is not a duplicate of the resident's order
    (pending,) = requests_of((await manager.get(REQUESTS)).json(), asset)
    assert pending["possible_duplicates"] == []

    # one tap: cancelled as a duplicate (a request not taken yet); the resident is told
    r = await manager.post(f"{ORDERS}/{oid}/moves", json={"to": "cancelled", "note": "重复报修"})
    assert r.status_code == 200 and r.json()["possible_duplicates"] == []
    other = await as_role(Role.PROPERTY_MANAGER, "b")
    assert_error(await other.get(f"{ORDERS}/{oid}"), 404, "not_found")
