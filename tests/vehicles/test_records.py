"""Pass records for managers and police (VEH-13): filters and pages, the CSV export (UTF-8 with
BOM, masked, audited, in scope), statistics checked against known passes, the police's search
in their jurisdiction with each search audited."""

from __future__ import annotations

import codecs
import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from litestar import Litestar

from api.alarms.catalogue import SITE_TIMEZONE
from api.audit.tables import AuditEntry
from api.communities.tables import Community, Jurisdiction
from api.core.auth import Role
from api.vehicles.tables import CarPark
from tests.fixtures import AsRole
from tests.helpers import ApiClient, Login, World, assert_error, grant, make_account
from tests.vehicles.helpers import car_park_with_lanes, register, store_pass

TZ = SITE_TIMEZONE


@dataclass
class Traffic:
    """Five reads at a car park over three days (site time), one elsewhere, one in B."""

    park: dict
    lane_in: dict
    lane_out: dict
    first: date  # the first of the three days
    ids: dict[str, uuid.UUID]


def _local(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), TZ)


async def _traffic(app: Litestar, manager: ApiClient, resident: ApiClient, world: World) -> Traffic:
    a = world.a.community
    park, lane_in, lane_out = await car_park_with_lanes(manager, a)
    car = await register(resident, plate="川A12345")  # class resident, the household's
    first = datetime.now(TZ).date() - timedelta(days=2)
    at_in = {"lane": lane_in["id"], "car_park": park["id"]}
    at_out = {"lane": lane_out["id"], "car_park": park["id"]}
    home = {"household": world.a.households[0], "vehicle": car["id"]}
    ids = {
        "resident_in": await store_pass(
            app, a, "川A12345", at=_local(first, 8, 15), **home, **at_in
        ),
        "visitor_in": await store_pass(
            app, a, "川A12346", at=_local(first, 8, 40), reason="visitor", **at_in
        ),
        "resident_out": await store_pass(
            app,
            a,
            "川A12345",
            at=_local(first + timedelta(1), 18, 5),
            direction="out",
            **home,
            **at_out,
        ),
        "denied": await store_pass(
            app,
            a,
            "川B88888",
            at=_local(first + timedelta(1), 18, 30),
            decision="denied",
            reason="blacklisted",
            **at_in,
        ),
        "held": await store_pass(
            app,
            a,
            "川C55555",
            at=_local(first + timedelta(2), 8, 20),
            decision="held",
            reason="unknown",
            image="vehicles/snap.jpg",
            **at_in,
        ),
    }
    # outside the range, and another community's: never counted
    await store_pass(app, a, "川A12345", at=_local(first - timedelta(5), 9, 0), **home, **at_in)
    await store_pass(app, world.b.community, "川A12345", at=_local(first, 9, 0))
    await CarPark.update({CarPark.occupied: 1}).where(CarPark.id == park["id"])
    return Traffic(park=park, lane_in=lane_in, lane_out=lane_out, first=first, ids=ids)


def _range(t: Traffic) -> dict[str, str]:
    return {
        "since": _local(t.first, 0, 0).isoformat(),
        "until": _local(t.first + timedelta(3), 0, 0).isoformat(),
    }


async def _ids(api: ApiClient, **params: object) -> set[str]:
    r = await api.get("/api/v1/vehicle-passes", params={"page_size": 200, **params})
    assert r.status_code == 200, r.text
    return {p["id"] for p in r.json()["items"]}


@pytest.mark.req("VEH-13", partial=True)
async def test_a_manager_filters_pass_records_and_pages_them(
    app: Litestar, as_role: AsRole, resident: ApiClient, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    t = await _traffic(app, manager, resident, world)
    ids = {k: str(v) for k, v in t.ids.items()}
    rng = _range(t)
    everything = set(ids.values())
    assert await _ids(manager, car_park_id=t.park["id"], **rng) == everything
    assert await _ids(manager, lane_id=t.lane_out["id"]) == {ids["resident_out"]}
    assert await _ids(manager, direction="out", **rng) == {ids["resident_out"]}
    assert await _ids(manager, decision="denied") == {ids["denied"]}
    assert await _ids(manager, vehicle_class="resident", **rng) == {
        ids["resident_in"],
        ids["resident_out"],
    }
    assert await _ids(manager, vehicle_class="unregistered", car_park_id=t.park["id"]) == {
        ids["visitor_in"],
        ids["denied"],
        ids["held"],
    }
    day2 = {
        "since": _local(t.first + timedelta(1), 0, 0).isoformat(),
        "until": _local(t.first + timedelta(2), 0, 0).isoformat(),
    }
    assert await _ids(manager, **day2) == {ids["resident_out"], ids["denied"]}
    # the plate one character off finds the visitor's car (fuzzy), not exactly
    assert await _ids(manager, plate="川A12347", fuzzy="true", **rng) == {
        ids["visitor_in"],
        ids["resident_in"],
        ids["resident_out"],
    }
    assert await _ids(manager, plate="川A12347") == set()
    # pages: newest first, five in pages of two
    r = await manager.get(
        "/api/v1/vehicle-passes", params={"car_park_id": t.park["id"], "page_size": 2, **rng}
    )
    page = r.json()
    assert page["total"] == 5 and [p["id"] for p in page["items"]] == [ids["held"], ids["denied"]]
    assert page["items"][0]["lane_name"] == t.lane_in["name"]
    assert page["items"][0]["image_url"].startswith("http")  # a signed link to the snapshot
    r = await manager.get(
        "/api/v1/vehicle-passes",
        params={"car_park_id": t.park["id"], "page_size": 2, "page": 3, **rng},
    )
    assert [p["id"] for p in r.json()["items"]] == [ids["resident_in"]]
    # another community's manager, and this one asking for B: 404
    other = await as_role(Role.PROPERTY_MANAGER, "b")
    assert_error(
        await other.get("/api/v1/vehicle-passes", params={"community_id": str(world.a.community)}),
        404,
        "not_found",
    )
    assert await _ids(other, car_park_id=t.park["id"]) == set()


async def _exports(actor: object) -> list[dict]:
    return list(
        await AuditEntry.select()
        .where((AuditEntry.action == "vehicle_pass.exported") & (AuditEntry.actor_id == actor))
        .output(load_json=True)
    )


@pytest.mark.req("VEH-13", partial=True)
@pytest.mark.req("DATA-29", partial=True)
async def test_the_csv_export_is_excel_ready_masked_filtered_audited_and_in_scope(
    app: Litestar, as_role: AsRole, resident: ApiClient, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    t = await _traffic(app, manager, resident, world)
    r = await manager.get(
        "/api/v1/vehicle-passes.csv",
        params={"decision": "granted", "car_park_id": t.park["id"], **_range(t)},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "vehicle-passes.csv" in r.headers["content-disposition"]
    assert r.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["时间", "车道", "车场", "方向", "车牌"]
    body = rows[1:]
    assert len(body) == 3  # the three granted passes, newest first
    assert [row[0] for row in body] == [
        _local(t.first + timedelta(1), 18, 5).strftime("%Y-%m-%d %H:%M:%S"),
        _local(t.first, 8, 40).strftime("%Y-%m-%d %H:%M:%S"),
        _local(t.first, 8, 15).strftime("%Y-%m-%d %H:%M:%S"),
    ]
    assert body[0][1:5] == [t.lane_out["name"], t.park["name"], "出场", "川A***45"]
    assert body[0][8] == "放行"
    assert "12345" not in r.text  # plates stay masked
    exports = await _exports(world.a.users[Role.PROPERTY_MANAGER].id)
    assert len(exports) == 1
    assert exports[0]["details"]["decision"] == "granted"
    assert exports[0]["details"]["car_park_id"] == t.park["id"]
    # a plate search exported: the plate masked in the log
    r = await manager.get("/api/v1/vehicle-passes.csv", params={"plate": "川A12345"})
    assert len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) == 1 + 3
    assert (await _exports(world.a.users[Role.PROPERTY_MANAGER].id))[-1]["details"][
        "plate"
    ] == "川A***45"
    # out of scope: another community named, a guard or resident (no export), bad input
    other = await as_role(Role.PROPERTY_MANAGER, "b")
    assert_error(
        await other.get(
            "/api/v1/vehicle-passes.csv", params={"community_id": str(world.a.community)}
        ),
        404,
        "not_found",
    )
    r = await other.get("/api/v1/vehicle-passes.csv")
    assert len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) == 1 + 1  # B's own
    for who in (await as_role(Role.GUARD), resident):
        assert_error(await who.get("/api/v1/vehicle-passes.csv"), 404, "not_found")
    assert_error(
        await manager.get("/api/v1/vehicle-passes.csv", params={"plate": "nonsense"}),
        400,
        "invalid_plate",
    )


@pytest.mark.req("VEH-13", partial=True)
@pytest.mark.req("DATA-29", partial=True)
async def test_statistics_count_the_known_passes(
    app: Litestar, as_role: AsRole, resident: ApiClient, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    t = await _traffic(app, manager, resident, world)
    r = await manager.get("/api/v1/vehicle-passes/statistics", params=_range(t))
    assert r.status_code == 200, r.text
    s = r.json()
    day = [(t.first + timedelta(i)).isoformat() for i in range(3)]
    assert s["total"] == 5
    assert s["days"] == [
        {"day": day[0], "entries": 2, "exits": 0},
        {"day": day[1], "entries": 0, "exits": 1},
        {"day": day[2], "entries": 0, "exits": 0},
    ]
    hours = {h["hour"]: (h["entries"], h["exits"]) for h in s["hours"]}
    assert len(hours) == 24 and hours[8] == (2, 0) and hours[18] == (0, 1)
    assert sum(e for e, _ in hours.values()) == 2
    assert {c["key"]: c["count"] for c in s["classes"]} == {"resident": 2, "unregistered": 3}
    assert {c["key"]: c["count"] for c in s["decisions"]} == {
        "granted": 3,
        "denied": 1,
        "held": 1,
    }
    assert [(x["lane_name"], x["count"]) for x in s["lanes"]] == [
        (t.lane_in["name"], 4),
        (t.lane_out["name"], 1),
    ]
    # one car inside now; worked back: two after the first day, one after the second
    assert [p["occupied"] for p in s["occupancy"]] == [2, 1, 1]
    # one car park named; police of the jurisdiction see the same, another community 404
    r = await manager.get(
        "/api/v1/vehicle-passes/statistics", params={"car_park_id": t.park["id"], **_range(t)}
    )
    assert r.json()["total"] == 5
    police = await as_role(Role.POLICE)
    r = await police.get(
        "/api/v1/vehicle-passes/statistics",
        params={"community_id": str(world.a.community), **_range(t)},
    )
    assert r.json()["days"] == s["days"]
    for params in ({"community_id": str(world.b.community)}, {"car_park_id": str(uuid.uuid4())}):
        assert_error(
            await (police if "community_id" in params else manager).get(
                "/api/v1/vehicle-passes/statistics", params=params
            ),
            404,
            "not_found",
        )
    assert_error(
        await (await as_role(Role.GUARD)).get("/api/v1/vehicle-passes/statistics"),
        404,
        "not_found",
    )


@pytest.mark.req("VEH-13", partial=True)
async def test_police_read_statistics_of_one_community_or_their_whole_jurisdiction_audited(
    app: Litestar, as_role: AsRole, login: Login, resident: ApiClient, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    t = await _traffic(app, manager, resident, world)
    rng = _range(t)
    last = await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first()
    # B belongs to another station: its police see B's one pass, never A's
    other = Jurisdiction(name="另一派出所", code=str(uuid.uuid4().int)[:12])
    await other.save()
    await Community.update({Community.jurisdiction: other.id}).where(
        Community.id == world.b.community
    )
    theirs = await login(await make_account(Role.POLICE, jurisdiction=other.id))
    for params in (
        {"community_id": str(world.a.community)},
        {"car_park_id": t.park["id"]},
    ):
        r = await theirs.get("/api/v1/vehicle-passes/statistics", params={**params, **rng})
        assert_error(r, 404, "not_found")
    r = await theirs.get("/api/v1/vehicle-passes/statistics", params=rng)
    assert r.json()["total"] == 1 and r.json()["community_ids"] == [str(world.b.community)]

    police = await as_role(Role.POLICE)
    whole = (await police.get("/api/v1/vehicle-passes/statistics", params=rng)).json()
    one = (
        await police.get(
            "/api/v1/vehicle-passes/statistics",
            params={"community_id": str(world.a.community), **rng},
        )
    ).json()
    assert whole["community_id"] is None and one["community_id"] == str(world.a.community)
    assert whole["total"] == one["total"] == 5
    assert {d["key"]: d["count"] for d in whole["decisions"]} == {
        "granted": 3,
        "denied": 1,
        "held": 1,
    }
    assert whole["car_parks"] == [
        {
            "car_park_id": t.park["id"],
            "community_id": str(world.a.community),
            "name": t.park["name"],
            "capacity": t.park["capacity"],
            "occupied": 1,
        }
    ]
    # police of both stations: "all" adds the two communities up
    both = await make_account(Role.POLICE, jurisdiction=world.jurisdiction)
    await grant(both, Role.POLICE, jurisdiction=other.id)
    r = await (await login(both)).get("/api/v1/vehicle-passes/statistics", params=rng)
    assert r.json()["total"] == 6 and len(r.json()["community_ids"]) == 2
    # each police read is on the audit log, with what it counted; managers' reads are not
    reads = list(
        await AuditEntry.select()
        .where(
            (AuditEntry.action == "vehicle_pass.stats_read")
            & (AuditEntry.id > (last["id"] if last else 0))
        )
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )
    police_id = world.a.users[Role.POLICE].id
    mine = [e for e in reads if e["actor_id"] == police_id]
    assert [e["details"]["communities"] for e in mine] == [
        [str(world.a.community)],
        [str(world.a.community)],
    ]
    assert mine[1]["community_id"] == world.a.community and mine[0]["details"]["since"]
    assert len(reads) == 4  # the other station's police once, ours twice, both stations once
    assert world.a.users[Role.PROPERTY_MANAGER].id not in {e["actor_id"] for e in reads}


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "2024-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "soon"},
        {"car_park_id": "x"},
    ],
)
async def test_bad_statistics_input_is_a_400(as_role: AsRole, params: dict) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    r = await manager.get("/api/v1/vehicle-passes/statistics", params=params)
    assert r.status_code == 400, r.text


async def _searches(actor: object) -> list[dict]:
    return list(
        await AuditEntry.select()
        .where((AuditEntry.action == "vehicle_pass.searched") & (AuditEntry.actor_id == actor))
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )


@pytest.mark.req("VEH-13", partial=True)
async def test_police_search_a_plate_in_their_jurisdiction_with_images_and_each_search_audited(
    app: Litestar, as_role: AsRole, resident: ApiClient, world: World
) -> None:
    manager = await as_role(Role.PROPERTY_MANAGER)
    t = await _traffic(app, manager, resident, world)
    police = await as_role(Role.POLICE)
    r = await police.get(
        "/api/v1/vehicle-passes", params={"plate": "川C55556", "fuzzy": "true", **_range(t)}
    )
    assert r.status_code == 200, r.text
    [found] = r.json()["items"]
    assert found["id"] == str(t.ids["held"]) and found["lane_name"] == t.lane_in["name"]
    assert found["plate"] == "川C***55" and found["image_url"]
    # B is not theirs: the same plate read there is never found
    await store_pass(app, world.b.community, "川C55555")
    r = await police.get("/api/v1/vehicle-passes", params={"plate": "川C55555"})
    assert [p["id"] for p in r.json()["items"]] == [str(t.ids["held"])]
    searches = await _searches(world.a.users[Role.POLICE].id)
    assert [
        (s["details"]["plate"], s["details"]["fuzzy"], s["details"]["found"]) for s in searches
    ] == [
        ("川C***56", True, 1),
        ("川C***55", False, 1),
    ]
    assert "since" in searches[0]["details"]  # the query's other filters are kept too
    # their CSV is their jurisdiction's; B's is 404
    r = await police.get("/api/v1/vehicle-passes.csv", params={"plate": "川C55555"})
    assert len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) == 2
    assert_error(
        await police.get(
            "/api/v1/vehicle-passes.csv", params={"community_id": str(world.b.community)}
        ),
        404,
        "not_found",
    )
