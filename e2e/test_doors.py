"""Doors from the phone with a real site bridge: a resident opens the unit door and sees the pass;
staff watch the devices live; a system administrator adds a bridge."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest
from playwright.async_api import Page, Response, expect

from api.alarms.tables import Alarm
from api.core.auth import Role
from api.devices.tables import Device
from device_bridge.identity import enroll, load_bridge_id
from device_bridge.settings import BridgeSettings
from e2e.conftest import artifact
from e2e.pages import BridgesPage, DevicesPage, DoorsPage, HomePage, LoginPage
from tests.helpers import World, eventually, running

UNIT_DOOR = "1栋1单元 单元门"


async def inventory_in(settings: BridgeSettings) -> None:
    """Wait until the platform holds the bridge's devices (the door list is read once)."""
    bridge = load_bridge_id(settings)
    await eventually(lambda: Device.count().where(Device.bridge == bridge))


@pytest.mark.req("ACC-07", partial=True)
@pytest.mark.req("ACC-10", partial=True)
class TestOpenDoorByApp:
    async def test_resident_opens_unit_door_and_sees_the_pass_on_top(
        self, phone: Page, world: World, site_settings: BridgeSettings
    ) -> None:
        async with running(site_settings):
            await inventory_in(site_settings)
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
            home = await HomePage(phone, "resident").wait()
            await home.open_capability("open_door")
            doors = await DoorsPage(phone).wait()
            await expect(doors.door(UNIT_DOOR)).to_be_visible()
            await expect(doors.door(UNIT_DOOR)).to_contain_text("单元门")
            await expect(doors.door("北门 人行通道")).to_contain_text("大门")

            def is_open(response: Response) -> bool:
                return response.request.method == "POST" and response.url.endswith("/open")

            async with phone.expect_response(is_open) as opened:
                await doors.open_button(UNIT_DOOR).click()
            answer = await (await opened.value).json()
            assert answer["result"] == "granted", answer

            await expect(doors.result).to_contain_text("门已打开")
            await expect(doors.open_button(UNIT_DOOR)).to_contain_text("已开门")
            newest = doors.records.first
            await expect(newest).to_have_attribute("data-record-id", answer["record_id"])
            await expect(newest).to_contain_text(UNIT_DOOR)
            await expect(newest).to_contain_text("手机开门")
            await expect(newest).to_contain_text("通过")
            await phone.screenshot(path=artifact("resident-door-open.png"), full_page=True)

    @pytest.mark.req("ACC-12", partial=True)
    async def test_a_door_that_does_not_open_tells_the_resident_the_guards_know(
        self, phone: Page, world: World, site_settings: BridgeSettings
    ) -> None:
        async with running(site_settings) as bridge:
            await inventory_in(site_settings)
            assert bridge.sim is not None
            await bridge.sim.set_fault("door-1-1", offline=True)
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.RESIDENT])
            home = await HomePage(phone, "resident").wait()
            await home.open_capability("open_door")
            doors = await DoorsPage(phone).wait()
            await doors.open_button(UNIT_DOOR).click()
            await expect(doors.result).to_contain_text("门未打开，已通知保安")
            await phone.screenshot(path=artifact("resident-door-not-opened.png"), full_page=True)
        door = await Device.select(Device.id).where(
            (Device.bridge == load_bridge_id(site_settings)) & (Device.external_id == "door-1-1")
        )
        alarms = await Alarm.count().where(
            (Alarm.type == "door_open_failed") & (Alarm.source_device == door[0]["id"])
        )
        assert alarms == 1


@pytest.mark.req("PLAT-25", partial=True)
class TestDeviceStatusLive:
    async def test_manager_sees_devices_go_offline_when_the_bridge_stops(
        self, phone: Page, world: World, site_settings: BridgeSettings
    ) -> None:
        async with running(site_settings):
            await inventory_in(site_settings)
            await (await LoginPage(phone).open()).log_in(world.a.users[Role.PROPERTY_MANAGER])
            home = await HomePage(phone, "property_manager").wait()
            await home.open_capability("devices_status")
            devices = await DevicesPage(phone).wait()
            door = devices.device(UNIT_DOOR)
            await expect(door).to_contain_text("门禁")
            await expect(door.locator("[data-online]")).to_have_attribute("data-online", "true")
            await expect(devices.live).to_have_attribute("data-connected", "true")
            await phone.screenshot(path=artifact("manager-devices.png"))
        # The bridge went away: the page hears it over the live channel, without a reload.
        await expect(door.locator("[data-online]")).to_have_attribute(
            "data-online", "false", timeout=10_000
        )
        await devices.filter("online")
        await expect(devices.items).to_have_count(0)
        await devices.filter("offline")
        await expect(door).to_be_visible()
        await phone.screenshot(path=artifact("manager-devices-offline.png"))
        await devices.kind("door_controller")
        await devices.search("1栋1单元")
        await expect(devices.items).to_have_count(1)
        await expect(devices.items.first).to_contain_text(UNIT_DOOR)


class TestAddBridge:
    async def test_admin_issues_a_token_that_enrols_a_bridge(
        self, phone: Page, world: World, site_settings: BridgeSettings, tmp_path: Path
    ) -> None:
        await (await LoginPage(phone).open()).log_in(world.admins[Role.SYSTEM_ADMIN])
        home = await HomePage(phone, "system_admin").wait()
        await home.open_capability("bridges")
        bridges = await BridgesPage(phone).wait()
        total = phone.get_by_text(re.compile(r"共 \d+ 个网关"))
        before = int(re.sub(r"\D", "", await total.inner_text()))
        token = await bridges.issue_token(world.a.community, world.a.code)
        await expect(phone.locator("[data-test=bridge-command]")).to_have_text(
            f"anju bridge enroll --token {token}"
        )
        await phone.screenshot(path=artifact("admin-bridge-token.png"), full_page=True)
        await phone.locator("[data-test=bridge-token-copy]").click()
        await expect(phone.get_by_text("已复制")).to_be_visible()
        other = msgspec.structs.replace(site_settings, data_dir=tmp_path / "second")
        result = await enroll(other, token=token, name="site A east")
        assert str(result.community_id) == str(world.a.community)
        await phone.locator("[data-test=bridge-token-done]").click()
        await expect(phone.locator("[data-test=bridge-sheet]")).to_be_hidden()
        # One more bridge in the list (the suite's database holds hundreds: counted, not scrolled).
        await expect(total).to_have_text(f"共 {before + 1} 个网关")
        await phone.screenshot(path=artifact("admin-bridges.png"), full_page=True)
