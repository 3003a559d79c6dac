"""A move-out in one step: the person's door, QR and plate credentials reach the online bridge as
one revocation within 5 s, their vehicles are cancelled, their account loses the household and
its sessions, all recorded by one `person.moved_out` entry; a tenant's lease end moves them out."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from litestar import Litestar

from api.accounts.tables import RoleAssignment
from api.core.auth import Role
from api.core.effects import Effects
from api.people.service import PersonService
from api.people.tables import Person
from api.vehicles.tables import Vehicle
from device_bridge import protocol
from tests.access.helpers import DOORS, enrol_card, unique_card
from tests.devices.peer import ScriptedBridge, enrol
from tests.fixtures import AsRole
from tests.helpers import ApiClient, Login, World, assert_error, audit_rows, user
from tests.jobs import Jobs
from tests.people.test_people import PERSONS, person_body
from tests.plugins.site import LinkBridge
from tests.vehicles.helpers import register
from workers.tasks.people import expire_tenant_leases

PLATE = "川A·8H123"
# The site's doors and a vehicle lane: doors take cards and QR codes, the barrier plates.
DEVICES = [
    *DOORS,
    protocol.DeviceInfo(id="barrier-north", kind="barrier", name="北门道闸", driver="sim"),
    protocol.DeviceInfo(id="lpr-north", kind="plate_camera", name="北门车牌", driver="sim"),
]


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The lease job enqueues nothing: the `jobs` worker runs no job of its own here."""
    return []


@pytest.fixture
async def manager(as_role: AsRole) -> ApiClient:
    """Community A's property manager."""
    return await as_role(Role.PROPERTY_MANAGER)


async def active_car(manager: ApiClient, world: World, plate: str, **body: object) -> str:
    """A resident vehicle of household 0101, authorised; its id."""
    car = await register(
        manager,
        plate=plate,
        community_id=str(world.a.community),
        household_id=str(world.a.households[0]),
        **body,
    )
    r = await manager.post(f"/api/v1/vehicles/{car['id']}/authorise", json={})
    assert r.status_code == 200, r.text
    return str(car["id"])


async def applied(site: ScriptedBridge) -> protocol.Credentials:
    """The next credentials frame, acknowledged as applied."""
    frame = await site.next_credentials()
    await site.peer.send(protocol.CredentialsApplied(version=frame.version))
    return frame


class TestOneStep:
    @pytest.mark.req("REG-06", partial=True)
    @pytest.mark.req("ACC-06", partial=True)
    async def test_door_qr_plate_and_app_access_end_at_the_online_bridge_within_5_s(
        self,
        scripted_bridge: LinkBridge,
        admin: ApiClient,
        manager: ApiClient,
        resident: ApiClient,
        world: World,
    ) -> None:
        site = await scripted_bridge(await enrol(admin, world.a.community), DEVICES, auto=False)
        await applied(site)
        # 张三 (persons[0]) holds a card, his app's QR (his account is bound to him) and a car.
        card = await enrol_card(manager, world.a.persons[0], unique_card())
        await applied(site)
        qr = await resident.post("/api/v1/access/qr")
        assert qr.status_code == 200, qr.text
        await applied(site)
        car = await active_car(manager, world, PLATE, person_id=str(world.a.persons[0]))
        car_credential = (await Vehicle.select(Vehicle.credential).where(Vehicle.id == car))[0]
        while not any(e.kind == "plate" for e in (await applied(site)).upserts):
            pass  # the entry and the authorisation each send a delta

        started = time.perf_counter()
        r = await manager.post(
            f"{PERSONS}/{world.a.persons[0]}/move-out", json={"moved_out_on": "2026-11-30"}
        )
        assert r.status_code == 200, r.text
        revoked = await site.next_credentials(timeout=5.0)
        elapsed = time.perf_counter() - started
        print(f"\nmove-out reached the bridge {elapsed * 1000:.0f} ms after the request")

        assert sorted(revoked.removals) == sorted(
            [card["id"], qr.json()["credential_id"], str(car_credential["credential"])]
        )
        assert not revoked.upserts
        assert elapsed < 5.0
        assert r.json()["ended"] == {"credentials": 3, "vehicles": 1, "household_roles": 1}
        # The app: the session is over, and a new login reaches no household and no QR.
        assert_error(await resident.get("/api/v1/auth/me"), 401, "session_expired")
        await resident.login(world.a.users[Role.RESIDENT])
        assert (await resident.get("/api/v1/auth/me")).json()["roles"] == []
        assert_error(await resident.post("/api/v1/access/qr"), 404, "not_found")
        [entry] = await audit_rows("person.moved_out", world.a.persons[0])
        assert entry["details"]["ended"] == r.json()["ended"]
        assert entry["details"]["last_resident"] is True
        assert (await Vehicle.select(Vehicle.status).where(Vehicle.id == car))[0] == {
            "status": "cancelled"
        }

    async def test_a_household_car_stays_while_someone_still_lives_there(
        self, manager: ApiClient, world: World
    ) -> None:
        household_car = await active_car(manager, world, "川A·8H124")
        own_car = await active_car(manager, world, "川A·8H125", person_id=str(world.a.persons[0]))
        flatmate = await manager.post(PERSONS, json=person_body(world.a))
        assert flatmate.status_code == 201, flatmate.text

        r = await manager.post(
            f"{PERSONS}/{world.a.persons[0]}/move-out", json={"moved_out_on": "2026-11-30"}
        )

        assert r.json()["ended"]["vehicles"] == 1
        statuses = {
            str(row["id"]): row["status"]
            for row in await Vehicle.select(Vehicle.id, Vehicle.status).where(
                Vehicle.id.is_in([household_car, own_car])
            )
        }
        assert statuses == {household_car: "active", own_car: "cancelled"}
        # The flatmate moves out too: nobody lives there, the household's car goes.
        r = await manager.post(
            f"{PERSONS}/{flatmate.json()['id']}/move-out", json={"moved_out_on": "2026-11-30"}
        )
        assert r.json()["ended"]["vehicles"] == 1
        [entry] = await audit_rows("vehicle.cancelled", household_car)
        assert entry["purpose"] == "moved out"

    async def test_only_the_bound_accounts_lose_the_household_while_others_live_there(
        self, manager: ApiClient, world: World
    ) -> None:
        flatmate = await manager.post(PERSONS, json=person_body(world.a))
        resident = world.a.users[Role.RESIDENT]
        other = await RoleAssignment.count().where(
            (RoleAssignment.household == world.a.households[0])
            & (RoleAssignment.account != resident.id)
        )

        r = await manager.post(
            f"{PERSONS}/{world.a.persons[0]}/move-out", json={"moved_out_on": "2026-11-30"}
        )

        assert r.json()["ended"]["household_roles"] == 1
        assert not await RoleAssignment.exists().where(RoleAssignment.account == resident.id)
        assert (
            await RoleAssignment.count().where(RoleAssignment.household == world.a.households[0])
            == other
        )
        assert flatmate.status_code == 201

    async def test_moving_out_twice_is_409_and_ends_nothing_more(
        self, manager: ApiClient, world: World
    ) -> None:
        path = f"{PERSONS}/{world.a.persons[1]}/move-out"
        assert (await manager.post(path, json={"moved_out_on": "2026-11-30"})).status_code == 200

        assert_error(
            await manager.post(path, json={"moved_out_on": "2026-12-01"}), 409, "already_moved_out"
        )
        assert len(await audit_rows("person.moved_out", world.a.persons[1])) == 1

    @pytest.mark.parametrize(
        "body", [{}, {"moved_out_on": "soon"}, {"moved_out_on": "2026-11-30", "why": "x"}]
    )
    async def test_bad_input_is_422_and_moves_nobody(
        self, manager: ApiClient, world: World, body: dict[str, str]
    ) -> None:
        r = await manager.post(f"{PERSONS}/{world.a.persons[1]}/move-out", json=body)

        assert_error(r, 422, "invalid_body")
        row = await Person.select(Person.moved_out_on).where(Person.id == world.a.persons[1])
        assert row[0]["moved_out_on"] is None

    async def test_a_move_out_before_the_move_in_is_400(
        self, manager: ApiClient, world: World
    ) -> None:
        path = f"{PERSONS}/{world.a.persons[1]}"
        assert (await manager.patch(path, json={"moved_in_on": "2026-05-01"})).status_code == 200

        r = await manager.post(f"{path}/move-out", json={"moved_out_on": "2026-04-30"})

        assert_error(r, 400, "invalid_dates")
        row = await Person.select(Person.moved_out_on).where(Person.id == world.a.persons[1])
        assert row[0]["moved_out_on"] is None


class TestLeaseEnd:
    async def test_a_lease_end_belongs_to_a_tenant(self, manager: ApiClient, world: World) -> None:
        r = await manager.post(PERSONS, json=person_body(world.a, lease_ends_on="2027-01-31"))

        assert_error(r, 400, "invalid_lease")
        r = await manager.patch(
            f"{PERSONS}/{world.a.persons[0]}", json={"lease_ends_on": "2027-01-31"}
        )
        assert_error(r, 400, "invalid_lease")

    @pytest.mark.req("REG-01", partial=True)
    async def test_the_lease_job_moves_an_expired_tenant_out_once(
        self, app: Litestar, jobs: Jobs, manager: ApiClient, world: World
    ) -> None:
        yesterday = date.today() - timedelta(days=2)
        tenant = await manager.post(
            PERSONS,
            json=person_body(
                world.a,
                category="tenant",
                relation="tenant",
                lease_ends_on=str(yesterday),
            ),
        )
        assert tenant.status_code == 201, tenant.text
        current = await manager.post(
            PERSONS,
            json=person_body(
                world.a,
                category="tenant",
                relation="tenant",
                lease_ends_on=str(date.today() + timedelta(days=30)),
            ),
        )
        card = await enrol_card(manager, tenant.json()["id"], unique_card())
        ctx = {"redis": jobs.pool, "cipher": app.state.cipher}

        assert await expire_tenant_leases(ctx) >= 1
        assert await expire_tenant_leases(ctx) == 0  # idempotent: nobody is due twice

        gone = (await manager.get(f"{PERSONS}/{tenant.json()['id']}")).json()
        assert gone["moved_out_on"] == str(yesterday)
        kept = (await manager.get(f"{PERSONS}/{current.json()['id']}")).json()
        assert kept["moved_out_on"] is None
        revoked = (await manager.get(f"/api/v1/credentials/{card['id']}")).json()
        assert (revoked["status"], revoked["revoke_reason"]) == ("revoked", "lease ended")
        [entry] = await audit_rows("person.moved_out", tenant.json()["id"])
        assert (entry["actor_id"], entry["purpose"]) == (None, "lease ended")
        assert entry["details"]["ended"]["credentials"] == 1

    async def test_the_service_claims_each_due_tenant_once(
        self, app: Litestar, manager: ApiClient, world: World
    ) -> None:
        tenant = await manager.post(
            PERSONS,
            json=person_body(
                world.a,
                category="tenant",
                relation="tenant",
                lease_ends_on=str(date.today() - timedelta(days=1)),
            ),
        )
        people = PersonService(app.state.cipher, on_moved_out=app.state.on_moved_out)

        first = await people.expire_leases(Effects(), today=date.today())
        second = await people.expire_leases(Effects(), today=date.today())

        assert tenant.json()["id"] in {str(i) for i in first}
        assert second == []


@pytest.mark.parametrize(
    ("role", "site"),
    [(Role.PROPERTY_MANAGER, "b"), (Role.POLICE, "a"), (Role.RESIDENT, "a")],
)
async def test_a_caller_of_another_community_or_role_moves_nobody_out(
    login: Login, world: World, role: Role, site: str
) -> None:
    api = await login(user(world, role, site))

    r = await api.post(
        f"{PERSONS}/{world.a.persons[0]}/move-out", json={"moved_out_on": "2026-11-30"}
    )

    assert_error(r, 404, "not_found")
    assert not await audit_rows("person.moved_out", world.a.persons[0])
