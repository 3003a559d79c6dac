"""An account that is a resident in community A and staff in community B sees, on every read
endpoint, its household's rows of A and the staff rows of B — never A's other rows.

The expectation is measured, not written per endpoint: the mixed account must see exactly what a
resident of the same household and a staff member of B see between them. The endpoints come from
the app's own routes, so a new GET endpoint is checked without anyone remembering to add it.
"""

from __future__ import annotations

import inspect
import json
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from piccolo.table import Table

from api.access.tables import AccessGroup, AccessPoint, AccessRecord, AccessSchedule, Credential
from api.accounts.joining.tables import JoinRequest
from api.alarms.tables import Alarm, EmergencyPlan, IntrusionZone, LinkageRule
from api.communities.tables import Building, Community, Household, Unit
from api.core.auth import Role
from api.core.crypto import FieldCipher
from api.devices.tables import Bridge, Device, SparePart
from api.intercom.tables import Call
from api.operations.tables import Drill, Handover, OpsRecord
from api.patrol.tables import (
    CameraTour,
    Checkpoint,
    PatrolArea,
    PatrolPlan,
    PatrolRound,
    PatrolRoute,
    PatrolScan,
    TourRun,
)
from api.people.imports.tables import PersonImport
from api.people.tables import Person
from api.vehicles import identifiers
from api.vehicles.tables import CarPark, Lane, PassRecord, Vehicle
from api.visitors.passes import CONTEXTS
from api.visitors.tables import VisitorPass
from api.workorders.tables import LabelRequest, MaintenancePlan, WorkOrder
from tests.helpers import ApiClient, Login, Site, TestUser, World, grant, make_account, on_duty

# GET endpoints that hold no community's or household's rows, with why.
NOT_SCOPED = {
    "/": "the PWA's app shell (static)",
    "/{path:path}": "the PWA's static files",
    "/healthz": "liveness probe",
    "/readyz": "readiness probe",
    "/metrics": "process metrics",
    "/api/v1/auth/me": "the caller's own account",
    "/api/v1/push/subscriptions": "the caller's own devices",
    "/api/v1/push/vapid-public-key": "a public key",
    "/api/v1/media/ice-servers": "STUN/TURN addresses for the caller",
    "/api/v1/public/passes/{token:str}": "public, reached by the share token alone",
    "/api/v1/public/join/{code:str}": "public: a community's buildings and units, by its join link",
    "/api/v1/public/parking/lanes/{token:str}": "public: a lane's QR page, by its token alone",
    "/api/v1/public/parking/orders/{token:str}": "public: a parking order, by its token alone",
    "/api/v1/public/parking/sim/{reference:str}": "public: the demo cashier, by the charge alone",
    "/api/v1/objects/{key:path}": "reached by a signed URL alone",
    "/api/v1/accounts": "administrators only (account.read), no community role reaches it",
    "/api/v1/accounts/{account_id:uuid}": "administrators only (account.read)",
    "/api/v1/audit": "administrators only (audit.read)",
    "/api/v1/audit/verify": "administrators only (audit.read)",
    "/api/v1/person-imports/templates/residents.csv": "a static template (person.write only)",
    "/api/v1/person-imports/templates/residents.xlsx": "a static template (person.write only)",
    "/api/v1/public/report/{label_code:str}": "public: an asset's name and place, by its label",
    "/api/v1/public/track/{tracking_code:str}": "public, reached by the tracking code alone",
    "/api/v1/patrol/checkpoints/labels": (
        "a PDF of one route's or area's labels, named by a query id (another community's: 404, "
        "tests/patrol/test_labels.py)"
    ),
}

# Endpoints that answer sums rather than rows: the mixed caller's are the two views' sums.
COUNTS = {"/api/v1/alarms/counts"}

# Endpoints whose answer names its own time range (by default up to now): asked for a fixed one.
RANGES = {"/api/v1/vehicle-passes/statistics"}

# Where the ids for a path parameter come from: every row of the two communities.
SOURCES: dict[str, tuple[type[Table], str]] = {
    "community_id": (Community, "id"),
    "building_id": (Building, "community"),
    "unit_id": (Unit, "community"),
    "household_id": (Household, "community"),
    "person_id": (Person, "community"),
    "point_id": (AccessPoint, "community"),
    "credential_id": (Credential, "community"),
    "device_id": (Device, "community"),
    "asset_id": (Device, "community"),
    "part_id": (SparePart, "community"),
    "call_id": (Call, "community"),
    "alarm_id": (Alarm, "community"),
    "zone_id": (IntrusionZone, "community"),
    "plan_id": (EmergencyPlan, "community"),
    "rule_id": (LinkageRule, "community"),
    "pass_id": (VisitorPass, "community"),
    "vehicle_id": (Vehicle, "community"),
    "car_park_id": (CarPark, "community"),
    "lane_id": (Lane, "community"),
    "record_id": (PassRecord, "community"),
    "area_id": (PatrolArea, "community"),
    "checkpoint_id": (Checkpoint, "community"),
    "patrol_route_id": (PatrolRoute, "community"),
    "patrol_plan_id": (PatrolPlan, "community"),
    "round_id": (PatrolRound, "community"),
    "scan_id": (PatrolScan, "community"),
    "order_id": (WorkOrder, "community"),
    "import_id": (PersonImport, "community"),
    "tour_id": (CameraTour, "community"),
    "run_id": (TourRun, "community"),
    "request_id": (JoinRequest, "community"),
    "ops_record_id": (OpsRecord, "community"),
    "drill_id": (Drill, "community"),
    "handover_id": (Handover, "community"),
    "label_request_id": (LabelRequest, "community"),
    "maintenance_plan_id": (MaintenancePlan, "community"),
}


def _scoped_get_routes(app: Litestar) -> list[HTTPRoute]:
    routes = [
        r
        for r in app.routes
        if isinstance(r, HTTPRoute)
        and "GET" in r.methods
        and not r.path.startswith("/schema")
        and r.path not in NOT_SCOPED
    ]
    return sorted(routes, key=lambda r: r.path)


def _community_query(route: HTTPRoute) -> bool | None:
    """Whether the handler takes a community_id query parameter: True required, False optional."""
    handler = next(h for h in route.route_handlers if "GET" in h.http_methods)
    params = inspect.signature(handler.fn).parameters
    if "community_id" not in params or "{community_id" in route.path:
        return None
    return params["community_id"].default is inspect.Parameter.empty


async def _seed(site: Site, staff: TestUser, cipher: FieldCipher) -> None:
    """Rows of every kind in a community: each household's own, and staff-only ones."""
    now = datetime.now(UTC)
    h0, h1 = site.households
    p0, p1 = site.persons
    bridge = Bridge(community=site.community, name="b", public_key=uuid.uuid4().hex)
    await bridge.save()
    door = Device(
        community=site.community,
        bridge=bridge.id,
        external_id="door",
        kind="door_controller",
        name="东门",
    )
    camera = Device(
        community=site.community, bridge=bridge.id, external_id="cam", kind="camera", name="东门"
    )
    await Device.insert(door, camera)
    await Device(community=site.community, external_id="", kind="hydrant", name="消火栓").save()
    unit = await Unit.select(Unit.id).where(Unit.community == site.community).first()
    await JoinRequest(  # a self-registration waiting for the manager: staff-only
        community=site.community,
        unit=unit["id"] if unit else None,
        room="0301",
        name="王五",
        phone=cipher.encrypt("13700000000", context="persons.phone"),
        phone_index=cipher.blind_index("13700000000", kind="phone"),
        username=f"wang-{uuid.uuid4().hex[:8]}",
        password_hash="x",
        created_at=now,
    ).save()
    await SparePart(community=site.community, code="P1", name="读卡器", stock=1).save()
    # O&M records, a drill and a handover: staff-only
    await OpsRecord(
        community=site.community,
        kind="incident",
        state="new",
        severity="minor",
        title="视频中断",
        details={"kind": "incident"},
        created_at=now,
        updated_at=now,
    ).save()
    await Drill(
        community=site.community,
        kind="training",
        title="培训",
        held_at=now,
        content="x",
        created_at=now,
        updated_at=now,
    ).save()
    await Handover(community=site.community, notes="无异常", created_at=now).save()
    await AccessPoint(community=site.community, device=door.id, name="东门", kind="gate").save()
    schedule = AccessSchedule(community=site.community, name="日间")
    await schedule.save()
    await AccessGroup(community=site.community, name="住户", schedule=schedule.id).save()
    await Credential.insert(
        *(
            Credential(community=site.community, kind="card", person=p, household=h, masked="**1")
            for p, h in ((p0, h0), (p1, h1))
        )
    )
    await AccessRecord.insert(
        *(
            AccessRecord(
                community=site.community, device=door.id, person=p, method="card", result="granted"
            )
            for p in (p0, p1, None)
        )
    )
    zones = [
        IntrusionZone(community=site.community, household=h, name="z", kind=k)
        for h, k in ((h0, "household"), (h1, "household"), (None, "perimeter"))
    ]
    await IntrusionZone.insert(*zones)
    await Alarm.insert(
        *(
            Alarm(community=site.community, type="intrusion", household=h, zone=z.id, title="t")
            for h, z in zip((h0, h1, None), zones, strict=True)
        )
    )
    await EmergencyPlan(community=site.community, alarm_type="fire", title="火警").save()
    await LinkageRule(community=site.community, name="r", alarm_type="fire").save()
    await on_duty(staff, site.community)
    await Call.insert(
        *(
            Call(community=site.community, station=door.id, household=h, target=t)
            for h, t in ((h0, "household"), (h1, "household"), (None, "guard_room"))
        )
    )
    await VisitorPass.insert(
        *(
            VisitorPass(
                community=site.community,
                household=h,
                created_by=staff.id,
                visitor_name="王五",
                phone=cipher.encrypt("13800000000", context=CONTEXTS["phone"]),
                phone_index=uuid.uuid4().hex,
                valid_from=now,
                valid_until=now + timedelta(hours=2),
                status="active",
                inside=True,
            )
            for h in (h0, h1)
        )
    )
    await CarPark(community=site.community, name="地下车库", capacity=10).save()
    for n, h in enumerate((h0, h1, None)):
        stored = identifiers.stored(cipher, f"川A1234{n}")
        await Vehicle(
            community=site.community,
            household=h,
            plate=stored.plate,
            plate_index=stored.plate_index,
            plate_masked=stored.plate_masked,
            plate_class="standard",
            vehicle_class="resident" if h else "staff",
            status="active",
        ).save()
        await PassRecord(
            community=site.community,
            household=h,
            at=now,
            direction="in",
            decision="granted",
            plate=stored.plate,
            plate_index=stored.plate_index,
            plate_masked=stored.plate_masked,
        ).save()
    area = PatrolArea(community=site.community, name="东区")
    await area.save()
    point = Checkpoint(community=site.community, area=area.id, name="东门", code=uuid.uuid4().hex)
    await point.save()
    route = PatrolRoute(community=site.community, name="外围", checkpoints=[str(point.id)])
    await route.save()
    plan = PatrolPlan(
        community=site.community,
        route=route.id,
        name="外围",
        guards=[str(staff.id)],
        day_starts=time(6),
        night_starts=time(20),
        day_every=120,
        night_every=60,
        round_minutes=30,
        grace_minutes=10,
    )
    await plan.save()
    round_ = PatrolRound(
        community=site.community,
        plan=plan.id,
        route_name="外围",
        checkpoints=[{"id": str(point.id), "name": "东门"}],
        guards=[str(staff.id)],
        starts_at=now,
        due_at=now + timedelta(minutes=30),
        closes_at=now + timedelta(minutes=40),
    )
    await round_.save()
    await PatrolScan(
        community=site.community,
        round=round_.id,
        checkpoint=point.id,
        guard=staff.id,
        phone_at=now,
        server_at=now,
        at=now,
        accepted=True,
    ).save()
    await WorkOrder.insert(
        *(
            WorkOrder(
                community=site.community,
                kind="repair" if h else "manual",
                priority="normal",
                title="t",
                household=h,
                device=door.id,
                created_at=now,
                due_at=now + timedelta(hours=24),
            )
            for h in (h0, h1, None)
        )
    )
    await PersonImport(
        community=site.community,
        created_by=staff.id,
        created_by_name=staff.username,
        file_key=f"imports/{site.community}/seed.csv",
        file_name="seed.csv",
    ).save()
    await LabelRequest(
        community=site.community,
        device=door.id,
        description="灯不亮",
        phone=cipher.encrypt("13700001111", context="label_requests.phone"),
        phone_index=cipher.blind_index("13700001111", kind="phone"),
        tracking_hash=uuid.uuid4().hex * 2,
        created_at=now,
    ).save()
    await MaintenancePlan(
        community=site.community,
        name="灭火器月检",
        asset_kind="extinguisher",
        frequency="monthly",
        starts_on=now.date(),
        due_time=time(17),
        created_at=now,
        updated_at=now,
    ).save()
    tour = CameraTour(
        community=site.community,
        name="大门",
        cameras=[str(camera.id)],
        dwell_seconds=20,
        day_starts=time(6),
        night_starts=time(20),
        day_every=240,
        night_every=120,
        run_minutes=15,
    )
    await tour.save()
    await TourRun(
        community=site.community,
        tour=tour.id,
        tour_name="大门",
        cameras=[{"id": str(camera.id), "name": "东门"}],
        dwell_seconds=20,
        starts_at=now,
        due_at=now + timedelta(minutes=15),
    ).save()


def _counts(*responses: Any) -> dict[str, int] | None:
    """The element-wise sum of count answers; None when every one answers 404."""
    found = [r.json() for r in responses if r.status_code != 404]
    if not found:
        return None
    return {key: sum(counts[key] for counts in found) for key in found[0]}


def _seen(response: Any) -> frozenset[str] | None:
    """What a response shows: the ids of its rows; None when it answers 404."""
    if response.status_code == 404:
        return None
    assert response.status_code == 200, (response.request.url, response.text)
    if response.headers["content-type"].startswith("text/csv"):
        return frozenset(response.text.splitlines()[1:])
    body = response.json()
    rows = body["items"] if isinstance(body, dict) and "items" in body else body
    if not isinstance(rows, list):
        rows = [rows]
    return frozenset(
        str(r["id"]) if isinstance(r, dict) and "id" in r else json.dumps(r, sort_keys=True)
        for r in rows
    )


@pytest.mark.parametrize("staff_role", [Role.GUARD, Role.PROPERTY_MANAGER])
async def test_a_resident_here_and_staff_there_sees_only_their_household_here(
    app: Litestar, world: World, login: Login, staff_role: Role
) -> None:
    a, b = world.a, world.b
    for site in (a, b):
        await _seed(site, site.users[Role.GUARD], app.state.cipher)
    mixed = await make_account(staff_role, community=b.community, person=a.persons[0])
    await grant(mixed, Role.RESIDENT, community=a.community, household=a.households[0])
    clients: dict[str, ApiClient] = {
        "mixed": await login(mixed),
        "resident": await login(a.users[Role.RESIDENT]),  # the same household and person
        "staff": await login(b.users[staff_role]),
        "manager of A": await login(a.users[Role.PROPERTY_MANAGER]),
    }
    ids: dict[str, list[str]] = {}
    for name, (table, column) in SOURCES.items():
        rows = await table.select(table._meta.primary_key).where(
            getattr(table, column).is_in([a.community, b.community])
        )
        ids[name] = [str(r[table._meta.primary_key._meta.name]) for r in rows]

    checked, leaks, unknown = 0, [], []
    teeth = set()  # endpoints where A's manager sees rows A's resident does not: a leak would show
    for route in _scoped_get_routes(app):
        params = list(route.path_parameters)
        if any(p not in ids for p in params):
            unknown.append(route.path)
            continue
        urls = [route.path_format]
        for p in params:
            urls = [u.replace("{" + p + "}", v) for u in urls for v in ids[p]]
        queries: list[dict[str, str]] = [{}]
        community = _community_query(route)
        if community is not None:
            each = [{"community_id": str(c)} for c in (a.community, b.community)]
            queries = each if community else [{}, *each]
        if route.path in RANGES:
            until = datetime.now(UTC)
            span = {"since": (until - timedelta(days=7)).isoformat(), "until": until.isoformat()}
            queries = [{**query, **span} for query in queries]
        for url in urls:
            for query in queries:
                answers = {
                    name: await api.get(url, params={**query, "page_size": 200})
                    for name, api in clients.items()
                }
                checked += 1
                if route.path in COUNTS:
                    got, want = (
                        _counts(answers["mixed"]),
                        _counts(answers["resident"], answers["staff"]),
                    )
                    if got != want:
                        leaks.append(f"{route.path} {query}: {got} instead of {want}")
                    continue
                seen = {name: _seen(answer) for name, answer in answers.items()}
                expected = None
                if seen["resident"] is not None or seen["staff"] is not None:
                    expected = (seen["resident"] or frozenset()) | (seen["staff"] or frozenset())
                if seen["mixed"] != expected:
                    leaks.append(f"{route.path} {query}: {seen['mixed']} instead of {expected}")
                if (seen["manager of A"] or frozenset()) - (seen["resident"] or frozenset()):
                    teeth.add(route.path)
    assert not unknown, f"GET endpoints with a parameter this test cannot fill: {unknown}"
    assert not leaks, "\n".join(leaks)
    assert checked > 100
    assert {
        "/api/v1/access-records",
        "/api/v1/alarms",
        "/api/v1/persons",
        "/api/v1/households",
        "/api/v1/visitor-passes",
        "/api/v1/calls",
        "/api/v1/zones",
        "/api/v1/patrol/rounds",
        "/api/v1/workorders",
    } <= teeth
