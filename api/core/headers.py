"""Security headers on every response, and who may read the metrics and the API schema.

The Content-Security-Policy fits the built PWA: its scripts, styles, fonts and workers come from the
platform's own origin; Vant and Vue set inline styles (allowed), never inline scripts (refused);
images and clips may be `data:`/`blob:` URLs; WebRTC and web push need no directive. A handler that
sets a header itself (a stricter policy on stored media) keeps its own. `/schema` gets no CSP: its
viewer loads from a CDN, and only logged-in staff reach it.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import NotFound
from api.core.sessions import COOKIE

SCHEMA_PATH = "/schema"


def content_security_policy(public_origin: str) -> str:
    """The policy; signed media URLs name the public origin, which is `'self'` unless the page
    is served from another address (a second name, a test server)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' {public_origin} data: blob:",
            "font-src 'self' data:",
            f"media-src 'self' {public_origin} blob:",
            f"connect-src 'self' {public_origin}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


# The intercom and live view need the camera and microphone, SOS the position: this origin only.
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(self), geolocation=(self), payment=(), usb=(), serial=(), "
    "bluetooth=(), interest-cohort=()"
)
HSTS = "max-age=31536000"


def security_headers(public_url: str) -> list[tuple[str, str]]:
    """The headers every response carries; HSTS only when the platform is served over https."""
    public = urlsplit(public_url)
    headers = [
        ("content-security-policy", content_security_policy(f"{public.scheme}://{public.netloc}")),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
        ("permissions-policy", PERMISSIONS_POLICY),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    https = public.scheme == "https"
    return [*headers, ("strict-transport-security", HSTS)] if https else headers


class SecurityHeadersMiddleware:
    """Add the security headers a response does not set itself."""

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.headers = security_headers(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        schema = scope["path"] == SCHEMA_PATH or scope["path"].startswith(SCHEMA_PATH + "/")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)  # type: ignore[arg-type]
                for name, value in self.headers:
                    if name not in headers and not (schema and name == "content-security-policy"):
                        headers.add(name, value)
            await send(message)

        await self.app(scope, receive, wrapped)


async def metrics_token_guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
    """`/metrics` answers only `Authorization: Bearer <ANJU_METRICS_TOKEN>`; unset, nobody."""
    token = connection.app.state.settings.metrics_token
    given = connection.headers.get("authorization", "")
    if not (token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())):
        raise NotFound()


async def staff_session_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The API schema is for logged-in staff: to anyone else it is not there."""
    session = await connection.app.state.sessions.get(connection.cookies.get(COOKIE))
    if session is None or session.state != "active" or not session.staff:
        raise NotFound()
