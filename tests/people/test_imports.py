"""Bulk import of residents (REG-11): the dry run, strict and lenient runs, idempotence, scope,
bad files, progress over the socket, the file kept and purged with its retention class."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets
from litestar import Litestar
from openpyxl import Workbook, load_workbook

from api.core.auth import Role
from api.core.storage import ObjectNotFound, RetentionClass
from api.people.imports import service
from api.people.imports.sheet import COLUMNS
from api.people.imports.tables import PersonImport
from api.people.tables import Person
from tests.fixtures import AsRole
from tests.helpers import ApiClient, World, assert_error, audit_rows, user
from tests.jobs import Jobs
from tests.people.imports import HEADER, csv_file, rows
from workers.tasks.people import purge_expired_imports, run_person_import

IMPORTS = "/api/v1/person-imports"


@pytest.fixture
def job_functions() -> list[Callable[..., Any]]:
    """The import job, run by the `jobs` worker."""
    return [run_person_import]


async def upload(
    api: ApiClient, community: object, data: bytes, name: str = "residents.csv"
) -> Any:
    return await api.post(
        IMPORTS + "/",
        data={"community_id": str(community)},
        files={"file": (name, data, "text/csv")},
    )


async def persons(community: object) -> int:
    return await Person.count().where(Person.community == community)


async def run(api: ApiClient, jobs: Jobs, import_id: str, mode: str) -> dict[str, Any]:
    r = await api.post(f"{IMPORTS}/{import_id}/run", json={"mode": mode})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    await jobs.run()
    r = await api.get(f"{IMPORTS}/{import_id}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def codes(report: dict[str, Any]) -> set[tuple[int, str, str]]:
    return {(p["row"], p["field"], p["code"]) for p in report["problems"]}


class TestDryRun:
    @pytest.mark.req("REG-11", partial=True)
    async def test_the_dry_run_names_every_bad_row_and_writes_no_person(
        self, as_role: AsRole, world: World, app: Litestar
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        good = rows(6)
        bad_check = good[1][5][:-1] + ("0" if good[1][5][-1] != "0" else "1")
        body = [
            good[0],
            [*good[1][:5], good[1][5], bad_check, *good[1][7:]],  # row 3: bad check digit
            [good[2][0], "9", *good[2][2:]],  # row 4: no unit 9 in building 1
            [*good[3][:4], good[0][4], *good[3][5:]],  # row 5: phone of row 2 again
            [*good[4][:4], "13812345678", *good[4][5:]],  # row 6: 张三's phone in community A
            [*good[5][:4], "12345", *good[5][5:]],  # row 7: no mobile number
            ["8", *good[5][1:]],  # row 8: no building 8, and row 7's ID number again
        ]
        before = await persons(world.a.community)

        r = await upload(manager, world.a.community, csv_file(body))

        assert r.status_code == 201, r.text
        report = r.json()
        assert report["status"] == "checked"
        assert (report["total_rows"], report["new_rows"], report["bad_rows"]) == (7, 1, 6)
        assert codes(report) == {
            (3, "id_number", "invalid_id_number"),
            (4, "unit", "unknown_unit"),
            (5, "phone", "duplicate_phone"),
            (6, "phone", "phone_registered"),
            (7, "phone", "invalid_phone"),
            (8, "building", "unknown_building"),
            (8, "id_number", "duplicate_id_number"),
        }
        assert await persons(world.a.community) == before
        row = await PersonImport.select().where(PersonImport.id == report["id"]).first()
        assert row is not None
        assert await app.state.objects.get(row["file_key"]) == csv_file(body)
        assert await app.state.objects.retention_of(row["file_key"]) == RetentionClass.RECORD_6M
        assert await audit_rows("person_import.checked", report["id"])

    async def test_an_xlsx_made_from_the_template_is_read_like_a_csv(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        r = await manager.get(f"{IMPORTS}/templates/residents.xlsx")
        assert r.status_code == 200, r.text
        template = load_workbook(io.BytesIO(r.content)).worksheets[0]
        header = [c.value for c in next(template.iter_rows(max_row=1))]
        assert header == HEADER
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(header)
        for cells in rows(4, households=4):  # rooms 0101, 0102 exist; 0103, 0104 do not
            sheet.append(cells)
        out = io.BytesIO()
        book.save(out)

        r = await upload(manager, world.a.community, out.getvalue(), "住户.xlsx")

        assert r.status_code == 201, r.text
        assert (r.json()["new_rows"], r.json()["bad_rows"], r.json()["new_households"]) == (4, 0, 2)
        csv_template = await manager.get(f"{IMPORTS}/templates/residents.csv")
        assert csv_template.content.decode("utf-8-sig").splitlines()[0] == ",".join(HEADER)


class TestRun:
    @pytest.mark.req("REG-11", partial=True)
    async def test_strict_imports_nothing_for_one_bad_row_in_5000_and_lenient_the_4999(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        body = rows(5000)
        body[2500][4] = "1234"  # row 2502 of the file
        before = await persons(world.a.community)
        report = (await upload(manager, world.a.community, csv_file(body))).json()
        assert report["bad_rows"] == 1

        strict = await run(manager, jobs, report["id"], "strict")

        assert (strict["status"], strict["imported"]) == ("rejected", 0)
        assert codes(strict) == {(2502, "phone", "invalid_phone")}
        assert await persons(world.a.community) == before

        lenient = await run(manager, jobs, report["id"], "lenient")

        assert (lenient["status"], lenient["imported"]) == ("done", 4999)
        assert codes(lenient) == {(2502, "phone", "invalid_phone")}
        assert await persons(world.a.community) == before + 4999
        audit = await audit_rows("person_import.done", report["id"])
        assert audit[0]["details"]["imported"] == 4999

    @pytest.mark.req("REG-11", partial=True)
    async def test_a_rerun_of_the_same_file_creates_nobody_twice(
        self, as_role: AsRole, world: World, jobs: Jobs, app: Litestar
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        body = rows(30)
        first = (await upload(manager, world.a.community, csv_file(body))).json()
        assert (await run(manager, jobs, first["id"], "strict"))["imported"] == 30
        after = await persons(world.a.community)

        again = (await upload(manager, world.a.community, csv_file(body))).json()

        assert (again["existing_rows"], again["new_rows"], again["bad_rows"]) == (30, 0, 0)
        assert (await run(manager, jobs, again["id"], "strict"))["imported"] == 0
        assert await persons(world.a.community) == after
        # Written as the registry writes them: found by the blind index, revealed whole.
        phone, number = body[7][4], body[7][6]
        found = await manager.get("/api/v1/persons", params={"phone": phone})
        assert found.json()["total"] == 1, found.text
        person = found.json()["items"][0]
        assert person["household_label"] and person["phone"] != phone
        r = await manager.post(
            f"/api/v1/persons/{person['id']}/reveal",
            json={"fields": ["phone", "id_number"], "purpose": "核对导入数据"},
        )
        assert (r.json()["phone"], r.json()["id_number"]) == (phone, number)

    async def test_a_run_cannot_be_queued_twice(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        report = (await upload(manager, world.a.community, csv_file(rows(2)))).json()
        await run(manager, jobs, report["id"], "strict")

        r = await manager.post(f"{IMPORTS}/{report['id']}/run", json={"mode": "lenient"})

        assert_error(r, 409, "import_not_ready")

    async def test_a_run_a_worker_died_in_runs_again_and_a_second_delivery_writes_nothing(
        self, as_role: AsRole, world: World, jobs: Jobs, app: Litestar
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        report = (await upload(manager, world.a.community, csv_file(rows(5)))).json()
        before = await persons(world.a.community)
        r = await manager.post(f"{IMPORTS}/{report['id']}/run", json={"mode": "strict"})
        assert r.status_code == 202, r.text
        # The worker died mid-run: the row says running, its transaction wrote nothing.
        await PersonImport.update({PersonImport.status: "running"}).where(
            PersonImport.id == report["id"]
        )

        await jobs.run()  # arq delivers the job again
        imports = service.ImportService(app.state.cipher, app.state.objects)

        async def progress(done: int, total: int) -> None:
            pass

        await imports.run(report["id"], progress)  # and once more, late: nothing to do

        done = (await manager.get(f"{IMPORTS}/{report['id']}")).json()
        assert (done["status"], done["imported"]) == ("done", 5)
        assert await persons(world.a.community) == before + 5

    @pytest.mark.req("REG-11", partial=True)
    async def test_progress_reaches_the_uploaders_socket(
        self, world: World, jobs: Jobs, live_url: str, login: Any
    ) -> None:
        manager_user = user(world, Role.PROPERTY_MANAGER)
        manager = await login(manager_user)
        report = (await upload(manager, world.a.community, csv_file(rows(2500)))).json()
        async with ApiClient(base_url=live_url) as live:
            await live.login(manager_user)
            cookie = f"anju_session={live.cookies['anju_session']}"
        url = live_url.replace("http", "ws") + "/api/v1/ws"
        async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            await run(manager, jobs, report["id"], "lenient")
            events = []
            while not events or events[-1]["type"] != "person_import.finished":
                events.append(json.loads(await ws.recv()))

        progress = [
            (e["done"], e["total"]) for e in events if e["type"] == "person_import.progress"
        ]
        assert progress == [(0, 2500), (1000, 2500), (2000, 2500), (2500, 2500)]
        assert events[-1] == {
            "type": "person_import.finished",
            "import_id": report["id"],
            "status": "done",
        }


class TestScope:
    async def test_a_manager_of_another_community_gets_404_everywhere(
        self, as_role: AsRole, world: World, jobs: Jobs
    ) -> None:
        manager_a = await as_role(Role.PROPERTY_MANAGER)
        manager_b = await as_role(Role.PROPERTY_MANAGER, "b")
        report = (await upload(manager_a, world.a.community, csv_file(rows(2)))).json()

        assert_error(
            await upload(manager_b, world.a.community, csv_file(rows(2))), 404, "not_found"
        )
        assert_error(await manager_b.get(f"{IMPORTS}/{report['id']}"), 404, "not_found")
        r = await manager_b.post(f"{IMPORTS}/{report['id']}/run", json={"mode": "lenient"})
        assert_error(r, 404, "not_found")
        assert await jobs.queued() == []

    @pytest.mark.parametrize(
        "role", [Role.RESIDENT, Role.GUARD, Role.POLICE, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN]
    )
    async def test_who_registers_no_person_gets_404(
        self, as_role: AsRole, world: World, role: Role
    ) -> None:
        api = await as_role(role)

        assert_error(await api.get(f"{IMPORTS}/templates/residents.csv"), 404, "not_found")
        assert_error(await upload(api, world.a.community, csv_file(rows(1))), 404, "not_found")


class TestBadInput:
    @pytest.mark.parametrize(
        ("name", "data", "code"),
        [
            ("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "not_a_sheet"),
            ("residents.xlsx", b"PK\x03\x04 not a workbook", "not_a_sheet"),
            ("residents.csv", csv_file(rows(1), header=["姓名", "手机号"]), "invalid_headers"),
            ("residents.csv", csv_file([]), "empty_sheet"),
            ("residents.csv", b"a" * 4_000_001, "file_too_large"),
        ],
        ids=["png", "not_a_workbook", "wrong_headers", "empty", "too_large"],  # data is random
    )
    async def test_a_file_that_is_no_import_is_refused_and_not_kept(
        self, as_role: AsRole, world: World, name: str, data: bytes, code: str
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        before = await PersonImport.count().where(PersonImport.community == world.a.community)

        assert_error(await upload(manager, world.a.community, data, name), 400, code)
        assert (
            await PersonImport.count().where(PersonImport.community == world.a.community) == before
        )

    async def test_a_body_beyond_the_upload_limit_is_refused(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)

        r = await upload(manager, world.a.community, b"a" * 4_200_000)

        assert r.status_code == 413, r.text

    async def test_an_unknown_mode_or_template_is_refused(
        self, as_role: AsRole, world: World
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        report = (await upload(manager, world.a.community, csv_file(rows(1)))).json()

        r = await manager.post(f"{IMPORTS}/{report['id']}/run", json={"mode": "all"})
        assert r.status_code == 422, r.text
        assert (await manager.get(f"{IMPORTS}/templates/residents.pdf")).status_code == 404
        assert len(COLUMNS) == len(HEADER)


class TestRetention:
    async def test_the_file_and_its_import_go_once_the_retention_has_passed(
        self, as_role: AsRole, world: World, app: Litestar
    ) -> None:
        manager = await as_role(Role.PROPERTY_MANAGER)
        report = (await upload(manager, world.a.community, csv_file(rows(1)))).json()
        row = await PersonImport.select().where(PersonImport.id == report["id"]).first()
        assert row is not None
        objects = app.state.objects

        await service.purge_expired(objects)  # not yet: kept 6 months
        assert await objects.get(row["file_key"])
        assert await PersonImport.exists().where(PersonImport.id == report["id"])
        await PersonImport.update(
            {PersonImport.created_at: datetime.now(UTC) - timedelta(days=185)}
        ).where(PersonImport.id == report["id"])
        assert await purge_expired_imports({"objects": objects}) >= 1

        with pytest.raises(ObjectNotFound):
            await objects.get(row["file_key"])
        assert not await PersonImport.exists().where(PersonImport.id == report["id"])
        assert_error(await manager.get(f"{IMPORTS}/{report['id']}"), 404, "not_found")
