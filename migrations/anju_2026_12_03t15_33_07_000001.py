from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-03T15:33:07:000001"
VERSION = "1.38.0"
DESCRIPTION = (
    "workorders: the plans' orders not prompted yet (a partial index for the prompt sweep); "
    "orders due before today count as prompted"
)


class WorkOrder(Table, tablename="work_orders"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="anju", description=DESCRIPTION)

    async def unprompted_index():
        # Orders made before prompting existed and due before today push nobody now.
        await WorkOrder.raw(
            "UPDATE work_orders SET prompted_at = created_at WHERE plan IS NOT NULL "
            "AND prompted_at IS NULL "
            "AND due_on < (now() AT TIME ZONE 'Asia/Shanghai')::date"
        )
        # The sweep of api/workorders/prompting.py (CLAIM_DUE); the states are
        # api/workorders/catalogue.py's OPEN_STATES (Piccolo has no partial indexes).
        await WorkOrder.raw(
            "CREATE INDEX work_orders_unprompted ON work_orders (due_on) "
            "WHERE plan IS NOT NULL AND prompted_at IS NULL "
            "AND state IN ('new', 'assigned', 'in_progress', 'waiting')"
        )

    async def drop_index():
        await WorkOrder.raw("DROP INDEX IF EXISTS work_orders_unprompted")

    manager.add_raw(unprompted_index)
    manager.add_raw_backwards(drop_index)
    return manager
