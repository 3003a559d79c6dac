"""The platform and a real site bridge together: enrolment, link, drivers, the door."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import uvicorn
from litestar import Litestar

from api.core.auth import Role
from device_bridge.identity import enroll
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.helpers import ApiClient, World


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(app: Litestar, port: int) -> AsyncIterator[uvicorn.Server]:
    """One more api instance (the session's resources, its own socket), stopped on exit."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for "listening"
        await asyncio.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        await task


async def enrolment_token(admin: ApiClient, community: object) -> str:
    """A one-time token issued through the API by a system administrator."""
    answer = await admin.post(
        "/api/v1/bridges/enrolment-tokens", json={"community_id": str(community)}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


@pytest.fixture
async def admin(browser: Callable, world: World) -> ApiClient:  # type: ignore[type-arg]
    """A logged-in system administrator."""
    api = await browser()
    await api.login(world.admins[Role.SYSTEM_ADMIN])
    return api


@pytest.fixture
async def site_settings(
    tmp_path: Path, live_url: str, admin: ApiClient, world: World
) -> BridgeSettings:
    """A bridge of community A (the demo site's devices), enrolled with the platform."""
    settings = BridgeSettings(
        platform_url=live_url,
        data_dir=tmp_path / "bridge",
        heartbeat_interval=0.5,
        backoff_initial=0.05,
        backoff_max=0.5,
        log_json=False,
    )
    await enroll(settings, token=await enrolment_token(admin, world.a.community), name="site A")
    return settings


@contextlib.asynccontextmanager
async def running(settings: BridgeSettings) -> AsyncIterator[Bridge]:
    """A bridge in this process, authenticated; stopped on exit."""
    bridge = Bridge(settings, door_open_s=0.05, clock_sync=False)
    task = asyncio.create_task(bridge.run())
    await asyncio.wait_for(bridge.ready.wait(), 10)
    await asyncio.wait_for(bridge.link.authenticated.wait(), 10)
    try:
        yield bridge
    finally:
        await bridge.stop()
        await task
