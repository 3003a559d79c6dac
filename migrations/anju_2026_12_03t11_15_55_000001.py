from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-03T11:15:55:000001"
VERSION = "1.38.0"
DESCRIPTION = "operations: a record links to each target once (a unique index)"


class OpsRecordLink(Table, tablename="ops_record_links"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="anju", description=DESCRIPTION)

    async def one_link_per_target():
        # The arbiter of the INSERT … ON CONFLICT in api/operations/records.py (`_add_link`).
        await OpsRecordLink.raw(
            "CREATE UNIQUE INDEX ops_record_links_once "
            "ON ops_record_links (record, target_type, target)"
        )

    async def drop_index():
        await OpsRecordLink.raw("DROP INDEX IF EXISTS ops_record_links_once")

    manager.add_raw(one_link_per_target)
    manager.add_raw_backwards(drop_index)
    return manager
