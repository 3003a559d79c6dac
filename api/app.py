"""The Litestar application: routes, middleware, plugins, the resources' lifespan, and the wiring.

Lower layers take hooks instead of importing the domains above them (docs/decisions.md): this
module points them at those domains — after-commit hooks (`register_hooks`, also at worker
start), the bridge link's hooks and the caller loader (in the app's state).
"""

from __future__ import annotations

import contextlib
import mimetypes
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.response import File
from litestar.stores.redis import RedisStore

from api.access import credential_keys, decide, points, records, sync
from api.access.credentials import CREDENTIALS
from api.access.enrolment import revoke_on_move_out
from api.access.routes import ACCESS_CONTROLLERS
from api.accounts.joining.routes import (
    JoinRequestController,
    PublicJoinController,
    join_rate_limit,
)
from api.accounts.routes import (
    AccountController,
    AuthController,
    SecurityPolicyController,
    auth_rate_limit,
)
from api.accounts.service import (
    END_SESSIONS,
    end_household_roles,
    holds_household_roles,
    load_caller,
)
from api.alarms import failsafe, raising, site_links
from api.alarms.reads import BOARD, show_on_board
from api.alarms.routes import ALARM_CONTROLLERS
from api.audit import service as audit
from api.audit.routes import AuditController
from api.biometrics import placement
from api.biometrics.routes import FaceController
from api.communities.routes import COMMUNITY_CONTROLLERS
from api.core import effects
from api.core.auth import provide_caller
from api.core.crypto import derive_key, load_server_secret
from api.core.csrf import csrf_middleware
from api.core.errors import EXCEPTION_HANDLERS
from api.core.headers import (
    SCHEMA_PATH,
    SecurityHeadersMiddleware,
    metrics_token_guard,
    staff_session_guard,
)
from api.core.health import healthz, readyz
from api.core.logging import configure_logging
from api.core.openapi import ErrorResponses
from api.core.realtime import channels_plugin, realtime
from api.core.redisconn import connect
from api.core.request import AppRequest
from api.core.sessions import SessionStore
from api.core.sms import ConsoleSender
from api.devices.ledger.routes import LEDGER_CONTROLLERS
from api.devices.link import LinkHooks, bridge_link
from api.devices.routes import (
    ENROL_PATH,
    BridgeController,
    BridgeEnrolController,
    DeviceController,
    enrol_rate_limit,
)
from api.devices.service import has_bridges
from api.intercom import events as call_events
from api.intercom.routes import CallController, MediaController
from api.lifespan import LIFESPAN
from api.objects.routes import serve_object
from api.operations.routes import OPERATIONS_CONTROLLERS
from api.patrol import scans as patrol_scans
from api.patrol.routes import PATROL_CONTROLLERS
from api.people.imports.routes import PersonImportController
from api.people.moves import MoveOutHooks, anyone_lives_in
from api.people.routes import PersonController
from api.push.routes import PushController
from api.push.service import DISPATCH, dispatch
from api.settings import Settings, get_settings
from api.vehicles import recording as vehicle_passes
from api.vehicles import spaces as car_park_spaces
from api.vehicles.moving_out import cancel_on_move_out
from api.vehicles.parking import ensure_for_bridge as lanes_for_bridge
from api.vehicles.payments.registry import providers as payment_providers
from api.vehicles.payments.routes import (
    NOTIFY_PATH,
    ParkingOrderController,
    PaymentNotifyController,
    PublicParkingController,
    parking_rate_limit,
)
from api.vehicles.routes import VEHICLE_CONTROLLERS
from api.video import service as live_views
from api.video.routes import CameraController
from api.visitors.arrivals import on_access as visitor_arrivals
from api.visitors.passes import follow_new_doors
from api.visitors.routes import (
    PublicPassController,
    VisitorDeskController,
    VisitorPassController,
    pass_page_rate_limit,
)
from api.workorders import faults as fault_orders
from api.workorders.routes import (
    WORKORDER_CONTROLLERS,
    PublicReportController,
    report_rate_limit,
)
from device_bridge import protocol

MAX_BODY = 1_000_000
mimetypes.add_type(
    "application/manifest+json", ".webmanifest"
)  # JSON bodies; media goes straight to the object store


def register_hooks() -> None:
    """What each domain's after-commit hook name runs, once per key (api/core/effects.py)."""
    effects.register(
        {
            BOARD: show_on_board,
            DISPATCH: lambda outlet, notification_id: dispatch(outlet.queue, [notification_id]),
            failsafe.RULES: lambda outlet, community_id: failsafe.push_rules(
                outlet.redis, community_id
            ),
            CREDENTIALS: lambda outlet, community_id: sync.push_credentials(
                outlet.redis, community_id
            ),
            END_SESSIONS: lambda outlet, account_id: SessionStore(outlet.redis).end_all(account_id),
        }
    )


async def _door_failed(
    community_id: UUID, *, device_id: UUID, note: str, effects: effects.Effects
) -> UUID:
    """A granted door that did not open: the door alarm, and the door's fault work order."""
    alarm_id = await raising.door_open_failed(
        community_id, device_id=device_id, note=note, effects=effects
    )
    await fault_orders.door_open_failed(
        community_id, device_id=device_id, note=note, effects=effects
    )
    return alarm_id


async def _camera_fault(
    community_id: UUID, camera_id: UUID, fault: str, note: str, effects: effects.Effects
) -> None:
    """A video patrol found a camera faulty (no image, a bad picture): its fault work order."""
    await fault_orders.open_fault(
        community_id, camera_id, fault, at=datetime.now(UTC), effects=effects, note=note
    )


# What a move-out ends (api/people/moves.py), counted by these names in its audit entry; the
# worker's lease expiry runs the same.
MOVE_OUT_HOOKS: MoveOutHooks = {
    "credentials": revoke_on_move_out,
    "vehicles": cancel_on_move_out,
    "household_roles": end_household_roles,
}


async def _household_in_use(household_id: UUID) -> bool:
    """Someone lives in the household, or an account still holds a resident role on it."""
    return await anyone_lives_in(household_id) or await holds_household_roles(household_id)


async def _rules_for(bridge_id: UUID) -> protocol.Rules | None:
    frame, _ = await failsafe.frame_for(bridge_id)
    return frame


async def _on_inventory(bridge_id: UUID) -> None:
    """The bridge's doors get access points, its plate cameras lanes; active visitor passes open
    the new doors."""
    await points.ensure_for_bridge(bridge_id)
    await lanes_for_bridge(bridge_id)
    await follow_new_doors(bridge_id)


LINK_HOOKS = LinkHooks(
    # In this order: access records (and the visitor passes they count), alarms, vehicle pass
    # records, calls, views, patrol readers, fault work orders.
    on_events=(
        partial(records.on_events, then=(visitor_arrivals,)),
        raising.on_events,
        vehicle_passes.on_events,
        call_events.on_events,
        live_views.on_events,
        patrol_scans.on_events,
        fault_orders.on_events,
    ),
    link_restored=site_links.close_for_link,
    on_inventory=_on_inventory,
    rules_for=_rules_for,
    rules_applied=failsafe.applied,
    credentials_for=car_park_spaces.frame_for,  # the credential set, car parks' spaces in it
    credentials_sent=sync.sent,
    credentials_applied=sync.applied,
    decide=decide.decide,
    faces_for=lambda bridge_id, community_id, full: placement.frames_for(
        bridge_id, community_id, full=full
    ),
    faces_applied=placement.applied,
)


def pwa_routes(dist: Path) -> list[Any]:
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


class MetricsController(PrometheusController):
    """Prometheus' text format for the scraper holding the metrics token: not part of the API."""

    guards = [metrics_token_guard]
    include_in_schema = False


@contextlib.asynccontextmanager
async def _process_wide(app: Litestar) -> AsyncIterator[None]:
    """Lifespan step: hand the settings to the modules that hold them process-wide (the audit
    chain's hash algorithm, the access keys, the biometric keyring for the face readers), as the
    worker's start-up and the CLI do for what they use."""
    audit.configure(app.state.settings.crypto)
    credential_keys.configure(app.state.settings)
    placement.configure(app.state.settings.biometric_keyring_path)
    yield


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the platform for the given (or the environment's) settings."""
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    register_hooks()
    redis = connect(settings.redis_url) if settings.redis_url else None
    # bridges have no browser session; the one-time enrolment token is their check
    # … nor do payment providers calling back: the notification's signature is theirs
    payments = payment_providers(settings)
    csrf_exclude = [ENROL_PATH, *(f"{NOTIFY_PATH}/{name}" for name in payments)]
    csrf_key = derive_key(load_server_secret(settings.secret_key_path), "csrf")
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
    joining = Router(
        path="/",
        route_handlers=[PublicJoinController],
        middleware=[join_rate_limit(settings.auth_rate_limit).middleware],
    )
    reporting = Router(
        path="/",
        route_handlers=[PublicReportController],
        middleware=[report_rate_limit(settings.auth_rate_limit).middleware],
    )
    parking = Router(
        path="/",
        route_handlers=[PublicParkingController],
        middleware=[parking_rate_limit(settings.auth_rate_limit).middleware],
    )
    enrolment = Router(
        path="/",
        route_handlers=[BridgeEnrolController],
        middleware=[enrol_rate_limit(settings.auth_rate_limit).middleware],
    )
    return Litestar(
        route_handlers=[
            auth,
            pass_page,
            joining,
            reporting,
            enrolment,
            parking,
            PaymentNotifyController,
            ParkingOrderController,
            JoinRequestController,
            AccountController,
            SecurityPolicyController,
            AuditController,
            *COMMUNITY_CONTROLLERS,
            PersonController,
            PersonImportController,
            PushController,
            BridgeController,
            DeviceController,
            *LEDGER_CONTROLLERS,
            *ACCESS_CONTROLLERS,
            FaceController,
            MediaController,
            CallController,
            CameraController,
            VisitorPassController,
            VisitorDeskController,
            *VEHICLE_CONTROLLERS,
            *ALARM_CONTROLLERS,
            *PATROL_CONTROLLERS,
            *WORKORDER_CONTROLLERS,
            *OPERATIONS_CONTROLLERS,
            bridge_link,
            serve_object,
            realtime,
            healthz,
            readyz,
            MetricsController,
            *pwa_routes(settings.pwa_dist),
        ],
        dependencies={
            "caller": Provide(provide_caller),
            "effects": Provide(effects.provide_effects),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[*LIFESPAN, _process_wide],
        state=State(
            {
                "settings": settings,
                "redis": redis,
                "load_caller": load_caller,
                "link_hooks": LINK_HOOKS,
                "door_failed": _door_failed,  # access raises the door alarm (and its order)
                "camera_fault": _camera_fault,  # video patrol: a faulty camera's work order
                "on_moved_out": MOVE_OUT_HOOKS,
                "household_in_use": _household_in_use,  # places retire only empty households
                "community_in_use": has_bridges,  # … and communities without bridges
                "sms": ConsoleSender(reveal=settings.sms_console_reveal),  # the pluggable sender
                "payments": payments,  # parking fees (VEH-05)
            }
        ),
        stores={"rate_limit": RedisStore(redis, namespace="anju:ratelimit")} if redis else {},
        plugins=[
            ErrorResponses(csrf_exclude=csrf_exclude),
            *([channels_plugin(redis)] if redis else []),
        ],
        middleware=[
            PrometheusConfig(app_name="anju", group_path=True).middleware,
            DefineMiddleware(SecurityHeadersMiddleware, public_url=settings.public_url),
            csrf_middleware(csrf_key, secure=settings.secure_cookies, exclude=csrf_exclude),
        ],
        openapi_config=OpenAPIConfig(
            title="Anju (安居) platform API",
            version="0.1.0",
            path=SCHEMA_PATH,
            use_handler_docstrings=True,
            openapi_router=Router(
                SCHEMA_PATH,
                route_handlers=[],
                include_in_schema=False,
                guards=[staff_session_guard],
            ),
        ),
        request_max_body_size=MAX_BODY,
        request_class=AppRequest,
    )
