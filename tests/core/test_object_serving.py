"""Media served from the API's origin (the local store's signed URLs) can run no script there."""

from __future__ import annotations

import uuid

import httpx
from litestar import Litestar

from api.core.storage import RetentionClass
from tests.helpers import ApiClient

PNG = b"\x89PNG\r\n\x1a\n"
HTML = b"<html><script>fetch('/api/v1/auth/me')</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


async def served(app: Litestar, client: ApiClient, name: str, data: bytes, content_type: str):
    """Store an object as a device or user would, and fetch it by its signed URL."""
    key = f"test/{uuid.uuid4().hex}/{name}"
    await app.state.objects.put(
        key, data, content_type=content_type, retention=RetentionClass.RECORD_6M
    )
    url = await app.state.objects.presigned_url(key)
    return await client.get(httpx.URL(url).raw_path.decode())


class TestMediaHeaders:
    async def test_a_png_with_an_html_body_is_never_sniffed_and_runs_nothing(
        self, app: Litestar, client: ApiClient
    ) -> None:
        r = await served(app, client, "photo.png", PNG + HTML, "image/png")
        assert r.status_code == 200 and r.content == PNG + HTML
        assert r.headers["content-type"] == "image/png"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert r.headers["content-disposition"] == 'inline; filename="photo.png"'

    async def test_an_svg_snapshot_is_kept_and_served_as_an_attachment_of_bytes(
        self, app: Litestar, client: ApiClient
    ) -> None:
        r = await served(app, client, "snap.svg", SVG, "image/svg+xml")
        assert r.status_code == 200 and r.content == SVG
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers["content-disposition"] == 'attachment; filename="snap.svg"'
        assert r.headers["x-content-type-options"] == "nosniff"
        r = await served(app, client, "page.html", HTML, "text/html; charset=utf-8")
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers["content-disposition"].startswith("attachment")
