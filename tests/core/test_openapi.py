"""The OpenAPI document: one error body, and the error statuses each route can answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar

from api.core.openapi import error_statuses
from tests.helpers import ApiClient

ERROR = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture(scope="module")
def document(app: Litestar) -> dict[str, Any]:
    """The document the app serves (the committed file is checked against it elsewhere)."""
    return app.openapi_schema.to_schema()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_error_answer_is_the_one_error_body(document: dict[str, Any]) -> None:
    """Each 4xx/5xx documents `ErrorBody`; Litestar's `{detail, status_code}` is gone."""
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["code", "message"]
    assert '"status_code"' not in json.dumps(document)
    for method, path, operation in _operations(document):
        errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
        assert errors, f"{method} {path} documents no error"
        for status, response in errors.items():
            assert response["content"]["application/json"]["schema"] == ERROR, (method, path)
            assert "`code`" in response["description"], (method, path, status)


def _statuses(document: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(s) for s in document["paths"][path][method.lower()]["responses"]}


def test_statuses_follow_from_how_each_route_is_built(document: dict[str, Any]) -> None:
    """Sessions give 401 and 404, writes 403 (CSRF) and 409, bodies 413 and 422, limits 429."""
    assert _statuses(document, "GET", "/api/v1/persons/{person_id}") == {200, 400, 401, 404}
    assert _statuses(document, "PATCH", "/api/v1/persons/{person_id}") == {
        200, 400, 401, 403, 404, 409, 413, 422,
    }  # fmt: skip
    assert _statuses(document, "GET", "/api/v1/auth/me") == {200, 401, 404}
    # no session: no 401/404 unless named; rate-limited; the service's own 423
    assert _statuses(document, "POST", "/api/v1/auth/login") == {
        200, 400, 401, 403, 413, 422, 423, 429,
    }  # fmt: skip
    # the bridge's enrolment has no browser session: no CSRF check, its token answers 401; limited
    assert _statuses(document, "POST", "/api/v1/bridges/enroll") == {
        200, 400, 401, 413, 422, 429,
    }  # fmt: skip
    assert {502, 503} <= _statuses(document, "POST", "/api/v1/cameras/{camera_id}/live")


def test_a_204_is_documented_without_a_body(document: dict[str, Any]) -> None:
    """Logout and the deletes answer 204 with nothing, and the document says so."""
    for method, path, operation in _operations(document):
        if "204" in operation["responses"]:
            assert "content" not in operation["responses"]["204"], (method, path)


def test_metrics_are_not_part_of_the_api_document(document: dict[str, Any]) -> None:
    """/metrics answers Prometheus text to the scraper; the API document leaves it out."""
    assert "/metrics" not in document["paths"]


def test_error_statuses_name_the_codes_of_declared_errors(app: Litestar) -> None:
    """A handler's `opt=raises(...)` adds its errors' statuses and codes to the derived ones."""
    handler = app.route_handler_method_map["/api/v1/auth/totp"]["POST"]
    statuses = error_statuses(handler, "/api/v1/auth/totp")
    assert statuses[401] == {"invalid_totp", "not_authenticated"}
    assert statuses[409] == {"wrong_login_step"}


async def test_an_error_body_leaves_out_an_empty_extra(client: ApiClient) -> None:
    """`extra` appears only when there is something in it, as the schema allows."""
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert set(r.json()) == {"code", "message"}
    r = await client.post("/api/v1/auth/login", json={"username": 1})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_body"
    assert r.json()["extra"]["errors"]
