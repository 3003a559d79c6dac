"""The visitor desk: walk-ins with an ID check, the household's consent, both sides live."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from api.access.tables import Credential
from api.core.auth import Role
from api.push.tables import Notification
from api.visitors.tables import VisitorPass
from tests.fixtures import AsRole
from tests.helpers import (
    World,
    assert_error,
    audit_rows,
    live_socket,
    make_account,
    next_event,
    subscribe,
)
from tests.jobs import Jobs
from tests.visitors.helpers import walk_in


async def _pushed(account: object, pass_id: str) -> list[dict]:
    rows = await Notification.select().where(Notification.account == account).output(load_json=True)
    return [r for r in rows if r["payload"]["data"].get("pass_id") == pass_id]


@pytest.mark.req("VIS-01")
@pytest.mark.req("ACC-19", partial=True)
class TestWalkIn:
    async def test_household_consents_and_the_desk_sees_it(
        self, live_url: str, login: Callable, world: World, jobs: Jobs
    ) -> None:
        resident_user, guard_user = world.a.users[Role.RESIDENT], world.a.users[Role.GUARD]
        await subscribe(resident_user)
        guard = await login(guard_user)
        async with live_socket(live_url, resident_user) as phone:
            answer = await guard.post(
                "/api/v1/visitor-desk/walk-ins", json=walk_in(world.a.households[0])
            )
            assert answer.status_code == 201, answer.text
            created = answer.json()
            asked = await next_event(phone, lambda e: e["type"] == "visitor.consent_requested")
        assert created["status"] == "pending_consent" and created["walk_in"] is True
        assert created["id_number"] == "5101**********1230"
        assert created["visitor_phone"] == "139****2222"
        assert (asked["pass_id"], asked["visitor_name"]) == (created["id"], "赵师傅")
        assert asked["purpose"] == "送货"
        [push] = await _pushed(resident_user.id, created["id"])
        assert push["payload"]["title"] == "访客登记待确认" and push["urgency"] == "high"
        assert push["payload"]["url"] == f"/visitors/{created['id']}"
        assert await Credential.count().where(Credential.visitor_pass == created["id"]) == 0
        [entry] = await audit_rows("visitor_pass.walk_in_registered", created["id"])
        assert entry["details"]["id_type"] == "resident_id"
        assert "510104199001011230" not in str(entry)

        resident = await login(resident_user)
        async with live_socket(live_url, guard_user) as desk:
            answer = await resident.post(
                f"/api/v1/visitor-passes/{created['id']}/consent", json={"approve": True}
            )
            assert answer.status_code == 200, answer.text
            told = await next_event(desk, lambda e: e["type"] == "visitor.consent")
        assert (told["pass_id"], told["approved"]) == (created["id"], True)
        approved = answer.json()
        assert approved["status"] == "active"
        assert approved["consent_by"] == str(resident_user.id) and approved["consent_at"]
        kinds = await Credential.select(Credential.kind).where(
            Credential.visitor_pass == created["id"]
        )
        assert [k["kind"] for k in kinds] == ["code"]  # one credential: keypad codes and QR
        assert await audit_rows("visitor_pass.consent_given", created["id"])
        again = await resident.post(
            f"/api/v1/visitor-passes/{created['id']}/consent", json={"approve": False}
        )
        assert_error(again, 409, "visitor_pass_not_pending")
        # The guard shares the visitor's link from the desk.
        share = await guard.post(f"/api/v1/visitor-passes/{created['id']}/share")
        assert share.status_code == 200, share.text

    async def test_household_declines(
        self, as_role: AsRole, live_url: str, world: World, jobs: Jobs
    ) -> None:
        guard = await as_role(Role.GUARD)
        created = (
            await guard.post("/api/v1/visitor-desk/walk-ins", json=walk_in(world.a.households[0]))
        ).json()
        resident = await as_role(Role.RESIDENT)
        async with live_socket(live_url, world.a.users[Role.PROPERTY_MANAGER]) as desk:
            answer = await resident.post(
                f"/api/v1/visitor-passes/{created['id']}/consent", json={"approve": False}
            )
            told = await next_event(desk, lambda e: e["type"] == "visitor.consent")
        assert answer.status_code == 200 and answer.json()["status"] == "declined"
        assert (told["pass_id"], told["approved"]) == (created["id"], False)
        assert await Credential.count().where(Credential.visitor_pass == created["id"]) == 0
        assert await audit_rows("visitor_pass.consent_refused", created["id"])

    async def test_only_the_household_answers(
        self, as_role: AsRole, login: Callable, world: World, jobs: Jobs
    ) -> None:
        guard = await as_role(Role.GUARD)
        created = (
            await guard.post("/api/v1/visitor-desk/walk-ins", json=walk_in(world.a.households[0]))
        ).json()
        neighbour = await make_account(
            Role.RESIDENT, community=world.a.community, household=world.a.households[1]
        )
        for user in (neighbour, world.a.users[Role.GUARD], world.b.users[Role.RESIDENT]):
            api = await login(user)
            answer = await api.post(
                f"/api/v1/visitor-passes/{created['id']}/consent", json={"approve": True}
            )
            assert_error(answer, 404, "not_found")
        row = (
            await VisitorPass.select(VisitorPass.status)
            .where(VisitorPass.id == created["id"])
            .first()
        )
        assert row == {"status": "pending_consent"}

    async def test_bad_input_and_scope(
        self, as_role: AsRole, login: Callable, world: World, jobs: Jobs
    ) -> None:
        guard = await as_role(Role.GUARD)
        household = world.a.households[0]
        cases = [
            (walk_in(household, id_number="510104199001011231"), 400, "invalid_id_number"),
            (walk_in(household, id_type="passport", id_number="12"), 400, "invalid_id_number"),
            (
                walk_in(household, id_type="hk_macao_permit", id_number="X1234567"),
                400,
                "invalid_id_number",
            ),
            (walk_in(household, visitor_phone="0281234"), 400, "invalid_phone"),
            (walk_in(household, valid_until="2020-01-01T00:00:00+08:00"), 400, "invalid_window"),
            (walk_in(household, purpose="   "), 422, "invalid_body"),
            (walk_in(household, id_type="driving_licence"), 422, "invalid_body"),
            (walk_in(world.b.households[0]), 404, "not_found"),
        ]
        for body, status, code in cases:
            answer = await guard.post("/api/v1/visitor-desk/walk-ins", json=body)
            assert_error(answer, status, code)
        for user in (world.a.users[Role.RESIDENT], world.a.users[Role.POLICE]):
            api = await login(user)
            answer = await api.post("/api/v1/visitor-desk/walk-ins", json=walk_in(household))
            assert_error(answer, 404, "not_found")
            assert_error(await api.get("/api/v1/visitor-desk/inside"), 404, "not_found")
        assert await VisitorPass.count().where(VisitorPass.community == world.a.community) == 0
        passport = walk_in(household, id_type="passport", id_number="e12345678")
        answer = await guard.post("/api/v1/visitor-desk/walk-ins", json=passport)
        assert answer.status_code == 201 and answer.json()["id_number"] == "E1*****78"
