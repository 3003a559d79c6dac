"""The board's chip counts: alarms per state in one request, within the caller's scope."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from api.accounts.tables import RoleAssignment
from api.alarms.tables import Alarm
from api.core.auth import Role
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, make_account, raise_alarm

NONE = {"new": 0, "acknowledged": 0, "dispatched": 0, "resolved": 0, "false_alarm": 0}


async def in_state(alarm_id: UUID, state: str) -> None:
    """Move an alarm straight to a state (handling is tested elsewhere)."""
    await Alarm.update({Alarm.state: state}).where(Alarm.id == alarm_id)


class TestCounts:
    async def test_counts_per_state_in_one_answer(self, as_role: AsRole, world: World) -> None:
        await raise_alarm(world.a.community, "intrusion")
        await raise_alarm(world.a.community, "fire")
        await in_state(await raise_alarm(world.a.community, "fire"), "acknowledged")
        await in_state(await raise_alarm(world.a.community, "water_leak"), "false_alarm")
        await raise_alarm(world.b.community, "intrusion")
        guard = await as_role(Role.GUARD)
        counts = await guard.get("/api/v1/alarms/counts")
        assert counts.status_code == 200, counts.text
        assert counts.json() == {**NONE, "new": 2, "acknowledged": 1, "false_alarm": 1}
        # The list's own totals agree, state by state.
        for state, n in counts.json().items():
            listed = await guard.get(f"/api/v1/alarms?state={state}&page_size=1")
            assert listed.json()["total"] == n, state

    async def test_counts_take_the_lists_filters(self, as_role: AsRole, world: World) -> None:
        await raise_alarm(world.a.community, "intrusion")
        await in_state(await raise_alarm(world.a.community, "fire"), "resolved")
        guard = await as_role(Role.GUARD)
        fires = await guard.get("/api/v1/alarms/counts?type=fire")
        assert fires.json() == {**NONE, "resolved": 1}
        other = await guard.get(f"/api/v1/alarms/counts?community_id={world.b.community}")
        assert other.json() == NONE
        assert_error(await guard.get("/api/v1/alarms/counts?type=bogus"), 400, "invalid_parameters")
        assert_error(await guard.get("/api/v1/alarms/counts?since=soon"), 400, "invalid_parameters")

    async def test_residents_count_their_household_only(
        self, as_role: AsRole, world: World
    ) -> None:
        await raise_alarm(world.a.community, "fire", household_id=world.a.households[0])
        await raise_alarm(world.a.community, "fire", household_id=world.a.households[1])
        await raise_alarm(world.a.community, "perimeter")
        resident = await as_role(Role.RESIDENT)
        assert (await resident.get("/api/v1/alarms/counts")).json() == {**NONE, "new": 1}

    async def test_callers_outside_scope_count_nothing_as_the_list_shows_nothing(
        self, login: Callable, world: World
    ) -> None:
        await raise_alarm(world.a.community, "perimeter")
        for user in (
            *world.admins.values(),
            world.b.users[Role.GUARD],
            world.a.users[Role.MAINTENANCE],
        ):
            api = await login(user)
            listed = await api.get("/api/v1/alarms")
            counts = await api.get("/api/v1/alarms/counts")
            assert counts.status_code == listed.status_code, user.role
            if counts.status_code == 404:
                assert_error(counts, 404, "not_found")
            else:
                assert counts.json() == NONE, user.role

    async def test_a_resident_of_one_community_and_guard_of_another_counts_only_what_each_role_sees(
        self, login: Callable, world: World
    ) -> None:
        """Resident of A's first household and guard in B: A's other alarms are not theirs."""
        both = await make_account(Role.GUARD, community=world.b.community)
        await RoleAssignment(
            account=both.id,
            role=Role.RESIDENT,
            community=world.a.community,
            household=world.a.households[0],
        ).save()
        await raise_alarm(world.a.community, "fire", household_id=world.a.households[0])
        await raise_alarm(world.a.community, "fire", household_id=world.a.households[1])
        await raise_alarm(world.a.community, "perimeter")
        await in_state(await raise_alarm(world.b.community, "intrusion"), "dispatched")
        await raise_alarm(world.b.community, "intrusion")
        api = await login(both)
        counts = await api.get("/api/v1/alarms/counts")
        assert counts.json() == {**NONE, "new": 2, "dispatched": 1}
        listed = await api.get("/api/v1/alarms?page_size=200")
        assert listed.json()["total"] == 3
