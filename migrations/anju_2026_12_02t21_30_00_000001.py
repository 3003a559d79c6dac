from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-02T21:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "access: fingerprint credentials (kind and method widened to 12)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="anju", description=DESCRIPTION
    )

    for table_class_name, tablename, column_name in (
        ("Credential", "credentials", "kind"),
        ("AccessRecord", "access_records", "method"),
    ):
        manager.alter_column(
            table_class_name=table_class_name,
            tablename=tablename,
            column_name=column_name,
            db_column_name=column_name,
            params={"length": 12},
            old_params={"length": 8},
            column_class=Varchar,
            old_column_class=Varchar,
            schema=None,
        )

    return manager
