"""Booking, listing, personal data, sharing, the visitor's page, revoking and expiry of passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from httpx import ASGITransport
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.stores.memory import MemoryStore

from api.access.credential_keys import keys
from api.access.credentials import HOTP_CONTEXT
from api.access.tables import Credential
from api.core.auth import Role
from api.core.effects import Effects
from api.core.errors import EXCEPTION_HANDLERS
from api.settings import Settings
from api.visitors.passes import SITE_TZ
from api.visitors.routes import PublicPassController, pass_page_rate_limit
from api.visitors.service import expire_due
from api.visitors.tables import VisitorPass
from device_bridge import protocol
from tests.devices.peer import enrol
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows, eventually, make_account
from tests.jobs import Jobs
from tests.plugins.site import LinkBridge
from tests.visitors.helpers import DEVICES, OpenSite, book, booking, point_ids
from workers.tasks.visitors import expire_visitor_passes


async def _row(pass_id: object) -> dict:
    row = await VisitorPass.select().where(VisitorPass.id == pass_id).first()
    assert row is not None
    return row


async def _credentials(pass_id: object) -> list[dict]:
    return await Credential.select().where(Credential.visitor_pass == pass_id)


@pytest.mark.req("VIS-03")
class TestBook:
    @pytest.mark.req("VIS-10", partial=True)
    async def test_resident_books_for_own_household_with_one_credential(
        self, as_role: AsRole, world: World
    ) -> None:
        resident = await as_role(Role.RESIDENT)
        created = await book(resident, plate="川a·12345", entries=2)
        assert created["status"] == "active"
        assert created["household_id"] == str(world.a.households[0])
        assert created["household_label"] == "1栋1单元0101"
        assert (created["entries_allowed"], created["entries_left"]) == (2, 2)
        assert created["plate"] == "川A12345"
        assert created["floors"] == [1]  # room 0101: the household's floor at the lifts
        assert [b["name"] for b in created["buildings"]] == ["1栋"]
        assert created["walk_in"] is False and created["shared"] is False
        # One credential for the QR and the keypad code: one count of entries; the car's plate
        # has its own at the barriers, counting nothing (docs/vehicles.md).
        creds = await _credentials(created["id"])
        [cred] = [c for c in creds if c["kind"] == "code"]
        assert (cred["kind"], cred["uses"], cred["status"]) == ("code", 2, "active")
        [plate] = [c for c in creds if c["kind"] == "plate"]
        assert (plate["uses"], plate["valid_until"]) == (-1, cred["valid_until"])
        assert (await _row(created["id"]))["credential"] == cred["id"]
        [entry] = await audit_rows("visitor_pass.created", created["id"])
        assert entry["details"]["household_id"] == str(world.a.households[0])

    async def test_another_household_is_not_found(self, as_role: AsRole, world: World) -> None:
        resident = await as_role(Role.RESIDENT)
        for household in (world.a.households[1], world.b.households[0]):
            answer = await resident.post(
                "/api/v1/visitor-passes", json=booking(household_id=str(household))
            )
            assert_error(answer, 404, "not_found")
        assert await VisitorPass.count().where(VisitorPass.community == world.b.community) == 0

    async def test_only_residents_book(self, as_role: AsRole, world: World) -> None:
        for role in (Role.GUARD, Role.PROPERTY_MANAGER, Role.POLICE, Role.SYSTEM_ADMIN):
            api = await as_role(role)
            body = booking(household_id=str(world.a.households[0]))
            assert_error(await api.post("/api/v1/visitor-passes", json=body), 404, "not_found")

    async def test_bad_input(self, as_role: AsRole, world: World) -> None:
        resident = await as_role(Role.RESIDENT)
        now = datetime.now(UTC)
        cases = [
            (booking(visitor_phone="12345"), 400, "invalid_phone"),
            (booking(plate="ABC"), 400, "invalid_plate"),
            (
                booking(id_type="resident_id", id_number="510104199001011231"),
                400,
                "invalid_id_number",
            ),
            (booking(valid_from=(now - timedelta(hours=3)).isoformat()), 400, "invalid_window"),
            (booking(valid_until=(now + timedelta(days=8)).isoformat()), 400, "invalid_window"),
            (booking(buildings=[str(world.b.households[0])]), 400, "invalid_places"),
            (booking(floors=[99]), 400, "invalid_places"),
            (booking(valid_until=now.isoformat()), 422, "invalid_body"),  # before valid_from
            (booking(entries=11), 422, "invalid_body"),
            (booking(colour="red"), 422, "invalid_body"),
        ]
        for body, status, code in cases:
            assert_error(await resident.post("/api/v1/visitor-passes", json=body), status, code)
        assert await VisitorPass.count().where(VisitorPass.community == world.a.community) == 0


@pytest.mark.req("VIS-11")
class TestScope:
    async def test_each_sees_their_own(
        self, as_role: AsRole, login: Callable, world: World
    ) -> None:
        resident = await as_role(Role.RESIDENT)
        mine = await book(resident)
        neighbour_user = await make_account(
            Role.RESIDENT, community=world.a.community, household=world.a.households[1]
        )
        neighbour = await login(neighbour_user)
        theirs = await book(neighbour, visitor_name="李雷")
        other_site = await book(await as_role(Role.RESIDENT, "b"))

        async def ids(api: ApiClient, query: str = "") -> set[str]:
            answer = await api.get(f"/api/v1/visitor-passes{query}")
            assert answer.status_code == 200, answer.text
            return {p["id"] for p in answer.json()["items"]}

        assert await ids(resident) == {mine["id"]}
        assert await ids(neighbour) == {theirs["id"]}
        for role in (Role.GUARD, Role.PROPERTY_MANAGER, Role.POLICE):
            assert await ids(await as_role(role)) == {mine["id"], theirs["id"]}
        assert await ids(await as_role(Role.GUARD, "b")) == {other_site["id"]}
        admin = await as_role(Role.SYSTEM_ADMIN)  # no business data
        assert_error(await admin.get("/api/v1/visitor-passes"), 404, "not_found")
        assert_error(await neighbour.get(f"/api/v1/visitor-passes/{mine['id']}"), 404, "not_found")
        guard = await as_role(Role.GUARD)
        assert (await guard.get(f"/api/v1/visitor-passes/{mine['id']}")).status_code == 200

    async def test_filters_and_paging(self, as_role: AsRole) -> None:
        resident = await as_role(Role.RESIDENT)
        first = await book(resident)
        later = datetime.now(UTC) + timedelta(days=3)
        second = await book(
            resident,
            visitor_name="李雷",
            valid_from=later.isoformat(),
            valid_until=(later + timedelta(hours=2)).isoformat(),
        )
        await resident.post(f"/api/v1/visitor-passes/{first['id']}/revoke")
        page = (await resident.get("/api/v1/visitor-passes?status=active")).json()
        assert [p["id"] for p in page["items"]] == [second["id"]]
        day = later.astimezone(SITE_TZ).date().isoformat()  # days are the site's
        page = (await resident.get(f"/api/v1/visitor-passes?on={day}")).json()
        assert second["id"] in [p["id"] for p in page["items"]]
        assert first["id"] not in [p["id"] for p in page["items"]]
        page = (await resident.get("/api/v1/visitor-passes?page_size=1&page=2")).json()
        assert (page["total"], len(page["items"])) == (2, 1)
        assert page["items"][0]["id"] == first["id"]  # newest first
        page = (await resident.get("/api/v1/visitor-passes?phone=137-0000-1111")).json()
        assert page["total"] == 2
        assert_error(
            await resident.get("/api/v1/visitor-passes?status=gone"), 400, "invalid_parameters"
        )


class TestPersonalData:
    @pytest.mark.req("VIS-11")
    async def test_phone_and_id_encrypted_and_masked(self, as_role: AsRole) -> None:
        resident = await as_role(Role.RESIDENT)
        created = await book(resident, id_type="passport", id_number="e1234567")
        assert created["visitor_phone"] == "137****1111"
        assert created["id_number"] == "E1****67"
        row = await _row(created["id"])
        for column, clear in (("phone", "13700001111"), ("id_number", "E1234567")):
            assert clear not in row[column] and row[column].startswith("a256gcm:")
            assert row[f"{column}_index"] and clear not in row[f"{column}_index"]
        listed = (await resident.get("/api/v1/visitor-passes")).json()["items"][0]
        assert listed["visitor_phone"] == "137****1111"

    @pytest.mark.req("VIS-11")
    async def test_reveal_is_audited_and_refused_outside_the_right(self, as_role: AsRole) -> None:
        resident = await as_role(Role.RESIDENT)
        created = await book(resident)
        guard = await as_role(Role.GUARD)
        body = {"fields": ["phone", "id_number"], "purpose": "联系访客核实身份"}
        answer = await guard.post(f"/api/v1/visitor-passes/{created['id']}/reveal", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": created["id"], "phone": "13700001111", "id_number": None}
        [entry] = await audit_rows("visitor_pass.revealed", created["id"])
        assert entry["purpose"] == "联系访客核实身份"
        assert entry["details"] == {"fields": ["id_number", "phone"]}
        for api in (resident, await as_role(Role.GUARD, "b")):
            refused = await api.post(f"/api/v1/visitor-passes/{created['id']}/reveal", json=body)
            assert_error(refused, 404, "not_found")
        assert len(await audit_rows("visitor_pass.reveal.denied", created["id"])) == 2
        short = await guard.post(
            f"/api/v1/visitor-passes/{created['id']}/reveal",
            json={"fields": ["phone"], "purpose": "  x  "},
        )
        assert short.status_code == 422


def _verify_qr(token: str) -> protocol.QrClaims:
    claims, payload, signature = protocol.parse_qr(token)
    public = keys().qr.public()[claims.kid]
    Ed25519PublicKey.from_public_bytes(public).verify(signature, payload)  # raises if forged
    return claims


@pytest.mark.req("VIS-03")
@pytest.mark.req("ACC-07", partial=True)
class TestShare:
    async def test_link_opens_the_visitors_page(
        self, as_role: AsRole, client: ApiClient, world: World, open_site: OpenSite
    ) -> None:
        site = await open_site()
        resident = await as_role(Role.RESIDENT)
        created = await book(resident)
        share = await resident.post(f"/api/v1/visitor-passes/{created['id']}/share")
        assert share.status_code == 200, share.text
        link = share.json()
        assert link["url"].endswith(f"/pass/{link['token']}") and len(link["token"]) >= 32
        row = await _row(created["id"])
        assert link["token"] not in (row["share_token_hash"] or "") and row["share_token_hash"]
        page = await client.get(f"/api/v1/public/passes/{link['token']}")  # no login
        assert page.status_code == 200, page.text
        assert page.headers["cache-control"] == "no-store"
        view = page.json()
        assert view["visitor_name"] == "王*明"
        assert view["destination"] == "1栋1单元"
        assert "东门" in view["doors"] and "1栋1单元 单元门" in view["doors"]
        assert (view["entries_left"], view["status"]) == (1, "active")
        assert "visitor_phone" not in view and "13700001111" not in page.text
        claims = _verify_qr(view["qr"]["token"])
        assert claims.cred == str(row["credential"])
        assert claims.exp - claims.iat <= protocol.QR_MAX_VALIDITY
        assert abs(claims.exp - datetime.fromisoformat(view["qr"]["expires_at"]).timestamp()) < 1
        code = await Credential.select().where(Credential.id == row["credential"]).first()
        secret = keys().cipher.decrypt(code["hotp_secret"], context=HOTP_CONTEXT)
        assert len(view["code"]) == 6 and view["code"].isdigit()
        assert view["code"] == pyotp.HOTP(secret).at(code["counter"])
        # The gate holds the credential, for the gate, the unit door and the lift; only the gate
        # counts entries.
        held = site.held()
        points = await point_ids(world.a.community)
        entry = held[str(row["credential"])]
        assert set(entry.doors) == {"gate-east", "door-1-1", "lift-1"}
        assert (entry.kind, entry.floors, entry.entry_doors, entry.uses) == (
            "code",
            [1],
            ["gate-east"],
            1,
        )
        assert set(points) >= {"东门", "1栋1单元 单元门", "1栋 电梯"}
        # A new share replaces the link.
        again = (await resident.post(f"/api/v1/visitor-passes/{created['id']}/share")).json()
        assert_error(await client.get(f"/api/v1/public/passes/{link['token']}"), 404, "not_found")
        assert (await client.get(f"/api/v1/public/passes/{again['token']}")).status_code == 200
        assert len(await audit_rows("visitor_pass.shared", created["id"])) == 2

    async def test_unknown_tokens_and_other_households(
        self, as_role: AsRole, login: Callable, client: ApiClient, world: World
    ) -> None:
        for token in ("nope", "x" * 32, "A" * 200):
            assert_error(await client.get(f"/api/v1/public/passes/{token}"), 404, "not_found")
        created = await book(await as_role(Role.RESIDENT))
        neighbour = await login(
            await make_account(
                Role.RESIDENT, community=world.a.community, household=world.a.households[1]
            )
        )
        answer = await neighbour.post(f"/api/v1/visitor-passes/{created['id']}/share")
        assert_error(answer, 404, "not_found")
        police = await as_role(Role.POLICE)
        answer = await police.post(f"/api/v1/visitor-passes/{created['id']}/share")
        assert_error(answer, 404, "not_found")

    async def test_page_is_rate_limited_apart_from_login(
        self, client: ApiClient, world: World
    ) -> None:
        answer = await client.get("/api/v1/public/passes/nope")
        assert answer.headers["ratelimit-limit"] == "100000"  # the test settings' budget
        remaining = int(answer.headers["ratelimit-remaining"])
        again = await client.get("/api/v1/public/passes/nope")
        assert int(again.headers["ratelimit-remaining"]) == remaining - 1


@pytest.mark.req("VIS-03")
class TestRevoke:
    async def test_revoked_pass_stops_at_the_gate_and_on_the_page(
        self, as_role: AsRole, client: ApiClient, open_site: OpenSite
    ) -> None:
        site = await open_site()
        resident = await as_role(Role.RESIDENT)
        created = await book(resident)
        link = (await resident.post(f"/api/v1/visitor-passes/{created['id']}/share")).json()
        row = await _row(created["id"])
        ours = {str(row["credential"])}
        await eventually(lambda: ours <= set(site.held()))
        started = time.monotonic()
        answer = await resident.post(
            f"/api/v1/visitor-passes/{created['id']}/revoke", json={"reason": "临时有事"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "revoked" and answer.json()["revoked_at"]
        await eventually(lambda: ours <= site.removed(), timeout=5)
        print(f"revocation reached the bridge in {time.monotonic() - started:.3f} s")
        assert not ours & set(site.held())
        assert {c["status"] for c in await _credentials(created["id"])} == {"revoked"}
        assert_error(await client.get(f"/api/v1/public/passes/{link['token']}"), 404, "not_found")
        [entry] = await audit_rows("visitor_pass.revoked", created["id"])
        assert entry["details"]["reason"] == "临时有事"
        again = await resident.post(f"/api/v1/visitor-passes/{created['id']}/revoke")
        assert_error(again, 409, "visitor_pass_not_live")
        share = await resident.post(f"/api/v1/visitor-passes/{created['id']}/share")
        assert_error(share, 409, "visitor_pass_not_active")

    async def test_who_may_revoke(self, as_role: AsRole, login: Callable, world: World) -> None:
        resident = await as_role(Role.RESIDENT)
        created = await book(resident)
        outsiders = [
            await make_account(
                Role.RESIDENT, community=world.a.community, household=world.a.households[1]
            ),
            world.a.users[Role.POLICE],
            world.b.users[Role.GUARD],
        ]
        for user in outsiders:
            api = await login(user)
            answer = await api.post(f"/api/v1/visitor-passes/{created['id']}/revoke")
            assert_error(answer, 404, "not_found")
        guard = await as_role(Role.GUARD)
        answer = await guard.post(f"/api/v1/visitor-passes/{created['id']}/revoke")
        assert answer.status_code == 200 and answer.json()["status"] == "revoked"


class TestExpiry:
    async def test_window_over_ends_the_pass(
        self, as_role: AsRole, client: ApiClient, jobs: Jobs
    ) -> None:
        resident = await as_role(Role.RESIDENT)
        created = await book(resident)
        link = (await resident.post(f"/api/v1/visitor-passes/{created['id']}/share")).json()
        past = datetime.now(UTC) - timedelta(seconds=1)
        await VisitorPass.update({VisitorPass.valid_until: past}).where(
            VisitorPass.id == created["id"]
        )
        # Refused at once, before the sweep has run.
        assert_error(await client.get(f"/api/v1/public/passes/{link['token']}"), 404, "not_found")
        ended = await expire_visitor_passes({"redis": jobs.pool})  # the worker's cron job
        assert ended >= 1
        assert (await _row(created["id"]))["status"] == "expired"
        assert {c["status"] for c in await _credentials(created["id"])} == {"revoked"}
        assert created["id"] not in {str(i) for i in await expire_due(Effects())}  # once only
        [entry] = await audit_rows("visitor_pass.expired", created["id"])
        assert entry["actor_id"] is None
        # The record stays: residents still see it in their history.
        seen = (await resident.get(f"/api/v1/visitor-passes/{created['id']}")).json()
        assert seen["status"] == "expired"


class TestRateLimit:
    async def test_third_try_in_a_minute_is_refused(
        self, app: Litestar, settings: Settings
    ) -> None:
        """The pass page's limiter as create_app mounts it, with a budget of 2 a minute."""
        small = Litestar(
            route_handlers=[
                Router(
                    path="/",
                    route_handlers=[PublicPassController],
                    middleware=[pass_page_rate_limit(2).middleware],
                )
            ],
            exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
            state=State({"settings": settings, "cipher": app.state.cipher}),
            stores={"rate_limit": MemoryStore()},
        )
        async with ApiClient(transport=ASGITransport(app=small), base_url="http://t") as api:
            for _ in range(2):
                assert_error(await api.get("/api/v1/public/passes/nope"), 404, "not_found")
            assert_error(await api.get("/api/v1/public/passes/nope"), 429, "rate_limited")


@pytest.mark.req("VIS-03")
class TestChoosingGates:
    async def test_resident_lists_own_gates_and_building_and_books_one_gate(
        self,
        scripted_bridge: LinkBridge,
        admin: ApiClient,
        login: Callable,
        world: World,
    ) -> None:
        north = protocol.DeviceInfo(
            id="gate-north",
            kind="door_controller",
            name="北门",
            driver="sim",
            attrs={"role": "gate"},
        )
        site = await scripted_bridge(await enrol(admin, world.a.community), [*DEVICES, north])
        elsewhere = protocol.DeviceInfo(
            id="gate-b",
            kind="door_controller",
            name="B区大门",
            driver="sim",
            attrs={"role": "gate"},
        )
        await scripted_bridge(await enrol(admin, world.b.community), [elsewhere])
        resident = await login(world.a.users[Role.RESIDENT])
        r = await resident.get("/api/v1/visitor-passes/places")
        assert r.status_code == 200, r.text
        places = r.json()
        assert places["household_id"] == str(world.a.households[0])
        assert sorted(g["name"] for g in places["gates"]) == ["东门", "北门"]  # not B's gate
        assert {d["name"] for d in places["building_doors"]} == {"1栋1单元 单元门", "1栋 电梯"}
        chosen = next(g["id"] for g in places["gates"] if g["name"] == "北门")
        created = await book(resident, points=[chosen])
        assert [p["name"] for p in created["points"]] == ["北门"]
        [cred] = await _credentials(created["id"])
        await eventually(lambda: str(cred["id"]) in site.held())
        entry = site.held()[str(cred["id"])]
        assert "gate-north" in entry.doors and "gate-east" not in entry.doors
        assert entry.entry_doors == ["gate-north"]

    async def test_other_households_and_communities_are_not_found(
        self, login: Callable, world: World
    ) -> None:
        resident = await login(world.a.users[Role.RESIDENT])
        for household in (world.a.households[1], world.b.households[0]):
            r = await resident.get(
                "/api/v1/visitor-passes/places", params={"household_id": str(household)}
            )
            assert_error(r, 404, "not_found")
        r = await resident.get("/api/v1/visitor-passes/places", params={"household_id": "x"})
        assert r.status_code == 400
        guard = await login(world.b.users[Role.GUARD])
        r = await guard.get(
            "/api/v1/visitor-passes/places", params={"household_id": str(world.a.households[0])}
        )
        assert_error(r, 404, "not_found")
        guard = await login(world.a.users[Role.GUARD])
        r = await guard.get(
            "/api/v1/visitor-passes/places", params={"household_id": str(world.a.households[0])}
        )
        assert r.status_code == 200 and r.json()["building_id"]
        assert_error(await guard.get("/api/v1/visitor-passes/places"), 404, "not_found")
