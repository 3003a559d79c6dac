"""The platform and a real site bridge together: enrolment, link, drivers, the door."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from litestar import Litestar

from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings


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
