"""Spare parts used on a work order: the assignee adds them while working or at done, they leave
the community's stock through the ledger (never below zero, all or none, 409 when short), the
movements carry the order, the order's detail lists them, and every take is audited."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from api.core.auth import Role
from api.devices.tables import SparePart, StockMovement
from tests.fixtures import AsRole, Login
from tests.helpers import ApiClient, World, assert_error, audit_rows, make_account
from tests.workorders.helpers import make_device

ORDERS = "/api/v1/workorders"
PARTS = "/api/v1/ledger/parts"


async def new_part(api: ApiClient, community: uuid.UUID, stock: int, name: str) -> dict[str, Any]:
    r = await api.post(
        PARTS,
        json={
            "community_id": str(community),
            "code": f"P-{uuid.uuid4().hex[:8]}",
            "name": name,
            "unit": "个",
            "stock": stock,
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def worked_order(manager: ApiClient, fixer: ApiClient, world: World) -> str:
    """An order of community A's light, assigned to A's maintenance and in progress."""
    device = await make_device(world.a.community, "3栋 楼道灯", "sensor")
    r = await manager.post(
        ORDERS,
        json={
            "kind": "manual",
            "title": "3栋楼道灯不亮",
            "community_id": str(world.a.community),
            "device_id": str(device),
        },
    )
    oid = str(r.json()["id"])
    staff = world.a.users[Role.MAINTENANCE]
    await manager.post(f"{ORDERS}/{oid}/assign", json={"assignee_id": str(staff.id)})
    assert (
        await fixer.post(f"{ORDERS}/{oid}/moves", json={"to": "in_progress"})
    ).status_code == 200
    return oid


async def stock(part: dict[str, Any]) -> int:
    row = await SparePart.select(SparePart.stock).where(SparePart.id == part["id"]).first()
    assert row is not None
    return int(row["stock"])


@pytest.mark.req("OPS-15", partial=True)
async def test_the_assignee_adds_parts_used_and_the_stock_and_the_order_show_them(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    oid = await worked_order(manager, fixer, world)
    tube = await new_part(fixer, world.a.community, 5, "LED灯管 T8")
    starter = await new_part(fixer, world.a.community, 3, "启辉器")

    r = await fixer.post(
        f"{ORDERS}/{oid}/parts",
        json={
            "items": [
                {"part_id": tube["id"], "quantity": 1},
                {"part_id": starter["id"], "quantity": 1},
                {"part_id": tube["id"], "quantity": 1},  # the same part twice: one take of two
            ],
            "note": "换灯管和启辉器",
        },
    )
    assert r.status_code == 201, r.text
    used = {(p["name"], p["quantity"], p["unit"]) for p in r.json()["parts"]}
    assert used == {("LED灯管 T8", 2, "个"), ("启辉器", 1, "个")}
    assert (await stock(tube), await stock(starter)) == (3, 2)
    movements = await StockMovement.select().where(StockMovement.work_order == oid)
    assert {(m["part"], m["quantity"], m["kind"]) for m in movements} == {
        (uuid.UUID(tube["id"]), -2, "out"),
        (uuid.UUID(starter["id"]), -1, "out"),
    }
    assert all(m["device"] is not None for m in movements)  # for the order's asset

    done = await fixer.post(
        f"{ORDERS}/{oid}/moves", json={"to": "done", "cause": "灯管老化", "report": "更换"}
    )
    assert done.status_code == 200, done.text
    r = await fixer.post(  # noted at done too (the closing report lists them)
        f"{ORDERS}/{oid}/parts", json={"items": [{"part_id": tube["id"], "quantity": 1}]}
    )
    assert r.status_code == 201, r.text
    detail = (await manager.get(f"{ORDERS}/{oid}")).json()
    assert sum(p["quantity"] for p in detail["parts"] if p["part_id"] == tube["id"]) == 3
    assert {h["kind"] for h in detail["history"]} >= {"parts"}
    audit = await audit_rows("workorder.parts_used", oid)
    assert len(audit) == 2
    assert {p["part"] for p in audit[0]["details"]["parts"]} == {tube["id"], starter["id"]}
    assert len(await audit_rows("spare_part.out", tube["id"])) == 2

    await manager.post(f"{ORDERS}/{oid}/moves", json={"to": "closed"})
    assert_error(
        await fixer.post(
            f"{ORDERS}/{oid}/parts", json={"items": [{"part_id": tube["id"], "quantity": 1}]}
        ),
        409,
        "transition_not_allowed",
    )
    assert await stock(tube) == 2


async def test_short_stock_answers_409_and_takes_nothing_of_any_item(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    oid = await worked_order(manager, fixer, world)
    plenty = await new_part(fixer, world.a.community, 10, "螺丝")
    last = await new_part(fixer, world.a.community, 1, "镇流器")
    r = await fixer.post(
        f"{ORDERS}/{oid}/parts",
        json={
            "items": [
                {"part_id": plenty["id"], "quantity": 4},
                {"part_id": last["id"], "quantity": 2},
            ]
        },
    )
    assert_error(r, 409, "insufficient_stock")
    assert (await stock(plenty), await stock(last)) == (10, 1)
    assert (await manager.get(f"{ORDERS}/{oid}")).json()["parts"] == []
    assert await audit_rows("workorder.parts_used", oid) == []


@pytest.mark.req("OPS-15", partial=True)
async def test_concurrent_takes_of_the_last_items_never_drive_the_stock_below_zero(
    as_role: AsRole, login: Login, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    part = await new_part(fixer, world.a.community, 3, "灯管")
    orders = [await worked_order(manager, fixer, world) for _ in range(8)]

    answers = await asyncio.gather(
        *(
            fixer.post(
                f"{ORDERS}/{oid}/parts", json={"items": [{"part_id": part["id"], "quantity": 1}]}
            )
            for oid in orders
        )
    )

    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 3 + [409] * 5
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"insufficient_stock"}
    assert await stock(part) == 0
    taken = await StockMovement.select().where(StockMovement.part == part["id"])
    outs = [m for m in taken if m["kind"] == "out"]
    assert len(outs) == 3 and sorted(m["stock_after"] for m in outs) == [0, 1, 2]
    assert len({m["work_order"] for m in outs}) == 3


async def test_only_the_assignee_or_a_manager_adds_parts_and_other_communities_get_404(
    as_role: AsRole, login: Login, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    oid = await worked_order(manager, fixer, world)
    part = await new_part(fixer, world.a.community, 5, "灯管")
    foreign = await new_part(await as_role(Role.MAINTENANCE, "b"), world.b.community, 5, "B 区灯管")
    one = {"items": [{"part_id": part["id"], "quantity": 1}]}

    colleague = await login(await make_account(Role.MAINTENANCE, community=world.a.community))
    assert_error(await colleague.post(f"{ORDERS}/{oid}/parts", json=one), 409, "not_assignee")
    resident = await as_role(Role.RESIDENT)
    assert_error(await resident.post(f"{ORDERS}/{oid}/parts", json=one), 404, "not_found")
    for role in (Role.MAINTENANCE, Role.PROPERTY_MANAGER):
        other = await as_role(role, "b")
        assert_error(await other.post(f"{ORDERS}/{oid}/parts", json=one), 404, "not_found")
    r = await fixer.post(  # a part of another community is not in this order's stock
        f"{ORDERS}/{oid}/parts", json={"items": [{"part_id": foreign["id"], "quantity": 1}]}
    )
    assert_error(r, 404, "not_found")
    assert (await stock(part), await stock(foreign)) == (5, 5)
    for body in (
        {"items": []},
        {"items": [{"part_id": part["id"], "quantity": 0}]},
        {"items": [{"part_id": "nope", "quantity": 1}]},
        {"items": [{"part_id": part["id"], "quantity": 1}], "extra": True},
    ):
        assert_error(await fixer.post(f"{ORDERS}/{oid}/parts", json=body), 422, "invalid_body")
    r = await manager.post(f"{ORDERS}/{oid}/parts", json=one)  # a manager of the community may
    assert r.status_code == 201, r.text
    assert await stock(part) == 4


def held(detail: dict[str, Any], part: dict[str, Any]) -> int:
    return sum(p["quantity"] for p in detail["parts"] if p["part_id"] == part["id"])


@pytest.mark.req("OPS-15", partial=True)
async def test_parts_not_used_go_back_to_stock_at_the_price_they_were_taken_at(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    oid = await worked_order(manager, fixer, world)
    tube = await new_part(fixer, world.a.community, 10, "LED灯管 T8")
    await fixer.patch(f"{PARTS}/{tube['id']}", json={"unit_cost": 1_000})
    take = {"items": [{"part_id": tube["id"], "quantity": 3}]}
    assert (await fixer.post(f"{ORDERS}/{oid}/parts", json=take)).status_code == 201
    await fixer.patch(f"{PARTS}/{tube['id']}", json={"unit_cost": 1_500})
    one = {"items": [{"part_id": tube["id"], "quantity": 1}]}
    assert (await fixer.post(f"{ORDERS}/{oid}/parts", json=one)).status_code == 201
    assert await stock(tube) == 6

    back = {"items": [{"part_id": tube["id"], "quantity": 2}], "note": "多领了两根"}
    r = await fixer.post(f"{ORDERS}/{oid}/parts/returns", json=back)
    assert r.status_code == 201, r.text
    detail = r.json()
    assert await stock(tube) == 8
    assert held(detail, tube) == 2
    returned = [p for p in detail["parts"] if p["kind"] == "returned"]
    # the newest take (at 15.00) comes back first, then one of the first (at 10.00)
    assert sorted((p["quantity"], p["unit_cost"], p["cost"]) for p in returned) == [
        (-1, 1_000, -1_000),
        (-1, 1_500, -1_500),
    ]
    assert sum(p["cost"] for p in detail["parts"]) == 2 * 1_000  # 3×10 + 15 − 15 − 10
    movements = await StockMovement.select().where(
        (StockMovement.work_order == oid) & (StockMovement.kind == "return")
    )
    assert sorted(m["quantity"] for m in movements) == [1, 1]
    assert all(m["device"] is not None for m in movements)
    costs = (await manager.get(f"{ORDERS}/asset-costs/{detail['device_id']}")).json()
    assert costs["parts_cost"] == 2_000 and costs["items"][0]["parts_cost"] == 2_000
    assert "parts_returned" in {h["kind"] for h in detail["history"]}
    audit = await audit_rows("workorder.parts_returned", oid)
    assert len(audit) == 1 and len(audit[0]["details"]["parts"]) == 2
    assert len(await audit_rows("spare_part.return", tube["id"])) == 2

    r = await fixer.post(  # two are left to it: three is refused, nothing goes back
        f"{ORDERS}/{oid}/parts/returns", json={"items": [{"part_id": tube["id"], "quantity": 3}]}
    )
    assert_error(r, 409, "return_exceeds_taken")
    assert r.json()["extra"]["returnable"] == 2
    assert await stock(tube) == 8
    other = await new_part(fixer, world.a.community, 4, "启辉器")  # never taken for this order
    r = await fixer.post(
        f"{ORDERS}/{oid}/parts/returns",
        json={
            "items": [
                {"part_id": tube["id"], "quantity": 1},
                {"part_id": other["id"], "quantity": 1},
            ]
        },
    )
    assert_error(r, 409, "return_exceeds_taken")
    assert (await stock(tube), await stock(other)) == (8, 4)  # all or none
    assert len(await audit_rows("workorder.parts_returned", oid)) == 1


async def test_returns_are_scoped_like_the_parts_used_and_bad_bodies_get_422(
    as_role: AsRole, login: Login, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    oid = await worked_order(manager, fixer, world)
    part = await new_part(fixer, world.a.community, 5, "灯管")
    foreign = await new_part(await as_role(Role.MAINTENANCE, "b"), world.b.community, 5, "B 区灯管")
    take = {"items": [{"part_id": part["id"], "quantity": 2}]}
    assert (await fixer.post(f"{ORDERS}/{oid}/parts", json=take)).status_code == 201
    one = {"items": [{"part_id": part["id"], "quantity": 1}]}
    url = f"{ORDERS}/{oid}/parts/returns"

    colleague = await login(await make_account(Role.MAINTENANCE, community=world.a.community))
    assert_error(await colleague.post(url, json=one), 409, "not_assignee")
    assert_error(await (await as_role(Role.RESIDENT)).post(url, json=one), 404, "not_found")
    for role in (Role.MAINTENANCE, Role.PROPERTY_MANAGER):
        assert_error(await (await as_role(role, "b")).post(url, json=one), 404, "not_found")
    foreign_one = {"items": [{"part_id": foreign["id"], "quantity": 1}]}
    assert_error(await fixer.post(url, json=foreign_one), 404, "not_found")
    for body in (
        {"items": []},
        {"items": [{"part_id": part["id"], "quantity": 0}]},
        {"items": [{"part_id": part["id"], "quantity": -1}]},
        {"items": [{"part_id": "nope", "quantity": 1}]},
    ):
        assert_error(await fixer.post(url, json=body), 422, "invalid_body")
    assert (await stock(part), await stock(foreign)) == (3, 5)
    assert (await manager.post(url, json=one)).status_code == 201  # a manager may
    assert await stock(part) == 4
    await fixer.post(f"{ORDERS}/{oid}/moves", json={"to": "done", "cause": "老化", "report": "换"})
    await manager.post(f"{ORDERS}/{oid}/moves", json={"to": "closed"})
    assert_error(await fixer.post(url, json=one), 409, "transition_not_allowed")
    assert await stock(part) == 4


@pytest.mark.req("OPS-15", partial=True)
async def test_concurrent_returns_never_give_back_more_than_the_order_took(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    part = await new_part(fixer, world.a.community, 10, "灯管")
    oid = await worked_order(manager, fixer, world)
    take = {"items": [{"part_id": part["id"], "quantity": 3}]}
    assert (await fixer.post(f"{ORDERS}/{oid}/parts", json=take)).status_code == 201
    one = {"items": [{"part_id": part["id"], "quantity": 1}]}

    answers = await asyncio.gather(
        *(fixer.post(f"{ORDERS}/{oid}/parts/returns", json=one) for _ in range(8))
    )

    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 3 + [409] * 5
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"return_exceeds_taken"}
    assert await stock(part) == 10
    moved = await StockMovement.select().where(
        (StockMovement.part == part["id"]) & (StockMovement.kind == "return")
    )
    assert len(moved) == 3 and sorted(m["stock_after"] for m in moved) == [8, 9, 10]
    assert held((await manager.get(f"{ORDERS}/{oid}")).json(), part) == 0
