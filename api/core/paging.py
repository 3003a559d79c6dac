"""Paging for every list endpoint: the query parameters, the fields of a page, and `paged`, the
one place a filtered list is counted and cut into pages (`paged_page` when each row becomes an item
on its own, so a list function ends in one call)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar, overload

import msgspec
from litestar.params import Parameter
from piccolo.columns.base import Column
from piccolo.columns.combination import Combinable, Where
from piccolo.query.methods.objects import Objects
from piccolo.query.methods.select import Select
from piccolo.table import Table

MAX_PAGE = 1_000_000  # (page - 1) * page_size stays far inside a bigint OFFSET
PageNumber = Annotated[
    int, Parameter(ge=1, le=MAX_PAGE, default=1, description="Page number, 1-1,000,000.")
]
PageSize = Annotated[int, Parameter(ge=1, le=200, default=50, description="Rows per page, 1-200.")]

T = TypeVar("T", bound=Table)
P = TypeVar("P")


class Page(msgspec.Struct, kw_only=True):
    """The paging fields every list response carries beside its `items`."""

    total: int
    page: int
    page_size: int


def offset(page: int, page_size: int) -> int:
    """The first row of a page."""
    return (page - 1) * page_size


def equals(column: Column, value: Any) -> Where | None:
    """A filter of `paged`: the column equals the value; none when the value is None (left out)."""
    return None if value is None else column == value


@overload
async def paged(
    query: Select[Any],
    where: Combinable | None,
    *filters: Combinable | None,
    page: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]: ...


@overload
async def paged(
    query: Objects[T],
    where: Combinable | None,
    *filters: Combinable | None,
    page: int,
    page_size: int,
) -> tuple[list[T], int]: ...


async def paged(
    query: Select[Any] | Objects[Any],
    where: Combinable | None,
    *filters: Combinable | None,
    page: int,
    page_size: int,
) -> tuple[list[Any], int]:
    """The rows of one page of `query` (its columns and order) and how many the whole list holds.

    `where` is what the caller may see (`Scope.where`): None means nothing, and the page is empty
    without asking the database. Each filter narrows it; a None filter (a query parameter left
    out) is skipped. Count and page see the same filter, so `total` is the length of the list the
    pages cut.
    """
    if where is None:
        return [], 0
    conditions = [where, *(f for f in filters if f is not None)]
    total = await query.table.count().where(*conditions)
    rows = await query.where(*conditions).offset(offset(page, page_size)).limit(page_size)
    return rows, total


async def paged_page(
    into: Callable[..., P],
    read: Callable[[dict[str, Any]], Any],
    query: Select[Any],
    where: Combinable | None,
    *filters: Combinable | None,
    page: int,
    page_size: int,
) -> P:
    """`paged`, with each row read into an item and the page built (`into` is the page Struct)."""
    rows, total = await paged(query, where, *filters, page=page, page_size=page_size)
    return into(items=[read(r) for r in rows], total=total, page=page, page_size=page_size)
