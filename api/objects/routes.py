"""Objects of the local store, behind presigned URLs (S3 serves its own)."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State

from api.core.errors import NotFound
from api.core.storage import (
    MEDIA_HEADERS,
    LocalObjectStore,
    ObjectNotFound,
    disposition,
    stored_type,
)


@get("/api/v1/objects/{key:path}", include_in_schema=False)
async def serve_object(state: State, key: str, expires: int, sig: str) -> Response[bytes]:
    """Hand out an object whose URL was signed by the platform and has not expired.

    Media comes from users and devices and is served from the API's own origin: never sniffed,
    no script or origin even when opened as a page, and only raster images and video inline.
    """
    store = state.objects
    key = key.lstrip("/")
    if not isinstance(store, LocalObjectStore) or not store.verify_signature(key, expires, sig):
        raise NotFound()
    try:
        info = await store.info(key)
        data = await store.get(key)
    except ObjectNotFound as err:
        raise NotFound() from err
    content_type = stored_type(info.content_type)  # objects kept before the store checked types
    return Response(
        data,
        media_type=content_type,
        headers={
            "Cache-Control": "private, max-age=60",
            "Content-Disposition": disposition(key, content_type),
            **MEDIA_HEADERS,
        },
    )
