"""The OpenAPI document says what the API does: every operation, fuzzed, answers as documented.

Schemathesis generates valid and invalid requests for each operation of `openapi/openapi.json` and
sends them through the tests' browser (cookies, CSRF header) to the app in-process, once with a
resident's session and once with a property manager's. Every answer must be no server error, a
documented status, a documented content type and a body of the documented schema. Hypothesis runs
derandomized with a small budget, so the run is the same each time and takes a couple of minutes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.cli import OPENAPI_PATH
from api.core.auth import Role
from tests.helpers import ApiClient, World, build_world, make_account

SCHEMA = schemathesis.openapi.from_dict(json.loads(OPENAPI_PATH.read_bytes()))
OPERATIONS = sorted(
    (op.method.upper(), op.path) for op in (r.ok() for r in SCHEMA.get_all_operations())
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = (Role.RESIDENT, Role.PROPERTY_MANAGER)
EXAMPLES = 4  # per operation, role and generation mode: small, so the whole run stays in minutes
# These end or lock the session they are called with: each case gets a session of its own.
SESSION_ENDING = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/password")}


@pytest.fixture(scope="module")
async def world_for_fuzzing(app: Litestar) -> World:
    """One world for the whole module: the fuzzed requests only read it or add to it."""
    return await build_world(app.state.cipher)


@pytest.fixture(scope="module")
async def sessions(app: Litestar, world_for_fuzzing: World) -> AsyncIterator[dict[Role, ApiClient]]:
    """A logged-in browser per role, in community A."""
    opened = {role: ApiClient.for_app(app) for role in ROLES}
    for role, api in opened.items():
        await api.__aenter__()
        await api.login(world_for_fuzzing.a.users[role])
    yield opened
    for api in opened.values():
        await api.__aexit__(None, None, None)


def _known_ids(world: World, role: Role) -> dict[str, str]:
    """Path ids the caller can reach, so valid requests get past 404 to the real work."""
    site = world.a
    return {
        "community_id": str(site.community),
        "household_id": str(site.households[0]),
        "person_id": str(site.persons[0]),
        "account_id": str(site.users[role].id),
    }


def _httpx_kwargs(case: schemathesis.Case) -> dict[str, Any]:
    """The case as arguments of an httpx request (schemathesis serialises for `requests`)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    kwargs.pop("cookies", None)  # the browser's own cookies carry the session
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    if kwargs.get("files"):  # requests turns a number into text; httpx wants text or bytes
        kwargs["files"] = [
            (name, (filename, value if isinstance(value, bytes | str) else str(value), *rest))
            for name, (filename, value, *rest) in kwargs["files"]
        ]
    return kwargs


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_every_answer_is_documented(
    app: Litestar,
    sessions: dict[Role, ApiClient],
    world_for_fuzzing: World,
    method: str,
    path: str,
    role: Role,
) -> None:
    """No server error; status, content type and body as the document says, valid input or not."""
    operation = SCHEMA[path][method]
    fixed = {
        name: value
        for name, value in _known_ids(world_for_fuzzing, role).items()
        if name in {p.name for p in operation.path_parameters}
    }
    strategy = st.one_of(
        operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    )
    loop = asyncio.get_running_loop()
    api = sessions[role]

    async def own_session() -> ApiClient:
        fresh = ApiClient.for_app(app)
        await fresh.__aenter__()
        site = world_for_fuzzing.a
        household = site.households[0] if role is Role.RESIDENT else None
        account = await make_account(role, community=site.community, household=household)
        await fresh.login(account)
        return fresh

    async def send(case: schemathesis.Case) -> httpx.Response:
        client = await own_session() if (method, path) in SESSION_ENDING else api
        try:
            response = await client.request(**_httpx_kwargs(case))
            response.request.read()  # a multipart body is streamed; the checks read it back
            return response
        finally:
            if client is not api:
                await client.__aexit__(None, None, None)

    @settings(
        max_examples=EXAMPLES * 2,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        response = asyncio.run_coroutine_threadsafe(send(case), loop).result()
        case.validate_response(response, checks=CHECKS)

    # Hypothesis drives synchronously; the requests run on the tests' loop, which owns the app.
    await asyncio.to_thread(check)
