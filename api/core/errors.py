"""Domain errors and their mapping to the one error body, `{"code", "message", "extra"}`."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec
import structlog
from asyncpg.exceptions import CharacterNotInRepertoireError, UntranslatableCharacterError
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import ClientException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = structlog.get_logger()


class DomainError(Exception):
    """A rule said no. Subclasses carry their HTTP status and a stable machine-readable code."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message: ClassVar[str] = "The request cannot be carried out."

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or self.message)
        self.extra = extra


class NotFound(DomainError):
    """Absent, or outside the caller's scope: the two look the same from outside."""

    status_code = 404
    code = "not_found"
    message = "Not found."


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a transition not allowed)."""

    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class Forbidden(DomainError):
    """Within scope, but the caller's role may not do this."""

    status_code = 403
    code = "forbidden"
    message = "Your role does not allow this."


class InvalidInput(DomainError):
    """Well-formed but unacceptable input (a weak password, an invalid ID number)."""

    status_code = 400
    code = "invalid_input"
    message = "The input is not acceptable."


class ErrorBody(msgspec.Struct, kw_only=True):
    """The body of every 4xx and 5xx answer; `extra` is left out when there is nothing to add."""

    code: str
    message: str
    extra: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


def _body(code: str, message: str, extra: dict[str, Any] | None = None) -> ErrorBody:
    return ErrorBody(code=code, message=message, extra=extra or msgspec.UNSET)


def domain_error_handler(_: Request[Any, Any, Any], exc: DomainError) -> Response[ErrorBody]:
    """Render a DomainError with its status and code."""
    return Response(
        _body(exc.code, str(exc), exc.extra), status_code=exc.status_code, media_type=MediaType.JSON
    )


HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def http_error_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    """Render Litestar's own errors (decode failures, CSRF, size limits) in the same shape."""
    status = exc.status_code
    if isinstance(exc, ValidationException):
        errors = exc.extra if isinstance(exc.extra, list) else []
        missing = exc.detail.startswith("Missing required")  # a query/path/header parameter
        if missing and not errors:
            errors = [{"message": exc.detail}]  # which parameter, not an empty list
        if missing or any(
            isinstance(e, dict) and e.get("source") not in (None, "body") for e in errors
        ):
            return Response(
                _body(
                    "invalid_parameters",
                    "A query or path parameter is not valid.",
                    {"errors": errors},
                ),
                status_code=400,
                media_type=MediaType.JSON,
            )
        # 422 is reserved for bodies that fail to decode: unknown fields, wrong types.
        return Response(
            _body("invalid_body", "The request body could not be decoded.", {"errors": exc.extra}),
            status_code=422,
            media_type=MediaType.JSON,
        )
    if isinstance(exc, NotFoundException):
        code = "not_found"
    elif isinstance(exc, PermissionDeniedException) and "csrf" in exc.detail.lower():
        code = "csrf_failed"
    elif isinstance(exc, NotAuthorizedException):
        code = "not_authenticated"
    else:
        code = HTTP_CODES.get(status, "http_error" if isinstance(exc, ClientException) else "error")
    headers = exc.headers or None
    return Response(
        _body(code, exc.detail), status_code=status, media_type=MediaType.JSON, headers=headers
    )


def unstorable_text_handler(
    _: Request[Any, Any, Any], exc: CharacterNotInRepertoireError | UntranslatableCharacterError
) -> Response[ErrorBody]:
    """A NUL character in a text field, a query or JSON: PostgreSQL cannot store or compare it."""
    return Response(
        _body("invalid_input", "The input contains a character that is not allowed (NUL)."),
        status_code=400,
        media_type=MediaType.JSON,
    )


def internal_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Log an unexpected failure (never its arguments) and answer without details."""
    log.exception("api.unhandled_error", error_type=type(exc).__name__)
    return Response(
        _body("internal_error", "Something went wrong on our side."),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=MediaType.JSON,
    )


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    CharacterNotInRepertoireError: unstorable_text_handler,
    UntranslatableCharacterError: unstorable_text_handler,
    Exception: internal_error_handler,
}
