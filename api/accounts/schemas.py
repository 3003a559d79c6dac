"""Wire shapes of logins and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from api.core.auth import Role
from api.core.paging import Page
from api.core.sessions import SessionState

Locale = Literal["zh-CN", "en"]
Username = Annotated[str, Meta(min_length=3, max_length=64, pattern=r"^[a-zA-Z0-9_.@-]+$")]
Password = Annotated[str, Meta(min_length=1, max_length=256)]


class LoginRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Username and password."""

    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Password


class TotpRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A 6-digit code from the authenticator app, or a recovery code (xxxx-xxxx-xxxx)."""

    code: Annotated[str, Meta(min_length=6, max_length=20)]


class PasswordChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The current password and the new one."""

    current_password: Password
    new_password: Password


class RoleRead(msgspec.Struct, kw_only=True):
    """One role of the account and where it applies."""

    role: Role
    community_id: UUID | None
    community_name: str | None
    household_id: UUID | None
    household_label: str | None
    jurisdiction_id: UUID | None


class Me(msgspec.Struct, kw_only=True):
    """The logged-in account as the PWA sees it."""

    id: UUID
    username: str
    display_name: str
    roles: list[RoleRead]
    locale: Locale


class LoginResult(msgspec.Struct, kw_only=True):
    """Where the login stands and, once active, who is logged in."""

    state: SessionState
    account: Me | None  # every field is always sent, so the typed client needs no undefined checks
    otpauth_uri: str | None
    recovery_codes: list[str] | None

    @classmethod
    def step(
        cls,
        state: SessionState,
        *,
        account: Me | None = None,
        otpauth_uri: str | None = None,
        recovery_codes: list[str] | None = None,
    ) -> LoginResult:
        """A result with only what this step carries."""
        return cls(
            state=state, account=account, otpauth_uri=otpauth_uri, recovery_codes=recovery_codes
        )


class RoleGrant(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A role to give an account, with its scope: residents a household, police a jurisdiction."""

    role: Role
    community_id: UUID | None = None
    household_id: UUID | None = None
    jurisdiction_id: UUID | None = None

    def __post_init__(self) -> None:
        """Each role takes exactly the scope it needs."""
        if self.role == Role.RESIDENT and self.household_id is None:
            raise ValueError("a resident role needs household_id")
        if self.role == Role.POLICE and self.jurisdiction_id is None:
            raise ValueError("a police role needs jurisdiction_id")
        if self.role in {Role.GUARD, Role.MAINTENANCE, Role.PROPERTY_MANAGER} and (
            self.community_id is None
        ):
            raise ValueError(f"a {self.role} role needs community_id")


class AccountCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new account with its first role; the password must meet the policy."""

    username: Username
    display_name: Annotated[str, Meta(min_length=1, max_length=50)]
    password: Password
    role: RoleGrant
    person_id: UUID | None = None


class AccountUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields a security administrator may change."""

    display_name: Annotated[str, Meta(min_length=1, max_length=50)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    is_active: bool | msgspec.UnsetType = msgspec.UNSET
    unlock: bool | msgspec.UnsetType = msgspec.UNSET
    reset_totp: bool | msgspec.UnsetType = msgspec.UNSET


class AccountRead(msgspec.Struct, kw_only=True):
    """An account as a security administrator sees it (no secrets)."""

    id: UUID
    username: str
    display_name: str
    is_active: bool
    locked_until: datetime | None
    totp_confirmed: bool
    last_login_at: datetime | None
    password_changed_at: datetime
    roles: list[RoleRead]


class AccountPage(Page, kw_only=True):
    """A page of accounts."""

    items: list[AccountRead]


class PasswordReset(msgspec.Struct, kw_only=True):
    """A one-time password, shown once to the security administrator to hand over."""

    account: AccountRead
    password: str


class CommunityChoice(msgspec.Struct, kw_only=True):
    """A community a staff role may be scoped to: its name and code, nothing inside it."""

    id: UUID
    name: str
    code: str


class CommunityChoicePage(Page, kw_only=True):
    """A page of communities to scope a role to."""

    items: list[CommunityChoice]
