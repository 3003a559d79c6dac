"""A phone that is its own key: a resident registers the key the phone made, lists and revokes
it; a manager revokes a lost phone's; bad keys and too many phones are refused; the real bridge
gets the public key through the credential sync, passes the phone's code once, and refuses it
within 5 s of a revocation."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from api.access.phone_keys import MAX_PHONE_KEYS
from api.access.tables import AccessRecord, Credential
from api.core.auth import Role
from device_bridge import protocol
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.access.helpers import Link
from tests.devices.peer import EnrolledBridge
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows, eventually, running
from tests.phone_key import Phone

KEYS = "/api/v1/access/phone-keys"
GATE, SOUTH = "gate-north", "door-1-1"


async def register(resident: ApiClient, phone: Phone, name: str = "我的手机") -> dict:
    r = await resident.post(
        KEYS, json={"name": name, "algorithm": phone.algorithm, "public_key": phone.spki()}
    )
    assert r.status_code == 201, r.text
    return r.json()


def spki(key: object) -> str:
    der = key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.mark.req("ACC-07", partial=True)
class TestRegistration:
    async def test_a_resident_registers_lists_and_revokes_a_phone_key_audited(
        self, resident: ApiClient, world: World
    ) -> None:
        phone = Phone("Ed25519")
        key = await register(resident, phone)
        assert (key["name"], key["algorithm"], key["status"]) == ("我的手机", "Ed25519", "active")
        row = await Credential.select().where(Credential.id == uuid.UUID(key["id"])).first()
        assert row["kind"] == "phone_key" and bytes(row["public_key"]) == phone.raw()
        assert row["household"] is not None and row["community"] == world.a.community
        (created,) = await audit_rows("credential.create", key["id"])
        assert created["details"]["kind"] == "phone_key"
        listed = (await resident.get(KEYS)).json()
        assert [k["id"] for k in listed] == [key["id"]]
        r = await resident.post(f"{KEYS}/{key['id']}/revoke")
        assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
        assert await audit_rows("credential.revoke", key["id"])
        assert_error(await resident.post(f"{KEYS}/{key['id']}/revoke"), 409, "phone_key_revoked")

    async def test_bad_keys_are_refused(self, resident: ApiClient) -> None:
        p384 = spki(ec.generate_private_key(ec.SECP384R1()))
        small = 1024  # small enough to pass the length limit; only its kind is refused
        rsa_key = spki(rsa.generate_private_key(public_exponent=65537, key_size=small))
        p256 = Phone("ES256").spki()
        for algorithm, public_key, code in (
            ("ES256", "not base64 at all!" * 3, "invalid_phone_key"),
            ("ES256", base64.b64encode(b"\x30" * 91).decode(), "invalid_phone_key"),
            ("ES256", p384, "invalid_phone_key"),  # the wrong curve
            ("ES256", rsa_key, "invalid_phone_key"),  # not an elliptic curve at all
            ("Ed25519", p256, "invalid_phone_key"),  # a key of another algorithm than named
            ("ES384", p256, "invalid_body"),
        ):
            r = await resident.post(
                KEYS, json={"name": "x", "algorithm": algorithm, "public_key": public_key}
            )
            assert_error(r, 422 if code == "invalid_body" else 400, code)
        for body in (
            {"name": "", "algorithm": "ES256", "public_key": p256},
            {"name": "x" * 41, "algorithm": "ES256", "public_key": p256},
            {"name": "x", "algorithm": "ES256", "public_key": p256, "private_key": "no"},
        ):
            assert_error(await resident.post(KEYS, json=body), 422, "invalid_body")
        assert (await resident.get(KEYS)).json() == []

    async def test_too_many_phones_and_the_same_key_twice_are_refused(
        self, resident: ApiClient
    ) -> None:
        keys = [await register(resident, Phone()) for _ in range(MAX_PHONE_KEYS)]
        assert_error(await resident.post(KEYS, json=_body(Phone())), 409, "too_many_phone_keys")
        await resident.post(f"{KEYS}/{keys[0]['id']}/revoke")
        again = Phone()
        await register(resident, again)  # a revoked phone frees its place
        assert_error(await resident.post(KEYS, json=_body(again)), 409, "duplicate_credential")

    async def test_out_of_scope_is_not_found_and_a_manager_revokes_a_lost_phone(
        self, resident: ApiClient, as_role: AsRole
    ) -> None:
        key = await register(resident, Phone())
        other = await as_role(Role.RESIDENT, "b")
        assert_error(await other.post(f"{KEYS}/{key['id']}/revoke"), 404, "not_found")
        assert (await other.get(KEYS)).json() == []
        manager_b = await as_role(Role.PROPERTY_MANAGER, "b")
        revoke = f"/api/v1/credentials/{key['id']}/revoke"
        assert_error(await manager_b.post(revoke, json={"reason": "丢失"}), 404, "not_found")
        manager = await as_role(Role.PROPERTY_MANAGER)
        assert_error(await manager.post(KEYS, json=_body(Phone())), 404, "not_found")
        r = await manager.post(revoke, json={"reason": "手机丢失"})
        assert r.status_code == 200 and r.json()["label"] == "我的手机", r.text
        (mine,) = (await resident.get(KEYS)).json()
        assert (mine["status"], mine["revoke_reason"]) == ("revoked", "手机丢失")


def _body(phone: Phone) -> dict[str, str]:
    return {"name": "手机", "algorithm": phone.algorithm, "public_key": phone.spki()}


@pytest.mark.req("ACC-07", partial=True)
class TestSync:
    async def test_the_public_key_travels_in_the_credential_sync_and_a_revocation_as_a_delta(
        self, link: Link, resident: ApiClient, bridge: EnrolledBridge
    ) -> None:
        phone = Phone()
        first = await link(bridge)
        full = await first.next_credentials()
        await first.peer.send(protocol.CredentialsApplied(version=full.version))
        key = await register(resident, phone)
        delta = await first.next_credentials()
        (entry,) = [e for e in delta.upserts if e.id == key["id"]]
        assert (entry.kind, entry.public_key) == ("phone_key", phone.raw())
        assert delta.since == full.version
        assert GATE in entry.doors
        await first.peer.send(protocol.CredentialsApplied(version=delta.version))
        await resident.post(f"{KEYS}/{key['id']}/revoke")
        revoked = await first.next_credentials(timeout=5.0)
        assert revoked.removals == [key["id"]] and revoked.since == delta.version


async def refused(bridge: Bridge, text: str, reason: str) -> None:
    """Wait until the bridge's own cache refuses `text` at the gate for `reason` (no grant spends
    it: a refusal does not)."""

    async def settled() -> bool:
        return (await bridge.access.decide(GATE, "qr", text)).reason == reason

    await eventually(settled, timeout=10.0, every=0.01)


@pytest.mark.req("ACC-06", "ACC-07", "ACC-10", partial=True)
class TestWithTheSiteBridge:
    async def test_a_phone_code_passes_once_and_a_revocation_stops_it_within_5_s(
        self, site_settings: BridgeSettings, resident: ApiClient, as_role: AsRole
    ) -> None:
        phone = Phone()
        async with running(site_settings) as bridge:
            assert bridge.sim is not None
            key = await register(resident, phone)
            await eventually(lambda: bridge.access.cache.by_id(key["id"]), timeout=10.0)
            code = phone.code(key["id"])
            assert (await bridge.sim.present(GATE, "qr", code)).granted
            again = await bridge.sim.present(SOUTH, "qr", code)
            assert (again.granted, again.reason) == (False, "qr_reused")
            record = await eventually(
                lambda: AccessRecord.select().where(AccessRecord.credential == key["id"]).first()
            )
            assert (record["result"], record["method"]) == ("granted", "qr")

            manager = await as_role(Role.PROPERTY_MANAGER)
            started = time.perf_counter()
            r = await manager.post(
                f"/api/v1/credentials/{key['id']}/revoke", json={"reason": "手机丢失"}
            )
            assert r.status_code == 200, r.text
            await refused(bridge, phone.code(key["id"], seq=1), "revoked")
            elapsed = time.perf_counter() - started
            print(f"\nrevoked phone key refused by the site bridge {elapsed * 1000:.0f} ms later")
            assert elapsed < 5.0

    async def test_the_platform_decides_a_phone_code_the_bridge_does_not_hold_yet(
        self, site_settings: BridgeSettings, resident: ApiClient
    ) -> None:
        phone = Phone("Ed25519")
        key = await register(resident, phone)
        async with running(site_settings) as bridge:
            assert bridge.sim is not None
            await eventually(lambda: bridge.access.cache.by_id(key["id"]), timeout=10.0)
            bridge.access.cache.state.entries.pop(key["id"])  # as if the delta were not here yet
            code = phone.code(key["id"])
            granted = await bridge.sim.present(GATE, "qr", code)
            assert (granted.granted, granted.decided_by) == (True, "platform")
            forged = Phone("Ed25519").code(key["id"], seq=1)
            denied = await bridge.access.decide(GATE, "qr", forged)
            assert (denied.granted, denied.reason) == (False, "qr_forged")
            again = await bridge.access.decide(GATE, "qr", code)
            assert (again.granted, again.reason) == (False, "qr_reused")
