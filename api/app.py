"""The Litestar application: routes, middleware, plugins and the resources' lifespan."""

from __future__ import annotations

import contextlib
import mimetypes
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Litestar, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.response import File
from litestar.stores.redis import RedisStore

from api.access import keys as access_keys
from api.access.routes import ACCESS_CONTROLLERS
from api.accounts.routes import AccountController, AuthController, auth_rate_limit
from api.alarms.routes import ALARM_CONTROLLERS
from api.audit import service as audit
from api.audit.routes import AuditController
from api.biometrics.routes import FaceController
from api.communities.routes import COMMUNITY_CONTROLLERS
from api.core.auth import provide_caller
from api.core.crypto import derive_key, load_server_secret
from api.core.errors import EXCEPTION_HANDLERS
from api.core.health import healthz, readyz
from api.core.logging import configure_logging
from api.core.realtime import channels_plugin, realtime
from api.core.redisconn import connect
from api.devices.link import bridge_link
from api.devices.routes import ENROL_PATH, BridgeController, DeviceController
from api.intercom.routes import CallController, MediaController
from api.lifespan import LIFESPAN
from api.objects.routes import serve_object
from api.people.routes import PersonController
from api.push.routes import PushController
from api.settings import Settings, get_settings
from api.video.routes import CameraController
from api.visitors.routes import (
    PublicPassController,
    VisitorDeskController,
    VisitorPassController,
    pass_page_rate_limit,
)

MAX_BODY = 1_000_000
mimetypes.add_type(
    "application/manifest+json", ".webmanifest"
)  # JSON bodies; media goes straight to the object store


def _pwa_routes(dist: Path) -> list[Any]:
    """Serve the built PWA at / with the app shell for every client-side route."""

    root = dist.resolve()

    @get(["/", "/{path:path}"], include_in_schema=False, sync_to_thread=False)
    def pwa(path: str = "") -> File:
        path = path.lstrip("/")
        if path.startswith(("api/", "schema")):
            raise NotFoundException()
        candidate = (root / path).resolve()
        if not (path and candidate.is_file() and candidate.is_relative_to(root)):
            candidate = root / "index.html"
        # Hashed assets never change; the shell and the service worker must always be revalidated.
        cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
        return File(
            candidate,
            filename=candidate.name,
            content_disposition_type="inline",
            headers={"Cache-Control": cache},
        )

    return [pwa] if (dist / "index.html").is_file() else []


@contextlib.asynccontextmanager
async def _process_wide(app: Litestar) -> AsyncIterator[None]:
    """Lifespan step: hand the settings to the modules that hold them process-wide (the audit
    chain's hash algorithm, the access keys), as the worker's start-up and the CLI do."""
    audit.configure(app.state.settings.crypto)
    access_keys.configure(app.state.settings)
    yield


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the platform for the given (or the environment's) settings."""
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    redis = connect(settings.redis_url) if settings.redis_url else None
    csrf_secret = derive_key(load_server_secret(settings.secret_key_path), "csrf").hex()
    auth = Router(
        path="/",
        route_handlers=[AuthController],
        middleware=[auth_rate_limit(settings.auth_rate_limit).middleware],
    )
    pass_page = Router(
        path="/",
        route_handlers=[PublicPassController],
        middleware=[pass_page_rate_limit(settings.auth_rate_limit).middleware],
    )
    return Litestar(
        route_handlers=[
            auth,
            pass_page,
            AccountController,
            AuditController,
            *COMMUNITY_CONTROLLERS,
            PersonController,
            PushController,
            BridgeController,
            DeviceController,
            *ACCESS_CONTROLLERS,
            FaceController,
            MediaController,
            CallController,
            CameraController,
            VisitorPassController,
            VisitorDeskController,
            *ALARM_CONTROLLERS,
            bridge_link,
            serve_object,
            realtime,
            healthz,
            readyz,
            PrometheusController,
            *_pwa_routes(settings.pwa_dist),
        ],
        dependencies={"caller": Provide(provide_caller)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[*LIFESPAN, _process_wide],
        state=State({"settings": settings, "redis": redis}),
        stores={"rate_limit": RedisStore(redis, namespace="anju:ratelimit")} if redis else {},
        plugins=[channels_plugin(redis)] if redis else [],
        csrf_config=CSRFConfig(
            secret=csrf_secret,
            cookie_name="csrftoken",
            header_name="x-csrftoken",
            cookie_secure=settings.secure_cookies,
            cookie_samesite="strict",
            exclude=[
                ENROL_PATH
            ],  # bridges have no browser session; the one-time token is the check
        ),
        middleware=[PrometheusConfig(app_name="anju", group_path=True).middleware],
        openapi_config=OpenAPIConfig(
            title="Anju (安居) platform API",
            version="0.1.0",
            path="/schema",
            use_handler_docstrings=True,
        ),
        request_max_body_size=MAX_BODY,
    )
