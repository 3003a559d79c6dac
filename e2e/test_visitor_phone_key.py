"""A visitor's phone as its own key, in Chromium with the real site bridge: the resident allows it
when booking, the visitor's pass page registers the phone's key, the phone goes offline and the
code it computes opens the pass's gate at a simulated reader; the same code is refused at another
door, and once the resident revokes the pass the bridge refuses the key.

The QR text is read from the page's `data-qr` attribute (no QR decoder is installed here)."""

from __future__ import annotations

from urllib.parse import urlsplit
from uuid import UUID

import pytest
from playwright.async_api import Browser, Page, expect

from api.access.tables import AccessRecord
from api.core.auth import Role
from device_bridge import protocol
from device_bridge.settings import BridgeSettings
from e2e.conftest import GATE, GATE_NAME, artifact, gate_device, open_phone
from e2e.pages import HomePage, LoginPage, PassPage, VisitorsPage
from tests.helpers import World, eventually, running

OTHER_DOOR = "gate-south"


@pytest.mark.req("ACC-07", partial=True)
class TestVisitorPhoneKey:
    async def test_the_visitors_offline_phone_opens_the_pass_gate_until_the_pass_is_revoked(
        self,
        phone: Page,
        chromium: Browser,
        live_url: str,
        world: World,
        site_settings: BridgeSettings,
    ) -> None:
        async with running(site_settings) as bridge:
            assert bridge.sim is not None
            await gate_device(site_settings)

            # The resident books a visitor for the north gate and lets their phone be a key.
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
            await (await HomePage(phone, "resident").wait()).open_capability("visitors")
            form = await (await VisitorsPage(phone).wait()).book()
            await form.fill(name="王小明", phone="13912345678", purpose="探亲")
            await form.choose_gate(GATE_NAME)
            await phone.locator("[data-test=visitor-entries] .van-stepper__plus").click()  # two
            await form.allow_phone_key()
            await phone.screenshot(path=artifact("resident-visitor-phone-key.png"), full_page=True)
            detail = await form.submit()
            state = phone.locator("[data-test=visitor-phone-key-state]")
            await expect(state).to_have_attribute("data-state", "allowed")
            link = await detail.share()

            visitor = await open_phone(chromium, live_url)  # the visitor's, never signed in
            try:
                pass_page = await PassPage(visitor).open(urlsplit(link).path)
                await pass_page.qr_text()  # the platform's code until a key is registered
                await expect(visitor.locator("[data-test=pass-phone-key-offer]")).to_be_visible()
                await visitor.screenshot(path=artifact("visitor-phone-key-offer.png"))
                await pass_page.register_phone_key()
                first = await pass_page.qr_text(protocol.PHONE_KEY_PREFIX)
                credential = protocol.parse_phone_qr(first).cred
                await eventually(lambda: bridge.access.cache.by_id(credential), timeout=10.0)
                await phone.reload()
                await expect(state).to_have_attribute("data-state", "registered", timeout=10_000)

                # No signal: the phone computes the next code itself, and the gate opens for it.
                await visitor.context.set_offline(True)
                await pass_page.renew()
                await expect(pass_page.qr).not_to_have_attribute("data-qr", first)
                code = await pass_page.qr_text(protocol.PHONE_KEY_PREFIX)
                await expect(visitor.locator("[data-test=pass-qr-offline]")).to_be_visible()
                await visitor.screenshot(path=artifact("visitor-phone-key-offline.png"))
                opened = await bridge.sim.present(GATE, "qr", code)
                assert (opened.granted, opened.decided_by) == (True, "bridge"), opened
                assert str(opened.visitor_pass) == detail.pass_id, opened
                again = await bridge.sim.present(OTHER_DOOR, "qr", code)
                assert (again.granted, again.reason) == (False, "qr_reused"), again
                record = await eventually(
                    lambda: (
                        AccessRecord.select(AccessRecord.result, AccessRecord.visitor_pass)
                        .where(AccessRecord.credential == UUID(credential))
                        .first()
                    )
                )
                assert record == {"result": "granted", "visitor_pass": UUID(detail.pass_id)}

                # The resident revokes the pass: the key stops at the bridge through the sync.
                await pass_page.renew()
                later = await pass_page.qr_text(protocol.PHONE_KEY_PREFIX)
                await detail.revoke()
                await expect(detail.status).to_have_text("已撤销", timeout=10_000)

                async def refused() -> bool:
                    decision = await bridge.access.decide(GATE, "qr", later)
                    return decision.reason == "revoked"

                await eventually(refused, timeout=5.0, every=0.05)
                await visitor.context.set_offline(False)
                await visitor.reload()
                await expect(pass_page.ended).to_be_visible(timeout=10_000)
            finally:
                await visitor.context.close()
