"""Page objects of the PWA, addressed by data-test attributes."""

from __future__ import annotations

import asyncio
import io
import re
import time

import zxingcpp
from PIL import Image
from playwright.async_api import Locator, Page, expect

from tests.helpers import TestUser


async def scanned(qr: Locator) -> str:
    """What a reader scanning the QR code on the screen reads: its picture, decoded.

    The picture must come to show the text the page meant to draw (`data-qr`; it is drawn a moment
    after the text changes), so a code drawn wrong, cut off or too dense to read fails here.
    """
    meant, read = None, None
    for _ in range(50):
        meant = await qr.get_attribute("data-qr")
        picture = Image.open(io.BytesIO(await qr.locator("img").screenshot()))
        found = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
        read = found[0].text if len(found) == 1 else None
        if read and read == meant:
            return read
        await asyncio.sleep(0.1)
    raise AssertionError(f"the QR picture reads {read!r}, the page meant {meant!r}")


def photo(width: int, height: int) -> bytes:
    """A camera-sized PNG (bands of colour), as a phone hands a photo over."""
    band = Image.linear_gradient("L").resize((width, height))
    flat = Image.new("L", (width, height), 90)
    picture = Image.merge("RGB", (band, flat, band.point(lambda v: 255 - v)))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


class LoginPage:
    """The login screen and its TOTP step."""

    def __init__(self, page: Page) -> None:
        self.page = page

    async def open(self) -> LoginPage:
        """Go to the app; an unauthenticated visitor lands on the login screen."""
        await self.page.goto("/")
        await expect(self.page.locator("[data-test=login-username]")).to_be_visible()
        return self

    async def log_in(self, user: TestUser) -> None:
        """Password, then the TOTP code when the account is staff."""
        await self.page.locator("[data-test=login-username] input").fill(user.username)
        await self.page.locator("[data-test=login-password] input").fill(user.password)
        await self.page.locator("[data-test=login-submit]").click()
        if user.totp_secret:
            code = self.page.locator("[data-test=totp-code] input")
            await expect(code).to_be_visible()
            # A code of the previous step is valid only until this step ends, and a loaded
            # machine takes seconds from here to the server: never cut it close.
            left = 30 - time.time() % 30
            if left < 8:
                await asyncio.sleep(left + 0.1)
            await code.fill(user.totp_now())
            await self.page.locator("[data-test=totp-submit]").click()


class HomePage:
    """The role's home screen."""

    def __init__(self, page: Page, role: str) -> None:
        self.page = page
        self.root = page.locator(f"[data-test=home-{role}]")

    async def wait(self) -> HomePage:
        """Wait until the home screen of the role shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    async def open_capability(self, key: str) -> None:
        """Tap a tile of the home grid."""
        await self.page.locator(f"[data-test=cap-{key}]").click()


class DoorsPage:
    """The resident's 开门 screen: the doors of the household and its access history."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=doors-page]")
        self.result = page.locator("[data-test=door-result]")
        self.history = page.locator("[data-test=access-history]")
        self.records = page.locator("[data-test=access-item]")

    async def wait(self) -> DoorsPage:
        """Wait until the screen shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    def door(self, name: str) -> Locator:
        """The row of the door with this name."""
        return self.page.locator("[data-test=door-list] > li").filter(has_text=name)

    def open_button(self, name: str) -> Locator:
        """The 开门 button of a door."""
        return self.door(name).locator("[data-test^=door-open-]")


class DevicesPage:
    """The staff's device status list."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=devices-page]")
        self.items = page.locator("[data-test=device-item]")
        self.live = page.locator("[data-test=devices-live]")

    async def wait(self) -> DevicesPage:
        """Wait until the screen shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    def device(self, name: str) -> Locator:
        """The row of the device with this name."""
        return self.items.filter(has_text=name)

    async def filter(self, which: str) -> None:
        """Tap a status chip: all, online or offline."""
        await self.page.locator(f"[data-test=device-filter-{which}]").click()

    async def kind(self, kind: str) -> None:
        """Pick a device kind (or "all") from the kind menu."""
        await self.page.locator("[data-test=device-kind] .van-dropdown-menu__item").click()
        await self.page.locator(f"[data-test=device-kind-{kind}]").click()

    async def search(self, text: str) -> None:
        """Type into the search box (the list follows as one types)."""
        await self.page.locator("[data-test=device-search] input").fill(text)


class BridgesPage:
    """The system administrator's bridges and the enrolment of a new one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=bridges-page]")
        self.items = page.locator("[data-test=bridge-item]")
        self.token = page.locator("[data-test=bridge-token]")

    async def wait(self) -> BridgesPage:
        """Wait until the screen shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    def bridge(self, bridge_id: object) -> Locator:
        """The card of one bridge."""
        return self.page.locator(f"[data-test=bridge-item][data-bridge-id='{bridge_id}']")

    async def issue_token(self, community: object, code: str) -> str:
        """添加网关 for a community (searched by its code); the one-time token it shows."""
        await self.page.locator("[data-test=bridge-add]").click()
        search = self.page.locator("[data-test=bridge-community-search] input")
        await search.fill(code)
        await search.press("Enter")
        await self.page.locator(f"[data-test=bridge-community-{community}]").click()
        await self.page.locator("[data-test=bridge-issue]").click()
        await expect(self.token).to_be_visible()
        return (await self.token.inner_text()).strip()


class AlarmBoardPage:
    """The guard's 告警 board: alarms newest first, by state chip, live."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=alarm-board]")
        self.items = page.locator("[data-test=alarm-item]")
        self.live = page.locator("[data-test=alarms-live]")

    async def wait(self) -> AlarmBoardPage:
        """Wait until the board shows and its live channel is connected."""
        await expect(self.root).to_be_visible(timeout=10_000)
        await expect(self.live).to_have_attribute("data-connected", "true", timeout=10_000)
        return self

    def alarm(self, alarm_id: object) -> Locator:
        """The row of one alarm."""
        return self.page.locator(f"[data-test=alarm-item][data-alarm-id='{alarm_id}']")

    async def filter(self, which: str) -> None:
        """Tap a state chip: new (未处理), active (处理中) or closed (已结束)."""
        await self.page.locator(f"[data-test=alarm-filter-{which}]").click()

    async def open(self, alarm_id: object) -> AlarmDetailPage:
        """Tap an alarm's row."""
        await self.page.locator(f"[data-test=alarm-{alarm_id}]").click()
        return await AlarmDetailPage(self.page).wait()


class AlarmDetailPage:
    """One alarm: header, pictures, the emergency plan's checklist, actions and the timeline."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=alarm-detail]")
        self.header = page.locator("[data-test=alarm-header]")
        self.state = page.locator("[data-test=alarm-state]")
        self.timeline = page.locator("[data-test=alarm-timeline]")
        self.entries = page.locator("[data-test=timeline-entry]")

    async def wait(self) -> AlarmDetailPage:
        """Wait until the alarm has loaded."""
        await expect(self.header).to_be_visible(timeout=10_000)
        return self

    def action(self, name: str) -> Locator:
        """An action button: ack, dispatch, resolve or false."""
        return self.page.locator(f"[data-test=alarm-{name}]")

    def step(self, index: int) -> Locator:
        """A step of the emergency plan."""
        return self.page.locator(f"[data-test=plan-step-{index}]")

    async def act_with_note(self, name: str, note: str = "") -> None:
        """派警, 处理完成 or 误报, with an optional note in the dialog."""
        await self.action(name).click()
        if note:
            await self.page.locator("[data-test=alarm-action-note] textarea").fill(note)
        await self.page.locator("[data-test=alarm-action-confirm]").click()

    async def add_note(self, text: str) -> None:
        """Write a note on the timeline."""
        await self.page.locator("[data-test=alarm-note] textarea").fill(text)
        await self.page.locator("[data-test=alarm-note-send]").click()


class SosPage:
    """The resident's 一键求助: the button on the home screen, its dialog, the status screen."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.button = page.locator("[data-test=sos-button]")
        self.confirm = page.locator("[data-test=sos-confirm]")
        self.status = page.locator("[data-test=sos-status]")
        self.heading = page.locator("[data-test=sos-heading]")
        self.acknowledged_by = page.locator("[data-test=sos-acknowledged-by]")
        self.entries = page.locator("[data-test=sos-entry]")

    async def call_for_help(self, *, pressed: bool = False) -> str:
        """Press SOS (unless `pressed` already) and confirm; the SOS id, from the page's address."""
        if not pressed:
            await self.button.click()
        await expect(self.confirm).to_be_visible()
        await self.confirm.click()
        await expect(self.status).to_be_visible(timeout=15_000)
        return self.page.url.rstrip("/").rsplit("/", 1)[-1]


class IncomingCall:
    """The incoming-call screen over any page: the station, 接听 and 拒接."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=incoming-call]")
        self.station = page.locator("[data-test=incoming-station]")
        self.ended = page.locator("[data-test=incoming-ended]")

    async def wait(self, call_id: str | None = None, timeout: float = 10_000) -> IncomingCall:
        """Wait until a call (this one, when given) rings on the page."""
        root = (
            self.root
            if call_id is None
            else self.page.locator(f"[data-test=incoming-call][data-call-id='{call_id}']")
        )
        await expect(root).to_be_visible(timeout=timeout)
        return self

    async def answer(self) -> CallScreen:
        """Tap 接听; the in-call screen follows."""
        await self.page.locator("[data-test=call-answer]").click()
        return await CallScreen(self.page).wait()

    async def decline(self) -> None:
        """Tap 拒接."""
        await self.page.locator("[data-test=call-decline]").click()


class CallScreen:
    """The in-call screen: the station's video, the clock, mute, speaker, 开门, 挂断, the end."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=in-call]")
        self.video = page.locator("[data-test=call-video]")
        self.elapsed = page.locator("[data-test=call-elapsed]")
        self.unlock = page.locator("[data-test=call-unlock]")
        self.unlock_result = page.locator("[data-test=call-unlock-result]")
        self.hangup = page.locator("[data-test=call-hangup]")
        self.mute = page.locator("[data-test=call-mute]")
        self.speaker = page.locator("[data-test=call-speaker]")
        self.ended = page.locator("[data-test=call-ended]")
        self.done = page.locator("[data-test=call-done]")

    async def wait(self) -> CallScreen:
        """Wait until the in-call screen shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    async def live(self, timeout: float = 15_000) -> None:
        """Wait until media flows (the call's clock runs)."""
        await expect(self.root).to_have_attribute("data-phase", "live", timeout=timeout)


class CallHistoryPage:
    """The resident's 呼叫记录."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=calls-page]")
        self.items = page.locator("[data-test=call-item]")

    async def wait(self) -> CallHistoryPage:
        """Wait until the list shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    def call(self, call_id: str) -> Locator:
        """The row of one call."""
        return self.page.locator(f"[data-test=call-item][data-call-id='{call_id}']")


class CamerasPage:
    """实时视频: the cameras in scope, one or several to watch."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=cameras-page]")
        self.items = page.locator("[data-test=camera-item]")
        self.players = page.locator("[data-test=camera-player]")

    async def wait(self) -> CamerasPage:
        """Wait until the list shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    def camera(self, name: str) -> Locator:
        """The tile of the camera with this name."""
        return self.items.filter(has_text=name)

    async def watch(self, *names: str) -> None:
        """Open one camera, or several through 多画面."""
        if len(names) > 1:
            await self.page.locator("[data-test=cameras-multi]").click()
            for name in names:
                await self.camera(name).click()
            await self.page.locator("[data-test=cameras-watch]").click()
        else:
            await self.camera(names[0]).click()
        await expect(self.players).to_have_count(len(names), timeout=10_000)

    def player(self, camera_id: object) -> Locator:
        """The live player of one camera."""
        return self.page.locator(f"[data-test=camera-player][data-camera-id='{camera_id}']")


class VisitorsPage:
    """The resident's 访客: passes of the household, live, and the way to book one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=visitors-page]")
        self.items = page.locator("[data-test=visitor-item]")
        self.live = page.locator("[data-test=visitors-live]")

    async def wait(self) -> VisitorsPage:
        """Wait until the list shows and its live channel is connected."""
        await expect(self.root).to_be_visible(timeout=10_000)
        await expect(self.live).to_have_attribute("data-connected", "true", timeout=10_000)
        return self

    def visitor(self, pass_id: object) -> Locator:
        """The row of one pass."""
        return self.page.locator(f"[data-test=visitor-item][data-pass-id='{pass_id}']")

    async def book(self) -> VisitorBookPage:
        """Tap 预约访客."""
        await self.page.locator("[data-test=visitor-book]").click()
        return await VisitorBookPage(self.page).wait()


class VisitorBookPage:
    """The resident's booking form."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=visitor-book-page]")

    async def wait(self) -> VisitorBookPage:
        """Wait until the form shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    def field(self, name: str) -> Locator:
        """The input of a field: name, phone, purpose, from, until, plate."""
        return self.page.locator(f"[data-test=visitor-{name}] input")

    async def fill(self, *, name: str, phone: str, purpose: str = "", plate: str = "") -> None:
        """Type the visitor's details (the window keeps its default: from now, four hours)."""
        await self.field("name").fill(name)
        await self.field("phone").fill(phone)
        if purpose:
            await self.field("purpose").fill(purpose)
        if plate:
            await self.field("plate").fill(plate)

    async def choose_gate(self, name: str) -> None:
        """Tick one of the community's gates (none ticked: every gate)."""
        gate = self.page.locator(f"[data-test=visitor-gate][data-gate-name='{name}']")
        await gate.click()
        await expect(gate.locator("[role=checkbox]")).to_have_attribute("aria-checked", "true")

    async def allow_phone_key(self) -> None:
        """Switch on 允许访客手机离线开门 (off by default)."""
        switch = self.page.locator("[data-test=visitor-phone-key]")
        await switch.click()
        await expect(switch).to_have_attribute("aria-checked", "true")

    async def submit(self) -> VisitorDetailPage:
        """生成通行证; the new pass's page."""
        await self.page.locator("[data-test=visitor-submit]").click()
        return await VisitorDetailPage(self.page).wait()


class VisitorDetailPage:
    """One visitor pass: status, share link, arrival, entries, revoke."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=visitor-page]")
        self.status = page.locator("[data-test=visitor-status]")
        self.link = page.locator("[data-test=visitor-link]")
        self.arrived = page.locator("[data-test=visitor-arrived]")
        self.records = page.locator("[data-test=visitor-record]")
        self.live = page.locator("[data-test=visitor-live]")

    async def wait(self) -> VisitorDetailPage:
        """Wait until the pass has loaded and the live channel is connected."""
        await expect(self.page.locator("[data-test=visitor-head]")).to_be_visible(timeout=10_000)
        await expect(self.live).to_have_attribute("data-connected", "true", timeout=10_000)
        return self

    @property
    def pass_id(self) -> str:
        """The pass's id, from the page's address."""
        return self.page.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]

    async def share(self) -> str:
        """分享给访客: the link the visitor gets (copied where the phone cannot share)."""
        await self.page.locator("[data-test=visitor-share]").click()
        await expect(self.link).to_be_visible()
        return (await self.link.inner_text()).strip()

    async def approve(self) -> None:
        """允许进入, for a walk-in visitor waiting at the gate."""
        await expect(self.page.locator("[data-test=visitor-consent]")).to_be_visible()
        await self.page.locator("[data-test=visitor-approve]").click()

    async def revoke(self) -> None:
        """撤销通行证, confirmed."""
        await self.page.locator("[data-test=visitor-revoke]").click()
        await self.page.locator(".van-dialog__confirm").click()


class PassPage:
    """The visitor's pass, opened from the shared link on the visitor's own phone (no login)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=pass-page]")
        self.qr = page.locator("[data-test=pass-qr]")
        self.code = page.locator("[data-test=pass-code]")
        self.status = page.locator("[data-test=pass-status]")
        self.entries = page.locator("[data-test=pass-entries]")
        self.ended = page.locator("[data-test=pass-ended]")
        self.inside_only = page.locator("[data-test=pass-inside-only]")

    async def open(self, path: str) -> PassPage:
        """Go to the link's path and wait for the pass (or its end) to show."""
        await self.page.goto(path)
        await expect(self.root).to_be_visible(timeout=10_000)
        await expect(self.root).not_to_have_attribute("data-status", "loading", timeout=10_000)
        return self

    async def qr_text(self, prefix: str = "AJ1:") -> str:
        """The text of the QR code shown now, as a reader scans it: the platform's (`AJ1:`) or,
        with a phone key, the one this phone computed (`AJ2:`)."""
        await expect(self.qr).to_have_attribute(
            "data-qr", re.compile(f"^{re.escape(prefix)}"), timeout=10_000
        )
        return await scanned(self.qr)

    async def register_phone_key(self) -> None:
        """Tap 把本手机登记为钥匙 (offered when the host allowed it); wait for the phone's code."""
        await self.page.locator("[data-test=pass-phone-key-register]").click()
        await expect(self.root).to_have_attribute("data-phone-key", "key", timeout=10_000)

    async def renew(self) -> None:
        """Tap 换一个码: the phone computes the next code of the window."""
        await self.page.locator("[data-test=pass-qr-refresh]").click()

    async def keypad_code(self) -> str:
        """The 6-digit code for the door keypad."""
        return str(await self.code.get_attribute("data-code"))


class VisitorDeskPage:
    """The guard's 访客登记: walk-in registration and who is inside now."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=desk-page]")
        self.result = page.locator("[data-test=desk-result]")
        self.status = page.locator("[data-test=desk-status]")
        self.issued = page.locator("[data-test=desk-issued]")
        self.code = page.locator("[data-test=desk-code]")
        self.inside = page.locator("[data-test=desk-inside-item]")
        self.live = page.locator("[data-test=desk-live]")

    async def wait(self) -> VisitorDeskPage:
        """Wait until the desk shows and its live channel is connected."""
        await expect(self.root).to_be_visible(timeout=10_000)
        await expect(self.live).to_have_attribute("data-connected", "true", timeout=10_000)
        return self

    async def show_inside(self) -> None:
        """The 在场访客 tab."""
        await self.page.locator(".desk-tab-inside").click()

    async def register(
        self, *, name: str, phone: str, id_number: str, room: str, purpose: str
    ) -> None:
        """Fill the walk-in form (resident ID card) and send it to the household."""
        await self.page.locator("[data-test=desk-name] input").fill(name)
        await self.page.locator("[data-test=desk-phone] input").fill(phone)
        await self.page.locator("[data-test=desk-id-number] input").fill(id_number)
        await self.page.locator("[data-test=desk-household]").click()
        await self.page.locator("[data-test=desk-household-sheet-search] input").fill(room)
        option = self.page.locator("[data-test=desk-household-option]").filter(has_text=room)
        await option.first.click()
        await expect(self.page.locator("[data-test=desk-household-sheet]")).to_be_hidden()
        picked = self.page.locator("[data-test=desk-household] input")
        await expect(picked).to_have_value(re.compile(room))
        await self.page.locator("[data-test=desk-purpose] input").fill(purpose)
        await self.page.locator("[data-test=desk-submit]").click()


class AccessAdminPage:
    """The manager's 门禁管理: access points, groups, schedules and credentials, a tab each."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=access-admin-page]")

    async def wait(self) -> AccessAdminPage:
        """Wait until the screen shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    async def tab(self, name: str) -> None:
        """points, groups, schedules or credentials."""
        await self.page.locator(f".admin-tab-{name}").click()
        await expect(self.page.locator(f"[data-test={name}-pane]")).to_be_visible()

    def items(self, what: str) -> Locator:
        """The rows of a pane: point, group, schedule or credential."""
        return self.page.locator(f"[data-test={what}-item]")

    async def save(self, what: str) -> None:
        """The sheet's 保存, and wait for it to close."""
        await self.page.locator(f"[data-test={what}-save]").click()
        await expect(self.page.locator(f"[data-test={what}-sheet]")).to_be_hidden()

    async def pick_person(self, picker: str, name: str) -> None:
        """Find a person by name in a person picker and choose them."""
        await self.page.locator(f"[data-test={picker}-search] input").fill(name)
        await self.page.locator(f"[data-test={picker}-person]").filter(has_text=name).first.click()


class AccessLogPage:
    """The manager's 通行记录: filters and the CSV export."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=access-log-page]")
        self.items = page.locator("[data-test=access-log-item]")
        self.total = page.locator("[data-test=access-log-total]")
        self.export = page.locator("[data-test=access-log-export]")

    async def wait(self) -> AccessLogPage:
        """Wait until the screen shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    async def result(self, which: str) -> None:
        """Tap a result chip: "" (all), granted, denied or failed."""
        await self.page.locator(f"[data-test=log-result-{which}]").click()

    async def filter(self, *, method: str = "", point: str = "") -> None:
        """Open 筛选, choose a method and/or an access point (by its name), and 查询."""
        await self.page.locator("[data-test=log-filters]").click()
        if method:
            await self.page.locator("[data-test=log-method]").select_option(method)
        if point:
            await self.page.locator("[data-test=log-point]").select_option(label=point)
        await self.page.locator("[data-test=log-apply]").click()
        await expect(self.page.locator("[data-test=log-filter-sheet]")).to_be_hidden()


class DoorControlPage:
    """The guard's 门禁控制: remote open with a reason; emergency release."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=door-control-page]")
        self.items = page.locator("[data-test=door-control-item]")

    async def wait(self) -> DoorControlPage:
        """Wait until the screen shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    async def open_door(self, name: str, reason: str) -> None:
        """远程开门 on a door, with the reason typed into the dialog."""
        await self.items.filter(has_text=name).first.locator("[data-test^=door-remote-]").click()
        dialog = self.page.locator("[data-test=remote-dialog]")
        await expect(dialog).to_be_visible()
        await dialog.locator("[data-test=remote-reason] textarea").fill(reason)
        await dialog.locator(".van-dialog__confirm").click()

    async def release(self, reason: str) -> None:
        """紧急放行 of the whole community, confirmed."""
        await self.page.locator("[data-test=emergency-reason] input").fill(reason)
        await self.page.locator("[data-test=emergency-start]").click()
        await self.page.locator(".van-dialog__confirm").click()

    async def end_release(self) -> None:
        """解除紧急放行 (the reason typed already)."""
        await self.page.locator("[data-test=emergency-end]").click()


class MyQrPage:
    """The resident's 我的通行码: the code the phone computes with its own key (`AJ2:`), or the
    platform's dynamic QR code that renews itself (`AJ1:`, without WebCrypto)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=my-qr-page]")
        self.qr = page.locator("[data-test=my-qr]")
        self.countdown = page.locator("[data-test=my-qr-countdown] [data-seconds]")

    async def wait(self, prefix: str = "AJ1:") -> MyQrPage:
        """Wait until the screen shows a code of this kind."""
        await expect(self.root).to_be_visible(timeout=10_000)
        await expect(self.qr).to_have_attribute(
            "data-qr", re.compile(f"^{re.escape(prefix)}"), timeout=10_000
        )
        return self

    async def qr_text(self) -> str:
        """The text of the QR code shown now, as a reader scans it."""
        return await scanned(self.qr)

    async def renew(self) -> None:
        """Tap 刷新 (换一个码 with a phone key) for a new code now."""
        await self.page.locator("[data-test=my-qr-refresh]").click()

    async def open_phone_keys(self) -> PhoneKeysPage:
        """Tap 我的手机钥匙: the profile's list of phone keys."""
        await self.page.locator("[data-test=my-qr-phone-keys]").click()
        return await PhoneKeysPage(self.page).wait()


class PhoneKeysPage:
    """The profile's 手机钥匙: the resident's phone keys, each with 撤销."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=phone-keys]")
        self.this_phone = page.locator("[data-test=phone-key-this]")

    async def wait(self) -> PhoneKeysPage:
        """Wait until the list shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self

    async def revoke(self, credential: str) -> None:
        """Revoke one key, confirming, and wait until the list says so."""
        await self.page.locator(f"[data-test=phone-key-revoke-{credential}]").click()
        await self.page.locator(".van-dialog__confirm").click()
        await expect(self.page.locator(f"[data-test=phone-key-{credential}]")).to_have_attribute(
            "data-status", "revoked", timeout=10_000
        )
        await expect(self.this_phone).to_have_count(0)  # this phone's key was dropped


class ElderHomePage:
    """关怀模式's home: the resident's four large buttons."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=elder-home]")
        self.buttons = self.root.locator("nav > a, nav > button")

    async def wait(self) -> ElderHomePage:
        """Wait until the elder home shows."""
        await expect(self.root).to_be_visible(timeout=10_000)
        return self


class PatrolPage:
    """The guard's 巡更 screen: the round to walk, its checkpoints in order, the scanner."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("[data-test=patrol-page]")
        self.round = page.locator("[data-test=patrol-round]")
        self.next = page.locator("[data-test=patrol-next]")
        self.left = page.locator("[data-test=patrol-time-left]")
        self.pending = page.locator("[data-test=patrol-pending]")
        self.stops = page.locator("[data-test=patrol-stop]")

    async def wait(self) -> PatrolPage:
        """Wait until the screen shows a round."""
        await expect(self.round).to_be_visible(timeout=10_000)
        return self

    async def scan(self, code: str) -> None:
        """Check in with the text a QR label decodes to (what the camera would read)."""
        await self.page.locator("[data-test=patrol-code] input").fill(code)
        await self.page.locator("[data-test=patrol-submit]").click()

    def stop(self, name: str) -> Locator:
        """The row of one checkpoint."""
        return self.stops.filter(has_text=name)


class VideoPatrolPage:
    """The guard's 视频巡查 screen: the due tour's next camera live, 正常 or 有问题."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.run = page.locator("[data-test=tour-run]")
        self.player = page.locator("[data-test=camera-player]")
        self.cameras = page.locator("[data-test=tour-camera]")

    async def wait(self) -> VideoPatrolPage:
        """Wait until the screen shows a tour run."""
        await expect(self.run).to_be_visible(timeout=10_000)
        return self

    def camera(self, name: str) -> Locator:
        """The row of one camera of the run."""
        return self.cameras.filter(has_text=name)

    async def confirm(self) -> None:
        """正常: the camera on screen is fine."""
        await self.page.locator("[data-test=tour-normal]").click()

    async def report(self, kind: str, note: str) -> None:
        """有问题: what is wrong (`unclear`, `no_image`, `other`) and a note."""
        await self.page.locator("[data-test=tour-problem]").click()
        await self.page.locator(f"[data-test=tour-problem-kind][value={kind}]").check()
        await self.page.locator("[data-test=tour-note] textarea").fill(note)
        await self.page.locator("[data-test=tour-report]").click()
