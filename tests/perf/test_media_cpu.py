"""Benchmark: the bridge's CPU per live 640×480 stream, and per extra viewer through the relay.

The bridge side (a camera's synthetic source, its relay, the aiortc peers) runs in this process and
its CPU time (all threads: aiortc encodes in the default executor) is read over a fixed wall-clock
window. The viewers are aiortc peers in a child process, so their decoding is not counted. The
baseline, measured in the same run, is the source generating frames with no peer at all.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Any

from device_bridge.media.peers import Offer, PeerRegistry
from device_bridge.media.sources import SourceHub
from device_bridge.protocol import DeviceInfo
from tests.perf.sizes import size

WINDOW_S = size(5, smoke=1)
VIEWERS = (1, 2, 4)
CAMERA = DeviceInfo(id="cam-bench", kind="camera", name="bench camera", driver="sim")


def _viewers(conn: Connection) -> None:
    """The child process: browsers on request ("open" → offer SDP; "answer"; "frames"; "quit")."""
    from tests.device_bridge.media_browser import Browser

    async def serve() -> None:
        browsers: list[Browser] = []
        while True:
            request, payload = await asyncio.to_thread(conn.recv)
            if request == "open":
                browsers.append(Browser(call=False))
                conn.send(await browsers[-1].offer())
            elif request == "answer":
                await browsers[-1].accept(payload)
                await browsers[-1].frames(5, timeout=20)
                conn.send(None)
            elif request == "frames":
                conn.send([b.video_frames for b in browsers])
            elif request == "quit":
                for browser in browsers:
                    await browser.close()
                conn.send(None)
                return

    asyncio.run(serve())


async def _ask(conn: Connection, request: str, payload: Any = None) -> Any:
    conn.send((request, payload))
    return await asyncio.to_thread(conn.recv)


async def _cpu_percent(conn: Connection | None = None) -> tuple[float, float]:
    """(CPU % of this process, frames/s per viewer) over one window."""
    before = await _ask(conn, "frames") if conn else []
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.sleep(WINDOW_S)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    after = await _ask(conn, "frames") if conn else []
    rates = [(a - b) / wall for a, b in zip(after, before, strict=True)]
    return 100 * cpu / wall, (min(rates) if rates else 0.0)


async def test_cpu_per_stream_and_per_viewer() -> None:
    """CPU % of: nothing, the source alone, then 1, 2 and 4 live viewers of one camera."""
    hub = SourceHub()  # 640×480 at 15 fps, the bridge's defaults
    peers = PeerRegistry(hub, max_peers=8)
    idle, _ = await _cpu_percent()

    lease = await hub.subscribe(CAMERA)
    assert lease.video is not None
    video = lease.video

    async def consume() -> None:
        while True:
            await video.recv()

    consumer = asyncio.create_task(consume())
    source, _ = await _cpu_percent()
    consumer.cancel()
    await lease.release()

    context = multiprocessing.get_context("spawn")
    here, there = context.Pipe()
    child = context.Process(target=_viewers, args=(there,), daemon=True)
    child.start()
    results: dict[int, tuple[float, float]] = {}
    starts = hub.starts[CAMERA.id]
    try:
        for count in VIEWERS:
            while len(peers) < count:
                sdp = await _ask(here, "open")
                offer = Offer(session=f"v{len(peers)}", sdp=sdp, kind="live", max_duration_s=600)
                await _ask(here, "answer", await peers.open(CAMERA, offer))
            results[count] = await _cpu_percent(here)
        assert hub.starts[CAMERA.id] == starts + 1  # every viewer through the one relay
    finally:
        await peers.close_all()
        await _ask(here, "quit")
        child.join(10)

    print(
        f"\nbridge CPU over {WINDOW_S:.0f} s windows, 640×480 at {hub.fps:g} fps (2-core machine)"
    )
    print(f"  idle process            {idle:6.1f} %")
    print(f"  source, no peer (base)  {source:6.1f} %")
    one = results[1][0]
    for count, (cpu, fps) in results.items():
        per_stream = (cpu - source) / count
        print(
            f"  {count} viewer(s)             {cpu:6.1f} %   per stream {per_stream:5.1f} %"
            f"   ×{cpu / max(source, 0.1):5.1f} of base   slowest viewer {fps:4.1f} fps"
        )
    for count in VIEWERS[1:]:
        extra = (results[count][0] - one) / (count - 1)
        first = max(one - source, 0.1)
        print(f"  each extra viewer at {count}: {extra:5.1f} % (×{extra / first:.2f} of the first)")
