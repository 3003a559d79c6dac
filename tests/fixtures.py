"""Test set-up: real PostgreSQL and Redis (the ANJU_* URLs, or embedded engines), migrations once.

The app's lifespan runs once per session; each simulated browser is its own HTTP client with its own
cookies. Tests make their own communities and accounts (`world`), so they do not depend on order.

Registered once by the root conftest.py (`pytest_plugins`) for tests/ and e2e/ alike. A fixture
imported into a second conftest is a second definition: each session fixture would then run twice
(two handles on one embedded PostgreSQL, two test databases of one name, two apps), and the first
`services` torn down would stop the PostgreSQL the other `settings` still drops its database from.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
import pytest
from litestar import Litestar

from api.app import create_app
from api.core import db, logging
from api.core.auth import Role
from api.core.embedded import embedded_services
from api.settings import Settings, from_environ
from device_bridge.identity import enroll
from device_bridge.settings import BridgeSettings
from tests.helpers import ApiClient, Login, TestUser, World, build_world, free_port, serve, user

logging.CACHE_LOGGERS = False  # capture_logs must see loggers bound before it (tests of the bridge)
TEST_DATABASE = f"anju_test_{os.getpid()}"  # parallel runs on one server never collide


def _database_url(server_url: str) -> str:
    """The test database on the same server."""
    return urlunsplit(urlsplit(server_url)._replace(path="/" + TEST_DATABASE))


def _redis_database(server_url: str) -> str:
    """A Redis database of this test process: the URL's own, if it names one, else one per worker.

    Workers of `pytest -n` share the server; each takes its own database (13, 14, … on a shared
    server, to keep off its database 0; 0, 1, … on the embedded one), so periodic jobs' ids and
    caches of one never meet the other's.
    """
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    if server_url.startswith("unix://"):
        return f"{server_url}?db={worker}"
    if server_url.rstrip("/").count("/") == 2:
        return f"{server_url.rstrip('/')}/{13 + worker}"
    return server_url


async def _admin(server_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def services() -> Iterator[Settings]:
    """The environment's services, or embedded ones under a temporary data directory."""
    data_dir = Path(tempfile.mkdtemp(prefix="anju-test-"))
    base = msgspec.structs.replace(from_environ(), data_dir=data_dir, auth_rate_limit=100_000)
    keep = Path(os.environ.get("ANJU_TEST_ENGINES", "var/test-engines")).resolve()
    engines = msgspec.structs.replace(base, data_dir=keep)
    keep.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as engines_running:
        # Parallel workers (pytest -n) share one embedded PostgreSQL and one Redis: both engines
        # count the processes using them. Only the start is taken in turn: two never initialise one.
        with open(keep / ".start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            resolved = engines_running.enter_context(embedded_services(engines))
        yield msgspec.structs.replace(
            base, database_url=resolved.database_url, redis_url=resolved.redis_url
        )


@pytest.fixture(scope="session")
async def settings(services: Settings) -> AsyncIterator[Settings]:
    """Settings pointing at a fresh, migrated test database (dropped at the end) and Redis."""
    assert services.database_url and services.redis_url
    url = _database_url(services.database_url)
    drop = f"DROP DATABASE IF EXISTS {TEST_DATABASE} WITH (FORCE)"
    await _admin(services.database_url, drop, f"CREATE DATABASE {TEST_DATABASE}")
    await db.migrate(url)
    yield msgspec.structs.replace(
        services,
        database_url=url,
        redis_url=_redis_database(services.redis_url),
        queue_name=f"anju:test-queue:{os.getpid()}",  # no job of another run is ever picked up
    )
    await _admin(services.database_url, drop)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    """The platform, its lifespan running for the whole session."""
    application = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        # One task owns the lifespan (its task groups must exit where they entered), in the tests'
        # own event loop, so tests may query the database through the same pool.
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    await asyncio.wait(
        [task, asyncio.ensure_future(started.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    if task.done():
        task.result()
    yield application
    stop.set()
    await task


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[ApiClient]:
    """A fresh browser: no cookies."""
    async with ApiClient.for_app(app) as api:
        yield api


@pytest.fixture
async def browser(app: Litestar):
    """A factory of fresh browsers, for tests with several users."""
    opened: list[ApiClient] = []

    async def make() -> ApiClient:
        api = ApiClient.for_app(app)
        await api.__aenter__()
        opened.append(api)
        return api

    yield make
    for api in opened:
        await api.__aexit__(None, None, None)


@pytest.fixture
async def world(app: Litestar) -> World:
    """Two communities (A and B) with places, residents and an account for every role."""
    return await build_world(app.state.cipher)


@pytest.fixture(scope="session")
async def live_url(app: Litestar) -> AsyncIterator[str]:
    """The app served over real HTTP and WebSocket on a free loopback port, in the tests' loop."""
    async with serve(app, free_port()) as server:
        yield f"http://127.0.0.1:{server.config.port}"


@pytest.fixture
def login(browser: Callable[[], Awaitable[ApiClient]]) -> Login:
    """A fresh browser logged in as the user."""

    async def open_as(user: TestUser) -> ApiClient:
        api = await browser()
        await api.login(user)
        return api

    return open_as


async def enrolment_token(admin: ApiClient, community: object) -> str:
    """A one-time token issued through the API by a system administrator."""
    answer = await admin.post(
        "/api/v1/bridges/enrolment-tokens", json={"community_id": str(community)}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


AsRole = Callable[..., Awaitable[ApiClient]]  # as_role(role, community="a")


@pytest.fixture
def as_role(login: Login, world: World) -> AsRole:
    """`await as_role(Role.GUARD, "b")`: a fresh browser logged in as the world's account for the
    role in community A or B (administrators and the police have one account each)."""

    async def open_as(role: Role, community: str = "a") -> ApiClient:
        return await login(user(world, role, community))

    return open_as


@pytest.fixture
async def admin(as_role: AsRole) -> ApiClient:
    """A logged-in system administrator."""
    return await as_role(Role.SYSTEM_ADMIN)


@pytest.fixture
async def resident(as_role: AsRole) -> ApiClient:
    """A resident of community A (household 0101), logged in."""
    return await as_role(Role.RESIDENT)


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
