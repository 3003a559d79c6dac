from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Bytea, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T22:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "access: phone keys (a phone's own public key and name on a credential)"


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
    manager = MigrationManager(
        migration_id=ID, app_name="anju", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Credential",
        tablename="credentials",
        column_name="public_key",
        db_column_name="public_key",
        column_class_name="Bytea",
        column_class=Bytea,
        params=_params(default=None, null=True),
        schema=None,
    )
    manager.add_column(
        table_class_name="Credential",
        tablename="credentials",
        column_name="label",
        db_column_name="label",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params(default="", null=False, length=40),
        schema=None,
    )

    return manager
