"""Accounts, their role assignments with scope, and TOTP recovery codes."""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from api.communities.tables import Community, Household, Jurisdiction
from api.people.tables import Person


class Account(Table, tablename="accounts"):
    """Someone who logs in: a resident, a staff member, an officer or an administrator."""

    id = UUID(primary_key=True)
    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=50)
    person = ForeignKey(Person, null=True, help_text="The registry entry of a resident account.")
    password_hash = Text(secret=True, help_text="argon2id hash.")
    password_changed_at = Timestamptz()
    must_change_password = Boolean(
        default=False,
        help_text="Someone else chose the password (a new account, `anju createadmin`): the next "
        "login may only change it.",
    )
    totp_secret = Text(null=True, default=None, secret=True, help_text="Encrypted TOTP secret.")
    totp_confirmed = Boolean(default=False)
    totp_last_step = Integer(
        default=0, help_text="Last accepted TOTP time step; codes are single use."
    )
    failed_logins = Integer(default=0, help_text="Consecutive failures since the last success.")
    locked_until = Timestamptz(null=True, default=None)
    is_active = Boolean(default=True)
    locale = Varchar(length=5, default="zh-CN")
    last_login_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class RoleAssignment(Table, tablename="role_assignments"):
    """One role of an account, scoped to a household, a community or a jurisdiction (or global)."""

    id = UUID(primary_key=True)
    account = ForeignKey(Account, null=False)
    role = Varchar(length=20)
    community = ForeignKey(Community, null=True)
    household = ForeignKey(Household, null=True)
    jurisdiction = ForeignKey(Jurisdiction, null=True)
    created_at = Timestamptz()


class RecoveryCode(Table, tablename="recovery_codes"):
    """A single-use TOTP recovery code, stored hashed."""

    id = UUID(primary_key=True)
    account = ForeignKey(Account, null=False)
    code_hash = Varchar(length=64, secret=True)
    used_at = Timestamptz(null=True, default=None)


class SecurityPolicyRow(Table, tablename="security_policy"):
    """The security policy the security administrator set (api/accounts/policy.py): one row."""

    id = UUID(primary_key=True)
    name = Varchar(length=20, unique=True, help_text="'platform': the one policy.")
    value = JSONB(help_text="The Policy's fields.")
    version = Integer(default=0, help_text="Grows at each change; api processes reload on it.")
    updated_at = Timestamptz()
    updated_by = UUID(null=True, default=None, help_text="The account that changed it.")
