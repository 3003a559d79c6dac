"""The request class of the app: a JSON body nested too deeply is the client's error, not ours.

msgspec refuses nesting beyond its depth limit with `RecursionError`, which left alone is a 500.
It is caught where the body is decoded, so a `RecursionError` anywhere else still shows as a bug.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException


class BodyTooDeep(ClientException):
    """A body whose arrays and objects nest deeper than the decoder goes."""

    status_code = 400


class AppRequest(Request[Any, Any, Any]):
    """Litestar's request, with a 400 for a body nested too deeply."""

    async def json(self) -> Any:
        """The decoded JSON body."""
        try:
            return await super().json()
        except RecursionError:
            raise BodyTooDeep("The request body is nested too deeply.") from None

    async def msgpack(self) -> Any:
        """The decoded MessagePack body."""
        try:
            return await super().msgpack()
        except RecursionError:
            raise BodyTooDeep("The request body is nested too deeply.") from None
