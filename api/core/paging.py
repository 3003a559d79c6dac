"""Paging for every list endpoint."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter

MAX_PAGE = 1_000_000  # (page - 1) * page_size stays far inside a bigint OFFSET
PageNumber = Annotated[
    int, Parameter(ge=1, le=MAX_PAGE, default=1, description="Page number, 1-1,000,000.")
]
PageSize = Annotated[int, Parameter(ge=1, le=200, default=50, description="Rows per page, 1-200.")]


class Page(msgspec.Struct, kw_only=True):
    """The paging fields every list response carries beside its `items`."""

    total: int
    page: int
    page_size: int


def offset(page: int, page_size: int) -> int:
    """The first row of a page."""
    return (page - 1) * page_size
