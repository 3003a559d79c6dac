"""CSRF protection bound to the session: with a session, the one valid token is derived from it.

Plain double submit (a signed random cookie echoed in a header) accepts any token the server ever
signed, so a token from another session — the attacker's own, planted in a victim's browser —
passes. Here a request carrying the session cookie must send HMAC(key, session token); one without
a session (the login form) sends a signed random token. Every response that sets or clears the
session cookie sets the matching `csrftoken` cookie, so the PWA always reads the right value.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import cast

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from api.core.sessions import COOKIE as SESSION_COOKIE

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class SessionCsrf:
    """Issues and checks tokens under one key."""

    def __init__(self, key: bytes, *, secure: bool) -> None:
        self._key = key
        self.secure = secure

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._key, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()

    def expected(self, session_token: str | None) -> str:
        """The token of a session; for no session, a fresh signed random token."""
        if session_token:
            return "s" + self._mac("session", session_token)
        nonce = secrets.token_hex(16)
        return "a" + nonce + self._mac("anonymous", nonce)

    def valid(self, token: str, session_token: str | None) -> bool:
        """Whether the token belongs with this session (or, without one, was signed here)."""
        if session_token:
            return hmac.compare_digest(token, "s" + self._mac("session", session_token))
        nonce, mac = token[1:33], token[33:]
        return token.startswith("a") and hmac.compare_digest(mac, self._mac("anonymous", nonce))

    def cookie(self, token: str) -> str:
        """The Set-Cookie value: readable by the page's script, sent only to this site."""
        return Cookie(
            key=CSRF_COOKIE, value=token, path="/", secure=self.secure, samesite="strict"
        ).to_header(header="")


def _cookies(raw: str) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in raw.split(";"))
    return {key: value for key, _, value in pairs if key}


def _session_set(headers: Iterable[tuple[bytes, bytes]]) -> tuple[bool, str | None]:
    """Whether the response sets the session cookie, and its new value (None when it clears it)."""
    for name, value in headers:
        if name.lower() != b"set-cookie" or not value.startswith(SESSION_COOKIE.encode() + b"="):
            continue
        text = value.decode("latin-1")
        token = text.split(";", 1)[0].split("=", 1)[1].strip('"')
        cleared = not token or "max-age=0" in text.lower().replace(" ", "")
        return True, None if cleared else token
    return False, None


class CsrfMiddleware:
    """Refuse an unsafe request whose header token does not belong with its session; keep the
    browser's `csrftoken` cookie matching its session on every response."""

    def __init__(self, app: ASGIApp, csrf: SessionCsrf, exclude: frozenset[str]) -> None:
        self.app = app
        self.csrf = csrf
        self.exclude = exclude

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exclude:  # sockets check Origin
            await self.app(scope, receive, send)
            return
        method = cast("HTTPScope", scope)["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = _cookies(headers.get("cookie", ""))
        session, current = cookies.get(SESSION_COOKIE), cookies.get(CSRF_COOKIE)
        if method not in SAFE_METHODS:
            sent = headers.get(CSRF_HEADER, "")
            if not (sent and current and hmac.compare_digest(sent, current)) or not (
                self.csrf.valid(sent, session)
            ):
                raise PermissionDeniedException("CSRF token verification failed")
        await self.app(scope, receive, self._wrap(send, session, current))

    def _wrap(self, send: Send, session: str | None, current: str | None) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                changed, new_session = _session_set(message.get("headers", []))
                if changed or not (current and self.csrf.valid(current, session)):
                    token = self.csrf.expected(new_session if changed else session)
                    MutableScopeHeaders.from_message(message).add(  # type: ignore[arg-type]
                        "set-cookie", self.csrf.cookie(token)
                    )
            await send(message)

        return wrapped


def csrf_middleware(key: bytes, *, secure: bool, exclude: Iterable[str]) -> DefineMiddleware:
    """The middleware for the app, skipping the exact paths in `exclude`."""
    return DefineMiddleware(
        CsrfMiddleware, csrf=SessionCsrf(key, secure=secure), exclude=frozenset(exclude)
    )
