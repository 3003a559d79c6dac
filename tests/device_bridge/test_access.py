"""Access decisions at a whole bridge (cache, link, sim readers, outbox) against the fake platform:
credential sets and deltas, card / PIN / keypad code / QR / face, refusals online and offline,
uses and codes, failed reads, the fallback query, and a restart with no link.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device_bridge import protocol as p
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.device_bridge.fake_platform import FakePlatform, Issuer
from tests.device_bridge.helpers import running
from tests.device_bridge.test_rules import unreachable_url

CARD = "0012345678"
PIN = "246810"


@pytest.fixture
def issuer() -> Issuer:
    """The platform's credential side for the test bridge."""
    return Issuer()


def card(issuer: Issuer, **fields: object) -> p.CredentialEntry:
    """A resident's card at the north gate and their unit door."""
    base: dict[str, object] = {
        "id": "cred-card",
        "kind": "card",
        "doors": ["gate-north", "door-1-1"],
        "digests": [issuer.digest("card", CARD)],
        "person": "p-1",
    }
    return p.CredentialEntry(**{**base, **fields})  # type: ignore[arg-type]


def qr(**fields: object) -> p.CredentialEntry:
    """A resident's dynamic QR credential at both gates."""
    base: dict[str, object] = {
        "id": "cred-qr",
        "kind": "qr",
        "doors": ["gate-north", "gate-south"],
        "person": "p-2",
    }
    return p.CredentialEntry(**{**base, **fields})  # type: ignore[arg-type]


def pin(issuer: Issuer) -> p.CredentialEntry:
    """A PIN at the parcel room."""
    return p.CredentialEntry(
        id="cred-pin",
        kind="pin",
        doors=["door-parcel"],
        digests=[issuer.digest("pin", PIN)],
        person="p-3",
    )


async def synced(
    bridge: Bridge, platform: FakePlatform, issuer: Issuer, entries: list[p.CredentialEntry]
) -> p.CredentialsApplied:
    """Wait for the link, then send a full set."""
    await asyncio.wait_for(bridge.link.authenticated.wait(), 5)
    return await platform.send_credentials(issuer.frame(entries, full=True))


async def recorded(bridge: Bridge, *kinds: str) -> list[p.Event]:
    """The events of these kinds still in the outbox (all of them while the platform is away)."""
    return [e for e in await bridge.outbox.pending(limit=10_000) if e.kind in kinds]


def sim(bridge: Bridge):  # type: ignore[no-untyped-def]
    """The bridge's sim driver."""
    assert bridge.sim is not None
    return bridge.sim


@pytest.mark.req("ACC-06")
class TestSync:
    async def test_full_set_then_delta_then_a_delta_that_does_not_fit(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        applied = await synced(bridge, platform, issuer, [card(issuer), qr()])
        assert (applied.version, applied.ok) == (1, True)
        assert len(bridge.access.cache) == 2

        delta = issuer.frame([pin(issuer)], removals=["cred-qr"])
        assert (await platform.send_credentials(delta)) == p.CredentialsApplied(version=2, ok=True)
        assert {e for e in bridge.access.cache.state.entries} == {"cred-card", "cred-pin"}

        stale = issuer.frame([qr()], since=7)  # made from a version the bridge never had
        answer = await platform.send_credentials(stale)
        assert (answer.version, answer.ok) == (2, False)
        assert (
            bridge.access.cache.version == 2 and "cred-qr" not in bridge.access.cache.state.entries
        )

        again = issuer.frame([card(issuer), qr()], full=True)
        assert (await platform.send_credentials(again)) == p.CredentialsApplied(version=4, ok=True)
        assert set(bridge.access.cache.state.entries) == {"cred-card", "cred-qr"}

    async def test_packed_sets_apply_like_plain_ones(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await asyncio.wait_for(bridge.link.authenticated.wait(), 5)
        assert platform.revision == p.REVISION >= 2  # the bridge says it opens packed sets
        many = [
            card(issuer, id=f"cred-{i}", digests=[issuer.digest("card", f"{i}")]) for i in range(40)
        ]
        full = p.pack(issuer.frame([card(issuer), qr(), *many], full=True))
        assert full.packed and not full.upserts
        assert (await platform.send_credentials(full)).ok
        delta = p.pack(issuer.frame([pin(issuer)], removals=["cred-qr"]))
        assert not delta.packed  # a small delta goes plain
        assert (await platform.send_credentials(delta)) == p.CredentialsApplied(version=2, ok=True)
        assert set(bridge.access.cache.state.entries) == {"cred-card", "cred-pin"} | {
            f"cred-{i}" for i in range(40)
        }
        assert (await sim(bridge).present("door-1-1", "card", CARD)).granted

    async def test_ten_thousand_credentials_in_one_frame(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        entries = [
            p.CredentialEntry(
                id=f"c-{i:05d}",
                kind="card",
                doors=["gate-north", "gate-south", "turnstile-north"],
                digests=[issuer.digest("card", f"{i:010d}")],
                person=f"person-{i:05d}",
            )
            for i in range(10_000)
        ]
        assert len(p.encode(issuer.frame(entries, full=True))) > 2**20
        applied = await synced(bridge, platform, issuer, entries)
        assert applied.ok and len(bridge.access.cache) == 10_000
        assert (await sim(bridge).present("gate-south", "card", f"{9_999:010d}")).granted
        assert bridge.link.sessions == 1  # the big frame did not break the link

    async def test_revoked_by_a_delta_is_refused_at_once(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [card(issuer), qr()])
        assert (await sim(bridge).present("gate-north", "card", CARD)).granted
        await platform.send_credentials(issuer.frame([], removals=["cred-card", "cred-qr"]))

        refused = await sim(bridge).present("gate-north", "card", CARD)
        assert (refused.granted, refused.reason, refused.credential) == (
            False,
            "revoked",
            "cred-card",
        )
        token = issuer.qr("cred-qr")
        assert (await sim(bridge).present("gate-north", "qr", token)).reason == "revoked"
        assert platform.queries == []  # decided at the bridge, not asked


@pytest.mark.req("ACC-06")
@pytest.mark.req("ACC-07", "ACC-10", partial=True)
class TestGranted:
    @pytest.mark.req("ICM-10")
    async def test_card_opens_the_door_and_is_recorded(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [card(issuer)])
        decision = await sim(bridge).present("door-1-1", "card", CARD, direction="out")
        assert decision.granted and decision.decided_by == "bridge"
        await platform.wait_for(
            lambda: (
                [e.kind for e in platform.events.values() if e.device == "door-1-1"]
                == ["access.granted", "door.opened", "door.closed"]
            )
        )
        granted = next(e for e in platform.events.values() if e.kind == "access.granted")
        assert granted.data == {
            "method": "card",
            "direction": "out",
            "credential": "cred-card",
            "person": "p-1",
            "visitor_pass": None,
            "decided_by": "bridge",
        }

    async def test_pin_and_qr_and_face(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        face = p.CredentialEntry(
            id="cred-face",
            kind="face",
            doors=["turnstile-north"],
            digests=[issuer.digest("face", "tpl-77")],
            person="p-4",
        )
        await synced(bridge, platform, issuer, [pin(issuer), qr(), face])
        assert (await sim(bridge).present("door-parcel", "pin", PIN)).granted
        assert (await sim(bridge).present("gate-south", "qr", issuer.qr("cred-qr"))).granted
        matched = await sim(bridge).present("turnstile-north", "face", "tpl-77")
        assert (matched.granted, matched.person) == (True, "p-4")
        await platform.wait_for(
            lambda: (
                sorted(
                    (e.device, e.data["method"])
                    for e in platform.events.values()
                    if e.kind == "access.granted"
                )
                == [("door-parcel", "pin"), ("gate-south", "qr"), ("turnstile-north", "face")]
            )
        )
        await platform.wait_for(
            lambda: sum(e.kind == "door.opened" for e in platform.events.values()) == 3
        )

    @pytest.mark.req("ACC-20", partial=True)
    async def test_fingerprint_matched_at_the_reader_opens_and_is_recorded(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        finger = p.CredentialEntry(
            id="cred-finger",
            kind="fingerprint",
            doors=["door-1-1"],
            digests=[issuer.digest("fingerprint", "fp-0042")],
            person="p-5",
        )
        await synced(bridge, platform, issuer, [finger])
        matched = await sim(bridge).present("door-1-1", "fingerprint", "fp-0042")
        assert (matched.granted, matched.credential, matched.person) == (True, "cred-finger", "p-5")
        bridge.access.query_timeout = 0.1
        elsewhere = await sim(bridge).present("gate-north", "fingerprint", "fp-0042")
        assert (elsewhere.granted, elsewhere.reason) == (False, "not_this_door")
        await platform.wait_for(
            lambda: any(
                e.kind == "access.granted" and e.data["method"] == "fingerprint"
                for e in platform.events.values()
            )
        )

    async def test_wrong_door_and_unknown_face(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [pin(issuer)])
        assert (await sim(bridge).present("gate-north", "pin", PIN)).reason == "not_this_door"
        bridge.access.query_timeout = 0.2
        assert (await sim(bridge).present("gate-north", "face", "tpl-0")).reason == "unknown"
        assert bridge.sim is not None
        assert bridge.sim.fleet.devices["gate-north"].state["door"] == "closed"


@pytest.mark.req("ACC-07", partial=True)
class TestQr:
    async def test_a_token_is_one_passage_at_every_reader_of_the_site(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [qr()])
        token = issuer.qr("cred-qr")
        assert (await sim(bridge).present("gate-north", "qr", token)).granted
        for reader in ("gate-north", "gate-south"):
            again = await sim(bridge).present(reader, "qr", token)
            assert (again.granted, again.reason) == (False, "qr_reused")
        # The holder's next token (the app shows a fresh one) passes at the next door.
        assert (await sim(bridge).present("gate-south", "qr", issuer.qr("cred-qr"))).granted

    async def test_a_refused_token_is_not_spent(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [qr(doors=["gate-south"])])
        token = issuer.qr("cred-qr")
        assert (await sim(bridge).present("gate-north", "qr", token)).reason == "not_this_door"
        assert (await sim(bridge).present("gate-south", "qr", token)).granted

    @pytest.mark.parametrize("online", [True, False], ids=["online", "offline"])
    async def test_expired_forged_and_foreign_codes_are_refused(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer, online: bool
    ) -> None:
        await synced(bridge, platform, issuer, [qr()])
        if not online:
            await platform.stop()
            await asyncio.wait_for(_until(lambda: not bridge.link.authenticated.is_set()), 5)
        now = time.time()
        other = Ed25519PrivateKey.generate()
        good = issuer.qr("cred-qr")
        body, signature = good.split(".")
        tampered = issuer.qr("cred-other").split(".")[0] + "." + signature
        cases = {
            "expired": (issuer.qr("cred-qr", iat=now - 90, ttl=60), "qr_expired"),
            "too long-lived": (issuer.qr("cred-qr", iat=now - 1, ttl=300), "qr_expired"),
            "from the future": (issuer.qr("cred-qr", iat=now + 60), "qr_expired"),
            "signed by another key": (issuer.qr("cred-qr", signer=other), "qr_forged"),
            "claims swapped": (tampered, "qr_forged"),
            "garbled": (body + ".AAAA", "qr_forged"),
            "unknown key id": (issuer.qr("cred-qr", signer=other, kid="k9"), "qr_unknown_key"),
        }
        for name, (token, reason) in cases.items():
            decision = await sim(bridge).present("gate-north", "qr", token)
            assert (decision.granted, decision.reason) == (False, reason), name
        assert (await sim(bridge).present("gate-north", "qr", good)).granted
        assert platform.queries == []
        if not online:
            denied = await recorded(bridge, "access.denied")
            assert [e.data["reason"] for e in denied] == [r for _, r in cases.values()]
            await platform.start()
            await platform.wait_for(
                lambda: sum(e.kind == "access.denied" for e in platform.events.values()) == 7
            )

    async def test_qr_of_an_uncached_credential_goes_to_the_platform(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [])
        platform.answer = lambda q: p.AccessAnswer(
            id=q.id, granted=True, credential="cred-new", person="p-8", visitor_pass="vp-1"
        )
        token = issuer.qr("cred-new")
        decision = await sim(bridge).present("gate-north", "qr", token)
        assert (decision.granted, decision.decided_by, decision.visitor_pass) == (
            True,
            "platform",
            "vp-1",
        )
        assert [(q.method, q.value, q.door) for q in platform.queries] == [
            ("qr", token, "gate-north")
        ]
        # Reused at the same reader: refused by the bridge itself, without asking again.
        assert (await sim(bridge).present("gate-north", "qr", token)).reason == "qr_reused"
        assert len(platform.queries) == 1


@pytest.mark.req("ACC-06")
class TestCountedPasses:
    async def test_uses_run_out_and_stay_used_after_a_restart(
        self, bridge_settings: BridgeSettings, platform: FakePlatform, issuer: Issuer
    ) -> None:
        async with running(bridge_settings) as bridge:
            await synced(bridge, platform, issuer, [card(issuer, uses=2)])
            results = [(await sim(bridge).present("gate-north", "card", CARD)) for _ in range(3)]
            assert [(d.granted, d.reason) for d in results] == [
                (True, ""),
                (True, ""),
                (False, "no_uses_left"),
            ]
        alone = msgspec.structs.replace(bridge_settings, platform_url=unreachable_url())
        async with running(alone) as bridge:
            assert (await sim(bridge).present("gate-north", "card", CARD)).reason == "no_uses_left"

    async def test_local_passes_the_platform_has_not_stored_still_count(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [card(issuer, uses=2)])
        platform.silent = True  # stores events but acks nothing
        assert (await sim(bridge).present("gate-north", "card", CARD)).granted
        await platform.wait_for(
            lambda: any(e.kind == "access.granted" for e in platform.events.values())
        )
        # A set made before the platform counted that pass still says 2.
        await platform.send_credentials(issuer.frame([card(issuer, uses=2)], full=True))
        assert bridge.access.cache.by_id("cred-card").uses == 1  # type: ignore[union-attr]
        platform.silent = False
        await platform.wait_for(lambda: len(platform.heartbeats) > 2)  # acks flow again
        await _until_acked(bridge)
        # Once acked, the platform's figure is the authority.
        await platform.send_credentials(issuer.frame([card(issuer, uses=1)]))
        assert bridge.access.cache.by_id("cred-card").uses == 1  # type: ignore[union-attr]

    async def test_keypad_code_burns_the_earlier_codes(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        codes = ["111111", "222222", "333333", "444444", "555555"]
        entry = p.CredentialEntry(
            id="cred-code",
            kind="code",
            doors=["gate-north"],
            digests=[issuer.digest("code", c) for c in codes],
            visitor_pass="vp-9",
            uses=2,
            counter=10,
        )
        await synced(bridge, platform, issuer, [entry])
        first = await sim(bridge).present("gate-north", "pin", "333333")  # a keypad says "pin"
        assert (first.granted, first.method, first.counter) == (True, "code", 12)
        for used in ("111111", "222222", "333333"):
            assert (await sim(bridge).present("gate-north", "code", used)).reason == "code_used"
        second = await sim(bridge).present("gate-north", "code", "444444")
        assert (second.granted, second.counter) == (True, 13)
        assert (await sim(bridge).present("gate-north", "code", "555555")).reason == "no_uses_left"
        await platform.wait_for(
            lambda: (
                [
                    e.data.get("counter")
                    for e in platform.events.values()
                    if e.kind == "access.granted"
                ]
                == [12, 13]
            )
        )
        granted = [e for e in platform.events.values() if e.kind == "access.granted"]
        assert granted[0].data["visitor_pass"] == "vp-9" and granted[0].data["method"] == "code"


@pytest.mark.req("VIS-07")
@pytest.mark.req("VIS-04", partial=True)
class TestVisitorPass:
    async def test_one_entry_is_the_gates_and_the_doors_inside_still_open(
        self, bridge_settings: BridgeSettings, platform: FakePlatform, issuer: Issuer
    ) -> None:
        codes = ["111111", "222222", "333333", "444444", "555555"]
        visit = p.CredentialEntry(  # a visitor pass: one credential for its QR and keypad code
            id="cred-visit",
            kind="code",
            doors=["gate-north", "door-1-1", "lift-1-1"],
            digests=[issuer.digest("code", c) for c in codes],
            visitor_pass="vp-5",
            floors=[5],
            uses=1,
            entry_doors=["gate-north"],
        )
        async with running(bridge_settings) as bridge:
            await synced(bridge, platform, issuer, [visit])
            came = await sim(bridge).present("gate-north", "qr", issuer.qr("cred-visit"))
            assert (came.granted, came.method, came.visitor_pass) == (True, "qr", "vp-5")
            again = await sim(bridge).present("gate-north", "code", "111111")
            assert (again.granted, again.reason) == (False, "no_uses_left")
            door = await sim(bridge).present("door-1-1", "code", "111111")
            assert (door.granted, door.counter) == (True, 0)
            lift = await sim(bridge).present("lift-1-1", "pin", "222222")
            assert (lift.granted, lift.floor) == (True, 5)
            out = await sim(bridge).present(
                "gate-north", "qr", issuer.qr("cred-visit"), direction="out"
            )
            assert out.granted
            assert bridge.access.cache.by_id("cred-visit").uses == 0  # type: ignore[union-attr]
        alone = msgspec.structs.replace(bridge_settings, platform_url=unreachable_url())
        async with running(alone) as bridge:  # restarted offline: the same counts
            held = bridge.access.cache.by_id("cred-visit")
            assert held is not None and (held.uses, held.next_counter) == (0, 2)
            refused = await sim(bridge).present("gate-north", "code", "333333")
            assert (refused.granted, refused.reason) == (False, "no_uses_left")
            assert (await sim(bridge).present("door-1-1", "code", "333333")).granted


@pytest.mark.req("DATA-25", partial=True)
class TestFaces:
    async def test_a_face_goes_onto_the_readers_matches_and_comes_off_confirmed(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        face = p.CredentialEntry(
            id="cred-face",
            kind="face",
            doors=["turnstile-north", "door-1-1"],
            digests=[issuer.digest("face", "tpl-9")],
            person="p-9",
        )
        await synced(bridge, platform, issuer, [face])
        photo = b"\xff\xd8\xff\xe0" + b"face" * 100
        assert await sim(bridge).show_face("turnstile-north", "tpl-9") is None  # not on it yet
        enrol = p.FaceEnrol(
            id="e1",
            face="tpl-9",
            photo=photo,
            content_type="image/jpeg",
            doors=["turnstile-north", "door-1-1"],
        )
        applied = await platform.send_faces(enrol)
        assert (applied.action, applied.done, applied.failed) == (
            "enrol",
            ["turnstile-north", "door-1-1"],
            {},
        )
        reader = sim(bridge).fleet.get("turnstile-north")
        assert reader.state["faces"] == {"tpl-9": len(photo)}
        matched = await sim(bridge).show_face("turnstile-north", "tpl-9")
        assert matched is not None and (matched.granted, matched.person) == (True, "p-9")

        await sim(bridge).set_fault("door-1-1", offline=True)
        removed = await platform.send_faces(
            p.FaceRemove(id="r1", face="tpl-9", doors=["turnstile-north", "door-1-1"])
        )
        assert removed.done == ["turnstile-north"] and list(removed.failed) == ["door-1-1"]
        assert reader.state["faces"] == {}
        assert await sim(bridge).show_face("turnstile-north", "tpl-9") is None
        await sim(bridge).clear_faults("door-1-1")
        again = await platform.send_faces(p.FaceRemove(id="r2", face="tpl-9", doors=["door-1-1"]))
        assert again.done == ["door-1-1"]
        assert sim(bridge).fleet.get("door-1-1").state["faces"] == {}

    async def test_not_a_photo_is_refused_by_the_reader(
        self, bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(bridge.link.authenticated.wait(), 5)
        bad = p.FaceEnrol(
            id="e2", face="tpl-1", photo=b"text", content_type="image/jpeg", doors=["door-1-1"]
        )
        applied = await platform.send_faces(bad)
        assert applied.done == [] and "not a JPEG" in applied.failed["door-1-1"]


@pytest.mark.req("ACC-14")
class TestIndication:
    async def test_a_refusal_is_shown_at_the_reader_and_a_grant_opens(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [card(issuer)])
        bridge.access.query_timeout = 0.1
        reader = sim(bridge).fleet.get("door-1-1")
        refused = await sim(bridge).present("door-1-1", "card", "not-a-card")
        assert not refused.granted
        assert reader.state["indications"] == [
            {"result": "denied", "reason": "unknown", "light": "red", "beeps": 3}
        ]
        assert reader.state["door"] == "closed"
        assert (await sim(bridge).present("door-1-1", "card", CARD)).granted
        assert reader.state["door"] == "open" and len(reader.state["indications"]) == 1


@pytest.mark.req("ACC-18", partial=True)
class TestFailedReads:
    async def test_five_denials_in_a_row_at_one_reader(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [card(issuer)])
        bridge.access.query_timeout = 0.1
        for n in range(4):
            await sim(bridge).present("gate-north", "card", f"bad-{n}")
        assert (await sim(bridge).present("gate-north", "card", CARD)).granted  # resets
        await sim(bridge).present("gate-south", "card", "bad-x")  # another reader
        for n in range(6):
            await sim(bridge).present("gate-north", "card", f"bad-{n}")
        await platform.wait_for(
            lambda: sum(e.kind == "access.denied" for e in platform.events.values()) == 11
        )
        failed = [e for e in platform.events.values() if e.kind == "access.failed_reads"]
        assert [(e.device, e.data) for e in failed] == [
            ("gate-north", {"count": 5, "method": "card"})
        ]


@pytest.mark.req("ACC-06")
class TestFallback:
    async def test_platform_answers_what_the_cache_cannot(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [])
        platform.answer = lambda q: (
            p.AccessAnswer(id=q.id, granted=True, credential="cred-9", person="p-9")
            if q.value == "777"
            else p.AccessAnswer(id=q.id, granted=False, reason="expired", credential="cred-8")
        )
        granted = await sim(bridge).present("door-1-1", "card", "777")
        assert (granted.granted, granted.decided_by, granted.person) == (True, "platform", "p-9")
        refused = await sim(bridge).present("door-1-1", "card", "888")
        assert (refused.granted, refused.reason, refused.decided_by) == (
            False,
            "expired",
            "platform",
        )
        await platform.wait_for(
            lambda: (
                [e.kind for e in platform.events.values() if e.kind.startswith("access.")]
                == ["access.granted", "access.denied"]
            )
        )
        first = next(e for e in platform.events.values() if e.kind == "access.granted")
        assert first.data["decided_by"] == "platform" and first.data["credential"] == "cred-9"

    async def test_no_answer_in_time_is_a_denial(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [])
        bridge.access.query_timeout = 0.3
        started = time.monotonic()
        decision = await sim(bridge).present("door-1-1", "card", "777")
        assert (decision.granted, decision.reason) == (False, "unknown")
        assert 0.3 <= time.monotonic() - started < 1.3  # the timeout, not the default 1.5 s
        assert len(platform.queries) == 1

    async def test_offline_unknown_is_denied_without_waiting(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [])
        await platform.stop()
        await asyncio.wait_for(_until(lambda: not bridge.link.authenticated.is_set()), 5)
        started = time.monotonic()
        decision = await sim(bridge).present("door-1-1", "card", "777")
        assert (decision.granted, decision.reason) == (False, "unknown")
        assert time.monotonic() - started < 1.0  # no link: no waiting for the 1.5 s query timeout


@pytest.mark.req("ACC-06")
@pytest.mark.req("ACC-11", partial=True)
class TestOffline:
    async def test_restarted_bridge_without_a_link_decides_from_its_cache(
        self, bridge_settings: BridgeSettings, platform: FakePlatform, issuer: Issuer
    ) -> None:
        async with running(bridge_settings) as bridge:
            await synced(bridge, platform, issuer, [card(issuer), qr(), pin(issuer)])
        await platform.stop()
        async with running(bridge_settings) as bridge:
            assert bridge.access.cache.version == 1
            assert (await sim(bridge).present("gate-north", "card", CARD)).granted
            assert (await sim(bridge).present("door-parcel", "pin", PIN)).granted
            token = issuer.qr("cred-qr")
            assert (await sim(bridge).present("gate-south", "qr", token)).granted
            assert (await sim(bridge).present("gate-south", "qr", token)).reason == "qr_reused"
            granted = await recorded(bridge, "access.granted")
            assert [(e.device, e.data["method"]) for e in granted] == [
                ("gate-north", "card"),
                ("door-parcel", "pin"),
                ("gate-south", "qr"),
            ]
            await platform.start()  # the link returns: the records arrive
            await platform.wait_for(
                lambda: sum(e.kind.startswith("access.") for e in platform.events.values()) == 4,
                timeout=15,
            )

    async def test_qr_used_before_a_restart_stays_used(
        self, bridge_settings: BridgeSettings, platform: FakePlatform, issuer: Issuer
    ) -> None:
        token = issuer.qr("cred-qr", nonce=os.urandom(12))
        async with running(bridge_settings) as bridge:
            await synced(bridge, platform, issuer, [qr()])
            assert (await sim(bridge).present("gate-north", "qr", token)).granted
        async with running(bridge_settings) as bridge:
            assert (await sim(bridge).present("gate-north", "qr", token)).reason == "qr_reused"


@pytest.mark.req("VIS-07")
class TestLift:
    async def test_lift_goes_only_to_allowed_floors(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        visitor = qr(id="cred-visitor", doors=["lift-1-1"], floors=[5], visitor_pass="vp-2")
        await synced(bridge, platform, issuer, [visitor])
        token = issuer.qr("cred-visitor")
        denied = await sim(bridge).present("lift-1-1", "qr", token, floor=7)
        assert (denied.granted, denied.reason) == (False, "not_this_door")
        auto = await sim(bridge).present("lift-1-1", "qr", token)  # no floor chosen: the host's
        assert (auto.granted, auto.floor) == (True, 5)
        await platform.wait_for(
            lambda: any(e.kind == "elevator.called" for e in platform.events.values())
        )
        called = next(e for e in platform.events.values() if e.kind == "elevator.called")
        granted = next(e for e in platform.events.values() if e.kind == "access.granted")
        assert called.data == {"floor": 5} and granted.data["floor"] == 5

    async def test_the_platform_names_the_floor_it_granted(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        await synced(bridge, platform, issuer, [])
        platform.answer = lambda q: p.AccessAnswer(
            id=q.id, granted=True, credential="cred-new", visitor_pass="vp-3", floor=8
        )
        decision = await sim(bridge).present("lift-1-1", "qr", issuer.qr("cred-new"))
        assert (decision.granted, decision.decided_by, decision.floor) == (True, "platform", 8)
        assert platform.queries[0].floor is None  # no floor chosen: the platform's answer names it
        await platform.wait_for(
            lambda: any(
                e.kind == "elevator.called" and e.data == {"floor": 8}
                for e in platform.events.values()
            )
        )


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():  # noqa: ASYNC110 - the link offers no event for "down"
        await asyncio.sleep(0.02)


async def _until_acked(bridge: Bridge) -> None:
    async with asyncio.timeout(5):
        while await bridge.outbox.count():  # noqa: ASYNC110 - the outbox has no event
            await asyncio.sleep(0.05)
