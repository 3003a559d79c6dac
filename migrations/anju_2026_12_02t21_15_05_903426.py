from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import UUID
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T21:15:05:903426"
VERSION = "1.38.0"
DESCRIPTION = "intercom: calls placed in the app"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="anju", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Call",
        tablename="intercom_calls",
        column_name="caller",
        db_column_name="caller",
        column_class_name="UUID",
        column_class=UUID,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="Call",
        tablename="intercom_calls",
        column_name="station",
        db_column_name="station",
        params={"null": True},
        old_params={"null": False},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
