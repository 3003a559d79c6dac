"""Bulk imports of residents: one row per uploaded file, its dry run and its outcome."""

from piccolo.columns import JSONB, UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table

from api.communities.tables import Community


class PersonImport(Table, tablename="person_imports"):
    """An uploaded file of households and residents (REG-11), kept for the audit trail.

    The file itself is in the object store under `file_key` with the retention class
    `record_6m`; the retention job deletes the file and this row together. `problems` names
    rows, columns and codes only, never the personal values.
    """

    id = UUID(primary_key=True)
    community = ForeignKey(Community, null=False)
    created_by = UUID(help_text="The account that uploaded the file.")
    created_by_name = Varchar(length=64)
    file_key = Varchar(length=200)
    file_name = Varchar(length=200)
    status = Varchar(
        length=10,
        default="checked",
        help_text="checked | queued | running | done | rejected | failed",
    )
    mode = Varchar(length=8, null=True, default=None, help_text="strict | lenient")
    total_rows = Integer(default=0)
    bad_rows = Integer(default=0)
    existing_rows = Integer(default=0, help_text="Persons already registered: skipped.")
    new_households = Integer(default=0)
    imported = Integer(default=0, help_text="Persons created by the run.")
    problems = JSONB(default=[], help_text="[{row, field, code}] of the last check or run.")
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
