"""Every error status an operation can answer, documented from the route itself.

Each 4xx/5xx body is one shape, `ErrorBody` (`api/core/errors.py`). The statuses most routes share
follow from how the route is built, so they are derived here rather than listed by hand and cannot
drift from the code:

- 400 `invalid_parameters` (and a service's `invalid_input`) when it takes parameters or a body;
- 401 when it needs a session (it depends on `caller`, directly or through another dependency);
- 403 `csrf_failed` for a write outside the CSRF exclusions;
- 404 when it needs a session ("not yours" answers as "not there") or has a path parameter;
- 409 for a write that needs a session: writes change state, and a clash with the current state
  (a duplicate, a transition not allowed) is the one answer every write may give;
- 413 and 422 `invalid_body` when it takes a body; 429 when a rate limit guards it.

What only the service knows (a 423 lock, a 503 offline bridge, a 403 role rule on a read) a handler
names with `opt=raises(...)`. Litestar's own `{detail, status_code}` error schema is replaced, since
our exception handlers never answer it, and a 204 is documented without a body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from litestar.constants import RESERVED_KWARGS
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitMiddleware
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT

from api.core.errors import HTTP_CODES, DomainError, ErrorBody

Raisable = type[DomainError] | type[HTTPException]
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CALLER = "caller"

# status -> (what it means, the codes every route of that kind may carry)
_DERIVED: dict[int, tuple[str, tuple[str, ...]]] = {
    400: (
        "A parameter or the input is not valid; a rule may name its own `code`.",
        ("invalid_parameters", "invalid_input"),
    ),
    401: ("Not logged in, or the session has ended.", ("not_authenticated", "session_expired")),
    403: ("Refused: the CSRF check failed, or the role may not do this here.", ("csrf_failed",)),
    404: ("Not found, or outside the caller's scope: the two look the same.", ("not_found",)),
    409: ("The request conflicts with the current state (a duplicate, a step not allowed).", ()),
    413: ("The body is too large.", ("body_too_large",)),
    422: ("The body could not be decoded.", ("invalid_body",)),
    429: ("Too many requests; try again later.", ("rate_limited",)),
}
_DECLARED = {
    423: "The account is locked for a while.",
    502: "The device answered, but not as needed.",
    503: "The device's bridge is offline.",
}


def raises(*errors: Raisable) -> dict[str, Any]:
    """Handler `opt` naming errors beyond the derived ones: `@post(..., opt=raises(Locked))`."""
    return {"raises": errors}


def _code(error: Raisable) -> str:
    if issubclass(error, DomainError):
        return error.code
    return HTTP_CODES.get(error.status_code, "http_error")


def _names(provider: Provide) -> Iterable[str]:
    signature = getattr(provider, "parsed_fn_signature", None)
    return signature.parameters if signature else ()


def _inputs(handler: HTTPRouteHandler) -> tuple[bool, bool, bool]:
    """(needs a session, has parameters, has a body), following dependencies down."""
    dependencies = handler.resolve_dependencies()
    seen: set[str] = set()
    session = parameters = body = False
    todo = list(handler.parsed_fn_signature.parameters)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name == CALLER:
            session = True
        elif name in dependencies:
            todo.extend(_names(dependencies[name]))
        elif name in ("data", "body"):
            body = True
        elif name not in RESERVED_KWARGS:
            parameters = True
    return session, parameters, body


def _rate_limited(handler: HTTPRouteHandler, path: str) -> bool:
    for middleware in handler.resolve_middleware():
        if (
            isinstance(middleware, DefineMiddleware)
            and middleware.middleware is RateLimitMiddleware
        ):
            exclude = middleware.kwargs["config"].exclude or []
            exclude = [exclude] if isinstance(exclude, str) else exclude
            if not any(re.search(pattern, path) for pattern in exclude):
                return True
    return False


def error_statuses(
    handler: HTTPRouteHandler, path: str, csrf_exclude: Iterable[str] = ()
) -> dict[int, set[str]]:
    """Every error status the handler can answer, with the codes that come with it."""
    session, parameters, body = _inputs(handler)
    write = bool(handler.http_methods & WRITES)
    derived = {
        400: parameters or body,
        401: session,
        403: write and not any(re.search(p, path) for p in csrf_exclude),
        404: session or "{" in path,
        409: write and session,
        413: body,
        422: body,
        429: _rate_limited(handler, path),
    }
    statuses = {status: set(_DERIVED[status][1]) for status, on in derived.items() if on}
    for error in handler.opt.get("raises", ()):
        statuses.setdefault(error.status_code, set()).add(_code(error))
    return statuses


def _description(status: int, codes: set[str]) -> str:
    meaning = _DERIVED[status][0] if status in _DERIVED else _DECLARED.get(status, "Refused.")
    named = f"`code`: {', '.join(sorted(codes))}" if codes else "`code` names which"
    return f"{meaning} {named}."


class ErrorResponses(ReceiveRoutePlugin):
    """Documents each route's error statuses with the one error body as it is registered."""

    def __init__(self, *, csrf_exclude: Iterable[str] = ()) -> None:
        self.csrf_exclude = tuple(csrf_exclude)

    def receive_route(self, route: BaseRoute) -> None:
        """Add a response for each error status; keep any the handler declared itself."""
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            statuses = error_statuses(handler, route.path, self.csrf_exclude)
            # A 204 has no body, whatever the handler's Response[None] annotation suggests.
            empty = {HTTP_204_NO_CONTENT: ResponseSpec(None, description="Done; nothing follows.")}
            handler.responses = (
                {
                    status: ResponseSpec(
                        data_container=ErrorBody,
                        description=_description(status, codes),
                        generate_examples=False,
                    )
                    for status, codes in sorted(statuses.items())
                }
                | (empty if handler.status_code == HTTP_204_NO_CONTENT else {})
                | dict(handler.responses or {})
            )
