"""Maintenance costs: an asset's purchase cost, its parts at the price they had when used, an
order's external cost, and the asset's maintenance cost to date summed over its orders."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from api.core.auth import Role
from api.devices.tables import StockMovement
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows
from tests.workorders.test_parts_used import new_part

ORDERS = "/api/v1/workorders"
ASSETS = "/api/v1/ledger/assets"
PARTS = "/api/v1/ledger/parts"
COSTS = f"{ORDERS}/asset-costs"


async def priced_part(api: ApiClient, world: World, unit_cost: int | None) -> dict[str, Any]:
    part = await new_part(api, world.a.community, 20, f"零件 {uuid.uuid4().hex[:4]}")
    if unit_cost is not None:
        r = await api.patch(f"{PARTS}/{part['id']}", json={"unit_cost": unit_cost})
        assert r.status_code == 200 and r.json()["unit_cost"] == unit_cost, r.text
    return part


async def pump(api: ApiClient, world: World, purchase_cost: int | None = 1_250_000) -> str:
    r = await api.post(
        ASSETS,
        json={
            "community_id": str(world.a.community),
            "kind": "pump",
            "name": "2号 生活水泵",
            "purchase_cost": purchase_cost,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["purchase_cost"] == purchase_cost
    return str(r.json()["id"])


async def worked(manager: ApiClient, fixer: ApiClient, world: World, asset: str, title: str) -> str:
    """An order of the asset, assigned to A's maintenance and in progress."""
    r = await manager.post(
        ORDERS,
        json={
            "kind": "manual",
            "title": title,
            "community_id": str(world.a.community),
            "device_id": asset,
        },
    )
    assert r.status_code == 201, r.text
    oid = str(r.json()["id"])
    staff = world.a.users[Role.MAINTENANCE]
    await manager.post(f"{ORDERS}/{oid}/assign", json={"assignee_id": str(staff.id)})
    moved = await fixer.post(f"{ORDERS}/{oid}/moves", json={"to": "in_progress"})
    assert moved.status_code == 200, moved.text
    return oid


async def use(fixer: ApiClient, oid: str, part: dict[str, Any], quantity: int) -> dict[str, Any]:
    r = await fixer.post(
        f"{ORDERS}/{oid}/parts", json={"items": [{"part_id": part["id"], "quantity": quantity}]}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.req("OPS-17", partial=True)  # maintenance-cost statistics per asset
async def test_an_assets_maintenance_cost_is_its_orders_parts_and_external_costs(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    asset = await pump(fixer, world)
    seal = await priced_part(fixer, world, 3_550)  # ¥35.50
    bearing = await priced_part(fixer, world, 12_000)  # ¥120.00
    gasket = await priced_part(fixer, world, None)  # no price yet

    first = await worked(manager, fixer, world, asset, "水泵漏水")
    await use(fixer, first, seal, 2)
    detail = await use(fixer, first, bearing, 1)
    assert {(p["unit_cost"], p["cost"]) for p in detail["parts"]} == {
        (3_550, 7_100),
        (12_000, 12_000),
    }
    r = await fixer.post(
        f"{ORDERS}/{first}/external-cost", json={"amount": 80_000, "note": "外委维修发票 No.123"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["external_cost"], r.json()["external_cost_note"]) == (
        80_000,
        "外委维修发票 No.123",
    )

    second = await worked(manager, fixer, world, asset, "水泵异响")
    await use(fixer, second, seal, 1)
    await use(fixer, second, gasket, 3)  # unpriced: counted, not summed
    other_asset = await pump(fixer, world, None)  # another asset's order is not this one's cost
    third = await worked(manager, fixer, world, other_asset, "另一台水泵")
    await use(fixer, third, bearing, 5)

    r = await manager.get(f"{COSTS}/{asset}")
    assert r.status_code == 200, r.text
    costs = r.json()
    assert costs["purchase_cost"] == 1_250_000
    assert costs["parts_cost"] == 2 * 3_550 + 12_000 + 3_550
    assert costs["external_cost"] == 80_000
    assert costs["maintenance_cost"] == 2 * 3_550 + 12_000 + 3_550 + 80_000
    assert costs["total"] == 2
    by_id = {o["id"]: o for o in costs["items"]}
    assert (by_id[first]["parts_cost"], by_id[first]["external_cost"], by_id[first]["cost"]) == (
        19_100,
        80_000,
        99_100,
    )
    assert (by_id[second]["cost"], by_id[second]["unpriced_parts"]) == (3_550, 1)
    assert [o["id"] for o in costs["items"]] == [second, first]  # newest first
    page = (await manager.get(f"{COSTS}/{asset}", params={"page_size": 1})).json()
    assert (len(page["items"]), page["total"], page["maintenance_cost"]) == (1, 2, 102_650)

    other = (await manager.get(f"{COSTS}/{other_asset}")).json()
    assert (other["purchase_cost"], other["maintenance_cost"]) == (None, 5 * 12_000)


@pytest.mark.req("OPS-17", partial=True)
async def test_a_later_price_change_does_not_rewrite_what_an_order_cost(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    asset = await pump(fixer, world)
    seal = await priced_part(fixer, world, 3_550)
    oid = await worked(manager, fixer, world, asset, "换密封圈")
    await use(fixer, oid, seal, 2)

    r = await fixer.patch(f"{PARTS}/{seal['id']}", json={"unit_cost": 9_900})
    assert r.status_code == 200, r.text
    audit = await audit_rows("spare_part.updated", seal["id"])
    assert audit[-1]["details"]["unit_cost"] == [3_550, 9_900]

    costs = (await manager.get(f"{COSTS}/{asset}")).json()
    assert costs["parts_cost"] == 7_100  # at ¥35.50, the price when used
    detail = (await manager.get(f"{ORDERS}/{oid}")).json()
    assert [(p["unit_cost"], p["cost"]) for p in detail["parts"]] == [(3_550, 7_100)]
    moved = await StockMovement.select(StockMovement.unit_cost).where(
        StockMovement.work_order == oid
    )
    assert [m["unit_cost"] for m in moved] == [3_550]

    await use(fixer, oid, seal, 1)  # a use after the change is at the new price
    costs = (await manager.get(f"{COSTS}/{asset}")).json()
    assert costs["parts_cost"] == 7_100 + 9_900


async def test_purchase_cost_edits_and_external_costs_are_audited(
    as_role: AsRole, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    asset = await pump(fixer, world, 100_000)
    r = await fixer.patch(f"{ASSETS}/{asset}", json={"purchase_cost": 120_000})
    assert r.status_code == 200 and r.json()["purchase_cost"] == 120_000, r.text
    history = (await fixer.get(f"{ASSETS}/{asset}/history")).json()["items"]
    assert history[0]["changes"] == {"purchase_cost": [100_000, 120_000]}
    assert "purchase_cost" in (await audit_rows("asset.updated", asset))[-1]["details"]["fields"]

    oid = await worked(manager, fixer, world, asset, "外委检修")
    await fixer.post(f"{ORDERS}/{oid}/external-cost", json={"amount": 50_000, "note": "检修"})
    r = await manager.post(f"{ORDERS}/{oid}/external-cost", json={"amount": None})  # cleared
    assert r.status_code == 200 and r.json()["external_cost"] is None, r.text
    audit = await audit_rows("workorder.external_cost", oid)
    assert [a["details"]["amount"] for a in audit] == [[None, 50_000], [50_000, None]]
    assert "cost" in {h["kind"] for h in r.json()["history"]}


async def test_who_may_set_an_external_cost_and_when(as_role: AsRole, world: World) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    asset = await pump(fixer, world)
    r = await manager.post(
        ORDERS,
        json={"kind": "manual", "title": "新单", "community_id": str(world.a.community)},
    )
    new = str(r.json()["id"])
    assert_error(  # a new order is not being worked
        await manager.post(f"{ORDERS}/{new}/external-cost", json={"amount": 100}),
        409,
        "transition_not_allowed",
    )
    oid = await worked(manager, fixer, world, asset, "在修")
    guard = await as_role(Role.GUARD)
    answer = await guard.post(f"{ORDERS}/{oid}/external-cost", json={"amount": 100})
    assert_error(answer, 409, "not_assignee")  # neither its assignee nor a manager
    bad = await fixer.post(f"{ORDERS}/{oid}/external-cost", json={"amount": -1})
    assert_error(bad, 422, "invalid_body")


@pytest.mark.parametrize("role", [Role.PROPERTY_MANAGER, Role.MAINTENANCE])
async def test_another_communitys_costs_are_404(as_role: AsRole, world: World, role: Role) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    fixer = await as_role(Role.MAINTENANCE)
    asset = await pump(fixer, world)
    oid = await worked(manager, fixer, world, asset, "A 的工单")
    other = await as_role(role, "b")
    assert (await other.get(f"{COSTS}/{asset}")).status_code == 404
    answer = await other.post(f"{ORDERS}/{oid}/external-cost", json={"amount": 100})
    assert answer.status_code == 404, answer.text
    assert (await other.get(f"{COSTS}/{uuid.uuid4()}")).status_code == 404
