"""Spare parts over the API and through `take_parts`: stock, movements, the low flag, the
all-or-nothing take-out, stock never below zero under concurrent take-outs, scope, bad input."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from api.core.auth import Role
from api.core.errors import NotFound
from api.devices.ledger.errors import InsufficientStock
from api.devices.ledger.parts import take_parts
from api.devices.ledger.schemas import TakeItem
from api.devices.tables import SparePart, StockMovement
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows

PARTS = "/api/v1/ledger/parts"


@pytest.fixture
async def maintenance(as_role: AsRole) -> ApiClient:
    return await as_role(Role.MAINTENANCE)


async def new_part(api: ApiClient, world: World, **extra: Any) -> dict[str, Any]:
    body = {
        "community_id": str(world.a.community),
        "code": f"P-{uuid.uuid4().hex[:8]}",
        "name": "门禁读卡器",
        "category": "门禁",
        "stock": 5,
        "min_stock": 2,
        "place": "物业仓库 A-3",
        **extra,
    }
    answer = await api.post(PARTS, json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def move(api: ApiClient, part: dict[str, Any], kind: str, quantity: int) -> Any:
    return await api.post(
        f"{PARTS}/{part['id']}/movements", json={"kind": kind, "quantity": quantity}
    )


@pytest.mark.req("OPS-15", partial=True)
class TestStock:
    async def test_movements_change_the_stock_and_are_kept(
        self, maintenance: ApiClient, world: World
    ) -> None:
        part = await new_part(maintenance, world)
        assert (part["stock"], part["low"]) == (5, False)
        assert (await move(maintenance, part, "out", 3)).json()["stock_after"] == 2
        assert (await maintenance.get(f"{PARTS}/{part['id']}")).json()["low"] is True
        assert (await move(maintenance, part, "in", 10)).json()["stock_after"] == 12
        adjusted = (await move(maintenance, part, "adjust", 7)).json()
        assert (adjusted["quantity"], adjusted["stock_after"]) == (-5, 7)
        history = (await maintenance.get(f"{PARTS}/{part['id']}/movements")).json()["items"]
        assert [(m["kind"], m["quantity"]) for m in history] == [
            ("adjust", -5),
            ("in", 10),
            ("out", -3),
            ("in", 5),  # the opening stock
        ]
        for kind in ("out", "in", "adjust"):
            assert await audit_rows(f"spare_part.{kind}", part["id"])

    async def test_taking_more_than_the_stock_takes_nothing(
        self, maintenance: ApiClient, world: World
    ) -> None:
        part = await new_part(maintenance, world, stock=2)
        assert_error(await move(maintenance, part, "out", 3), 409, "insufficient_stock")
        assert (await maintenance.get(f"{PARTS}/{part['id']}")).json()["stock"] == 2

    async def test_low_filter_and_search(self, maintenance: ApiClient, world: World) -> None:
        low = await new_part(maintenance, world, stock=1, min_stock=3, name="闸机电机")
        ok = await new_part(maintenance, world, stock=9, min_stock=3)

        async def ids(**params: Any) -> set[str]:
            answer = await maintenance.get(
                PARTS, params={"community_id": str(world.a.community), **params}
            )
            assert answer.status_code == 200, answer.text
            return {p["id"] for p in answer.json()["items"]}

        assert await ids(low=True) == {low["id"]}
        assert await ids(low=False) == {ok["id"]}
        assert await ids(q="电机") == {low["id"]}
        assert await ids(q=ok["code"]) == {ok["id"]}

    async def test_a_take_out_for_a_use_is_all_or_nothing(
        self, maintenance: ApiClient, world: World
    ) -> None:
        a = await new_part(maintenance, world, stock=5)
        b = await new_part(maintenance, world, stock=1)
        asset = await maintenance.post(
            "/api/v1/ledger/assets",
            json={"community_id": str(world.a.community), "kind": "light", "name": "路灯 7"},
        )
        body = {
            "community_id": str(world.a.community),
            "device_id": asset.json()["id"],
            "reason": "更换",
            "items": [{"part_id": a["id"], "quantity": 2}, {"part_id": b["id"], "quantity": 2}],
        }
        assert_error(await maintenance.post(f"{PARTS}/take", json=body), 409, "insufficient_stock")
        assert (await maintenance.get(f"{PARTS}/{a['id']}")).json()["stock"] == 5
        body["items"][1]["quantity"] = 1  # type: ignore[index]
        taken = await maintenance.post(f"{PARTS}/take", json=body)
        assert taken.status_code == 201, taken.text
        assert {m["device_id"] for m in taken.json()} == {asset.json()["id"]}
        assert (await maintenance.get(f"{PARTS}/{a['id']}")).json()["stock"] == 3

    async def test_concurrent_take_outs_never_take_the_stock_below_zero(
        self, maintenance: ApiClient, world: World
    ) -> None:
        part = await new_part(maintenance, world, stock=10)
        order = uuid.uuid4()

        async def one() -> bool:
            try:
                await take_parts(
                    world.a.community,
                    [TakeItem(part_id=uuid.UUID(part["id"]), quantity=3)],
                    actor=None,
                    work_order_id=order,
                )
            except InsufficientStock:
                return False
            return True

        outcomes = await asyncio.gather(*(one() for _ in range(12)))
        assert outcomes.count(True) == 3  # 3 x 3 of 10; the fourth would go below zero
        row = await SparePart.select(SparePart.stock).where(SparePart.id == part["id"]).first()
        assert row["stock"] == 1
        outs = await StockMovement.select(StockMovement.work_order).where(
            (StockMovement.part == part["id"]) & (StockMovement.kind == "out")
        )
        assert [r["work_order"] for r in outs] == [order] * 3

    async def test_a_part_of_another_community_cannot_be_taken_for_this_one(
        self, as_role: AsRole, world: World
    ) -> None:
        manager_b = await as_role(Role.PROPERTY_MANAGER, "b")
        part_b = await new_part(manager_b, world, community_id=str(world.b.community), stock=5)
        with pytest.raises(NotFound):
            await take_parts(
                world.a.community,
                [TakeItem(part_id=uuid.UUID(part_b["id"]), quantity=1)],
                actor=None,
            )


class TestScopeAndInput:
    @pytest.mark.parametrize("role", [Role.MAINTENANCE, Role.PROPERTY_MANAGER, Role.GUARD])
    async def test_another_communitys_parts_are_404(
        self, as_role: AsRole, maintenance: ApiClient, world: World, role: Role
    ) -> None:
        part = await new_part(maintenance, world)
        other = await as_role(role, "b")
        base = f"{PARTS}/{part['id']}"
        for answer in (
            await other.get(base),
            await other.get(f"{base}/movements"),
            await other.patch(base, json={"min_stock": 1}),
            await move(other, part, "in", 1),
            await other.post(
                f"{PARTS}/take",
                json={
                    "community_id": str(world.a.community),
                    "items": [{"part_id": part["id"], "quantity": 1}],
                },
            ),
        ):
            assert answer.status_code == 404, answer.text
        assert part["id"] not in {p["id"] for p in (await other.get(PARTS)).json()["items"]}

    async def test_guards_read_parts_but_do_not_move_them(
        self, as_role: AsRole, maintenance: ApiClient, world: World
    ) -> None:
        part = await new_part(maintenance, world)
        guard = await as_role(Role.GUARD)
        assert (await guard.get(f"{PARTS}/{part['id']}")).status_code == 200
        assert (await move(guard, part, "out", 1)).status_code == 404

    @pytest.mark.parametrize(
        "change",
        [{"code": ""}, {"code": "a b"}, {"stock": -1}, {"min_stock": -2}, {"name": ""}, {"x": 1}],
    )
    async def test_bad_parts_are_refused(
        self, maintenance: ApiClient, world: World, change: dict[str, Any]
    ) -> None:
        body = {"community_id": str(world.a.community), "code": "P1", "name": "x", **change}
        assert_error(await maintenance.post(PARTS, json=body), 422, "invalid_body")

    async def test_bad_movements_and_duplicate_codes(
        self, maintenance: ApiClient, world: World
    ) -> None:
        part = await new_part(maintenance, world)
        assert_error(await move(maintenance, part, "steal", 1), 422, "invalid_body")
        assert_error(await move(maintenance, part, "out", -1), 422, "invalid_body")
        again = await maintenance.post(
            PARTS, json={"community_id": str(world.a.community), "code": part["code"], "name": "y"}
        )
        assert_error(again, 409, "duplicate_part_code")
        empty = await maintenance.post(
            f"{PARTS}/take", json={"community_id": str(world.a.community), "items": []}
        )
        assert_error(empty, 422, "invalid_body")
