"""Bulk import of households and residents (REG-11): a dry run, then a strict or lenient run.

Invariants
    * A row is imported whole or not at all, and a bad row changes nothing: the run checks every
      row again against the community as it is then (inside its transaction), and writes only
      the rows with no problem; in strict mode one bad row and nothing is written.
    * Idempotent: a person whose ID number (its blind index) is registered in the community is
      left as it is and counted `existing`, so a second run of the same file creates nobody.
    * Identifiers are written as `PersonService` writes them: the same cipher contexts and blind
      indexes (`api.people.service.CONTEXTS`), one multi-row INSERT per chunk of 1,000 rows.
    * Places: the building and its unit must exist (`unknown_building`, `unknown_unit`); a
      missing household (room) of an existing unit is created, with its derived code.
    * The uploaded file is kept in the object store (retention `record_6m`) as the trail of the
      import; `purge_expired` deletes file and row together once that has passed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import structlog

from api.audit.service import record
from api.communities.tables import Building, Community, Household, Unit
from api.core.auth import Caller, Scope, require_staff
from api.core.crypto import FieldCipher
from api.core.effects import Effects
from api.core.errors import NotFound
from api.core.jobs import RUN_PERSON_IMPORT
from api.core.realtime import user_channel
from api.core.storage import ObjectStore, RetentionClass
from api.people.imports import sheet
from api.people.imports.errors import ImportNotReady, InvalidImportFile
from api.people.imports.schemas import ImportMode, ImportRead, RowProblem
from api.people.imports.tables import PersonImport
from api.people.service import CONTEXTS
from api.people.tables import Person
from api.piccolo_conf import DB

log = structlog.get_logger()

RETENTION = RetentionClass.RECORD_6M
CHUNK = 1_000
CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Progress = Callable[[int, int], Awaitable[None]]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class NewPerson:
    """A row to import: in which unit, and its phone's and ID number's blind indexes."""

    row: sheet.Row
    unit: UUID
    phone_index: str
    id_index: str


@dataclass
class Plan:
    """What a run would do with each row of the file, against the community as it is."""

    new: list[NewPerson] = field(default_factory=list)
    existing: int = 0
    problems: list[sheet.Problem] = field(default_factory=list)
    bad_rows: int = 0
    units: dict[UUID, str] = field(default_factory=dict)  # unit id -> its code
    homes: dict[tuple[UUID, str], UUID | None] = field(default_factory=dict)  # (unit, room) -> id
    building_of: dict[UUID, UUID] = field(default_factory=dict)  # unit -> building

    @property
    def new_households(self) -> int:
        return sum(1 for home in self.homes.values() if home is None)


def _read(row: dict[str, Any]) -> ImportRead:
    total, bad, existing = row["total_rows"], row["bad_rows"], row["existing_rows"]
    return ImportRead(
        id=row["id"],
        community_id=row["community"],
        file_name=row["file_name"],
        status=row["status"],
        mode=row["mode"],
        total_rows=total,
        new_rows=max(total - bad - existing, 0),
        existing_rows=existing,
        bad_rows=bad,
        new_households=row["new_households"],
        imported=row["imported"],
        problems=[RowProblem(**p) for p in row["problems"]],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


def _problems(plan: Plan) -> list[dict[str, Any]]:
    return [{"row": p.row, "field": p.field, "code": p.code} for p in plan.problems]


class ImportService:
    """Check, run and read bulk imports in the caller's communities (property managers)."""

    def __init__(self, cipher: FieldCipher, objects: ObjectStore) -> None:
        self.cipher = cipher
        self.objects = objects

    # -- the manager's side -----------------------------------------------------------------------

    async def check(
        self, caller: Caller, *, community_id: UUID, filename: str, data: bytes
    ) -> ImportRead:
        """Keep the file and answer its dry run: every bad row with its reasons, nothing written
        but the import's own row (and the file, for the audit trail)."""
        require_staff(caller, "person.write", community_id)
        if not await Community.exists().where(Community.id == community_id):
            raise NotFound()
        try:
            kind = sheet.kind_of(filename, data)
            rows = await asyncio.to_thread(sheet.read, filename, data)
        except sheet.SheetError as err:
            raise InvalidImportFile(err.code, **err.extra) from err
        plan = await self._plan(community_id, rows)
        import_id = uuid4()
        key = f"imports/{community_id}/{import_id}.{kind}"
        await self.objects.put(key, data, content_type=CONTENT_TYPES[kind], retention=RETENTION)
        entry = PersonImport(
            id=import_id,
            community=community_id,
            created_by=caller.account_id,
            created_by_name=caller.username[:64],
            file_key=key,
            file_name=filename[-200:] or "import",
            total_rows=len(rows),
            bad_rows=plan.bad_rows,
            existing_rows=plan.existing,
            new_households=plan.new_households,
            problems=_problems(plan),
        )
        try:
            async with DB.transaction():
                await entry.save()
                await record(
                    "person_import.checked",
                    actor=caller,
                    target_type="person_import",
                    target_id=import_id,
                    community_id=community_id,
                    details={"rows": len(rows), "bad_rows": plan.bad_rows, "file": key},
                )
        except BaseException:
            await self.objects.delete(key)
            raise
        return await self.get(caller, import_id)

    async def get(self, caller: Caller, import_id: UUID) -> ImportRead:
        """One import of a community where the caller registers persons."""
        where = Scope.of(caller, "person.write").where(PersonImport.community)
        row = None
        if where is not None:
            row = (
                await PersonImport.select()
                .where(where & (PersonImport.id == import_id))
                .output(load_json=True)
                .first()
            )
        if row is None:
            raise NotFound()
        return _read(row)

    async def start(
        self, caller: Caller, import_id: UUID, mode: ImportMode, effects: Effects
    ) -> ImportRead:
        """Queue the run of a checked import (again after a rejected or failed one)."""
        current = await self.get(caller, import_id)
        async with DB.transaction():
            queued = (
                await PersonImport.update({PersonImport.status: "queued", PersonImport.mode: mode})
                .where(
                    (PersonImport.id == import_id)
                    & PersonImport.status.is_in(["checked", "rejected", "failed"])
                )
                .returning(PersonImport.id)
            )
            if not queued:
                raise ImportNotReady()
            await record(
                "person_import.queued",
                actor=caller,
                target_type="person_import",
                target_id=import_id,
                community_id=current.community_id,
                details={"mode": mode},
            )
        effects.job(RUN_PERSON_IMPORT, import_id=import_id)
        return await self.get(caller, import_id)

    # -- the worker's side ------------------------------------------------------------------------

    async def run(self, import_id: UUID, progress: Progress) -> Effects:
        """Run a queued import once.

        A run a worker died in (`running`, its transaction rolled back) runs again when arq
        delivers the job again; two deliveries at once queue on the community's lock, and the
        second finds the import finished and writes nothing.
        """
        effects = Effects()
        claimed = (
            await PersonImport.update({PersonImport.status: "running"})
            .where(
                (PersonImport.id == import_id) & PersonImport.status.is_in(["queued", "running"])
            )
            .returning(*PersonImport.all_columns())
        )
        if not claimed:
            return effects
        entry = claimed[0]
        channel = user_channel(entry["created_by"])
        try:
            data = await self.objects.get(entry["file_key"])
            rows = await asyncio.to_thread(sheet.read, entry["file_name"], data)
            status = await self._write(entry, rows, progress)
        except Exception:
            log.exception("person_import.failed", import_id=str(import_id))
            status = "failed"
            await PersonImport.update(
                {PersonImport.status: status, PersonImport.finished_at: _now()}
            ).where(PersonImport.id == import_id)
            await record(
                "person_import.failed",
                actor_id=entry["created_by"],
                actor_name=entry["created_by_name"],
                outcome="error",
                target_type="person_import",
                target_id=import_id,
                community_id=entry["community"],
            )
        effects.send(
            {"type": "person_import.finished", "import_id": str(import_id), "status": status},
            channel,
        )
        return effects

    async def _write(self, entry: dict[str, Any], rows: list[sheet.Row], progress: Progress) -> str:
        """Check again and write, in one transaction; the status the import ends in."""
        import_id, community_id = entry["id"], entry["community"]
        strict = entry["mode"] == "strict"
        async with DB.transaction():
            # One import of a community at a time: the second waits, then finds the first's rows.
            await Person.raw(
                "SELECT pg_advisory_xact_lock(hashtextextended({}, 0))",
                f"person_imports:{community_id}",
            )
            now = await PersonImport.select(PersonImport.status).where(PersonImport.id == import_id)
            if not now or now[0]["status"] != "running":
                return str(now[0]["status"]) if now else "failed"  # another delivery ran it
            plan = await self._plan(community_id, rows)
            refused = strict and plan.bad_rows > 0
            total = 0 if refused else len(plan.new)
            await progress(0, total)
            imported, households = 0, 0
            if not refused:
                households = await self._create_households(community_id, plan)
                for start in range(0, total, CHUNK):
                    imported += await self._insert(
                        community_id, plan, plan.new[start : start + CHUNK]
                    )
                    await progress(imported, total)
            status = "rejected" if refused else "done"
            await PersonImport.update(
                {
                    PersonImport.status: status,
                    PersonImport.total_rows: len(rows),
                    PersonImport.bad_rows: plan.bad_rows,
                    PersonImport.existing_rows: plan.existing,
                    PersonImport.new_households: households,
                    PersonImport.imported: imported,
                    PersonImport.problems: _problems(plan),
                    PersonImport.finished_at: _now(),
                }
            ).where(PersonImport.id == import_id)
            await record(
                f"person_import.{status}",
                actor_id=entry["created_by"],
                actor_name=entry["created_by_name"],
                target_type="person_import",
                target_id=import_id,
                community_id=community_id,
                details={
                    "mode": entry["mode"],
                    "rows": len(rows),
                    "imported": imported,
                    "existing": plan.existing,
                    "bad_rows": plan.bad_rows,
                    "new_households": households,
                    "file": entry["file_key"],
                },
            )
        log.info("person_import.finished", import_id=str(import_id), status=status, rows=imported)
        return status

    # -- checks against the community ------------------------------------------------------------

    async def _plan(self, community_id: UUID, rows: list[sheet.Row]) -> Plan:
        """Each row's fate: new, already registered, or bad (with every reason)."""
        plan = Plan()
        buildings = {
            b["number"]: b
            for b in await Building.select(Building.id, Building.number, Building.floors).where(
                Building.community == community_id
            )
        }
        units = {
            (u["building"], u["number"]): u
            for u in await Unit.select(Unit.id, Unit.building, Unit.number, Unit.code).where(
                Unit.community == community_id
            )
        }
        homes = {
            (h["unit"], h["room"]): h["id"]
            for h in await Household.select(Household.id, Household.unit, Household.room).where(
                Household.community == community_id
            )
        }
        registered_ids: set[str] = set()
        taken_phones: set[str] = set()
        for p in await Person.select(
            Person.id_number_index, Person.phone_index, Person.moved_out_on
        ).where(Person.community == community_id):
            registered_ids.add(p["id_number_index"])
            if p["moved_out_on"] is None:
                taken_phones.add(p["phone_index"])
        blind = self.cipher.blind_index
        seen_phones: dict[str, int] = {}
        seen_ids: dict[str, int] = {}
        for row in rows:
            problems = list(row.problems)
            fields = {p.field for p in problems}

            def bad(column: str, code: str, line: int = row.line) -> None:
                problems.append(sheet.Problem(line, column, code))  # noqa: B023 - used at once

            unit_id = None
            building = buildings.get(row.building)
            if building is None:
                if "building" not in fields:
                    bad("building", "unknown_building")
            else:
                unit = units.get((building["id"], row.unit))
                if unit is None:
                    if "unit" not in fields:
                        bad("unit", "unknown_unit")
                elif row.room and not 1 <= int(row.room[:2]) <= building["floors"]:
                    bad("room", "invalid_room")
                else:
                    unit_id = unit["id"]
                    plan.units[unit_id] = unit["code"]
                    plan.building_of[unit_id] = building["id"]
            phone_index = id_index = ""
            if "phone" not in fields:
                phone_index = blind(row.phone, kind="phone")
            if "id_number" not in fields:
                id_index = blind(row.id_number, kind="id_number")
            existing = bool(id_index) and id_index in registered_ids
            if id_index:
                if id_index in seen_ids:
                    bad("id_number", "duplicate_id_number")
                seen_ids.setdefault(id_index, row.line)
            if phone_index:
                if phone_index in seen_phones:
                    bad("phone", "duplicate_phone")
                elif phone_index in taken_phones and not existing:
                    bad("phone", "phone_registered")
                seen_phones.setdefault(phone_index, row.line)
            if problems:
                plan.problems += problems
                plan.bad_rows += 1
            elif existing:
                plan.existing += 1
            else:
                assert unit_id is not None
                plan.homes.setdefault((unit_id, row.room), homes.get((unit_id, row.room)))
                plan.new.append(NewPerson(row, unit_id, phone_index, id_index))
        return plan

    async def _create_households(self, community_id: UUID, plan: Plan) -> int:
        """Create the missing households of the plan's new rows (one INSERT); how many."""
        missing = [key for key, home in plan.homes.items() if home is None]
        if not missing:
            return 0
        rented = {(p.unit, p.row.room) for p in plan.new if p.row.relation == "tenant"}
        created = await Household.raw(
            "INSERT INTO households"
            " (id, community, building, unit, room, code, housing, created_at)"
            " SELECT gen_random_uuid(), {}, b, u, r, c, h, now()"
            " FROM unnest({}::uuid[], {}::uuid[], {}::text[], {}::text[], {}::text[])"
            " AS t(b, u, r, c, h)"
            " ON CONFLICT (code) DO NOTHING RETURNING id, unit, room",
            community_id,
            [plan.building_of[u] for u, _ in missing],
            [u for u, _ in missing],
            [room for _, room in missing],
            [plan.units[u] + room for u, room in missing],
            ["rented" if (u, room) in rented else "owned" for u, room in missing],
        )
        for h in created:
            plan.homes[(h["unit"], h["room"])] = h["id"]
        if len(created) < len(missing):  # created meanwhile by someone else: look them up
            for h in await Household.select(Household.id, Household.unit, Household.room).where(
                Household.code.is_in([plan.units[u] + room for u, room in missing])
            ):
                plan.homes[(h["unit"], h["room"])] = h["id"]
        return len(created)

    async def _insert(self, community_id: UUID, plan: Plan, chunk: list[NewPerson]) -> int:
        """One INSERT for a chunk of new persons, encrypted as the people domain encrypts."""
        encrypt = self.cipher.encrypt
        inserted = await Person.raw(
            "INSERT INTO persons (id, community, household, category, relation, name, id_number,"
            " id_number_index, phone, phone_index, moved_in_on, created_at, updated_at)"
            " SELECT gen_random_uuid(), {}, h, c, r, n, i, ii, p, pi, m, now(), now()"
            " FROM unnest({}::uuid[], {}::text[], {}::text[], {}::text[], {}::text[], {}::text[],"
            " {}::text[], {}::text[], {}::date[]) AS t(h, c, r, n, i, ii, p, pi, m)"
            " RETURNING id",
            community_id,
            [plan.homes[(p.unit, p.row.room)] for p in chunk],
            [p.row.category for p in chunk],
            [p.row.relation for p in chunk],
            [p.row.name for p in chunk],
            [encrypt(p.row.id_number, context=CONTEXTS["id_number"]) for p in chunk],
            [p.id_index for p in chunk],
            [encrypt(p.row.phone, context=CONTEXTS["phone"]) for p in chunk],
            [p.phone_index for p in chunk],
            [p.row.moved_in_on for p in chunk],
        )
        return len(inserted)


async def purge_expired(objects: ObjectStore, *, now: datetime | None = None) -> int:
    """Delete imports (the file and the row) older than their retention, never earlier."""
    days = RETENTION.days
    assert days is not None
    cutoff = (now or _now()) - timedelta(days=days)
    rows = await PersonImport.select(PersonImport.id, PersonImport.file_key).where(
        PersonImport.created_at < cutoff
    )
    for row in rows:
        await objects.delete(row["file_key"])
    if rows:
        async with DB.transaction():
            await PersonImport.delete().where(PersonImport.id.is_in([r["id"] for r in rows]))
            await record(
                "person_import.purged",
                actor_name="retention",
                target_type="person_import",
                details={"imports": len(rows), "before": cutoff.isoformat()},
            )
    return len(rows)
