from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T03:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "visitors: a visitor's phone key (the resident's permission, the key's credential)"


def _params(**extra):
    return {
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **extra,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="anju", description=DESCRIPTION)

    manager.add_column(
        table_class_name="VisitorPass",
        tablename="visitor_passes",
        column_name="phone_key_allowed",
        db_column_name="phone_key_allowed",
        column_class_name="Boolean",
        column_class=Boolean,
        params=_params(default=False, null=False),
        schema=None,
    )
    manager.add_column(
        table_class_name="VisitorPass",
        tablename="visitor_passes",
        column_name="phone_key",
        db_column_name="phone_key",
        column_class_name="UUID",
        column_class=UUID,
        params=_params(default=None, null=True),
        schema=None,
    )

    return manager
