"""Security headers, the metrics and schema endpoints, CSRF bound to the session, socket origins."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
import websockets
from litestar import Litestar

from api.app import create_app
from api.core.auth import Role
from api.settings import Settings
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World

WS = "/api/v1/ws"


@pytest.fixture
async def other_app(settings: Settings) -> AsyncIterator[Litestar]:
    """A second instance served over https with a metrics token (its lifespan is not run)."""
    instance = create_app(
        msgspec.structs.replace(
            settings, public_url="https://anju.example", metrics_token="scrape-me-7Q"
        )
    )
    yield instance
    await instance.state.redis.aclose()


class TestSecurityHeaders:
    @pytest.mark.parametrize("path", ["/", "/healthz", "/api/v1/auth/me", "/no/such/page"])
    async def test_every_answer_carries_the_security_headers(
        self, client: ApiClient, path: str
    ) -> None:
        answer = await client.get(path)

        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert "camera=(self)" in answer.headers["permissions-policy"]
        assert "microphone=(self)" in answer.headers["permissions-policy"]
        assert "strict-transport-security" not in answer.headers  # served over http

    async def test_https_deployments_add_hsts(self, other_app: Litestar) -> None:
        async with ApiClient.for_app(other_app) as api:
            answer = await api.get("/healthz")

        assert answer.headers["strict-transport-security"].startswith("max-age=")


class TestMetrics:
    async def test_metrics_are_off_without_a_token_configured(self, client: ApiClient) -> None:
        answer = await client.get("/metrics")

        assert answer.status_code == 404
        assert "litestar_requests_total" not in answer.text

    async def test_metrics_answer_only_the_configured_token(self, other_app: Litestar) -> None:
        async with ApiClient.for_app(other_app) as api:
            await api.get("/healthz")
            anonymous = await api.get("/metrics")
            wrong = await api.get("/metrics", headers={"authorization": "Bearer guess"})
            scraper = await api.get("/metrics", headers={"authorization": "Bearer scrape-me-7Q"})

        assert anonymous.status_code == wrong.status_code == 404
        assert scraper.status_code == 200
        assert 'litestar_requests_total{app_name="anju"' in scraper.text
        assert 'path="/healthz"' in scraper.text


class TestSchema:
    async def test_the_schema_is_not_there_for_strangers_and_residents(
        self, as_role: AsRole, client: ApiClient
    ) -> None:
        resident = await as_role(Role.RESIDENT)

        for api in (client, resident):
            for path in ("/schema", "/schema/openapi.json"):
                answer = await api.get(path)
                assert answer.status_code == 404, (path, answer.text)
                assert answer.json()["code"] == "not_found"

    async def test_logged_in_staff_read_the_schema(self, as_role: AsRole) -> None:
        guard = await as_role(Role.GUARD)

        answer = await guard.get("/schema/openapi.json")

        assert answer.status_code == 200
        assert "/api/v1/auth/login" in answer.json()["paths"]


class TestCsrfBoundToTheSession:
    async def test_a_token_from_another_session_is_refused(self, as_role: AsRole) -> None:
        """A token signed for one session (the attacker's own) is worthless in another."""
        attacker = await as_role(Role.RESIDENT, "b")
        victim = await as_role(Role.RESIDENT)
        planted = attacker.cookies["csrftoken"]
        victim.cookies.set("csrftoken", planted)

        answer = await httpx.AsyncClient.request(
            victim, "POST", "/api/v1/auth/logout", headers={"x-csrftoken": planted}
        )

        assert answer.status_code == 403
        assert answer.json()["code"] == "csrf_failed"
        assert (await victim.get("/api/v1/auth/me")).status_code == 200  # still logged in

    async def test_logging_in_replaces_a_token_planted_before(
        self, client: ApiClient, world: World
    ) -> None:
        await client.get("/api/v1/auth/me")
        before = client.cookies["csrftoken"]

        await client.login(world.a.users[Role.RESIDENT])

        after = client.cookies["csrftoken"]
        assert after != before
        answer = await httpx.AsyncClient.request(
            client, "POST", "/api/v1/auth/logout", headers={"x-csrftoken": before}
        )
        assert answer.json()["code"] == "csrf_failed"
        assert (await client.post("/api/v1/auth/logout")).status_code == 204


class TestSocketOrigin:
    async def _cookie(self, live_url: str, world: World) -> str:
        async with ApiClient(base_url=live_url) as api:
            await api.login(world.a.users[Role.GUARD])
            return f"anju_session={api.cookies['anju_session']}"

    async def test_a_page_of_another_site_cannot_open_the_socket(
        self, live_url: str, world: World
    ) -> None:
        """The browser sends the session cookie whoever opens the socket: check who did."""
        cookie = await self._cookie(live_url, world)

        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(
                live_url.replace("http", "ws") + WS,
                additional_headers={"Cookie": cookie},
                origin="https://evil.example",  # type: ignore[arg-type]
            )

        assert refused.value.response.status_code == 403

    @pytest.mark.parametrize("origin", ["public", "served"])
    async def test_the_platforms_own_pages_open_it(
        self, live_url: str, world: World, settings: Settings, origin: str
    ) -> None:
        cookie = await self._cookie(live_url, world)
        page = settings.public_url if origin == "public" else live_url

        async with websockets.connect(
            live_url.replace("http", "ws") + WS,
            additional_headers={"Cookie": cookie},
            origin=page.rstrip("/"),  # type: ignore[arg-type]
        ) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
