"""A phone that is its own key, at the bridge: the codes a phone computes pass once at the site,
offline too, within the stated clock tolerance; forged, stale, replayed and revoked ones do not."""

from __future__ import annotations

import time
import uuid

import pytest

from device_bridge import protocol as p
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.device_bridge.fake_platform import FakePlatform, Issuer
from tests.device_bridge.helpers import running
from tests.device_bridge.test_access import recorded, sim, synced
from tests.phone_key import Algorithm, Phone


@pytest.fixture
def issuer() -> Issuer:
    """The platform's credential side for the test bridge."""
    return Issuer()


def phone_entry(phone: Phone, cred: str) -> p.CredentialEntry:
    """A resident's phone key at both gates and their unit door, as the platform's sync sends it."""
    return p.CredentialEntry(
        id=cred,
        kind="phone_key",
        doors=["gate-north", "gate-south", "door-1-1"],
        person="p-9",
        public_key=phone.raw(),
    )


@pytest.mark.req("ACC-07", partial=True)
class TestPhoneKeyAtTheBridge:
    @pytest.mark.parametrize("algorithm", ["ES256", "Ed25519"])
    async def test_a_code_passes_once_at_the_site_and_the_next_one_passes_too(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer, algorithm: Algorithm
    ) -> None:
        phone, cred = Phone(algorithm), str(uuid.uuid4())
        await synced(bridge, platform, issuer, [phone_entry(phone, cred)])
        code = phone.code(cred)
        granted = await sim(bridge).present("gate-north", "qr", code)
        assert (granted.granted, granted.credential, granted.person) == (True, cred, "p-9")
        for door in ("gate-south", "gate-north"):  # another door of the bridge, and the same
            again = await sim(bridge).present(door, "qr", code)
            assert (again.granted, again.reason) == (False, "qr_reused")
        # The phone's next code within the same window (its 换一个码) is a new passage.
        assert (await sim(bridge).present("door-1-1", "qr", phone.code(cred, seq=1))).granted

    async def test_forged_stale_and_other_phones_codes_are_refused(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        phone, cred = Phone(), str(uuid.uuid4())
        await synced(bridge, platform, issuer, [phone_entry(phone, cred)])
        thief = Phone().code(cred)  # a key the platform never registered for this credential
        assert (await bridge.access.decide("gate-north", "qr", thief)).reason == "qr_forged"
        now = time.time()
        step = p.PHONE_KEY_STEP
        stale = phone.code(cred, at=now - 2 * step - 1)  # two windows behind: beyond tolerance
        assert (await bridge.access.decide("gate-north", "qr", stale)).reason == "qr_expired"
        ahead = phone.code(cred, at=now + 2 * step + 1)
        assert (await bridge.access.decide("gate-north", "qr", ahead)).reason == "qr_expired"
        # One window either side: a phone clock up to 30 s off still opens.
        behind = phone.code(cred, at=now - step)
        assert (await bridge.access.decide("gate-north", "qr", behind)).granted
        good = phone.code(cred, seq=7)
        prefix, window, seq, signature = good.split(".")
        moved = f"{prefix}.{window}.{int(seq) + 1}.{signature}"  # the signed triple altered
        assert (await bridge.access.decide("gate-north", "qr", moved)).reason == "qr_forged"
        for text in ("AJ2:nonsense", f"AJ2:{cred}.1.0.short", good.upper()):
            assert (await bridge.access.decide("gate-north", "qr", text)).reason == "qr_forged"
        assert not (await bridge.access.decide("door-parcel", "qr", good)).granted

    async def test_a_revoked_phone_key_is_refused(
        self, bridge: Bridge, platform: FakePlatform, issuer: Issuer
    ) -> None:
        phone, cred = Phone(), str(uuid.uuid4())
        await synced(bridge, platform, issuer, [phone_entry(phone, cred)])
        assert (await bridge.access.decide("gate-north", "qr", phone.code(cred))).granted
        await platform.send_credentials(issuer.frame([], removals=[cred]))
        refused = await sim(bridge).present("gate-north", "qr", phone.code(cred, seq=1))
        assert (refused.granted, refused.reason, refused.credential) == (False, "revoked", cred)


@pytest.mark.req("ACC-07", "ACC-11", partial=True)
class TestPhoneKeyOffline:
    async def test_a_bridge_with_no_link_decides_phone_codes_and_keeps_them_spent(
        self, bridge_settings: BridgeSettings, platform: FakePlatform, issuer: Issuer
    ) -> None:
        phone, cred = Phone(), str(uuid.uuid4())
        async with running(bridge_settings) as bridge:
            await synced(bridge, platform, issuer, [phone_entry(phone, cred)])
        await platform.stop()
        code = phone.code(cred)
        async with running(bridge_settings) as bridge:  # restarted, no platform
            assert (await sim(bridge).present("gate-north", "qr", code)).granted
        async with running(bridge_settings) as bridge:  # a restart forgets no spent code
            again = await sim(bridge).present("gate-south", "qr", code)
            assert (again.granted, again.reason) == (False, "qr_reused")
            events = await recorded(bridge, "access.granted", "access.denied")
            assert [(e.kind, e.device, e.data["method"]) for e in events] == [
                ("access.granted", "gate-north", "qr"),
                ("access.denied", "gate-south", "qr"),
            ]
            await platform.start()  # the link returns: the records arrive
            await platform.wait_for(
                lambda: sum(e.kind.startswith("access.") for e in platform.events.values()) == 2,
                timeout=15,
            )


def test_the_canonical_message_is_the_documented_one() -> None:
    """The same vector as pwa/tests/phoneKey.test.ts: the phone and the bridge sign and verify the
    same bytes."""
    cred = "0b5e3f1c-2d4a-4e6b-8c9d-a1b2c3d4e5f6"
    assert (
        p.phone_key_message(cred, 56_666_666, 3)
        == f"anju-phone-key/1\n{cred}\n56666666\n3".encode()
    )
    assert p.phone_key_window(1_700_000_000.0) == 56_666_666
    assert (
        p.phone_key_expiry(56_666_666) == 1_700_000_040.0
    )  # the window, and one step of tolerance
