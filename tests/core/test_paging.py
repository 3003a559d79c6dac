"""`paged`, the one filtered, paged list query: totals, order, the last page, an empty scope."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar

from api.communities.tables import Jurisdiction
from api.core.paging import equals, paged
from tests.helpers import counting_queries


@pytest.fixture
async def five(app: Litestar) -> str:
    """Five jurisdictions under a code prefix of their own, inserted out of order; the prefix."""
    prefix = str(uuid.uuid4().int)[:7]
    for n in (3, 1, 5, 2, 4):
        await Jurisdiction(name=f"所{n % 2}", code=f"{prefix}{n:05d}").save()
    return prefix


async def test_an_empty_scope_is_an_empty_page_without_a_query(app: Litestar) -> None:
    with counting_queries() as seen:
        rows, total = await paged(
            Jurisdiction.select().order_by(Jurisdiction.code),
            None,
            equals(Jurisdiction.name, "x"),
            page=1,
            page_size=50,
        )
    assert (rows, total) == ([], 0)
    assert seen == []


async def test_pages_cut_the_ordered_list_and_each_carries_its_total(five: str) -> None:
    where = Jurisdiction.code.like(f"{five}%")
    pages = []
    for page in (1, 2, 3, 4):
        with counting_queries() as seen:
            rows, total = await paged(
                Jurisdiction.select(Jurisdiction.code).order_by(Jurisdiction.code),
                where,
                page=page,
                page_size=2,
            )
        assert total == 5
        assert len(seen) == 2  # the count and the page
        pages.append([r["code"][-1] for r in rows])
    assert pages == [["1", "2"], ["3", "4"], ["5"], []]  # the last page is short, past it empty


async def test_filters_narrow_the_scope_and_none_leaves_it(five: str) -> None:
    where = Jurisdiction.code.like(f"{five}%")
    query = Jurisdiction.select(Jurisdiction.code).order_by(Jurisdiction.code, ascending=False)
    rows, total = await paged(
        query, where, equals(Jurisdiction.name, "所1"), None, page=1, page_size=50
    )
    assert total == 3 and [r["code"][-1] for r in rows] == ["5", "3", "1"]
    objects, total = await paged(
        Jurisdiction.objects().order_by(Jurisdiction.code),
        where,
        equals(Jurisdiction.name, None),
        page=2,
        page_size=4,
    )
    assert total == 5 and [j.code[-1] for j in objects] == ["5"]
