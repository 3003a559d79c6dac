"""Visitors from the phone with a real site bridge: a resident books a visitor and shares the pass,
the visitor opens it on their own phone and shows its QR code at the gate, the gate opens, and the
resident's screen says the visitor has arrived."""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from playwright.async_api import Browser, Page, expect

from api.access.tables import AccessRecord
from api.core.auth import Role
from api.devices.tables import DeviceEvent
from device_bridge.protocol import parse_qr
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from e2e.conftest import GATE, GATE_NAME, artifact, gate_device, open_phone
from e2e.pages import (
    HomePage,
    LoginPage,
    PassPage,
    VisitorDeskPage,
    VisitorDetailPage,
    VisitorsPage,
)
from tests.helpers import World, eventually, running


async def held_by_bridge(bridge: Bridge, qr: str) -> None:
    """The bridge holds the credential a QR code names (synced within seconds of booking)."""
    credential = parse_qr(qr)[0].cred
    await eventually(lambda: bridge.access.cache.by_id(credential), timeout=10.0)


@pytest.mark.req("VIS-03")
@pytest.mark.req("VIS-04", "ACC-07", "ACC-19", partial=True)
class TestVisitorPassAtTheGate:
    async def test_booked_visitor_passes_the_gate_and_the_resident_sees_the_arrival(
        self,
        phone: Page,
        chromium: Browser,
        live_url: str,
        world: World,
        site_settings: BridgeSettings,
    ) -> None:
        async with running(site_settings) as bridge:
            gate = await gate_device(site_settings)

            # The resident books a visitor for the household and shares the pass.
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
            await (await HomePage(phone, "resident").wait()).open_capability("visitors")
            visitors = await VisitorsPage(phone).wait()
            form = await visitors.book()
            await form.fill(name="王小明", phone="13912345678", purpose="探亲")
            await form.choose_gate(GATE_NAME)  # the gate they will come by, one of the list
            await expect(phone.locator("[data-test=visitor-building-doors]")).to_be_visible()
            await phone.screenshot(path=artifact("resident-visitor-book.png"), full_page=True)
            detail = await form.submit()
            pass_id = detail.pass_id
            await expect(detail.status).to_have_text("有效")
            link = await detail.share()
            assert "/pass/" in link, link
            await phone.screenshot(path=artifact("resident-visitor-shared.png"), full_page=True)

            # The visitor opens the link on their own phone: a QR code and a keypad code.
            visitor = await open_phone(chromium, live_url)  # the visitor's, never signed in
            try:
                pass_page = await PassPage(visitor).open(urlsplit(link).path)
                await expect(pass_page.status).to_contain_text("有效")
                await expect(pass_page.root).to_contain_text("王*")  # the name is masked
                await expect(pass_page.entries).to_contain_text("1")
                code = await pass_page.keypad_code()
                assert re.fullmatch(r"[0-9]{6}", code), code
                qr = await pass_page.qr_text()
                await visitor.screenshot(path=artifact("visitor-pass.png"), full_page=True)
                await held_by_bridge(bridge, qr)

                # Shown at the north gate's reader: the bridge lets the visitor in.
                assert bridge.sim is not None
                decision = await bridge.sim.present(GATE, "qr", qr)
                assert decision.granted, decision
                assert str(decision.visitor_pass) == pass_id, decision

                # The gate opened, the pass is on record, and the resident hears of it live.
                await eventually(
                    lambda: DeviceEvent.exists().where(
                        (DeviceEvent.device == gate) & (DeviceEvent.kind == "door.opened")
                    )
                )
                record = await eventually(
                    lambda: (
                        AccessRecord.select(AccessRecord.result, AccessRecord.method)
                        .where(AccessRecord.visitor_pass == UUID(pass_id))
                        .first()
                    )
                )
                assert record == {"result": "granted", "method": "qr"}, record
                await expect(detail.arrived).to_contain_text("王小明", timeout=10_000)
                await expect(detail.arrived).to_contain_text(GATE_NAME)
                await expect(phone.locator(".visitor-arrived-notice")).to_be_visible()
                await expect(detail.records.first).to_contain_text(GATE_NAME)
                await expect(detail.records.first).to_contain_text("通过")
                # One entry was booked: the pass is used up, at the gate and on the visitor's phone.
                await expect(detail.status).to_have_text("已用完")
                await phone.screenshot(
                    path=artifact("resident-visitor-arrived.png"), full_page=True
                )

                again = await bridge.sim.present(GATE, "qr", qr)
                assert not again.granted, again
                await visitor.reload()
                await expect(pass_page.status).to_contain_text("次数已用完", timeout=10_000)
                # Used up at the gates, the pass still opens the doors inside: QR, code and a note.
                await expect(pass_page.inside_only).to_contain_text("仅可开启楼内门禁")
                assert (await pass_page.qr_text()).startswith("AJ1:")
                assert re.fullmatch(r"[0-9]{6}", await pass_page.keypad_code())
                await visitor.screenshot(path=artifact("visitor-pass-used.png"), full_page=True)
            finally:
                await visitor.context.close()


@pytest.mark.req("VIS-03")
class TestRevokedPass:
    async def test_a_revoked_pass_stops_at_the_gate_and_its_page_says_so(
        self,
        phone: Page,
        chromium: Browser,
        live_url: str,
        world: World,
        site_settings: BridgeSettings,
    ) -> None:
        async with running(site_settings) as bridge:
            await gate_device(site_settings)
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
            await (await HomePage(phone, "resident").wait()).open_capability("visitors")
            form = await (await VisitorsPage(phone).wait()).book()
            await form.fill(name="李四", phone="13800001111")
            detail = await form.submit()
            link = await detail.share()

            visitor = await open_phone(chromium, live_url)  # the visitor's, never signed in
            try:
                pass_page = await PassPage(visitor).open(urlsplit(link).path)
                qr = await pass_page.qr_text()
                await held_by_bridge(bridge, qr)
                await detail.revoke()
                await expect(detail.status).to_have_text("已撤销", timeout=10_000)
                await expect(phone.locator("[data-test=visitor-share]")).to_have_count(0)

                # Within seconds every reader holds the revocation: the code no longer opens.
                credential = parse_qr(qr)[0].cred
                await eventually(lambda: bridge.access.cache.by_id(credential) is None, timeout=5.0)
                assert bridge.sim is not None
                refused = await bridge.sim.present(GATE, "qr", qr)
                assert not refused.granted, refused
                assert refused.reason == "revoked", refused
                await visitor.reload()
                await expect(pass_page.ended).to_be_visible(timeout=10_000)
                await visitor.screenshot(path=artifact("visitor-pass-revoked.png"), full_page=True)
            finally:
                await visitor.context.close()


@pytest.mark.req("VIS-01")
@pytest.mark.req("VIS-04", "VIS-10", partial=True)
class TestWalkInAtTheDesk:
    async def test_guard_registers_a_walk_in_the_household_agrees_and_the_desk_sees_them_inside(
        self,
        phone: Page,
        chromium: Browser,
        live_url: str,
        world: World,
        site_settings: BridgeSettings,
    ) -> None:
        async with running(site_settings) as bridge:
            await gate_device(site_settings)
            # The resident has the visitors page open on their phone.
            resident = await open_phone(chromium, live_url)
            try:
                await (await LoginPage(resident).open()).log_in(world.a.users[Role.RESIDENT])
                await (await HomePage(resident, "resident").wait()).open_capability("visitors")
                await VisitorsPage(resident).wait()

                # At the gate house the guard checks the visitor's ID card and registers them.
                await (await LoginPage(phone).open()).log_in(world.a.users[Role.GUARD])
                await (await HomePage(phone, "guard").wait()).open_capability("visitor_desk")
                desk = await VisitorDeskPage(phone).wait()
                await desk.register(
                    name="赵六",
                    phone="13700001234",
                    id_number="11010519491231002X",
                    room="0101",
                    purpose="送快递",
                )
                await expect(desk.status).to_have_text("待住户确认")
                await phone.screenshot(path=artifact("guard-desk-waiting.png"), full_page=True)

                # The household is asked on its phone, and lets the visitor in.
                asked = resident.locator(".van-dialog")
                await expect(asked).to_contain_text("赵六", timeout=10_000)
                await resident.screenshot(path=artifact("resident-consent-asked.png"))
                await resident.locator(".van-dialog__confirm").click()
                detail = await VisitorDetailPage(resident).wait()
                await detail.approve()
                await expect(detail.status).to_have_text("有效")

                # The desk hears the answer live and shows the visitor's link and keypad code.
                await expect(desk.status).to_have_text("有效", timeout=10_000)
                await expect(desk.code).to_have_text(re.compile(r"^[0-9]{6}$"), timeout=10_000)
                code = (await desk.code.inner_text()).strip()
                await phone.screenshot(path=artifact("guard-desk-issued.png"), full_page=True)

                # The visitor types the code at the north gate: in, and on the desk's list.
                assert bridge.sim is not None
                held = await eventually(lambda: _code_held(bridge, detail.pass_id), timeout=10.0)
                assert held
                decision = await bridge.sim.present(GATE, "code", code)
                assert decision.granted, decision
                await desk.show_inside()
                await expect(desk.inside.filter(has_text="赵六")).to_be_visible(timeout=10_000)
                await expect(desk.inside.first).to_contain_text("137****1234")
                await phone.screenshot(path=artifact("guard-desk-inside.png"), full_page=True)

                # A reload comes back to the visitor, whose one entry is used now.
                await phone.reload()
                await expect(desk.result).to_contain_text("赵六", timeout=10_000)
                await expect(desk.status).to_have_text("已用完")
            finally:
                await resident.context.close()


def _code_held(bridge: Bridge, pass_id: str) -> bool:
    """Whether the bridge's cache holds the keypad code credential of the pass."""
    return any(
        held.entry.kind == "code" and held.entry.visitor_pass == pass_id
        for held in bridge.access.cache.state.entries.values()
    )
