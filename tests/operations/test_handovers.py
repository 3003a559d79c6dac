"""The duty handover log on the duty roster: the outgoing guard hands over (open items, notes,
keys and equipment) on their shift to the incoming guard, who is told and acknowledges once;
the log reads per community and shift; another community's ids are 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from api.alarms.tables import DutyShift
from api.core.auth import Role
from api.push.tables import Notification
from tests.fixtures import AsRole, Login
from tests.helpers import World, assert_error, audit_rows, make_account, subscribe

URL = "/api/v1/operations/handovers"


async def _shift(account: UUID, community: UUID, starts: datetime, hours: int = 12) -> UUID:
    shift = DutyShift(
        community=community,
        account=account,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        created_at=datetime.now(UTC),
    )
    await shift.save()
    return shift.id


@pytest.mark.req("OPS-11", partial=True)
async def test_the_outgoing_guard_hands_over_on_the_roster_and_the_incoming_one_acknowledges(
    as_role: AsRole, login: Login, world: World
) -> None:
    community = world.a.community
    outgoing = world.a.users[Role.GUARD]
    incoming = await make_account(Role.GUARD, community=community)
    await subscribe(incoming)
    now = datetime.now(UTC)
    day = await _shift(outgoing.id, community, now - timedelta(hours=11))
    night = await _shift(incoming.id, community, now + timedelta(hours=1))

    guard = await as_role(Role.GUARD)
    r = await guard.get(f"{URL}/guards")
    assert {g["id"] for g in r.json()} == {str(incoming.id), str(outgoing.id)}
    r = await guard.post(
        URL,
        json={
            "to_account_id": str(incoming.id),
            "open_items": "3栋电梯困人报警待维保确认",
            "notes": "东门道闸夜间手动抬杆",
            "keys_equipment": "对讲机 4 台、门禁总钥匙 1 把",
        },
    )
    assert r.status_code == 201, r.text
    handover = r.json()
    assert handover["state"] == "pending"
    assert handover["shift_id"] == str(day)  # the caller's shift running now
    assert handover["to_shift_id"] == str(night)  # the incoming guard's next shift
    assert handover["from_name"] == outgoing.username and handover["to_name"] == incoming.username
    pushed = await Notification.select().where(Notification.account == incoming.id)
    assert len(pushed) == 1

    # only the incoming guard acknowledges
    assert_error(
        await guard.post(f"{URL}/{handover['id']}/acknowledge", json={}), 409, "not_incoming"
    )
    manager = await as_role(Role.PROPERTY_MANAGER)
    r = await manager.post(f"{URL}/{handover['id']}/acknowledge", json={})
    assert_error(r, 409, "not_incoming")  # managers read the log; they sign none
    nxt = await login(incoming)
    r = await nxt.get(URL, params={"mine": True, "state": "pending"})
    assert [h["id"] for h in r.json()["items"]] == [handover["id"]]
    r = await nxt.post(f"{URL}/{handover['id']}/acknowledge", json={"note": "钥匙少 1 把备用"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "acknowledged" and r.json()["ack_note"] == "钥匙少 1 把备用"
    r = await nxt.post(f"{URL}/{handover['id']}/acknowledge", json={})
    assert_error(r, 409, "already_acknowledged")

    assert len(await audit_rows("handover.created", handover["id"])) == 1
    (ack,) = await audit_rows("handover.acknowledged", handover["id"])
    assert ack["actor_id"] == incoming.id

    # the log per shift, as managers read it
    for shift in (day, night):
        r = await manager.get(URL, params={"shift_id": str(shift)})
        assert [h["id"] for h in r.json()["items"]] == [handover["id"]]
    r = await manager.get(URL, params={"state": "pending", "community_id": str(community)})
    assert r.json()["items"] == []
    r = await manager.get(URL, params={"since": (now + timedelta(minutes=5)).isoformat()})
    assert r.json()["total"] == 0


async def test_a_handover_needs_another_guard_of_the_community_and_something_to_hand_over(
    as_role: AsRole, world: World
) -> None:
    guard = await as_role(Role.GUARD)
    body = {"notes": "无异常"}
    for to in (
        world.a.users[Role.GUARD].id,  # oneself
        world.a.users[Role.MAINTENANCE].id,
        world.b.users[Role.GUARD].id,
    ):
        r = await guard.post(URL, json={"to_account_id": str(to), **body})
        assert_error(r, 400, "not_a_guard")
    incoming = await make_account(Role.GUARD, community=world.a.community)
    r = await guard.post(URL, json={"to_account_id": str(incoming.id)})
    assert_error(r, 400, "fields_required")
    other_shift = await _shift(incoming.id, world.a.community, datetime.now(UTC))
    r = await guard.post(
        URL, json={"to_account_id": str(incoming.id), "shift_id": str(other_shift), **body}
    )
    assert_error(r, 400, "unknown_shift")  # not the caller's shift
    r = await guard.post(URL, json={"to_account_id": "nope", **body})
    assert_error(r, 422, "invalid_body")
    # with nobody rostered the handover is still written, without shifts
    r = await guard.post(URL, json={"to_account_id": str(incoming.id), **body})
    assert r.status_code == 201 and r.json()["shift_id"] is None


async def test_handovers_of_another_community_are_not_found(as_role: AsRole, world: World) -> None:
    guard = await as_role(Role.GUARD)
    incoming = await make_account(Role.GUARD, community=world.a.community)
    r = await guard.post(URL, json={"to_account_id": str(incoming.id), "notes": "正常"})
    handover = r.json()
    other = await as_role(Role.GUARD, "b")
    for r in (
        await other.get(f"{URL}/{handover['id']}"),
        await other.post(f"{URL}/{handover['id']}/acknowledge", json={}),
        await other.get(URL, params={"community_id": str(world.a.community)}),
        await other.get(f"{URL}/guards", params={"community_id": str(world.a.community)}),
        await other.post(
            URL,
            json={
                "to_account_id": str(incoming.id),
                "notes": "x",
                "community_id": str(world.a.community),
            },
        ),
    ):
        assert_error(r, 404, "not_found")
    assert (await other.get(URL)).json()["total"] == 0
    for role in (Role.RESIDENT, Role.MAINTENANCE):
        outsider = await as_role(role)
        assert_error(await outsider.get(f"{URL}/{handover['id']}"), 404, "not_found")
