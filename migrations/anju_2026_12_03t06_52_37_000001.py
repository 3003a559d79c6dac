from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-03T06:52:37:000001"
VERSION = "1.38.0"
DESCRIPTION = "workorders: one open fault order per device and fault (a partial unique index)"


class WorkOrder(Table, tablename="work_orders"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="anju", description=DESCRIPTION)

    async def one_open_fault_order():
        # The arbiter of the upsert in api/workorders/faults.py: the states are
        # api/workorders/catalogue.py's ABSORBING_STATES (Piccolo has no partial indexes).
        await WorkOrder.raw(
            "CREATE UNIQUE INDEX work_orders_open_fault ON work_orders (device, fault) "
            "WHERE fault IS NOT NULL "
            "AND state IN ('new', 'assigned', 'in_progress', 'waiting', 'done')"
        )

    async def drop_index():
        await WorkOrder.raw("DROP INDEX IF EXISTS work_orders_open_fault")

    manager.add_raw(one_open_fault_order)
    manager.add_raw_backwards(drop_index)
    return manager
