from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-03T06:52:38:000001"
VERSION = "1.38.0"
DESCRIPTION = "devices: a spare part's stock and minimum are never negative (a CHECK under the service's guarded UPDATE)"


class _Raw(Table, tablename="spare_parts"):
    pass


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="anju", description=DESCRIPTION
    )

    async def stock_never_negative():
        await _Raw.raw(
            "ALTER TABLE spare_parts ADD CONSTRAINT spare_parts_stock_not_negative"
            " CHECK (stock >= 0 AND min_stock >= 0)"
        )

    async def drop():
        await _Raw.raw(
            "ALTER TABLE spare_parts DROP CONSTRAINT spare_parts_stock_not_negative"
        )

    manager.add_raw(stock_never_negative)
    manager.add_raw_backwards(drop)

    return manager
