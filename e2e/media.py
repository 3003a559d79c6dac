"""Chromium for WebRTC tests: fake camera and microphone, no permission prompts, sound allowed.

Shared by the intercom e2e tests and the call set-up benchmark (tests/perf/test_call_setup.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from e2e.conftest import CHROMIUM, HAVE_CHROMIUM, HAVE_PWA, PHONE

MEDIA_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # A synthetic microphone (a beep) and camera, granted without asking.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # The door station's voice plays without a tap first (the test's taps are synthetic).
    "--autoplay-policy=no-user-gesture-required",
    # Host candidates as addresses, not mDNS names: the bridge's aiortc sits on the same host.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]

# Every RTCPeerConnection the page makes, kept for getStats (the app keeps its own private).
TRACK_PEERS = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__peers = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__peers.push(this);
    }
  };
})();
"""

# What the last peer received and sent: decoded video frames, audio packets, states.
PEER_STATS = """
async () => {
  const pc = window.__peers.at(-1);
  if (!pc) return null;
  const out = {connection: pc.connectionState, framesDecoded: 0, audioIn: 0, audioOut: 0};
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.framesDecoded = s.framesDecoded ?? 0;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioIn = s.packetsReceived ?? 0;
    if (s.type === 'outbound-rtp' && s.kind === 'audio') out.audioOut = s.packetsSent ?? 0;
  });
  return out;
}
"""

# The <video> of a selector: its frame count (requestVideoFrameCallback), time and tracks.
VIDEO_STATE = """
(el) => ({
  frames: Number(el.dataset.frames ?? 0),
  firstFrameMs: el.dataset.firstFrameMs ? Number(el.dataset.firstFrameMs) : null,
  currentTime: el.currentTime,
  width: el.videoWidth,
  height: el.videoHeight,
  paused: el.paused,
  tracks: el.srcObject
    ? el.srcObject.getTracks().map((t) => ({kind: t.kind, state: t.readyState}))
    : [],
})
"""


@contextlib.asynccontextmanager
async def media_chromium() -> AsyncIterator[Browser]:
    """Headless Debian Chromium with fake media devices."""
    import pytest

    if not HAVE_CHROMIUM:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    if not HAVE_PWA:
        pytest.fail("pwa/dist is not built: run `make pwa`")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=MEDIA_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def media_phone(browser: Browser, base_url: str) -> tuple[BrowserContext, Page]:
    """A phone-sized page allowed the microphone and camera, its peers tracked for statistics."""
    context = await browser.new_context(
        viewport=PHONE,
        base_url=base_url,
        locale="zh-CN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        permissions=["microphone", "camera"],
    )
    await context.add_init_script(TRACK_PEERS)
    return context, await context.new_page()


async def peer_stats(page: Page) -> dict[str, Any] | None:
    """getStats of the page's newest peer connection."""
    stats: dict[str, Any] | None = await page.evaluate(PEER_STATS)
    return stats
