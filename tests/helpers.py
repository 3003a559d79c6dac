"""Test helpers: a browser-like API client, a small world of places and people, and what tests of
several folders share (a bridge running in-process, live sockets, alarms and their notifications).

Plain functions and classes only: fixtures live in `pytest_plugins` modules (tests/fixtures.py,
tests/plugins/), each defined once for the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import uvicorn
import websockets
import zxingcpp
from litestar import Litestar
from litestar.types import ASGIApp
from piccolo.engine.postgres import PostgresEngine
from pypdf import PdfReader

from api.accounts.tables import Account, RoleAssignment
from api.alarms.raising import open_alarm
from api.alarms.tables import DutyShift
from api.audit.tables import AuditEntry
from api.communities.tables import Building, Community, Household, Jurisdiction, Unit
from api.core.auth import ADMINISTRATORS, Role
from api.core.crypto import FieldCipher
from api.core.effects import Effects
from api.core.passwords import hash_password
from api.devices.tables import Bridge as BridgeRow
from api.people.tables import Person
from api.piccolo_conf import DB
from api.push.tables import Notification, PushSubscription
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings
from tests.push.push_service import FakeBrowser, LocalPushService

PASSWORD = "Anju-test-2026!"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"
Login = Callable[[Any], Awaitable["ApiClient"]]  # a TestUser in, a logged-in browser out
_PASSWORD_HASH: list[str] = []  # one argon2 hash for every test account: hashing is slow on purpose


def _password_hash() -> str:
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))
    return _PASSWORD_HASH[0]


class ApiClient(httpx.AsyncClient):
    """An HTTP client that behaves like the PWA: cookies kept, CSRF header on unsafe methods."""

    @classmethod
    def for_app(cls, app: Litestar) -> ApiClient:
        """A client talking to the app in-process (the session's lifespan owns the resources)."""
        return cls(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    async def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        """Fetch the CSRF cookie first when needed and send it back as the header."""
        if method.upper() not in {"GET", "HEAD", "OPTIONS"}:
            if "csrftoken" not in self.cookies:
                await super().request("GET", "/api/v1/auth/me")
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("x-csrftoken", self.cookies.get("csrftoken", ""))
            kwargs["headers"] = headers
        return await super().request(method, url, **kwargs)

    async def login(self, user: TestUser) -> httpx.Response:
        """Log in with password and, for staff, the current TOTP code; return the last response."""
        response = await self.post(
            "/api/v1/auth/login", json={"username": user.username, "password": user.password}
        )
        assert response.status_code == 200, response.text
        if response.json()["state"] == "totp_required":
            # A code of the previous step is valid only until this step ends: never cut it close.
            left = 30 - time.time() % 30
            if left < 2:
                await asyncio.sleep(left + 0.1)
            response = await self.post("/api/v1/auth/totp", json={"code": user.totp_now()})
            assert response.status_code == 200, response.text
        assert response.json()["state"] == "active", response.text
        return response


@dataclass
class TestUser:
    """An account made for a test, with what is needed to log in as it."""

    __test__ = False

    id: uuid.UUID
    username: str
    role: Role
    password: str = PASSWORD
    totp_secret: str | None = None
    _last_step: int = field(default=-1, repr=False)

    def totp_now(self) -> str:
        """A valid code no earlier login used (codes are single use: step forward when needed)."""
        assert self.totp_secret
        totp = pyotp.TOTP(self.totp_secret)
        step = max(totp.timecode(datetime.now(UTC)) - 1, self._last_step + 1)
        self._last_step = step
        return totp.generate_otp(step)


@dataclass
class Site:
    """One community with two buildings' worth of places and an account for each role."""

    community: uuid.UUID
    code: str
    households: list[uuid.UUID]
    persons: list[uuid.UUID]
    users: dict[Role, TestUser]


@dataclass
class World:
    """Communities A and B (A in jurisdiction J), plus the three administrators."""

    a: Site
    b: Site
    jurisdiction: uuid.UUID
    admins: dict[Role, TestUser]


def _digits(n: int) -> str:
    return str(uuid.uuid4().int)[:n]


async def make_account(
    role: Role,
    *,
    community: uuid.UUID | None = None,
    household: uuid.UUID | None = None,
    jurisdiction: uuid.UUID | None = None,
    person: uuid.UUID | None = None,
    password_changed_at: datetime | None = None,
) -> TestUser:
    """An account with one role; staff get a confirmed TOTP secret."""
    username = f"{role.value}-{uuid.uuid4().hex[:8]}"
    secret = None if role == Role.RESIDENT else pyotp.random_base32()
    account = Account(
        username=username,
        display_name=username,
        password_hash=_password_hash(),
        password_changed_at=password_changed_at or datetime.now(UTC),
        person=person,
    )
    if secret:
        account.totp_secret = _CIPHER[0].encrypt(secret, context="accounts.totp_secret")
        account.totp_confirmed = True
    await account.save()
    made = TestUser(id=account.id, username=username, role=role, totp_secret=secret)
    await grant(made, role, community=community, household=household, jurisdiction=jurisdiction)
    return made


_CIPHER: list[FieldCipher] = []


async def make_site(cipher: FieldCipher, jurisdiction: uuid.UUID | None) -> Site:
    """A community with one building, one unit, two households and two residents."""
    code = "510104" + _digits(9)
    community = Community(
        code=code,
        name=f"测试小区{code[-4:]}",
        address="成都市锦江区测试路1号",
        jurisdiction=jurisdiction,
    )
    await community.save()
    building = Building(
        community=community.id, number="1", name="1栋", code=code + "001", floors=18
    )
    await building.save()
    unit = Unit(community=community.id, building=building.id, number="1", code=code + "00101")
    await unit.save()
    households, persons = [], []
    for room, (name, phone, id_number) in zip(
        ("0101", "0102"),
        (
            ("张三", "13812345678", "510104199001011230"),
            ("李四", "13987654321", "11010519491231002X"),
        ),
        strict=True,
    ):
        household = Household(
            community=community.id,
            building=building.id,
            unit=unit.id,
            room=room,
            code=code + "00101" + room,
        )
        await household.save()
        person = Person(
            community=community.id,
            household=household.id,
            category="permanent",
            relation="owner",
            name=name,
            phone=cipher.encrypt(phone, context="persons.phone"),
            phone_index=cipher.blind_index(phone, kind="phone"),
            id_number=cipher.encrypt(id_number, context="persons.id_number"),
            id_number_index=cipher.blind_index(id_number, kind="id_number"),
        )
        await person.save()
        households.append(household.id)
        persons.append(person.id)
    users = {
        Role.RESIDENT: await make_account(
            Role.RESIDENT, community=community.id, household=households[0], person=persons[0]
        ),
    }
    for role in (Role.GUARD, Role.MAINTENANCE, Role.PROPERTY_MANAGER, Role.COMMUNITY_OFFICER):
        users[role] = await make_account(role, community=community.id)
    return Site(
        community=community.id, code=code, households=households, persons=persons, users=users
    )


async def build_world(cipher: FieldCipher) -> World:
    """Two communities, a jurisdiction over the first, the police and the administrators."""
    _CIPHER[:] = [cipher]
    jurisdiction = Jurisdiction(name="锦江分局测试派出所", code=_digits(12))
    await jurisdiction.save()
    a = await make_site(cipher, jurisdiction.id)
    b = await make_site(cipher, None)
    a.users[Role.POLICE] = await make_account(Role.POLICE, jurisdiction=jurisdiction.id)
    admins = {
        role: await make_account(role)
        for role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
    }
    return World(a=a, b=b, jurisdiction=jurisdiction.id, admins=admins)


async def eventually(check: Any, *, timeout: float = 10.0, every: float = 0.05) -> Any:
    """Poll a check (plain or async) until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value or time.monotonic() > deadline:
            assert value, f"not true within {timeout} s: {value!r}"
            return value
        await asyncio.sleep(every)


def user(world: World, role: Role, site: str = "a") -> TestUser:
    """The world's account for a role (administrators are global)."""
    return world.admins[role] if role in ADMINISTRATORS else getattr(world, site).users[role]


async def audit_rows(action: str, target_id: object) -> list[dict[str, Any]]:
    """Audit entries for one action on one target."""
    return (
        await AuditEntry.select()
        .where((AuditEntry.action == action) & (AuditEntry.target_id == str(target_id)))
        .output(load_json=True)
    )


def pdf_qr_texts(pdf: bytes) -> list[str]:
    """The QR codes of every picture in a PDF, decoded as a phone's reader would (label sheets)."""
    found = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            found.extend(code.text for code in zxingcpp.read_barcodes(image.image))
    return found


def assert_error(r: Any, status: int, code: str) -> None:
    """The response is this error: status and machine-readable code."""
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text


@contextlib.asynccontextmanager
async def live_socket(live_url: str, user: TestUser) -> AsyncIterator[Any]:
    """A logged-in account's realtime socket (hello consumed)."""
    async with ApiClient(base_url=live_url, timeout=30) as api:  # a bound: an api may be restarting
        await api.login(user)
        cookie = f"anju_session={api.cookies['anju_session']}"
    async with websockets.connect(
        live_url.replace("http", "ws") + "/api/v1/ws", additional_headers={"Cookie": cookie}
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        yield ws


async def next_event(ws: Any, match: Callable[[dict[str, Any]], bool], timeout: float = 5) -> Any:
    """The next socket event that matches (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            event = json.loads(await ws.recv())
            if match(event):
                return event


async def grant(
    user: TestUser,
    role: Role,
    *,
    community: uuid.UUID | None = None,
    household: uuid.UUID | None = None,
    jurisdiction: uuid.UUID | None = None,
) -> None:
    """Give an account a further role, somewhere else (accounts may hold several)."""
    await RoleAssignment(
        account=user.id,
        role=role,
        community=community,
        household=household,
        jurisdiction=jurisdiction,
    ).save()


@contextlib.contextmanager
def counting_queries() -> Iterator[list[str]]:
    """The SQL of every statement Piccolo runs while the block is open, the app's included (it
    runs in-process): a structural count of queries, not a timing."""
    run = PostgresEngine.run_querystring
    seen: list[str] = []

    async def counted(self: PostgresEngine, querystring: Any, in_pool: bool = True) -> Any:
        seen.append(str(querystring))
        return await run(self, querystring, in_pool)

    PostgresEngine.run_querystring = counted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        PostgresEngine.run_querystring = run  # type: ignore[method-assign]


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(app: Litestar | ASGIApp, port: int) -> AsyncIterator[uvicorn.Server]:
    """One more api instance (the session's resources, its own socket), stopped on exit."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_config=None,
            timeout_graceful_shutdown=5,
        )
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
    """A real bridge in this process, authenticated with the platform; stopped on exit."""
    bridge = Bridge(settings, door_open_s=0.05, clock_sync=False)
    task = asyncio.create_task(bridge.run())
    await asyncio.wait_for(bridge.ready.wait(), 10)
    await asyncio.wait_for(bridge.link.authenticated.wait(), 10)
    try:
        yield bridge
    finally:
        await bridge.stop()
        await task


async def released(bridge_id: object) -> None:
    """Wait until the platform has let go of a bridge's link (and so marked the bridge offline)."""

    async def offline() -> bool:
        row = await BridgeRow.select(BridgeRow.online).where(BridgeRow.id == bridge_id).first()
        return not row["online"]

    await eventually(offline)


async def on_duty(account: TestUser, community: uuid.UUID) -> None:
    """Put an account on a shift in a community that is running now."""
    now = datetime.now(UTC)
    await DutyShift(
        community=community,
        account=account.id,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
    ).save()


async def subscribe(*users: TestUser | uuid.UUID) -> None:
    """Give accounts a browser push subscription (without one, push owes them nothing)."""
    for user in users:
        account = user if isinstance(user, uuid.UUID) else user.id
        await PushSubscription(
            account=account,
            endpoint=f"https://push.example.test/{uuid.uuid4().hex}",
            p256dh="B" * 87,
            auth="A" * 22,
        ).save()


async def notified(account: uuid.UUID, alarm_id: object) -> list[dict[str, Any]]:
    """Notification rows for an account about one alarm."""
    rows = await Notification.select().where(Notification.account == account).output(load_json=True)
    return [r for r in rows if r["payload"].get("data", {}).get("alarm_id") == str(alarm_id)]


async def raise_alarm(
    community: uuid.UUID, alarm_type: str = "intrusion", **options: Any
) -> uuid.UUID:
    """An alarm raised straight through the service (for tests of handling, not of raising)."""
    effects = Effects()
    async with DB.transaction():
        return await open_alarm(
            community,
            alarm_type,
            effects=effects,
            place=options.pop("place", "测试位置"),
            **options,
        )


async def subscribed(
    api: ApiClient, push: LocalPushService, **extra: Any
) -> tuple[FakeBrowser, dict[str, Any]]:
    """A fresh browser that asks the platform for its key, subscribes, and posts the result."""
    key = (await api.get("/api/v1/push/vapid-public-key")).json()["public_key"]
    browser = push.browser(key)
    response = await api.post(
        "/api/v1/push/subscriptions", json=browser.subscription(user_agent="FakeBrowser/1", **extra)
    )
    assert response.status_code == 200, response.text
    return browser, response.json()
