"""Scans: accepted with both clocks, stored once however often sent, refused with a reason and
recorded, and marked by anomaly flags without being refused."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from litestar import Litestar

from api.core.auth import Role
from api.core.storage import RetentionClass
from api.patrol import rounds
from api.patrol.tables import PatrolRound, PatrolScan
from tests.fixtures import AsRole
from tests.helpers import JPEG, World, assert_error, audit_rows
from tests.patrol.helpers import Patrol, scan_body, set_up_patrol

SCANS = "/api/v1/patrol/scans"


@pytest.mark.req("PAT-01", "PAT-04", partial=True)
async def test_a_guard_walks_a_round_and_each_scan_keeps_the_phones_time_and_the_servers(
    patrol: Patrol, as_role: AsRole
) -> None:
    guard = await as_role(Role.GUARD)
    # made 3, 2 and 1 minutes ago and sent now: the phone was offline
    bodies = [scan_body(code, ago=180 - 60 * i) for i, code in enumerate(patrol.codes)]

    answers = [await guard.post(SCANS, json=b) for b in bodies]

    for answer, body in zip(answers, bodies, strict=True):
        assert answer.status_code == 201, answer.text
        scan = answer.json()
        assert scan["accepted"] is True and scan["reason"] == ""
        assert scan["round_id"] == patrol.round
        assert scan["flags"] == []
        phone_at = datetime.fromisoformat(scan["phone_at"])
        assert phone_at == datetime.fromisoformat(body["scanned_at"])
        assert datetime.fromisoformat(scan["server_at"]) - phone_at > timedelta(seconds=55)
        assert abs(datetime.fromisoformat(scan["at"]) - phone_at) < timedelta(seconds=5)
    walked = (await guard.get(f"/api/v1/patrol/rounds/{patrol.round}")).json()
    assert [c["scanned_at"] is not None for c in walked["checkpoints"]] == [True] * 3
    assert walked["next_checkpoint_id"] is None
    assert await audit_rows("patrol.scan", bodies[0]["id"])


@pytest.mark.req("PAT-01", partial=True)
async def test_a_scan_sent_again_from_the_offline_queue_is_stored_once(
    patrol: Patrol, as_role: AsRole
) -> None:
    guard = await as_role(Role.GUARD)
    body = scan_body(patrol.codes[0], ago=30)

    first = await guard.post(SCANS, json=body)
    again = await guard.post(SCANS, json={**body, "sent_at": datetime.now(UTC).isoformat()})
    b_guard = await as_role(Role.GUARD, "b")
    theirs = await b_guard.post(SCANS, json=body)

    assert first.status_code == 201 and again.status_code == 201
    assert again.json() == first.json()
    assert await PatrolScan.count().where(PatrolScan.id == UUID(body["id"])) == 1
    assert len(await audit_rows("patrol.scan", body["id"])) == 1
    assert_error(theirs, 404, "not_found")  # someone else's scan id is not theirs to read


@pytest.mark.req("PAT-01", partial=True)
async def test_forged_foreign_and_out_of_round_scans_are_refused_with_a_reason_and_recorded(
    patrol: Patrol, as_role: AsRole, world: World
) -> None:
    guard = await as_role(Role.GUARD)
    b_manager = await as_role(Role.PROPERTY_MANAGER, "b")
    b_patrol = await set_up_patrol(
        b_manager, world.b.community, [world.b.users[Role.GUARD].id], [("B 门", None, None)]
    )
    off_route = await patrol.manager.post(
        "/api/v1/patrol/checkpoints", json={"area_id": patrol.area, "name": "不在路线上"}
    )
    cases = {
        "unknown_code": scan_body("anju-cp:" + "x" * 22),
        "other_community": scan_body(b_patrol.codes[0]),
        "outside_round": scan_body(off_route.json()["code"]),
        "outside_round ": scan_body(patrol.codes[0], ago=3600),  # before the round began
    }

    for reason, body in cases.items():
        answer = await guard.post(SCANS, json=body)
        assert_error(answer, 409, "scan_refused")
        assert answer.json()["extra"] == {"reason": reason.strip(), "scan_id": body["id"]}
        again = await guard.post(SCANS, json=body)
        assert again.json() == answer.json()  # the same refusal, stored once
        row = await PatrolScan.select().where(PatrolScan.id == UUID(body["id"])).first()
        assert row["accepted"] is False and row["reason"] == reason.strip()
        assert row["community"] == world.a.community  # recorded where the guard patrols
        assert row["guard"] == world.a.users[Role.GUARD].id
        assert len(await audit_rows("patrol.scan_refused", body["id"])) == 1
    foreign = (
        await PatrolScan.select()
        .where(PatrolScan.id == UUID(cases["other_community"]["id"]))
        .first()
    )
    assert foreign["checkpoint"] is None  # B's point is not named on A's record
    refused = await patrol.manager.get(SCANS, params={"accepted": False, "page_size": 200})
    assert {s["id"] for s in refused.json()["items"]} >= {b["id"] for b in cases.values()}
    b_sees = await b_manager.get(SCANS, params={"page_size": 200})
    assert not {s["id"] for s in b_sees.json()["items"]} & {b["id"] for b in cases.values()}


async def test_scans_by_a_manager_or_with_a_bad_body_are_refused(
    patrol: Patrol, as_role: AsRole
) -> None:
    guard = await as_role(Role.GUARD)

    by_manager = await patrol.manager.post(SCANS, json=scan_body(patrol.codes[0]))
    no_phone = await guard.post(SCANS, json={**scan_body(patrol.codes[0]), "phone": ""})
    not_a_photo = await guard.post(
        SCANS,
        json={
            **scan_body(patrol.codes[0]),
            "photo": {"content_type": "image/jpeg", "data": "aGVsbG8gd29ybGQ="},
        },
    )

    naive = await guard.post(
        SCANS, json={**scan_body(patrol.codes[0]), "sent_at": "2026-12-03T12:00:00"}
    )

    assert_error(by_manager, 404, "not_found")
    assert_error(no_phone, 422, "invalid_body")
    assert_error(naive, 422, "invalid_body")  # a time without its zone is no time
    assert_error(not_a_photo, 400, "invalid_photo")


@pytest.mark.req("PAT-01", partial=True)
async def test_anomalies_mark_scans_without_refusing_them(patrol: Patrol, as_role: AsRole) -> None:
    guard = await as_role(Role.GUARD)
    first, second, third = patrol.codes
    note_point = patrol.checkpoints[2]
    await patrol.manager.patch(
        f"/api/v1/patrol/checkpoints/{note_point}", json={"needs_note": True}
    )

    skewed = await guard.post(SCANS, json=scan_body(first, ago=20, skew=600, phone="p1"))
    # 44 m from the first point in a second or two, and from another phone
    fast = await guard.post(SCANS, json=scan_body(second, ago=19, phone="p2"))
    same_point = await guard.post(SCANS, json=scan_body(second, ago=18, phone="p1"))
    last = await guard.post(SCANS, json=scan_body(third, ago=17, phone="p1"))

    for answer in (skewed, fast, same_point, last):
        assert answer.status_code == 201, answer.text
    assert skewed.json()["flags"] == ["clock_skew"]
    assert skewed.json()["phone_at"] != skewed.json()["at"]  # counted on the server's clock
    assert abs(
        datetime.fromisoformat(skewed.json()["at"]) - (datetime.now(UTC) - timedelta(seconds=20))
    ) < timedelta(seconds=10)
    assert "impossible_speed" in fast.json()["flags"]
    assert {"repeat", "two_phones"} <= set(same_point.json()["flags"])
    assert {"round_too_fast", "note_missing"} <= set(last.json()["flags"])
    assert all(a.json()["accepted"] for a in (skewed, fast, same_point, last))


async def test_a_photo_of_a_point_that_asks_for_one_is_kept_with_the_scan(
    patrol: Patrol, as_role: AsRole, app: Litestar
) -> None:
    guard = await as_role(Role.GUARD)
    point = patrol.checkpoints[0]
    await patrol.manager.patch(f"/api/v1/patrol/checkpoints/{point}", json={"needs_photo": True})
    photo = {"content_type": "image/jpeg", "data": base64.b64encode(JPEG).decode()}

    without = await guard.post(SCANS, json=scan_body(patrol.codes[0], ago=60))
    with_photo = await guard.post(SCANS, json=scan_body(patrol.codes[0], photo=photo))

    walked = (await guard.get(f"/api/v1/patrol/rounds/{patrol.round}")).json()
    assert [(c["needs_photo"], c["needs_note"]) for c in walked["checkpoints"]] == [
        (True, False),
        (False, False),
        (False, False),
    ]
    assert without.json()["flags"] == ["photo_missing"]
    assert "photo_missing" not in with_photo.json()["flags"]
    row = await PatrolScan.select().where(PatrolScan.id == UUID(with_photo.json()["id"])).first()
    assert row["photo"].startswith(f"patrol/{row['community']}/")
    store = app.state.objects
    assert await store.get(row["photo"]) == JPEG
    assert await store.retention_of(row["photo"]) == RetentionClass.RECORD_6M


async def test_a_scan_stored_while_its_round_ends_is_in_the_summary_or_refused(
    patrol: Patrol, as_role: AsRole
) -> None:
    guard = await as_role(Role.GUARD)
    round_ = await PatrolRound.select().where(PatrolRound.id == UUID(patrol.round)).first()
    assert round_ is not None
    body = scan_body(patrol.codes[0])

    # the sweep and the scan at once: whichever takes the round's row first, the other follows it
    answer, _ = await asyncio.gather(
        guard.post(SCANS, json=body), rounds.end_due(now=round_["closes_at"])
    )

    ended = (await guard.get(f"/api/v1/patrol/rounds/{patrol.round}")).json()
    if answer.status_code == 201:
        assert ended["summary"]["scanned"] == 1
    else:
        assert answer.json()["extra"]["reason"] == "round_ended"
        assert ended["summary"]["scanned"] == 0
