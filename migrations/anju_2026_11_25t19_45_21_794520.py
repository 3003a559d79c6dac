from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T19:45:21:794520"
VERSION = "1.38.0"
DESCRIPTION = "visitor pass: one credential"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="anju", description=DESCRIPTION
    )

    manager.drop_column(
        table_class_name="VisitorPass",
        tablename="visitor_passes",
        column_name="qr_credential",
        db_column_name="qr_credential",
        schema=None,
    )

    manager.rename_column(
        table_class_name="VisitorPass",
        tablename="visitor_passes",
        old_column_name="code_credential",
        new_column_name="credential",
        old_db_column_name="code_credential",
        new_db_column_name="credential",
        schema=None,
    )

    return manager
