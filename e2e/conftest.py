"""Browser tests: the built PWA served by the app over real HTTP, driven in Debian's Chromium."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import UUID

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from api.access.tables import AccessPoint
from api.devices.tables import Device
from device_bridge.identity import load_bridge_id
from device_bridge.settings import BridgeSettings
from tests.helpers import eventually

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
HAVE_CHROMIUM = Path(CHROMIUM).exists()
HAVE_PWA = (Path(__file__).resolve().parent.parent / "pwa" / "dist" / "index.html").exists()


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium from the system (no downloaded browser builds)."""
    if not HAVE_CHROMIUM:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    if not HAVE_PWA:
        pytest.fail("pwa/dist is not built: run `make pwa`")
    async with async_playwright() as pw:
        browser_ = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser_
        await browser_.close()


async def open_phone(chromium: Browser, base_url: str) -> Page:
    """A phone-sized page of a fresh browser context (its own cookies), at the app."""
    context = await chromium.new_context(
        viewport=PHONE,
        base_url=base_url,
        locale="zh-CN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = await context.new_page()
    page.on("console", _note_csp_violation)
    return page


_CSP_VIOLATIONS: list[str] = []


# Vant's icon font names a third-party woff after its inline woff2; the woff2 loads (the font's
# status is "loaded"), yet Chromium reports the refused fallback URL. It stays refused.
_VANT_FONT_FALLBACK = "at.alicdn.com/t/c/font_2553510"


def _note_csp_violation(message: ConsoleMessage) -> None:
    text = message.text
    if "Content Security Policy" in text and _VANT_FONT_FALLBACK not in text:
        _CSP_VIOLATIONS.append(text)


@pytest.fixture(autouse=True)
def no_csp_violation() -> Iterator[None]:
    """The PWA works under the platform's Content-Security-Policy: the browser refused nothing."""
    _CSP_VIOLATIONS.clear()
    yield
    assert _CSP_VIOLATIONS == []


@pytest.fixture
async def phone(chromium: Browser, live_url: str) -> AsyncIterator[Page]:
    """The test's phone."""
    page = await open_phone(chromium, live_url)
    yield page
    await page.context.close()


def artifact(name: str) -> Path:
    """Where a screenshot is saved for the run's artefacts."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


GATE = "gate-north"  # the north gate's reader (device_bridge/demo.toml)
GATE_NAME = "北门 人行通道"


async def gate_device(site: BridgeSettings) -> UUID:
    """The platform's id of the north gate, once the inventory is in and its access point made."""
    bridge = load_bridge_id(site)
    row = await eventually(
        lambda: (
            Device.select(Device.id)
            .where((Device.bridge == bridge) & (Device.external_id == GATE))
            .first()
        )
    )
    device = UUID(str(row["id"]))
    await eventually(lambda: AccessPoint.exists().where(AccessPoint.device == device))
    return device
