"""Access control from the phone with a real site bridge: a property manager sets up an access
point, a schedule, a group and a card, sees the card pass, then refused once revoked, in the access
log, and exports it; a guard opens a gate remotely with a stated reason."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.async_api import Browser, Page, expect

from api.access.tables import AccessPoint, AccessRecord, Credential
from api.biometrics.tables import FaceTemplate
from api.core.auth import Role
from api.devices.tables import Device, DeviceEvent
from device_bridge.access import Decision
from device_bridge.protocol import parse_qr
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from e2e.conftest import GATE, GATE_NAME, artifact, gate_device, open_phone
from e2e.pages import (
    AccessAdminPage,
    AccessLogPage,
    DoorControlPage,
    HomePage,
    LoginPage,
    MyQrPage,
    photo,
)
from tests.helpers import World, eventually, running

CARD = "0012345678"


async def card_decision(bridge: Bridge, *, granted: bool) -> Decision:
    """Present the card at the north gate once the bridge's cache agrees with `granted`."""
    assert bridge.sim is not None

    async def settled() -> bool:
        decision = await bridge.access.decide(GATE, "card", CARD)
        return decision.granted == granted

    await eventually(settled, timeout=10.0, every=0.2)
    return await bridge.sim.present(GATE, "card", CARD)


@pytest.mark.req("ACC-06")
@pytest.mark.req("ACC-07", "ACC-10", "ACC-13", partial=True)
class TestManagerSetsUpAccess:
    async def test_points_schedule_group_card_then_the_log_and_its_export(
        self,
        phone: Page,
        world: World,
        site_settings: BridgeSettings,
        chromium: Browser,
        live_url: str,
    ) -> None:
        async with running(site_settings) as bridge:
            gate = await gate_device(site_settings)
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.PROPERTY_MANAGER])
            await (await HomePage(phone, "property_manager").wait()).open_capability("access_admin")
            admin = await AccessAdminPage(phone).wait()

            # The north gate's access point came with the bridge's inventory: make it entry only.
            point = admin.items("point").filter(has_text=GATE_NAME).first
            await expect(point).to_contain_text("大门")
            await phone.screenshot(path=artifact("manager-access-points.png"), full_page=True)
            await point.click()
            directions = phone.locator("[data-test=point-direction] .van-radio")
            await directions.filter(has_text="进").click()
            await admin.save("point")
            await expect(point).to_contain_text("进")
            assert await AccessPoint.exists().where(
                (AccessPoint.device == gate) & (AccessPoint.direction == "in")
            )

            # A weekday schedule, and a group of the gate on it.
            await admin.tab("schedules")
            await phone.locator("[data-test=schedule-add]").click()
            await phone.locator("[data-test=schedule-name] input").fill("工作日")
            await admin.save("schedule")
            await expect(admin.items("schedule").filter(has_text="工作日")).to_contain_text(
                "一–五 08:00–18:00"
            )
            await admin.tab("groups")
            await phone.locator("[data-test=group-add]").click()
            await phone.locator("[data-test=group-name] input").fill("快递员")
            await phone.locator("[data-test=group-schedule]").select_option(label="工作日")
            await (
                phone.locator("[data-test=group-points] .van-cell")
                .filter(has_text=GATE_NAME)
                .first.click()
            )
            await admin.save("group")
            group = admin.items("group").filter(has_text="快递员")
            await expect(group).to_contain_text("1 个通行点")
            await expect(group).to_contain_text("工作日")

            # A card for a resident: it passes the household's gate.
            await admin.tab("credentials")
            await phone.locator("[data-test=credential-add]").click()
            await phone.locator("[data-test=credential-person]").click()
            await admin.pick_person("credential-person-picker", "张三")
            await phone.locator("[data-test=credential-card] input").fill(CARD)
            await admin.save("credential")
            card = admin.items("credential").filter(has_text="张三").first
            await expect(card).to_contain_text("门禁卡")
            await expect(card).to_contain_text("5678")
            await expect(card).not_to_contain_text(CARD)  # masked
            await phone.screenshot(path=artifact("manager-credentials.png"), full_page=True)
            assert (await card_decision(bridge, granted=True)).granted

            # Revoked with a reason: the gate refuses it.
            await card.locator("[data-test^=credential-revoke-]").click()
            dialog = phone.locator("[data-test=credential-revoke-dialog]")
            await dialog.locator("[data-test=credential-revoke-reason] input").fill("卡片遗失")
            await dialog.locator(".van-dialog__confirm").click()
            await expect(dialog).to_be_hidden()
            assert await Credential.exists().where(
                (Credential.kind == "card") & (Credential.status == "revoked")
            )
            refused = await card_decision(bridge, granted=False)
            assert refused.reason == "revoked", refused

            # The access log shows both, filters them, and exports what it shows.
            async def both_on_record() -> bool:
                where = (AccessRecord.device == gate) & (AccessRecord.method == "card")
                return await AccessRecord.count().where(where) == 2

            await eventually(both_on_record)
            await phone.goto("/home")
            await (await HomePage(phone, "property_manager").wait()).open_capability(
                "access_records"
            )
            log = await AccessLogPage(phone).wait()
            await log.filter(method="card", point=GATE_NAME)
            await expect(log.items).to_have_count(2)
            await expect(log.items.first).to_contain_text("拒绝")
            await expect(log.items.first).to_contain_text("凭证已撤销")
            await log.result("denied")
            await expect(log.items).to_have_count(1)
            await phone.screenshot(path=artifact("manager-access-log.png"), full_page=True)
            async with phone.expect_download() as downloading:
                await log.export.click()
            download = await downloading.value
            text = (await download.path()).read_bytes().decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text)))
            assert len(rows) == 2, rows  # the header and the one refusal
            assert any("拒绝" in cell or "denied" in cell for cell in rows[1]), rows

            # The jurisdiction's police read the same log on their own phone.
            police = await open_phone(chromium, live_url)
            await (await LoginPage(police).open()).log_in(world.a.users[Role.POLICE])
            await (await HomePage(police, "police").wait()).open_capability("access_records")
            log = await AccessLogPage(police).wait()
            await log.filter(method="card", point=GATE_NAME)
            await expect(log.items).to_have_count(2)
            await police.context.close()


@pytest.mark.req("ACC-06")
class TestGuardOpensRemotely:
    async def test_guard_opens_the_gate_with_a_reason(
        self, phone: Page, world: World, site_settings: BridgeSettings
    ) -> None:
        async with running(site_settings):
            gate = await gate_device(site_settings)
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.GUARD])
            await (await HomePage(phone, "guard").wait()).open_capability("door_control")
            control = await DoorControlPage(phone).wait()
            await expect(control.items.filter(has_text=GATE_NAME)).to_be_visible()

            # No reason, no opening: the dialog stays and says why.
            await control.open_door(GATE_NAME, "")
            reason = phone.locator("[data-test=remote-reason]")
            await expect(reason).to_contain_text("请填写开门事由")
            await phone.locator("[data-test=remote-reason] textarea").fill("协助住户搬家")
            await phone.screenshot(path=artifact("guard-remote-open.png"))
            await phone.locator("[data-test=remote-dialog] .van-dialog__confirm").click()
            await expect(phone.get_by_text("门已打开")).to_be_visible(timeout=10_000)
            await eventually(
                lambda: DeviceEvent.exists().where(
                    (DeviceEvent.device == gate) & (DeviceEvent.kind == "door.opened")
                )
            )
            # On record with the guard's reason (the audit log holds it too).
            record = await eventually(
                lambda: (
                    AccessRecord.select(AccessRecord.method, AccessRecord.result)
                    .where(
                        (AccessRecord.device == gate) & (AccessRecord.reason.like("%协助住户搬家%"))
                    )
                    .first()
                )
            )
            assert record == {"method": "remote", "result": "granted"}, record


@pytest.mark.req("ACC-07", partial=True)
class TestFaceEnrolment:
    async def test_manager_enrols_a_face_photo_taken_on_the_phone(
        self, phone: Page, world: World
    ) -> None:
        await (await LoginPage(phone).open()).log_in(world.a.users[Role.PROPERTY_MANAGER])
        await (await HomePage(phone, "property_manager").wait()).open_capability("access_admin")
        admin = await AccessAdminPage(phone).wait()
        await admin.tab("credentials")
        await phone.locator("[data-test=credential-add]").click()
        await phone.locator("[data-test=credential-person]").click()
        await admin.pick_person("credential-person-picker", "李四")
        await phone.locator("[data-test=credential-enrol-face]").click()
        # A big photo, as a phone camera takes it: shrunk on the phone below the store's limit.
        await phone.locator("[data-test=credential-photo]").set_input_files(
            {"name": "face.png", "mimeType": "image/png", "buffer": photo(2400, 3200)}
        )
        await admin.save("credential")
        face = admin.items("credential").filter(has_text="李四").first
        await expect(face).to_contain_text("人脸")
        stored = await (
            FaceTemplate.select(FaceTemplate.photo, FaceTemplate.content_type)
            .where(FaceTemplate.community == world.a.community)
            .first()
        )
        assert stored is not None
        assert stored["content_type"] == "image/jpeg", stored["content_type"]
        assert len(stored["photo"]) < 900_000, len(stored["photo"])


@pytest.mark.req("ACC-15", partial=True)
class TestEmergencyRelease:
    async def test_guard_releases_every_door_then_locks_them_again(
        self, phone: Page, world: World, site_settings: BridgeSettings
    ) -> None:
        async with running(site_settings):
            gate = await gate_device(site_settings)
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.GUARD])
            await (await HomePage(phone, "guard").wait()).open_capability("door_control")
            control = await DoorControlPage(phone).wait()
            # No reason, no release.
            await phone.locator("[data-test=emergency-start]").click()
            await expect(phone.locator("[data-test=emergency-reason]")).to_contain_text(
                "请填写开门事由"
            )
            await control.release("火警疏散")
            result = phone.locator("[data-test=emergency-result]")
            await expect(result).to_contain_text("已紧急放行", timeout=15_000)
            doors = await Device.count().where(
                (Device.community == world.a.community) & (Device.kind == "door_controller")
            )
            await expect(result).to_contain_text(f"{doors}/{doors}")
            await eventually(
                lambda: DeviceEvent.exists().where(
                    (DeviceEvent.device == gate) & (DeviceEvent.kind == "door.opened")
                )
            )
            await phone.screenshot(path=artifact("guard-emergency-release.png"), full_page=True)
            await control.end_release()
            await expect(result).to_contain_text("已解除紧急放行", timeout=15_000)
            await eventually(
                lambda: DeviceEvent.exists().where(
                    (DeviceEvent.device == gate) & (DeviceEvent.kind == "door.closed")
                )
            )


@pytest.mark.req("ACC-07", partial=True)
class TestResidentPassCode:
    async def test_without_webcrypto_the_platforms_qr_opens_the_gate_once(
        self, phone: Page, world: World, site_settings: BridgeSettings
    ) -> None:
        # A browser with no WebCrypto cannot hold a phone key: the platform's code stands in.
        await phone.add_init_script(
            "Object.defineProperty(window.crypto, 'subtle', { value: undefined });"
        )
        async with running(site_settings) as bridge:
            await gate_device(site_settings)
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
            await (await HomePage(phone, "resident").wait()).open_capability("pass_code")
            mine = await MyQrPage(phone).wait()
            await expect(phone.locator("[data-test=my-qr-fallback]")).to_be_visible()
            seconds = int(str(await mine.countdown.get_attribute("data-seconds")))
            assert 0 < seconds <= 60, seconds
            await phone.screenshot(path=artifact("resident-pass-code.png"), full_page=True)
            qr = await mine.qr_text()
            credential = parse_qr(qr)[0].cred
            await eventually(lambda: bridge.access.cache.by_id(credential), timeout=10.0)
            assert bridge.sim is not None
            assert (await bridge.sim.present(GATE, "qr", qr)).granted
            # Good once per reader: the same code again is refused; a renewed one passes.
            again = await bridge.sim.present(GATE, "qr", qr)
            assert again.reason == "qr_reused", again
            await mine.renew()
            await expect(mine.qr).not_to_have_attribute("data-qr", qr)
            assert (await bridge.sim.present(GATE, "qr", await mine.qr_text())).granted
