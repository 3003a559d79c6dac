"""Benchmark: app door opening, tap → API → bridge → simulated controller → result back.

The baseline, measured in the same run, is the same `open` given to the bridge directly:
the simulated controller's own latency (40-120 ms, like a real one). The ratio shows what the
platform path adds on top of the device.
"""

from __future__ import annotations

import statistics
import time

import httpx

from api.core.auth import Role
from device_bridge import protocol
from device_bridge.identity import load_bridge_id
from device_bridge.settings import BridgeSettings
from tests.helpers import World, running
from tests.integration.test_site import device_id
from tests.perf.sizes import size

N = size(1000, smoke=30)


def _pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] * 1000


async def test_door_opening_latency(
    live_url: str, site_settings: BridgeSettings, world: World
) -> None:
    """p50/p99 of app openings over real HTTP and the real link, against the device alone."""
    async with running(site_settings) as bridge, httpx.AsyncClient(base_url=live_url) as phone:
        door = await device_id("door-1-1", load_bridge_id(site_settings))
        user = world.a.users[Role.RESIDENT]
        await phone.get("/api/v1/auth/me")
        csrf = {"x-csrftoken": phone.cookies["csrftoken"]}
        login = {"username": user.username, "password": user.password}
        assert (await phone.post("/api/v1/auth/login", json=login, headers=csrf)).status_code == 200
        csrf = {"x-csrftoken": phone.cookies["csrftoken"]}

        end_to_end = []
        for _ in range(N):
            start = time.perf_counter()
            answer = await phone.post(f"/api/v1/doors/{door}/open", json={}, headers=csrf)
            end_to_end.append(time.perf_counter() - start)
            assert answer.json()["result"] == "granted"

        device_only = []
        for i in range(N):
            command = protocol.Command(
                id=f"bench-{i}", device="door-1-1", action="open", deadline=time.time() + 5
            )
            start = time.perf_counter()
            result = await bridge.execute(command)
            device_only.append(time.perf_counter() - start)
            assert result.status == "ok"

    p50, p99 = _pct(end_to_end, 50), _pct(end_to_end, 99)
    b50, b99 = _pct(device_only, 50), _pct(device_only, 99)
    print(
        f"\ndoor opening by app, {N} openings: p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"device alone p50 {b50:.1f} ms, p99 {b99:.1f} ms; "
        f"platform adds p50 {p50 - b50:.1f} ms (ratio {p50 / b50:.2f})"
    )
