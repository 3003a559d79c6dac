from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T11:15:07:228423"
VERSION = "1.38.0"
DESCRIPTION = "vehicles: temporary_occupied on car_parks (temporary parking full, VEH-22)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="anju", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="CarPark",
        tablename="car_parks",
        column_name="temporary_occupied",
        db_column_name="temporary_occupied",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
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
