"""The duty roster: managers roster guards; "on duty now" falls back to every guard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from api.core.auth import Role
from tests.fixtures import AsRole
from tests.helpers import World, assert_error, audit_rows, make_account


def shift(world: World, account: object, start: datetime, hours: int = 8) -> dict:
    return {
        "community_id": str(world.a.community),
        "account_id": str(account),
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=hours)).isoformat(),
    }


class TestRoster:
    async def test_rostered_guard_is_the_one_on_duty(self, as_role: AsRole, world: World) -> None:
        guard = world.a.users[Role.GUARD]
        other = await make_account(Role.GUARD, community=world.a.community)
        manager = await as_role(Role.PROPERTY_MANAGER)
        everyone = await manager.get(
            f"/api/v1/duty-shifts/on-duty?community_id={world.a.community}"
        )
        assert {g["account_id"] for g in everyone.json()} == {str(guard.id), str(other.id)}
        assert not any(g["rostered"] for g in everyone.json())
        now = datetime.now(UTC)
        made = await manager.post(
            "/api/v1/duty-shifts", json=shift(world, guard.id, now - timedelta(hours=1))
        )
        assert made.status_code == 201, made.text
        assert made.json()["account_name"] == guard.username
        assert await audit_rows("duty_shift.created", made.json()["id"])
        await manager.post(
            "/api/v1/duty-shifts", json=shift(world, other.id, now + timedelta(hours=8))
        )
        on_duty = (
            await manager.get(f"/api/v1/duty-shifts/on-duty?community_id={world.a.community}")
        ).json()
        assert [(g["account_id"], g["rostered"]) for g in on_duty] == [(str(guard.id), True)]
        listed = await manager.get(f"/api/v1/duty-shifts?community_id={world.a.community}")
        assert listed.json()["total"] == 2
        other = await as_role(Role.PROPERTY_MANAGER, "b")
        shift_id = made.json()["id"]
        assert_error(await other.delete(f"/api/v1/duty-shifts/{shift_id}"), 404, "not_found")
        assert (await manager.delete(f"/api/v1/duty-shifts/{shift_id}")).status_code == 204
        assert_error(await manager.delete(f"/api/v1/duty-shifts/{shift_id}"), 404, "not_found")

    async def test_scope_and_bad_input(
        self, as_role: AsRole, login: Callable, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        now = datetime.now(UTC)
        resident = world.a.users[Role.RESIDENT]
        assert_error(
            await manager.post("/api/v1/duty-shifts", json=shift(world, resident.id, now)),
            400,
            "not_a_guard",
        )
        assert_error(
            await manager.post(
                "/api/v1/duty-shifts", json=shift(world, world.b.users[Role.GUARD].id, now)
            ),
            400,
            "not_a_guard",
        )
        backwards = shift(world, world.a.users[Role.GUARD].id, now, hours=-1)
        assert (await manager.post("/api/v1/duty-shifts", json=backwards)).status_code == 422
        too_long = shift(world, world.a.users[Role.GUARD].id, now, hours=24 * 8)
        assert (await manager.post("/api/v1/duty-shifts", json=too_long)).status_code == 422
        for user in (world.a.users[Role.GUARD], world.b.users[Role.PROPERTY_MANAGER]):
            api = await login(user)
            good = shift(world, world.a.users[Role.GUARD].id, now)
            assert_error(await api.post("/api/v1/duty-shifts", json=good), 404, "not_found")
            assert_error(
                await api.get(f"/api/v1/duty-shifts?community_id={world.a.community}"),
                404,
                "not_found",
            )
        resident_api = await login(resident)
        assert_error(
            await resident_api.get(f"/api/v1/duty-shifts/on-duty?community_id={world.a.community}"),
            404,
            "not_found",
        )


class TestRosterableGuards:
    async def test_a_manager_lists_the_guards_of_the_community_by_name(
        self, as_role: AsRole, world: World
    ) -> None:
        other = await make_account(Role.GUARD, community=world.a.community)
        await make_account(Role.GUARD, community=world.b.community)
        manager = await as_role(Role.PROPERTY_MANAGER)
        listed = await manager.get(f"/api/v1/duty-shifts/guards?community_id={world.a.community}")
        assert listed.status_code == 200, listed.text
        guard = world.a.users[Role.GUARD]
        assert sorted((g["account_id"], g["name"]) for g in listed.json()) == sorted(
            [(str(guard.id), guard.username), (str(other.id), other.username)]
        )

    async def test_another_community_or_role_gets_404_and_bad_input_400(
        self, as_role: AsRole, world: World
    ) -> None:
        url = f"/api/v1/duty-shifts/guards?community_id={world.a.community}"
        for outsider in (
            await as_role(Role.PROPERTY_MANAGER, "b"),
            await as_role(Role.GUARD),
            await as_role(Role.RESIDENT),
        ):
            assert_error(await outsider.get(url), 404, "not_found")
        manager = await as_role(Role.PROPERTY_MANAGER)
        bad = await manager.get("/api/v1/duty-shifts/guards?community_id=nope")
        assert_error(bad, 400, "invalid_parameters")
        assert_error(await manager.get("/api/v1/duty-shifts/guards"), 400, "invalid_parameters")
