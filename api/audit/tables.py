"""The audit log: append-only and hash-chained. No foreign keys: entries outlive what they name."""

from piccolo.columns import JSONB, UUID, BigSerial, Timestamptz, Varchar
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_log"):
    """One audited event: a login, a failure, a write or a reveal of personal data."""

    id = BigSerial(primary_key=True)
    at = Timestamptz()
    actor_id = UUID(null=True, default=None)
    actor_name = Varchar(length=64, null=True, default=None)
    actor_role = Varchar(length=20, null=True, default=None)
    action = Varchar(length=64, index=True, help_text="Dotted name, e.g. auth.login.failed.")
    outcome = Varchar(length=10, default="ok", help_text="ok | denied | failed.")
    target_type = Varchar(length=32, null=True, default=None)
    target_id = Varchar(length=64, null=True, default=None)
    community_id = UUID(null=True, default=None, index=True)
    ip = Varchar(length=45, null=True, default=None)
    purpose = Varchar(length=200, null=True, default=None, help_text="Stated purpose of a reveal.")
    details = JSONB(default={})
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)
