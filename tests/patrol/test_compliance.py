"""Compliance per guard and per route over a known set of rounds; its CSV; scope and bad input."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from api.audit.tables import AuditEntry
from api.core.auth import Role
from api.patrol.tables import PatrolRound, PatrolScan
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, make_account

URL = "/api/v1/patrol/compliance"
# a day of its own, so rounds of other tests never fall in the range
DAY = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 2000)


def _round(
    community: UUID, route: str, guards: list[UUID], missed: list[str], late: list[str], **at: Any
) -> PatrolRound:
    starts = at.get("starts", DAY + timedelta(hours=2))
    return PatrolRound(
        id=uuid.uuid4(),
        community=community,
        route_name=route,
        checkpoints=[{"id": str(uuid.uuid4()), "name": n} for n in ("A", "B")],
        guards=[str(g) for g in guards],
        starts_at=starts,
        due_at=starts + timedelta(minutes=30),
        closes_at=starts + timedelta(minutes=40),
        ended_at=None if at.get("open") else starts + timedelta(minutes=40),
        summary={} if at.get("open") else {"total": 2, "missed": missed, "late": late},
    )


def _scan(round_: PatrolRound, guard: UUID, flags: list[str]) -> PatrolScan:
    at = round_.starts_at + timedelta(minutes=5)
    return PatrolScan(
        id=uuid.uuid4(),
        community=round_.community,
        round=round_.id,
        guard=guard,
        phone="p",
        phone_at=at,
        server_at=at,
        at=at,
        accepted=True,
        flags=flags,
    )


@pytest.fixture
async def known(world: World) -> dict[str, Any]:
    """Route R walked by guards g1 and g2: three rounds ended in the range, one still open, one
    the day before."""
    a = world.a.community
    g1 = (await make_account(Role.GUARD, community=a)).id
    g2 = (await make_account(Role.GUARD, community=a)).id
    route = f"围墙-{uuid.uuid4().hex[:6]}"
    r1 = _round(a, route, [g1], [], [])
    r2 = _round(a, route, [g1, g2], ["A"], ["B"])
    r3 = _round(a, route, [g2], [], ["A", "B"])
    still_open = _round(a, route, [g1], [], [], open=True)
    before = _round(a, route, [g1], ["A", "B"], [], starts=DAY - timedelta(hours=1))
    await PatrolRound.insert(r1, r2, r3, still_open, before)
    await PatrolScan.insert(
        _scan(r1, g1, ["clock_skew"]),
        _scan(r1, g1, []),
        _scan(r2, g2, ["two_phones", "repeat"]),
        _scan(r2, g1, []),
    )
    return {"route": route, "g1": str(g1), "g2": str(g2)}


def _range(**extra: Any) -> dict[str, Any]:
    return {"since": DAY.isoformat(), "until": (DAY + timedelta(days=1)).isoformat(), **extra}


@pytest.mark.req("PAT-01", partial=True)
async def test_compliance_per_route_and_per_guard_counts_the_ended_rounds_of_the_range(
    as_role: AsRole, world: World, known: dict[str, Any]
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    community = str(world.a.community)

    by_route = await manager.get(URL, params=_range(community_id=community, by="route"))
    assert by_route.status_code == 200, by_route.text
    assert by_route.json()["items"] == [
        {
            "key": known["route"],
            "name": known["route"],
            "due": 3,
            "completed": 2,
            "points_missed": 1,
            "late": 3,
            "flagged": 2,
            "rate": 0.6667,
        }
    ]
    by_guard = await manager.get(URL, params=_range(community_id=community, by="guard"))
    rows = {r["key"]: r for r in by_guard.json()["items"]}
    assert by_guard.json()["total"] == 2
    g1, g2 = rows[known["g1"]], rows[known["g2"]]
    assert (g1["due"], g1["completed"], g1["points_missed"], g1["late"], g1["flagged"]) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert (g2["due"], g2["completed"], g2["points_missed"], g2["late"], g2["flagged"]) == (
        2,
        1,
        1,
        3,
        1,
    )
    assert g1["rate"] == g2["rate"] == 0.5
    assert g1["name"].startswith("guard-")

    one = await manager.get(URL, params=_range(community_id=community, key=known["g2"]))
    assert [r["key"] for r in one.json()["items"]] == [known["g2"]]
    first = await manager.get(URL, params=_range(community_id=community, page_size=1))
    second = await manager.get(URL, params=_range(community_id=community, page_size=1, page=2))
    assert first.json()["total"] == 2
    assert {first.json()["items"][0]["key"], second.json()["items"][0]["key"]} == {
        known["g1"],
        known["g2"],
    }


@pytest.mark.req("PAT-01", partial=True)
async def test_the_csv_export_holds_every_row_and_is_audited(
    as_role: AsRole, world: World, known: dict[str, Any]
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)

    r = await manager.get(
        f"{URL}/csv", params=_range(community_id=str(world.a.community), by="route")
    )

    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines == [
        ["对象", "应巡轮次", "完成轮次", "漏检点数", "迟到点数", "异常签到", "完成率"],
        [known["route"], "3", "2", "1", "3", "2", "66.7%"],
    ]
    exported = await AuditEntry.count().where(
        (AuditEntry.action == "patrol.compliance_exported")
        & (AuditEntry.community_id == world.a.community)
    )
    assert exported >= 1


async def test_compliance_of_another_community_or_for_guards_answers_404(
    as_role: AsRole, world: World, known: dict[str, Any]
) -> None:
    params = _range(community_id=str(world.a.community))
    for client in (
        await as_role(Role.PROPERTY_MANAGER, community="b"),
        await as_role(Role.GUARD),
        await as_role(Role.RESIDENT),
    ):
        assert (await client.get(URL, params=params)).status_code == 404
        assert (await client.get(f"{URL}/csv", params=params)).status_code == 404


async def test_bad_compliance_queries_are_refused(as_role: AsRole, world: World) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    community = str(world.a.community)

    backwards = _range(community_id=community)
    backwards["since"], backwards["until"] = backwards["until"], backwards["since"]
    assert_error(await manager.get(URL, params=backwards), 400, "invalid_input")
    too_long = _range(community_id=community, until=(DAY + timedelta(days=400)).isoformat())
    assert_error(await manager.get(URL, params=too_long), 400, "invalid_input")
    assert (
        await manager.get(URL, params=_range(community_id=community, by="x"))
    ).status_code == 400
    bad_date = _range(community_id=community, since="yesterday")
    assert (await manager.get(URL, params=bad_date)).status_code == 400
