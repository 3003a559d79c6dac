"""Wire shapes of a bulk import: its dry-run report and its outcome (row numbers and codes only)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

ImportMode = Literal["strict", "lenient"]
ImportStatus = Literal["checked", "queued", "running", "done", "rejected", "failed"]


class RowProblem(msgspec.Struct, kw_only=True):
    """Why one row cannot be imported: its line in the file (the header is 1), column, code."""

    row: int
    field: str
    code: str


class ImportRead(msgspec.Struct, kw_only=True):
    """An uploaded file: its dry run (rows new, already registered, bad) and, once run, the outcome.

    `rejected`: a strict run found bad rows and imported nothing.
    """

    id: UUID
    community_id: UUID
    file_name: str
    status: ImportStatus
    mode: ImportMode | None
    total_rows: int
    new_rows: int
    existing_rows: int
    bad_rows: int
    new_households: int
    imported: int
    problems: list[RowProblem]
    created_at: datetime
    finished_at: datetime | None


class ImportRun(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How to import: strict (one bad row and nothing is imported) or lenient (the good rows)."""

    mode: ImportMode
