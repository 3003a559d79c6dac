"""The bulk import in the browser: a manager opens it from the places console, downloads nothing
but picks a file with one bad row, reads the dry run, imports leniently and sees the progress bar
reach 100 % from the live channel; the same screen on a 1440×900 console."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from api.core.auth import Role
from api.people.tables import Person
from e2e.conftest import artifact
from e2e.pages import HomePage, LoginPage
from tests.helpers import World
from tests.jobs import Jobs
from tests.people.imports import csv_file, rows
from workers.tasks.people import run_person_import

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The import job, run by the `jobs` worker."""
    return [run_person_import]


@pytest.fixture
async def desktop(chromium: Browser, live_url: str) -> AsyncIterator[Page]:
    """A control-room PC's browser."""
    context = await chromium.new_context(viewport=DESKTOP, base_url=live_url, locale="zh-CN")
    page = await context.new_page()
    yield page
    await context.close()


async def import_with_one_bad_row(page: Page, world: World, jobs: Jobs, tmp_path: Path) -> None:
    await (await LoginPage(page).open()).log_in(world.a.users[Role.PROPERTY_MANAGER])
    await HomePage(page, "property_manager").wait()
    await page.locator("[data-test=cap-places]").click()
    await page.locator("[data-test=people-import]").click()
    await expect(page.locator("[data-test=import-page]")).to_be_visible()
    await expect(page.locator("[data-test=template-xlsx]")).to_have_attribute(
        "href", "/api/v1/person-imports/templates/residents.xlsx"
    )

    body = rows(40)
    body[9][4] = "1234"  # row 11 of the file: no mobile number
    path = tmp_path / "住户.csv"
    path.write_bytes(csv_file(body))
    await page.locator("[data-test=import-file]").set_input_files(path)
    await page.locator("[data-test=import-check]").click()

    report = page.locator("[data-test=import-report]")
    await expect(report).to_have_attribute("data-status", "checked")
    await expect(page.locator("[data-test=import-summary]")).to_contain_text("有问题 1 行")
    await expect(page.locator("[data-test=problem-row-11]")).to_contain_text(
        "手机号：手机号格式不正确"
    )
    await page.locator("[data-test=import-mode-lenient]").click()
    before = await Person.count().where(Person.community == world.a.community)
    await page.locator("[data-test=import-run]").click()
    await expect(report).to_have_attribute("data-status", "queued")

    await jobs.run()

    await expect(page.locator("[data-test=import-progress]")).to_have_attribute(
        "data-percent", "100"
    )
    result = page.locator("[data-test=import-result]")
    await expect(result).to_have_attribute("data-imported", "39")
    await expect(result).to_contain_text("新增 39 人")
    assert await Person.count().where(Person.community == world.a.community) == before + 39


@pytest.mark.req("REG-11", partial=True)
async def test_a_manager_imports_a_file_with_one_bad_row_leniently_on_a_phone(
    phone: Page, world: World, jobs: Jobs, tmp_path: Path
) -> None:
    await import_with_one_bad_row(phone, world, jobs, tmp_path)
    await phone.screenshot(path=artifact("manager-import-phone.png"), full_page=True)


async def test_the_import_reads_on_a_1440_console(
    desktop: Page, world: World, jobs: Jobs, tmp_path: Path
) -> None:
    await import_with_one_bad_row(desktop, world, jobs, tmp_path)
    await desktop.screenshot(path=artifact("manager-import-desktop.png"), full_page=True)
