"""Structured logs: JSON lines with dotted event names, ids as fields, never secrets."""

from __future__ import annotations

import logging

import structlog
from structlog.types import EventDict

_SECRET_KEYS = {
    "password",
    "code",
    "token",
    "secret",
    "sdp",
    "cookie",
    "authorization",
    "id_number",
    "phone",
}


def _drop_secrets(_: object, __: str, event: EventDict) -> EventDict:
    for key in list(event):
        if any(part in key.lower() for part in _SECRET_KEYS):
            event[key] = "[redacted]"
    return event


CACHE_LOGGERS = True
"""Bind loggers once, on first use (fast). Tests turn it off so structlog's capture_logs sees
every module's entries whatever configured logging before."""


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    """Route structlog and the standard library through one JSON (or console) renderer."""
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=CACHE_LOGGERS,
    )
    logging.basicConfig(level=level.upper(), format="%(message)s")
