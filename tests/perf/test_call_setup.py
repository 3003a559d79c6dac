"""Benchmark: a door-station call answered in Chromium → its first video frame, on loopback.

Measured in the page: performance.now() from the 接听 tap (the call store stamps it as the in-call
screen's `data-answer-ms`) to the first requestVideoFrameCallback of the call's <video>
(`data-first-frame-ms`). That covers the microphone, the ICE servers, the offer and its gathering,
the answer through the platform (HTTP, the call claimed in PostgreSQL, the bridge link, aiortc's
answer), ICE and DTLS, the first frame decoded and shown.

The baseline, measured in the same run and the same page, alternating with the platform calls, is a
bare RTCPeerConnection with the same transceivers and microphone whose offer goes straight to the
bridge's media (`Bridge.execute` through a Playwright binding): the same WebRTC work without the
platform's relay. The answer POST's own round trip (resource timing) is printed as well.
"""

from __future__ import annotations

import re
import statistics
import time
import uuid
from typing import Any

from playwright.async_api import Page, expect

from api.core.auth import Role
from api.intercom.tables import Call
from device_bridge import protocol
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from e2e.media import media_chromium, media_phone
from e2e.pages import HomePage, IncomingCall, LoginPage
from tests.helpers import World, eventually, running
from tests.perf.sizes import size

N = size(20, smoke=3)
_ANY = re.compile(r".+")
STATION = "station-north"
ROOM = "1-1-0101"

# The same peer as the app's call (useWebRtc.ts), offered to the bridge directly.
BARE_CALL = """
async (callId) => {
  const t0 = performance.now();
  const mic = await navigator.mediaDevices.getUserMedia({
    audio: {echoCancellation: true, noiseSuppression: true, autoGainControl: true}, video: false,
  });
  const pc = new RTCPeerConnection({iceServers: [], bundlePolicy: 'max-bundle'});
  const stream = new MediaStream();
  pc.addEventListener('track', (e) => stream.addTrack(e.track));
  pc.addTransceiver('video', {direction: 'recvonly'});
  pc.addTransceiver(mic.getAudioTracks()[0], {direction: 'sendrecv', streams: [mic]});
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise((resolve) => pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    }));
  }
  const answer = await window.bridgeOffer(callId, pc.localDescription.sdp);
  await pc.setRemoteDescription({type: 'answer', sdp: answer});
  const video = document.createElement('video');
  Object.assign(video.style, {position: 'fixed', top: '0', left: '0', width: '160px'});
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  document.body.append(video);
  const shown = new Promise((resolve) => {
    video.requestVideoFrameCallback(() => resolve(performance.now()));
  });
  video.play().catch(() => null);
  const t1 = await shown;
  window.__bare = {pc, mic, video};
  return t1 - t0;
}
"""

CLOSE_BARE = """
() => {
  const {pc, mic, video} = window.__bare;
  pc.close();
  mic.getTracks().forEach((t) => t.stop());
  video.remove();
}
"""

# The answer POST of the newest call, as the page's resource timing saw it.
ANSWER_RTT = """
(callId) => {
  const entries = performance.getEntriesByType('resource')
    .filter((e) => e.name.endsWith(`/api/v1/calls/${callId}/answer`));
  return entries.length ? entries.at(-1).duration : null;
}
"""


def _pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


async def _idle(bridge: Bridge) -> None:
    """No peer left and the station free for the next visitor."""
    sim = bridge.sim
    assert sim is not None
    await eventually(lambda: len(bridge.media.peers) == 0 and not sim.intercom.calls)


async def _through_platform(page: Page, bridge: Bridge) -> tuple[float, float]:
    """One call answered in the app: (tap → first frame, answer POST) in ms."""
    assert bridge.sim is not None
    call_id = await bridge.sim.ring(STATION, room=ROOM)
    screen = await (await IncomingCall(page).wait(call_id)).answer()
    video = screen.video
    await expect(video).to_have_attribute("data-first-frame-ms", _ANY, timeout=15_000)
    answered = float(await screen.root.get_attribute("data-answer-ms") or "nan")
    first = float(await video.get_attribute("data-first-frame-ms") or "nan")
    rtt = await page.evaluate(ANSWER_RTT, call_id)
    await screen.hangup.click()
    await expect(screen.ended).to_be_visible()
    await screen.done.click()
    await _idle(bridge)
    return first - answered, float(rtt or "nan")


async def _bare(page: Page, bridge: Bridge) -> float:
    """One call answered by a bare peer offered straight to the bridge: ms to the first frame."""
    assert bridge.sim is not None
    call_id = await bridge.sim.ring(STATION, room=ROOM)
    took = float(await page.evaluate(BARE_CALL, call_id))
    close = protocol.Command(
        id=f"bench-close-{uuid.uuid4()}",
        device=STATION,
        action="media.close",
        args={"session": call_id},
        deadline=time.time() + 5,
    )
    assert (await bridge.execute(close)).status == "ok"
    await page.evaluate(CLOSE_BARE)
    await _idle(bridge)
    # The platform heard the call end too, before the next one is measured.
    await eventually(lambda: Call.exists().where((Call.id == call_id) & (Call.state == "ended")))
    return took


async def test_call_setup_time(live_url: str, site_settings: BridgeSettings, world: World) -> None:
    """p50/p95 of answer → first frame through the platform, against a bare peer to the bridge."""
    async with running(site_settings) as bridge, media_chromium() as chromium:
        context, page = await media_phone(chromium, live_url)

        async def bridge_offer(call_id: str, sdp: str) -> str:
            command = protocol.Command(
                id=f"bench-{uuid.uuid4()}",
                device=STATION,
                action="media.offer",
                args={
                    "session": call_id,
                    "sdp": sdp,
                    "kind": "call",
                    "max_duration_s": 90,
                    "ice_servers": [],
                },
                deadline=time.time() + 15,
            )
            result = await bridge.execute(command)
            assert result.status == "ok", result
            answer: Any = result.data["sdp"]
            return str(answer)

        await page.expose_function("bridgeOffer", bridge_offer)
        await (await LoginPage(page).open()).log_in(world.a.users[Role.RESIDENT])
        await HomePage(page, "resident").wait()

        platform, answer_rtt, bare = [], [], []
        await _through_platform(page, bridge)  # warm-up: codecs, caches, the first connection
        await _bare(page, bridge)
        for _ in range(N):
            setup, rtt = await _through_platform(page, bridge)
            platform.append(setup)
            answer_rtt.append(rtt)
            bare.append(await _bare(page, bridge))
        await context.close()

    p50, p95 = _pct(platform, 50), _pct(platform, 95)
    b50, b95 = _pct(bare, 50), _pct(bare, 95)
    r50 = _pct(answer_rtt, 50)
    print(
        f"\ncall set-up, answer tap → first video frame in Chromium, {N} calls on loopback: "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms (answer POST alone p50 {r50:.0f} ms); "
        f"bare peer straight to the bridge p50 {b50:.0f} ms, p95 {b95:.0f} ms; "
        f"the platform adds p50 {p50 - b50:.0f} ms (ratio {p50 / b50:.2f})"
    )
