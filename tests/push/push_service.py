"""A push service on loopback, strict as the real ones, plus fake browsers that subscribe to it.

It accepts `POST /push/<id>` (RFC 8030), checks the VAPID header (RFC 8292: ES256 JWT signed by
the `k` key, `aud` = this origin, `exp` in the future and within 24 h, a `sub`, and `k` equal to
the applicationServerKey the browser subscribed with) and decrypts the aes128gcm body (RFC 8291)
with the browser's private ECDH key and auth secret. Accepted messages are recorded with their
TTL, Urgency and Topic headers. It can be told to answer other statuses, to delay, or to hold
every request until released — and it accepts nothing whose sender hung up before the answer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_AUTH = re.compile(r"^vapid\s+(?P<params>.+)$", re.IGNORECASE)
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
URGENCIES = {"very-low", "low", "normal", "high"}


class Refused(Exception):
    """The request breaks the protocol; answered with this status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class FakeBrowser:
    """A browser's push subscription: its own ECDH key pair and auth secret."""

    service: LocalPushService
    application_server_key: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def endpoint(self) -> str:
        return f"{self.service.url}/push/{self.id}"

    def subscription(self, **extra: Any) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives the page."""
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        keys = {"p256dh": b64url(public), "auth": b64url(self.auth)}
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": keys, **extra}

    def messages(self) -> list[Received]:
        return [m for m in self.service.accepted if m.browser_id == self.id]


@dataclass
class Received:
    """One accepted push message, decrypted."""

    browser_id: str
    payload: dict[str, Any]
    ttl: int
    urgency: str | None
    topic: str | None
    claims: dict[str, Any]
    vapid_key: str


class LocalPushService:
    """The aiohttp server, run in the tests' event loop on a free loopback port."""

    def __init__(self) -> None:
        self.browsers: dict[str, FakeBrowser] = {}
        self.accepted: list[Received] = []
        self.requests = 0  # every POST that reached a subscription, whatever the answer
        self.refused: list[tuple[int, str]] = []
        self.dropped = 0  # requests whose sender was gone before the answer
        self.delay = 0.0
        self.held: dict[int, web.Request] = {}  # id(request) -> request (requests are unhashable)
        self._release = asyncio.Event()
        self._release.set()
        self._script: deque[tuple[int, dict[str, str]]] = deque()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push/{id}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what the tests steer ---------------------------------------------------------------

    def browser(self, application_server_key: str) -> FakeBrowser:
        """A fresh browser subscribed (at this service) with the given applicationServerKey."""
        found = FakeBrowser(self, application_server_key)
        self.browsers[found.id] = found
        return found

    def answer(self, status: int, *, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` requests with this status (and headers) instead of 201."""
        self._script.extend([(status, headers or {})] * times)

    def hold(self) -> None:
        """Keep every request (current and new) waiting until `release`."""
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    def senders_gone(self) -> bool:
        """True when every held request's connection has been closed by its sender."""
        return all(r.transport is None or r.transport.is_closing() for r in self.held.values())

    def topics(self) -> dict[str, int]:
        """How many accepted messages carried each Topic."""
        counts: dict[str, int] = {}
        for m in self.accepted:
            counts[m.topic or ""] = counts.get(m.topic or "", 0) + 1
        return counts

    # --- the protocol ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        browser = self.browsers.get(request.match_info["id"])
        if browser is None:
            return web.Response(status=404, text="no such subscription")
        self.requests += 1
        body = await request.read()
        try:
            message = self._check(request, browser, body)
        except Refused as err:
            self.refused.append((err.status, err.reason))
            return web.Response(status=err.status, text=err.reason)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self._release.is_set():
            self.held[id(request)] = request
            try:
                await self._release.wait()
            finally:
                del self.held[id(request)]
        if request.transport is None or request.transport.is_closing():
            self.dropped += 1  # the sender cannot learn the outcome: nothing was accepted
            return web.Response(status=499)
        status, headers = self._script.popleft() if self._script else (201, {})
        if status == 201:
            self.accepted.append(message)
        return web.Response(status=status, headers=headers)

    def _check(self, request: web.Request, browser: FakeBrowser, body: bytes) -> Received:
        ttl = request.headers.get("TTL")
        if ttl is None or not ttl.isdigit():
            raise Refused(400, "TTL header missing")
        urgency = request.headers.get("Urgency")
        if urgency is not None and urgency not in URGENCIES:
            raise Refused(400, "bad Urgency")
        topic = request.headers.get("Topic")
        if topic is not None and not _TOPIC.match(topic):
            raise Refused(400, "bad Topic")
        claims, key = self._check_vapid(request.headers.get("Authorization", ""))
        if key != browser.application_server_key:
            raise Refused(403, "VAPID key is not the subscription's applicationServerKey")
        if request.headers.get("Content-Encoding") != "aes128gcm":
            raise Refused(415, "only aes128gcm")
        try:
            plain = http_ece.decrypt(
                body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm"
            )
        except Exception as err:  # any failure to decrypt is the sender's fault
            raise Refused(400, f"cannot decrypt: {err!r}") from err
        return Received(
            browser_id=browser.id,
            payload=json.loads(plain),
            ttl=int(ttl),
            urgency=urgency,
            topic=topic,
            claims=claims,
            vapid_key=key,
        )

    def _check_vapid(self, header: str) -> tuple[dict[str, Any], str]:
        match = _AUTH.match(header)
        if not match:
            raise Refused(401, "Authorization must be `vapid t=..., k=...`")
        params = dict(
            part.strip().split("=", 1) for part in match["params"].split(",") if "=" in part
        )
        token, key = params.get("t"), params.get("k")
        if not token or not key:
            raise Refused(401, "t and k required")
        try:
            head_b64, claims_b64, sig_b64 = token.split(".")
            head = json.loads(b64url_decode(head_b64))
            claims = json.loads(b64url_decode(claims_b64))
            sig = b64url_decode(sig_b64)
            public = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), b64url_decode(key)
            )
        except ValueError as err:
            raise Refused(401, f"malformed token: {err}") from err
        if head.get("alg") != "ES256" or len(sig) != 64:
            raise Refused(401, "ES256 required")
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as err:
            raise Refused(401, "bad signature") from err
        now = time.time()
        if claims.get("aud") != self.url:
            raise Refused(401, f"aud {claims.get('aud')!r} is not {self.url!r}")
        if not isinstance(claims.get("exp"), int) or not now < claims["exp"] <= now + 86400:
            raise Refused(401, "exp must be in the future, within 24 h")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            raise Refused(401, "sub must be a mailto: or https: contact")
        return claims, key
