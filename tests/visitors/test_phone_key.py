"""A visitor's phone as its own key: the resident allows it when booking, the visitor's page
registers the key the phone made (once, with the pass's token), and the real site bridge opens
the pass's doors for the phone's codes within the pass's window only; revoking the pass revokes
the key and the bridge refuses it."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from api.access.tables import AccessRecord, Credential
from api.core.effects import Effects
from api.visitors.service import expire_due
from api.visitors.tables import VisitorPass
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.helpers import ApiClient, World, assert_error, audit_rows, eventually, running
from tests.phone_key import Phone
from tests.visitors.helpers import OpenSite, book, point_ids

PASSES = "/api/v1/visitor-passes"
PUBLIC = "/api/v1/public/passes"


async def shared(resident: ApiClient, **booking: object) -> tuple[dict, str]:
    """Book a pass and share it; the pass and its link's token."""
    created = await book(resident, **booking)
    link = await resident.post(f"{PASSES}/{created['id']}/share")
    assert link.status_code == 200, link.text
    return created, link.json()["token"]


def key_body(phone: Phone) -> dict[str, str]:
    return {"name": "iPhone", "algorithm": phone.algorithm, "public_key": phone.spki()}


async def register(client: ApiClient, token: str, phone: Phone) -> dict:
    r = await client.post(f"{PUBLIC}/{token}/phone-key", json=key_body(phone))
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.req("ACC-07", partial=True)
class TestRegistration:
    async def test_without_the_residents_permission_the_page_cannot_register_a_key(
        self, resident: ApiClient, client: ApiClient
    ) -> None:
        created, token = await shared(resident)
        assert created["phone_key_allowed"] is False
        page = (await client.get(f"{PUBLIC}/{token}")).json()
        assert (page["phone_key_allowed"], page["phone_key"]) == (False, None)
        r = await client.post(f"{PUBLIC}/{token}/phone-key", json=key_body(Phone()))
        assert_error(r, 403, "visitor_phone_key_not_allowed")
        assert "host did not allow" in r.json()["message"]
        registered = (Credential.kind == "phone_key") & (Credential.visitor_pass == created["id"])
        assert not await Credential.exists().where(registered)

    async def test_with_it_the_key_is_registered_once_audited_and_shown_on_the_pass(
        self, resident: ApiClient, client: ApiClient, world: World
    ) -> None:
        created, token = await shared(resident, phone_key_allowed=True, entries=2)
        assert (created["phone_key_allowed"], created["phone_key_registered"]) == (True, False)
        phone = Phone("Ed25519")
        key = await register(client, token, phone)
        assert (key["algorithm"], key["status"], key["name"]) == ("Ed25519", "active", "iPhone")
        pass_row = await VisitorPass.select().where(VisitorPass.id == created["id"]).first()
        assert pass_row["phone_key"] == uuid.UUID(key["id"])
        own = await Credential.select().where(Credential.id == pass_row["credential"]).first()
        row = await Credential.select().where(Credential.id == uuid.UUID(key["id"])).first()
        assert (row["kind"], bytes(row["public_key"])) == ("phone_key", phone.raw())
        assert (row["visitor_pass"], row["community"]) == (pass_row["id"], world.a.community)
        assert (row["person"], row["household"]) == (None, None)  # the visitor's, not a resident's
        assert (row["points"], row["floors"], row["uses"]) == (own["points"], own["floors"], 2)
        assert (row["valid_from"], row["valid_until"]) == (
            pass_row["valid_from"],
            pass_row["valid_until"],
        )
        (audited,) = await audit_rows("visitor_pass.phone_key_registered", created["id"])
        assert audited["details"] == {"credential_id": key["id"], "algorithm": "Ed25519"}
        page = (await client.get(f"{PUBLIC}/{token}")).json()
        assert page["phone_key"]["id"] == key["id"] and page["phone_key"]["status"] == "active"
        again = await client.post(f"{PUBLIC}/{token}/phone-key", json=key_body(Phone()))
        assert_error(again, 409, "visitor_phone_key_exists")
        seen = (await resident.get(f"{PASSES}/{created['id']}")).json()
        assert (seen["phone_key_allowed"], seen["phone_key_registered"]) == (True, True)

    async def test_another_passes_token_neither_registers_nor_sees_the_key(
        self, resident: ApiClient, client: ApiClient
    ) -> None:
        mine, token = await shared(resident, phone_key_allowed=True)
        _, other = await shared(resident, phone_key_allowed=True, visitor_name="李四")
        key = await register(client, token, Phone())
        assert (await client.get(f"{PUBLIC}/{other}")).json()["phone_key"] is None
        theirs = await register(client, other, Phone())  # its own pass's key, not a second of ours
        assert theirs["id"] != key["id"]
        row = await Credential.select().where(Credential.id == uuid.UUID(theirs["id"])).first()
        assert row["visitor_pass"] != uuid.UUID(mine["id"])
        for token_ in ("nope", "x" * 65, token[:-1] + ("A" if token[-1] != "A" else "B")):
            r = await client.post(f"{PUBLIC}/{token_}/phone-key", json=key_body(Phone()))
            assert_error(r, 404, "not_found")

    async def test_bad_keys_and_bodies_are_refused(
        self, resident: ApiClient, client: ApiClient
    ) -> None:
        _, token = await shared(resident, phone_key_allowed=True)
        path = f"{PUBLIC}/{token}/phone-key"
        wrong = {"name": "x", "algorithm": "Ed25519", "public_key": Phone("ES256").spki()}
        assert_error(await client.post(path, json=wrong), 400, "invalid_phone_key")
        extra = {**key_body(Phone()), "private_key": "no"}
        assert_error(await client.post(path, json=extra), 422, "invalid_body")
        assert (await client.get(f"{PUBLIC}/{token}")).json()["phone_key"] is None

    async def test_a_revoked_pass_revokes_its_key_and_its_link_registers_nothing(
        self, resident: ApiClient, client: ApiClient
    ) -> None:
        created, token = await shared(resident, phone_key_allowed=True)
        key = await register(client, token, Phone())
        r = await resident.post(f"{PASSES}/{created['id']}/revoke", json={"reason": "改期"})
        assert r.status_code == 200, r.text
        row = await Credential.select().where(Credential.id == uuid.UUID(key["id"])).first()
        assert row["status"] == "revoked"
        r = await client.post(f"{PUBLIC}/{token}/phone-key", json=key_body(Phone()))
        assert_error(r, 404, "not_found")

    async def test_an_expired_pass_revokes_its_key_too(
        self, resident: ApiClient, client: ApiClient
    ) -> None:
        created, token = await shared(resident, phone_key_allowed=True)
        await register(client, token, Phone())
        past = datetime.now(UTC) - timedelta(seconds=1)
        await VisitorPass.update({VisitorPass.valid_until: past}).where(
            VisitorPass.id == created["id"]
        )
        assert uuid.UUID(created["id"]) in await expire_due(Effects())
        rows = await Credential.select(Credential.kind, Credential.status).where(
            Credential.visitor_pass == created["id"]
        )
        assert sorted((r["kind"], r["status"]) for r in rows) == [
            ("code", "revoked"),
            ("phone_key", "revoked"),
        ]

    async def test_doors_that_come_later_reach_the_key_and_the_bridge_gets_it(
        self, resident: ApiClient, client: ApiClient, open_site: OpenSite
    ) -> None:
        _, token = await shared(resident, phone_key_allowed=True)  # before the site's inventory
        phone = Phone()
        key = await register(client, token, phone)
        site = await open_site()
        entry = await eventually(lambda: site.held().get(key["id"]))
        assert (entry.kind, entry.public_key) == ("phone_key", phone.raw())
        assert set(entry.doors) == {"gate-east", "door-1-1", "lift-1"}
        assert (entry.entry_doors, entry.uses, entry.floors) == (["gate-east"], 1, [1])

    async def test_the_registration_shares_the_pages_rate_limit(
        self, resident: ApiClient, client: ApiClient
    ) -> None:
        _, token = await shared(resident, phone_key_allowed=True)
        before = await client.get(f"{PUBLIC}/{token}")
        remaining = int(before.headers["ratelimit-remaining"])
        r = await client.post(f"{PUBLIC}/{token}/phone-key", json=key_body(Phone()))
        assert int(r.headers["ratelimit-remaining"]) == remaining - 1


GATE, OTHER_GATE = "gate-north", "gate-south"


async def decided(bridge: Bridge, door: str, text: str, reason: str) -> None:
    """Wait until the bridge's own cache decides `text` at `door` for `reason` (refusals spend
    nothing)."""

    async def settled() -> bool:
        return (await bridge.access.decide(door, "qr", text)).reason == reason

    await eventually(settled, timeout=10.0, every=0.01)


async def north_gate(world: World) -> uuid.UUID:
    """The north gate's access point, once the site bridge's inventory has made it."""

    async def found() -> uuid.UUID | None:
        points = await point_ids(world.a.community)
        return next((i for name, i in points.items() if name.startswith("北门")), None)

    gate: uuid.UUID = await eventually(found)
    return gate


@pytest.mark.req("ACC-07", partial=True)
class TestAtTheSiteBridge:
    async def test_the_phones_code_opens_the_pass_door_in_its_window_and_nothing_else(
        self,
        site_settings: BridgeSettings,
        resident: ApiClient,
        client: ApiClient,
        world: World,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        phone = Phone()
        async with running(site_settings) as bridge:
            assert bridge.sim is not None
            gate = await north_gate(world)
            created, token = await shared(
                resident, phone_key_allowed=True, points=[str(gate)], entries=2
            )
            key = await register(client, token, phone)
            held = await eventually(lambda: bridge.access.cache.by_id(key["id"]), timeout=10.0)
            assert (held.entry.kind, held.entry.visitor_pass) == ("phone_key", created["id"])
            opened = await bridge.sim.present(GATE, "qr", phone.code(key["id"]))
            assert (opened.granted, opened.visitor_pass, opened.decided_by) == (
                True,
                created["id"],
                "bridge",  # from its cache: no signal needed at the gate either
            )
            elsewhere = await bridge.access.decide(OTHER_GATE, "qr", phone.code(key["id"], seq=1))
            assert (elsewhere.granted, elsewhere.reason) == (False, "not_this_door")
            record = await eventually(
                lambda: (
                    AccessRecord.select()
                    .where(AccessRecord.credential == uuid.UUID(key["id"]))
                    .first()
                )
            )
            assert (record["visitor_pass"], record["result"]) == (
                uuid.UUID(created["id"]),
                "granted",
            )
            # The entry counted on the pass, and its own credential learnt the entries left.
            pass_row = await eventually(
                lambda: (
                    VisitorPass.select()
                    .where((VisitorPass.id == created["id"]) & (VisitorPass.entries_used == 1))
                    .first()
                )
            )
            own = await Credential.select().where(Credential.id == pass_row["credential"]).first()
            assert own["uses"] == 1
            # Past the pass's window (the bridge's clock moved on; the phone's too).
            later = time.time() + 5 * 3600
            monkeypatch.setattr(bridge.access, "_clock", lambda: later)
            expired = await bridge.access.decide(GATE, "qr", phone.code(key["id"], at=later))
            assert (expired.granted, expired.reason) == (False, "expired")
            monkeypatch.undo()
            # Cancelled: the key is refused within seconds through the ordinary sync.
            await resident.post(f"{PASSES}/{created['id']}/revoke")
            await decided(bridge, GATE, phone.code(key["id"], seq=2), "revoked")

    async def test_before_the_window_the_phones_code_is_refused(
        self, site_settings: BridgeSettings, resident: ApiClient, client: ApiClient, world: World
    ) -> None:
        phone = Phone("Ed25519")
        start = datetime.now(UTC) + timedelta(hours=1)
        async with running(site_settings) as bridge:
            await north_gate(world)
            _, token = await shared(
                resident,
                phone_key_allowed=True,
                valid_from=start.isoformat(),
                valid_until=(start + timedelta(hours=2)).isoformat(),
            )
            key = await register(client, token, phone)
            await eventually(lambda: bridge.access.cache.by_id(key["id"]), timeout=10.0)
            early = await bridge.access.decide(GATE, "qr", phone.code(key["id"]))
            assert (early.granted, early.reason) == (False, "not_yet_valid")
