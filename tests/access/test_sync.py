"""Credential sync to a bridge: the full set on link, deltas on change, a revocation within 5 s."""

from __future__ import annotations

import asyncio
import time
import uuid

import msgspec
import pytest

from api.access.credential_keys import bridge_digest
from api.access.decide import decide
from api.access.tables import BridgeCredentials, Credential
from device_bridge import protocol
from tests.access.helpers import DOORS, Link, enrol_card, unique_card
from tests.devices.peer import EnrolledBridge, Peer, door_event
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, eventually


class TestFullSet:
    @pytest.mark.req("ACC-06")
    @pytest.mark.req("ACC-07", partial=True)
    async def test_link_gets_every_credential_with_digests_and_doors(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        number = unique_card()
        # The bridge must have linked once so its doors (and access points) exist.
        first = await link(bridge)
        await first.settle()
        await first.close()
        card = await enrol_card(manager, world.a.persons[0], number)
        site = await link(bridge)
        frame = await site.next_credentials()
        assert frame.since is None and frame.version > 0
        entry = next(e for e in frame.upserts if e.id == card["id"])
        assert entry.kind == "card"
        assert entry.digests == [bridge_digest(frame.key, "card", number)]
        # A household's card passes the community gate and its unit door, not the parcel room.
        assert entry.doors == ["door-1-1", "gate-north"]
        assert entry.person == str(world.a.persons[0])
        assert frame.qr_keys and all(len(k) == 32 for k in frame.qr_keys.values())
        assert number.encode() not in protocol.encode(frame)  # never the card number in clear
        await site.peer.send(protocol.CredentialsApplied(version=frame.version))
        await eventually(
            lambda: BridgeCredentials.exists().where(
                (BridgeCredentials.bridge == bridge.id)
                & (BridgeCredentials.applied_version == frame.version)
            )
        )

    async def test_the_digest_key_is_the_bridges_own(
        self, link: Link, manager: ApiClient, admin: ApiClient, world: World
    ) -> None:
        from tests.devices.peer import enrol

        one, two = await enrol(admin, world.a.community), await enrol(admin, world.a.community)
        await enrol_card(manager, world.a.persons[1], unique_card())
        keys = []
        for bridge in (one, two):
            site = await link(bridge)
            keys.append((await site.next_credentials()).key)
            await site.close()
        assert keys[0] != keys[1]

    async def test_a_bridge_of_revision_2_gets_the_set_packed_an_older_one_plain(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        first = await link(bridge)  # the scripted bridge says no revision: 1
        await first.settle()
        await first.close()
        number = unique_card()
        card = await enrol_card(manager, world.a.persons[0], number)
        for _ in range(20):  # a set worth packing (a few entries go plain)
            await enrol_card(manager, world.a.persons[1], unique_card())
        plain = await link(bridge)
        old = await plain.next_credentials()
        await plain.close()
        assert not old.packed and any(e.id == card["id"] for e in old.upserts)

        async with Peer.open(plain.live_url) as peer:
            hello = msgspec.structs.replace(peer.hello(bridge), protocol=protocol.REVISION)
            await peer.send(hello)
            assert isinstance(await peer.recv(), protocol.Welcome)
            await peer.send(protocol.Inventory(devices=DOORS))
            while not isinstance(frame := await peer.recv(), protocol.Credentials):
                pass
        assert frame.packed and not frame.upserts
        assert len(protocol.encode(frame)) < len(protocol.encode(old))
        opened = protocol.unpack(frame)
        assert [e.id for e in opened.upserts] == [e.id for e in old.upserts]
        entry = next(e for e in opened.upserts if e.id == card["id"])
        assert entry.digests == [bridge_digest(frame.key, "card", number)]


class TestDeltas:
    @pytest.mark.req("ACC-06")
    async def test_a_community_without_credentials_gets_an_empty_set_then_deltas(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        assert not await Credential.exists().where(Credential.community == world.a.community)
        site = await link(bridge)
        full = await site.next_credentials()
        assert (full.since, full.upserts, full.removals) == (None, [], [])
        await site.peer.send(protocol.CredentialsApplied(version=full.version))
        card = await enrol_card(manager, world.a.persons[0], unique_card())
        delta = await site.next_credentials()
        assert delta.since == full.version and [e.id for e in delta.upserts] == [card["id"]]
        await site.close()

    @pytest.mark.req("ACC-06")
    async def test_change_sends_a_delta_and_a_revocation_arrives_within_5_s(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        await enrol_card(manager, world.a.persons[0], unique_card())
        site = await link(bridge)
        full = await site.next_credentials()
        await site.peer.send(protocol.CredentialsApplied(version=full.version))

        number = unique_card()
        card = await enrol_card(manager, world.a.persons[1], number)
        delta = await site.next_credentials()
        assert delta.since == full.version and delta.version > full.version
        assert [e.id for e in delta.upserts] == [card["id"]]
        assert delta.upserts[0].digests == [bridge_digest(delta.key, "card", number)]

        started = time.perf_counter()
        r = await manager.post(
            f"/api/v1/credentials/{card['id']}/revoke", json={"reason": "card lost"}
        )
        assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
        revoked = await site.next_credentials(timeout=5.0)
        elapsed = time.perf_counter() - started
        print(f"\nrevocation reached the bridge {elapsed * 1000:.0f} ms after the request")
        assert revoked.since == delta.version
        assert revoked.removals == [card["id"]] and not revoked.upserts
        assert elapsed < 5.0

    async def test_refused_delta_gets_the_full_set(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        await enrol_card(manager, world.a.persons[0], unique_card())
        site = await link(bridge)
        full = await site.next_credentials()
        await site.peer.send(protocol.CredentialsApplied(version=0, ok=False))
        again = await site.next_credentials()
        assert again.since is None
        assert {e.id for e in again.upserts} == {e.id for e in full.upserts}

    async def test_a_group_change_reaches_its_credentials(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        site = await link(bridge)
        await site.settle()
        points = (
            await manager.get(
                "/api/v1/access-points", params={"community_id": str(world.a.community)}
            )
        ).json()["items"]
        parcel = next(p for p in points if p["name"] == "快递间")
        assert parcel["kind"] == "key_room"  # made from the inventory
        schedule = await manager.post(
            "/api/v1/access-schedules",
            json={
                "community_id": str(world.a.community),
                "name": "工作日白天",
                "windows": [{"days": [1, 2, 3, 4, 5], "start": "08:00", "end": "18:00"}],
                "holidays": ["2026-10-01"],
            },
        )
        assert schedule.status_code == 201, schedule.text
        group = await manager.post(
            "/api/v1/access-groups",
            json={
                "community_id": str(world.a.community),
                "name": "快递员",
                "point_ids": [],
                "schedule_id": schedule.json()["id"],
            },
        )
        assert group.status_code == 201, group.text
        card = await enrol_card(
            manager,
            world.a.persons[1],
            unique_card(),
            household_access=False,
            group_ids=[group.json()["id"]],
        )
        # No doors yet: the bridge holds nothing for it (a delta may say so).
        r = await manager.patch(
            f"/api/v1/access-groups/{group.json()['id']}", json={"point_ids": [parcel["id"]]}
        )
        assert r.status_code == 200, r.text
        frame = await site.next_credentials()
        while not frame.upserts:
            assert frame.since is not None and frame.removals == [card["id"]]
            frame = await site.next_credentials()
        entry = next(e for e in frame.upserts if e.id == card["id"])
        assert entry.doors == ["parcel-room"]
        assert entry.schedule == [protocol.Window(days=0b11111, start=480, end=1080)]
        assert entry.holidays == ["2026-10-01"]
        await site.close()


class TestAccessQuery:
    @pytest.mark.req("ACC-06")
    async def test_platform_decides_what_the_cache_cannot(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        number = unique_card()
        card = await enrol_card(manager, world.a.persons[0], number)
        site = await link(bridge)
        await site.settle()

        async def ask(door: str, method: str, value: str) -> protocol.AccessAnswer:
            query_id = uuid.uuid4().hex
            await site.peer.send(
                protocol.AccessQuery(id=query_id, door=door, method=method, value=value)
            )
            answer = await site.next_of(protocol.AccessAnswer)
            assert answer.id == query_id
            return answer

        granted = await ask("gate-north", "card", number)
        assert granted.granted and granted.credential == card["id"]
        assert granted.person == str(world.a.persons[0])
        refused = await ask("parcel-room", "card", number)
        assert not refused.granted and refused.reason == "not_this_door"
        unknown = await ask("gate-north", "card", unique_card())
        assert not unknown.granted and unknown.reason == "unknown"
        await manager.post(f"/api/v1/credentials/{card['id']}/revoke", json={"reason": "lost"})
        revoked = await ask("gate-north", "card", number)
        assert not revoked.granted and revoked.reason == "revoked"

    @pytest.mark.req("ACC-07", partial=True)
    async def test_dynamic_qr_passes_once_and_never_forged(
        self, as_role: AsRole, link: Link, bridge: EnrolledBridge
    ) -> None:
        from api.core.auth import Role

        resident = await as_role(Role.RESIDENT)
        site = await link(bridge)
        await site.settle()
        r = await resident.post("/api/v1/access/qr")
        assert r.status_code == 200, r.text
        body = r.json()
        claims, _, _ = protocol.parse_qr(body["token"])
        assert claims.exp - claims.iat <= protocol.QR_MAX_VALIDITY
        assert claims.cred == body["credential_id"]
        # The first request made the household's qr credential: the bridge gets it.
        frame = await site.next_credentials()
        assert any(e.id == body["credential_id"] and e.kind == "qr" for e in frame.upserts)

        async def ask(door: str, value: str) -> protocol.AccessAnswer:
            await site.peer.send(
                protocol.AccessQuery(id=uuid.uuid4().hex, door=door, method="qr", value=value)
            )
            return await site.next_of(protocol.AccessAnswer)

        assert (await ask("gate-north", body["token"])).granted
        again = await ask("gate-north", body["token"])
        assert not again.granted and again.reason == "qr_reused"
        elsewhere = await ask("door-1-1", body["token"])  # one token, one passage: anywhere
        assert not elsewhere.granted and elsewhere.reason == "qr_reused"
        forged = body["token"][:-4] + ("AAAA" if not body["token"].endswith("AAAA") else "BBBB")
        assert (await ask("gate-north", forged)).reason == "qr_forged"
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        other = protocol.qr_token(
            protocol.QrClaims(
                cred=claims.cred, iat=time.time(), exp=time.time() + 30, nonce=b"x", kid=claims.kid
            ),
            Ed25519PrivateKey.generate().sign,
        )
        assert (await ask("gate-north", other)).reason == "qr_forged"
        # The same credential's second token is a new one (fresh nonce).
        second = (await resident.post("/api/v1/access/qr")).json()
        assert second["credential_id"] == body["credential_id"]
        assert second["token"] != body["token"]
        assert (
            await Credential.count().where(Credential.id == uuid.UUID(body["credential_id"])) == 1
        )


class TestKeypadCodesAndFaces:
    @pytest.mark.req("ACC-07", partial=True)
    async def test_keypad_code_digests_advance_with_the_used_counter(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge, app
    ) -> None:
        import pyotp
        from litestar.channels import ChannelsPlugin

        from api.access.credentials import after_commit, create_credential, current_code
        from api.core.effects import AppOutlet, Effects
        from api.piccolo_conf import DB

        site = await link(bridge)
        await site.settle()
        gate = next(
            p
            for p in (await manager.get("/api/v1/access-points")).json()["items"]
            if p["kind"] == "gate"
        )
        secret, visitor_pass = pyotp.random_base32(), uuid.uuid4()
        async with DB.transaction():  # as the visitors domain makes a pass's keypad code
            code = await create_credential(
                community_id=world.a.community,
                kind="code",
                visitor_pass_id=visitor_pass,
                hotp_secret=secret,
                points=[uuid.UUID(gate["id"])],
                uses=2,
            )
        effects = Effects()
        after_commit(effects, world.a.community)
        await effects.apply(
            AppOutlet(app.plugins.get(ChannelsPlugin), app.state.redis, app.state.queue)
        )
        frame = await site.next_credentials()
        entry = next(e for e in frame.upserts if e.id == str(code))
        hotp = pyotp.HOTP(secret)
        assert entry.doors == ["gate-north"] and entry.counter == 0
        assert entry.entry_doors == ["gate-north"] and entry.uses == 2  # a visitor's: gates count
        # The next five codes, whatever the entries left: the doors inside burn codes too.
        assert entry.digests == [bridge_digest(frame.key, "code", hotp.at(i)) for i in range(5)]
        assert await current_code(code) == hotp.at(0)

        # The platform burns the code it grants: the same code again, before the bridge has
        # reported the first use, is refused.
        for query in ("q1", "q2"):
            await site.peer.send(
                protocol.AccessQuery(id=query, door="gate-north", method="code", value=hotp.at(1))
            )
        answer, again = [await site.next_of(protocol.AccessAnswer) for _ in range(2)]
        assert answer.granted and answer.visitor_pass == str(visitor_pass)
        assert not again.granted and again.reason == "code_used"
        burnt = await site.next_credentials()  # the decision moved the counter: code 0 too
        entry = next(e for e in burnt.upserts if e.id == str(code))
        assert (entry.counter, entry.uses) == (2, 2)
        await site.peer.send(
            protocol.EventBatch(
                events=[
                    door_event(
                        1,
                        "access.granted",
                        method="code",
                        direction="in",
                        credential=str(code),
                        visitor_pass=str(visitor_pass),
                        decided_by="platform",
                        counter=1,
                    )
                ]
            )
        )
        delta = await site.next_credentials()
        entry = next(e for e in delta.upserts if e.id == str(code))
        assert (entry.counter, entry.uses) == (2, 1)  # the entry counted, the counter kept
        assert entry.digests == [bridge_digest(delta.key, "code", hotp.at(i)) for i in range(2, 7)]
        assert await current_code(code) == hotp.at(2)
        # Two presentations of one code decided at once (two bridges): exactly one passes.
        query = protocol.AccessQuery(id="q3", door="gate-north", method="code", value=hotp.at(3))
        both = await asyncio.gather(
            *(
                decide(uuid.UUID(bridge.id), world.a.community, query, app.state.redis)
                for _ in range(2)
            )
        )
        assert sorted((a.granted, a.reason) for a in both) == [(False, "code_used"), (True, "")]
        assert await current_code(code) == hotp.at(4)
        await site.close()

    @pytest.mark.req("DATA-25")
    @pytest.mark.req("ACC-07", partial=True)
    async def test_face_entry_names_only_the_template(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        site = await link(bridge)
        await site.settle()
        jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"
        r = await manager.post(
            "/api/v1/biometrics/faces",
            data={"person_id": str(world.a.persons[0])},
            files={"photo": ("face.jpg", jpeg, "image/jpeg")},
        )
        assert r.status_code == 201, r.text
        face = r.json()
        frame = await site.next_credentials()
        entry = next(e for e in frame.upserts if e.id == face["credential_id"])
        assert entry.kind == "face"
        assert entry.digests == [bridge_digest(frame.key, "face", face["face_id"])]
        await site.peer.send(
            protocol.AccessQuery(id="f1", door="door-1-1", method="face", value=face["face_id"])
        )
        answer = await site.next_of(protocol.AccessAnswer)
        assert answer.granted and answer.credential == face["credential_id"]
        await site.close()

    @pytest.mark.req("ACC-20", partial=True)
    async def test_fingerprint_entry_is_the_device_template_and_the_platform_decides_it(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        site = await link(bridge)
        await site.settle()
        template = f"fp-{uuid.uuid4().hex[:8]}"  # the id the fingerprint reader gave the finger
        r = await manager.post(
            "/api/v1/credentials",
            json={"person_id": str(world.a.persons[0]), "kind": "fingerprint", "value": template},
        )
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "fingerprint" and template not in r.text
        frame = await site.next_credentials()
        entry = next(e for e in frame.upserts if e.id == r.json()["id"])
        assert entry.kind == "fingerprint"
        assert entry.digests == [bridge_digest(frame.key, "fingerprint", template)]
        assert template.encode() not in protocol.encode(frame)
        query = protocol.AccessQuery(
            id="fp1", door="door-1-1", method="fingerprint", value=template
        )
        await site.peer.send(query)
        answer = await site.next_of(protocol.AccessAnswer)
        assert answer.granted and answer.credential == r.json()["id"]
        bad = {"person_id": str(world.a.persons[0]), "kind": "fingerprint"}
        assert_error(await manager.post("/api/v1/credentials", json=bad), 422, "invalid_body")
        await site.close()


class TestCatchUp:
    async def test_a_missed_push_is_caught_up_on_the_next_heartbeat(
        self, link: Link, manager: ApiClient, world: World, bridge: EnrolledBridge
    ) -> None:
        from api.access.credentials import revoke_credentials
        from api.piccolo_conf import DB

        card = await enrol_card(manager, world.a.persons[0], unique_card())
        site = await link(bridge)
        full = await site.next_credentials()
        async with DB.transaction():  # a change whose push never happened
            await revoke_credentials([uuid.UUID(card["id"])], reason="test")
        await site.peer.send(protocol.Heartbeat(sent_at=time.time()))
        delta = await site.next_credentials()
        assert delta.since == full.version and delta.removals == [card["id"]]
