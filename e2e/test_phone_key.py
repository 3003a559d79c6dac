"""A phone that is its own key, in Chromium with the real bridge: the resident's phone registers
its key, goes offline, and shows a code it computed itself; the gate's bridge, cut off from the
platform, opens for it and refuses the same code at another door; the records arrive once the
link is back, exactly once; a key revoked in the profile is refused.

The QR text is what a reader reads: the picture on the screen, decoded (e2e/pages.py `scanned`)."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from litestar import Litestar
from playwright.async_api import Page, expect

from api.access.tables import AccessRecord, Credential
from api.core.auth import Role
from api.devices.tables import DeviceEvent
from device_bridge import protocol
from device_bridge.identity import load_bridge_id
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from e2e.conftest import GATE, artifact, gate_device
from e2e.pages import HomePage, LoginPage, MyQrPage
from tests.helpers import World, eventually, free_port, running, serve

OTHER_DOOR = "gate-south"


async def records_of(credential: str) -> list[tuple[str, str]]:
    """(result, reason) of the access records of a credential, oldest first."""
    rows = (
        await AccessRecord.select(AccessRecord.result, AccessRecord.reason)
        .where(AccessRecord.credential == uuid.UUID(credential))
        .order_by(AccessRecord.at)
    )
    return [(r["result"], r["reason"]) for r in rows]


@pytest.mark.req("ACC-07", "ACC-10", "ACC-11", partial=True)
class TestPhoneKey:
    async def test_offline_phone_opens_the_offline_gate_once_and_a_revoked_key_is_refused(
        self, phone: Page, world: World, app: Litestar, site_settings: BridgeSettings
    ) -> None:
        # The bridge's own api instance, so that its link can go down while the phone's stays.
        port = free_port()
        settings = msgspec.structs.replace(site_settings, platform_url=f"http://127.0.0.1:{port}")
        bridge_id = load_bridge_id(settings)
        link = serve(app, port)
        await link.__aenter__()
        linked = True
        try:
            async with running(settings) as bridge:
                assert bridge.sim is not None
                await gate_device(settings)
                await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
                await (await HomePage(phone, "resident").wait()).open_capability("pass_code")
                mine = await MyQrPage(phone).wait(protocol.PHONE_KEY_PREFIX)
                credential = protocol.parse_phone_qr(await mine.qr_text()).cred
                row = (
                    await Credential.select(Credential.kind, Credential.label)
                    .where(Credential.id == uuid.UUID(credential))
                    .first()
                )
                assert row["kind"] == "phone_key"
                assert row["label"]
                await eventually(lambda: bridge.access.cache.by_id(credential), timeout=10.0)

                await link.__aexit__(None, None, None)  # the site's link to the platform goes
                linked = False
                await eventually(lambda: not bridge.link.authenticated.is_set(), timeout=10.0)
                await phone.context.set_offline(True)  # airplane mode
                await mine.renew()  # a new code, computed on the phone with no network
                code = await mine.qr_text()
                assert protocol.parse_phone_qr(code).seq >= 1, code
                await expect(phone.locator("[data-test=my-qr-offline]")).to_be_visible()
                await expect(phone.locator("[data-test=my-qr-clearing]")).to_be_visible()
                await phone.screenshot(path=artifact("resident-phone-key-offline.png"))

                opened = await bridge.sim.present(GATE, "qr", code)
                assert (opened.granted, opened.decided_by) == (True, "bridge"), opened
                again = await bridge.sim.present(OTHER_DOOR, "qr", code)
                assert (again.granted, again.reason) == (False, "qr_reused"), again

                await phone.context.set_offline(False)
                async with serve(app, port):  # the link returns: the records arrive
                    await eventually(lambda: bridge.link.authenticated.is_set(), timeout=15.0)
                    await eventually(lambda: _drained(bridge), timeout=15.0)
                    assert await records_of(credential) == [
                        ("granted", ""),
                        ("denied", "qr_reused"),
                    ]
                    stored = await DeviceEvent.count().where(
                        (DeviceEvent.bridge == bridge_id)
                        & DeviceEvent.kind.is_in(["access.granted", "access.denied"])
                    )
                    assert stored == 2  # exactly once

                    # A code shown before the revocation, then the key revoked in the profile.
                    await mine.renew()
                    later = await mine.qr_text()
                    keys = await mine.open_phone_keys()
                    await expect(keys.this_phone).to_be_visible()  # 本机
                    await phone.screenshot(path=artifact("resident-phone-keys.png"))
                    await keys.revoke(credential)

                    async def refused() -> bool:
                        decision = await bridge.access.decide(GATE, "qr", later)
                        return decision.reason == "revoked"

                    await eventually(refused, timeout=5.0, every=0.05)
                    assert not (await bridge.sim.present(GATE, "qr", later)).granted
        finally:
            if linked:
                await link.__aexit__(None, None, None)


async def _drained(bridge: Bridge) -> bool:
    """Whether every event of the bridge's outbox was acknowledged by the platform."""
    return await bridge.outbox.pending(limit=1) == []
