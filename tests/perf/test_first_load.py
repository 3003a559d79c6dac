"""Benchmark: the first load of the resident's home on a slow phone, the whole Vant CSS against the
CSS of the Vant components the app uses.

Chromium at 390×844 with DevTools' "Slow 4G" network (562.5 ms round trip, 1.44 Mbit/s down,
675 kbit/s up) and the CPU slowed 4×, through CDP; a fresh context each load (empty cache, no
service worker). Measured: the JS and CSS bytes transferred until the 开门 tile of the home can be
tapped, and the time from navigation to that moment (median of the runs).

The baseline, built in the same run, is the same source built as the app was before (the whole
Vant CSS imported first: `ANJU_PWA_FULL_VANT=1`, pwa/build/vant-styles.ts); "after" is pwa/dist.
No figure is asserted: the test fails only if a build does not load.
Both are served over real HTTP by the app's PWA route, the API by the session's app (uncompressed;
the gzip figures are of the same files).
"""

from __future__ import annotations

import gzip
import os
import shutil
import statistics
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.types import Receive, Scope, Send
from playwright.async_api import Browser, async_playwright

from api.app import pwa_routes
from api.core.auth import Role
from tests.helpers import TestUser, World, free_port, serve
from tests.perf.sizes import size

PWA = Path(__file__).resolve().parents[2] / "pwa"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RUNS = size(5, smoke=1)
# DevTools' "Slow 4G" preset (its figures: 150 ms RTT × 3.75, 1.6 / 0.75 Mbit/s × 0.9).
SLOW_4G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,
    "uploadThroughput": 750 * 1000 / 8 * 0.9,
}
CPU_SLOWDOWN = 4
# The first tap target: the 开门 tile, laid out, styled (its icon font's CSS is in) and enabled.
TAP_TARGET = """
() => {
  const tile = document.querySelector('[data-test=cap-open_door]');
  if (!tile || tile.getBoundingClientRect().height === 0 || tile.closest('[disabled]')) return null;
  return performance.now();
}
"""


@dataclass
class Load:
    ms: float
    js: int = 0
    css: int = 0
    js_gzip: int = 0
    css_gzip: int = 0
    files: set[str] = field(default_factory=set)


def build_before(out: Path) -> None:
    """The same source built the way it was: the whole Vant CSS imported first."""
    env = {**os.environ, "ANJU_PWA_FULL_VANT": "1"}
    subprocess.run(
        ["npx", "vite", "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "error"],
        cwd=PWA,
        env=env,
        check=True,
        timeout=300,
    )


@asynccontextmanager
async def serving_pwa(app: Litestar, dist: Path) -> AsyncIterator[str]:
    """The running app over real HTTP on a free port, with the PWA files of `dist` at /.

    The files are served by the app's PWA route alone (both builds with the same headers);
    everything else (the API, its WebSockets) goes to the session's app: one platform for both.
    """
    pwa_only = Litestar(route_handlers=pwa_routes(dist))

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        api = scope["type"] != "http" or scope["path"].startswith(("/api/", "/schema"))
        await (app if api else pwa_only)(scope, receive, send)

    async with serve(dispatch, free_port()) as server:
        yield f"http://127.0.0.1:{server.config.port}"


async def first_load(browser: Browser, base_url: str, dist: Path, user: TestUser) -> Load:
    """Sign in (unthrottled), then load the home cold on the slow profile."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=base_url,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        service_workers="block",
    )
    try:
        await context.request.get("/api/v1/auth/me")
        csrf = next(c["value"] for c in await context.cookies() if c["name"] == "csrftoken")
        signed_in = await context.request.post(
            "/api/v1/auth/login",
            data={"username": user.username, "password": user.password},
            headers={"x-csrftoken": csrf},
        )
        assert signed_in.ok, await signed_in.text()

        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        kinds: dict[str, tuple[str, str]] = {}
        sizes: dict[str, int] = {}
        cdp.on(
            "Network.responseReceived",
            lambda e: kinds.__setitem__(e["requestId"], (e["type"], e["response"]["url"])),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
        )
        await cdp.send("Network.enable")
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        await cdp.send("Network.emulateNetworkConditions", SLOW_4G)
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})

        await page.goto("/home", wait_until="commit")
        ready = await page.wait_for_function(TAP_TARGET, polling="raf", timeout=120_000)
        load = Load(ms=float(await ready.json_value()))
        for request, length in list(sizes.items()):
            kind, url = kinds.get(request, ("", ""))
            path = urlsplit(url).path
            if kind not in ("Script", "Stylesheet") or not path.startswith("/assets/"):
                continue
            packed = len(gzip.compress((dist / path.lstrip("/")).read_bytes(), 9))
            load.files.add(path)
            if kind == "Script":
                load.js, load.js_gzip = load.js + length, load.js_gzip + packed
            else:
                load.css, load.css_gzip = load.css + length, load.css_gzip + packed
        return load
    finally:
        await context.close()


def _line(label: str, before: float, after: float, unit: str) -> str:
    return f"  {label:<24}{before:>19,.0f} {unit:<3}{after:>15,.0f} {unit:<3}{after / before:>7.2f}"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
async def test_first_load_of_the_residents_home(
    app: Litestar, world: World, tmp_path: Path
) -> None:
    """Bytes and time to the first tap target: the whole Vant CSS first, against the used part."""
    after_dist = PWA / "dist"
    if not (after_dist / "index.html").exists():
        pytest.fail("pwa/dist is not built: run `make pwa`")
    before_dist = tmp_path / "before"
    build_before(before_dist)
    resident = world.a.users[Role.RESIDENT]

    before_runs: list[Load] = []
    after_runs: list[Load] = []
    async with (
        serving_pwa(app, before_dist) as before_url,
        serving_pwa(app, after_dist) as after_url,
        async_playwright() as pw,
    ):
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-quic"]
        )
        try:
            for _ in range(RUNS):  # alternated, so both meet the same machine load
                before_runs.append(await first_load(browser, before_url, before_dist, resident))
                after_runs.append(await first_load(browser, after_url, after_dist, resident))
        finally:
            await browser.close()

    def median(runs: list[Load], attr: str) -> float:
        return statistics.median(getattr(run, attr) for run in runs)

    print(
        f"\nfirst load of the resident's home, Slow 4G + CPU ×{CPU_SLOWDOWN}, "
        f"median of {RUNS} cold load(s) each\n"
        f"  {'':<24}{'before (all Vant CSS)':>23}{'after (used only)':>18}{'ratio':>9}"
    )
    for label, attr, unit in [
        ("JS transferred", "js", "B"),
        ("CSS transferred", "css", "B"),
        ("JS gzip (same files)", "js_gzip", "B"),
        ("CSS gzip (same files)", "css_gzip", "B"),
        ("time to the 开门 tile", "ms", "ms"),
    ]:
        print(_line(label, median(before_runs, attr), median(after_runs, attr), unit))
    print(f"  files loaded: {len(before_runs[0].files)} before, {len(after_runs[0].files)} after")
    # The two builds load: a stylesheet and a script each (no figure is asserted).
    for run in before_runs + after_runs:
        assert run.js > 0 and run.css > 0
