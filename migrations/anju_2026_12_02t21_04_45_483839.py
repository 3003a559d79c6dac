from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T21:04:45:483839"
VERSION = "1.38.0"
DESCRIPTION = "alarms: the room of a household zone"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="anju", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="IntrusionZone",
        tablename="intrusion_zones",
        column_name="room",
        db_column_name="room",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "",
            "null": False,
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

    return manager
