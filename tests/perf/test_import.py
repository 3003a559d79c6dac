"""Benchmark: a bulk import of 5,000 households with 12,000 persons against a bare COPY.

The import is what a manager's file goes through (`ImportService`): the dry run (read the CSV,
check every row, blind-index phone and ID number, look the community up) and the run (the same
checks again inside its transaction, the missing households in one INSERT, the persons encrypted
per field and written 1,000 per INSERT). The baseline, measured in the same run on the same
database, is a raw asyncpg COPY of the same households and persons — ciphertexts and indexes
computed beforehand, outside the clock — into the same tables.
"""

from __future__ import annotations

import time
import uuid

import asyncpg

from api.communities.tables import Building, Community, Unit
from api.core.auth import Assignment, Caller, Role
from api.core.crypto import FieldCipher
from api.core.effects import Effects
from api.people.imports.service import ImportService
from api.people.service import CONTEXTS
from api.people.tables import Person
from api.settings import Settings
from tests.helpers import World
from tests.people.imports import ROOMS_PER_UNIT, csv_file, rows
from tests.perf.sizes import size

PERSONS = size(12_000, smoke=240)
HOUSEHOLDS = size(5_000, smoke=100)


async def _units(community: uuid.UUID, code: str, households: int) -> dict[str, uuid.UUID]:
    """Building 1 of the community with the units the households need (1,683 rooms each)."""
    building = (
        await Building.select(Building.id)
        .where((Building.community == community) & (Building.number == "1"))
        .first()
    )
    if building is None:
        made = Building(community=community, number="1", name="1栋", code=code + "001", floors=18)
        await made.save()
        building = {"id": made.id}
    units = {
        u["number"]: u["id"]
        for u in await Unit.select(Unit.id, Unit.number).where(Unit.building == building["id"])
    }
    for n in range(1, households // ROOMS_PER_UNIT + 2):
        if str(n) not in units:
            unit = Unit(
                community=community,
                building=building["id"],
                number=str(n),
                code=f"{code}001{n:02d}",
            )
            await unit.save()
            units[str(n)] = unit.id
    return units


async def test_import_against_copy(settings: Settings, world: World, app: object) -> None:
    """Rows/s of the dry run and of the run, next to a bare COPY of the same rows."""
    cipher: FieldCipher = app.state.cipher  # type: ignore[attr-defined]
    body = rows(PERSONS, households=HOUSEHOLDS)
    data = csv_file(body)
    await _units(world.a.community, world.a.code, HOUSEHOLDS)
    manager = world.a.users[Role.PROPERTY_MANAGER]
    caller = Caller(
        account_id=manager.id,
        username=manager.username,
        display_name=manager.username,
        assignments=(Assignment(role=Role.PROPERTY_MANAGER, community_id=world.a.community),),
    )
    imports = ImportService(cipher, app.state.objects)  # type: ignore[attr-defined]
    before = await Person.count().where(Person.community == world.a.community)

    async def progress(done: int, total: int) -> None:
        pass

    start = time.perf_counter()
    report = await imports.check(
        caller, community_id=world.a.community, filename="bench.csv", data=data
    )
    checked = time.perf_counter() - start
    assert (report.new_rows, report.bad_rows) == (PERSONS, 0)
    await imports.start(caller, report.id, "strict", Effects())
    start = time.perf_counter()
    await imports.run(report.id, progress)
    ran = time.perf_counter() - start
    assert await Person.count().where(Person.community == world.a.community) == before + PERSONS

    # The same households and persons, prepared outside the clock, COPYed into community B.
    community = (
        await Community.select(Community.code).where(Community.id == world.b.community).first()
    )
    assert community is not None
    units = await _units(world.b.community, community["code"], HOUSEHOLDS)
    building = await Unit.select(Unit.building).where(Unit.id == units["1"]).first()
    assert building is not None
    homes: dict[tuple[str, str], uuid.UUID] = {}
    household_rows, person_rows = [], []
    for cells in body:
        key = (cells[1], cells[2])
        room = f"{int(cells[2][:2]) + 20:02d}{cells[2][2:]}"  # B has 0101 and 0102 already
        if key not in homes:
            homes[key] = uuid.uuid4()
            household_rows.append(
                (
                    homes[key],
                    world.b.community,
                    building["building"],
                    units[cells[1]],
                    room,
                    f"{community['code']}001{int(cells[1]):02d}{room}",
                    "owned",
                )
            )
        person_rows.append(
            (
                uuid.uuid4(),
                world.b.community,
                homes[key],
                "permanent",
                "owner" if cells[7] == "业主" else "member",
                cells[3],
                cipher.encrypt(cells[6], context=CONTEXTS["id_number"]),
                cipher.blind_index(cells[6], kind="id_number"),
                cipher.encrypt(cells[4], context=CONTEXTS["phone"]),
                cipher.blind_index(cells[4], kind="phone"),
            )
        )
    conn = await asyncpg.connect(settings.database_url)
    try:
        start = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table(
                "households",
                records=household_rows,
                columns=["id", "community", "building", "unit", "room", "code", "housing"],
            )
            await conn.copy_records_to_table(
                "persons",
                records=person_rows,
                columns=[
                    "id",
                    "community",
                    "household",
                    "category",
                    "relation",
                    "name",
                    "id_number",
                    "id_number_index",
                    "phone",
                    "phone_index",
                ],
            )
        copied = time.perf_counter() - start
    finally:
        await conn.close()
    assert await Person.count().where(Person.community == world.b.community) == PERSONS + 2

    print(
        f"\nbulk import, {HOUSEHOLDS} households / {PERSONS} persons ({len(data):,} bytes CSV):"
        f" dry run {PERSONS / checked:,.0f} rows/s ({checked:.2f} s);"
        f" run {PERSONS / ran:,.0f} rows/s ({ran:.2f} s);"
        f" bare COPY {PERSONS / copied:,.0f} rows/s ({copied:.2f} s);"
        f" run/COPY ratio {(PERSONS / ran) / (PERSONS / copied):.3f}"
    )
