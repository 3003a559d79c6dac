"""Requests no list or decoder should turn into a 500, and lists that answer a stranger 404."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from api.audit.tables import AuditEntry
from api.core.auth import Role
from tests.fixtures import AsRole
from tests.helpers import ApiClient, Login, World, user

LOGIN = "/api/v1/auth/login"


def paged_lists(app: Litestar) -> list[str]:
    """Every GET route that takes `page`, its path parameters filled with fresh ids."""
    paths = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "GET" in handler.http_methods and "page" in handler.parsed_fn_signature.parameters:
                paths.add(re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), route.path))
    return sorted(paths)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    """An error in the one shape: status, machine code, human message."""
    assert response.status_code == status, (response.request.url, response.text)
    body = response.json()
    assert isinstance(body["code"], str) and body["message"], body
    if code:
        assert body["code"] == code, body


def test_the_app_has_the_paged_lists_this_module_walks(app: Litestar) -> None:
    assert len(paged_lists(app)) >= 20


class TestPaging:
    async def test_a_page_past_the_bound_is_400_on_every_list(
        self, as_role: AsRole, app: Litestar
    ) -> None:
        """(page - 1) * page_size once overflowed PostgreSQL's bigint OFFSET: a 500."""
        manager = await as_role(Role.PROPERTY_MANAGER)

        for path in paged_lists(app):
            answer = await manager.get(path, params={"page": 2**62})
            assert_error(answer, 400, "invalid_parameters")
            assert "page" in answer.text

    async def test_the_last_allowed_page_is_an_empty_page_not_an_error(
        self, as_role: AsRole
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        answer = await manager.get(
            "/api/v1/households", params={"page": 1_000_000, "page_size": 200}
        )

        assert answer.status_code == 200, answer.text
        assert answer.json()["items"] == []


class TestDeepJson:
    @pytest.mark.parametrize("opening", ["[", '{"a":'])
    async def test_a_body_nested_100_000_deep_is_400_and_writes_nothing(
        self, client: ApiClient, app: Litestar, opening: str
    ) -> None:
        closing = "]" if opening == "[" else "}"
        body = '{"username": ' + opening * 100_000 + "1" + closing * 100_000 + "}"
        entries = await AuditEntry.count()

        answer = await client.post(
            LOGIN, content=body.encode(), headers={"content-type": "application/json"}
        )

        assert_error(answer, 400, "bad_request")
        assert "nested" in answer.json()["message"]
        assert await AuditEntry.count() == entries

    async def test_a_logged_in_write_nested_too_deeply_is_400(self, as_role: AsRole) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        deep = "[" * 100_000 + "]" * 100_000

        answer = await manager.post(
            "/api/v1/linkage-rules",
            content=b'{"name": "x", "actions": ' + deep.encode() + b"}",
            headers={"content-type": "application/json"},
        )

        assert_error(answer, 400, "bad_request")


EVERY_ROLE = [
    Role.RESIDENT,
    Role.GUARD,
    Role.MAINTENANCE,
    Role.PROPERTY_MANAGER,
    Role.COMMUNITY_OFFICER,
    Role.POLICE,
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDIT_ADMIN,
]


class TestListsByRole:
    @pytest.mark.parametrize("role", EVERY_ROLE, ids=[r.value for r in EVERY_ROLE])
    async def test_a_list_asked_plainly_is_a_page_or_404_never_a_parameter_error(
        self, login: Login, world: World, app: Litestar, role: Role
    ) -> None:
        """A role that may not read a list gets the "not there" answer, not a demand for a
        parameter it could never use (that was a 400 with an empty error list)."""
        caller = await login(user(world, role))
        answers: dict[str, Any] = {}

        for path in paged_lists(app):
            answer = await caller.get(path)
            answers[path] = answer.status_code
            if answer.status_code != 200:
                assert_error(answer, 404, "not_found")

        if role == Role.PROPERTY_MANAGER:
            assert answers["/api/v1/linkage-rules"] == answers["/api/v1/duty-shifts"] == 200
        if role == Role.RESIDENT:
            assert answers["/api/v1/linkage-rules"] == answers["/api/v1/duty-shifts"] == 404

    async def test_without_a_community_the_roster_lists_only_the_callers_communities(
        self, as_role: AsRole, world: World
    ) -> None:
        manager_b = await as_role(Role.PROPERTY_MANAGER, "b")
        guard_a = world.a.users[Role.GUARD]
        manager_a = await as_role(Role.PROPERTY_MANAGER)
        shift = {
            "community_id": str(world.a.community),
            "account_id": str(guard_a.id),
            "starts_at": "2030-01-01T08:00:00Z",
            "ends_at": "2030-01-01T20:00:00Z",
        }
        created = await manager_a.post("/api/v1/duty-shifts", json=shift)
        assert created.status_code == 201, created.text

        mine = (await manager_a.get("/api/v1/duty-shifts")).json()["items"]
        theirs = (await manager_b.get("/api/v1/duty-shifts")).json()["items"]

        assert created.json()["id"] in {s["id"] for s in mine}
        assert created.json()["id"] not in {s["id"] for s in theirs}

    async def test_a_missing_required_parameter_names_itself(self, as_role: AsRole) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        answer = await manager.get("/api/v1/alarms/plan-stats")

        assert_error(answer, 400, "invalid_parameters")
        assert "community_id" in str(answer.json()["extra"]["errors"])
