"""Login, TOTP, password change, logout, the caller's own account; account administration."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie, State
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from api.accounts import policy, service
from api.accounts.policy import PolicyRead, PolicyReader, PolicyUpdate
from api.accounts.schemas import (
    AccountCreate,
    AccountPage,
    AccountRead,
    AccountUpdate,
    CommunityChoicePage,
    LoginRequest,
    LoginResult,
    Me,
    PasswordChange,
    PasswordReset,
    RoleGrant,
    TotpRequest,
)
from api.accounts.service import (
    AccountLocked,
    AccountService,
    AuthService,
    InvalidCredentials,
    InvalidTotp,
    WrongStep,
)
from api.core.auth import Caller, Role, client_ip, provide_own_caller
from api.core.openapi import raises
from api.core.paging import PageNumber, PageSize
from api.core.sessions import ABSOLUTE, COOKIE, Session


def _cookie(state: State, token: str) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=token,
        httponly=True,
        secure=state.settings.secure_cookies,
        samesite="lax",
        path="/",
        max_age=ABSOLUTE,
    )


def _with_session(state: State, result: LoginResult, token: str) -> Response[LoginResult]:
    return Response(result, status_code=HTTP_200_OK, cookies=[_cookie(state, token)])


async def _pending_session(request: Request[Any, Any, Any], state: State) -> tuple[str, Session]:
    token = request.cookies.get(COOKIE)
    session = await state.sessions.get(token)
    if token is None or session is None:
        raise NotAuthorizedException("Log in with your password first.")
    return token, session


def auth_rate_limit(per_minute: int) -> RateLimitConfig:
    """The limit on login endpoints, per client address, counted in Redis across instances.

    GET /me is left out: the PWA asks it on every start, and residents behind one shared address
    (a community's broadband NAT) would otherwise spend the login budget just opening the app.
    """
    return RateLimitConfig(
        rate_limit=("minute", per_minute), store="rate_limit", exclude=[r"^/api/v1/auth/me$"]
    )


def policy_reader(state: State) -> PolicyReader:
    """This process's reader of the security policy (one per app, made at first use)."""
    reader = state.get("policy_reader")
    if reader is None:
        reader = state.policy_reader = PolicyReader(state.sessions.redis)
    return reader  # type: ignore[no-any-return]


def provide_auth(state: State) -> AuthService:
    """The login service."""
    return AuthService(state.sessions, state.cipher, policy=policy_reader(state))


def provide_accounts(state: State) -> AccountService:
    """The account administration service."""
    return AccountService(state.sessions, policy=policy_reader(state))


class AuthController(Controller):
    """The login flow. Each step replaces the session token (no session fixation)."""

    path = "/api/v1/auth"
    tags = ["auth"]
    dependencies = {"auth": Provide(provide_auth, sync_to_thread=False)}

    @post("/login", status_code=HTTP_200_OK, opt=raises(InvalidCredentials, AccountLocked))
    async def login(
        self, request: Request[Any, Any, Any], state: State, auth: AuthService, data: LoginRequest
    ) -> Response[LoginResult]:
        """Check user name and password; staff continue with TOTP."""
        result, token = await auth.login(
            data.username,
            data.password,
            ip=client_ip(request),
            old_token=request.cookies.get(COOKIE),
        )
        return _with_session(state, result, token)

    @post(
        "/totp",
        status_code=HTTP_200_OK,
        opt=raises(NotAuthorizedException, InvalidTotp, AccountLocked, WrongStep),
    )
    async def totp(
        self, request: Request[Any, Any, Any], state: State, auth: AuthService, data: TotpRequest
    ) -> Response[LoginResult]:
        """Second factor: a TOTP code (each accepted once) or a recovery code."""
        token, session = await _pending_session(request, state)
        result, token = await auth.totp(token, session, data.code.strip(), ip=client_ip(request))
        return _with_session(state, result, token)

    @post(
        "/password",
        status_code=HTTP_200_OK,
        opt=raises(NotAuthorizedException, InvalidCredentials, AccountLocked, WrongStep),
    )
    async def change_password(
        self, request: Request[Any, Any, Any], state: State, auth: AuthService, data: PasswordChange
    ) -> Response[LoginResult]:
        """Change the own password; other sessions of the account end."""
        token, session = await _pending_session(request, state)
        result, token = await auth.change_password(
            token, session, data.current_password, data.new_password, ip=client_ip(request)
        )
        return _with_session(state, result, token)

    @post("/logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(
        self, request: Request[Any, Any, Any], state: State, auth: AuthService
    ) -> Response[None]:
        """End the session."""
        token = request.cookies.get(COOKIE)
        await auth.logout(token, await state.sessions.get(token), ip=client_ip(request))
        response: Response[None] = Response(None, status_code=HTTP_204_NO_CONTENT)
        response.delete_cookie(COOKIE, path="/")
        return response

    @get("/me", dependencies={"caller": Provide(provide_own_caller)})
    async def me(self, caller: Caller) -> Me:
        """The logged-in account with its roles (also while a password change is due)."""
        return await service.me(caller.account_id)


class AccountController(Controller):
    """Accounts and roles, for the security administrator."""

    path = "/api/v1/accounts"
    tags = ["accounts"]
    dependencies = {"accounts": Provide(provide_accounts, sync_to_thread=False)}

    @get("/")
    async def list_accounts(
        self,
        caller: Caller,
        accounts: AccountService,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        q: str | None = None,
        role: Role | None = None,
        community_id: UUID | None = None,
    ) -> AccountPage:
        """Accounts, filtered by a user name fragment, a role and a community."""
        return await accounts.search(
            caller, page=page, page_size=page_size, q=q, role=role, community_id=community_id
        )

    @get("/communities")
    async def list_community_choices(
        self,
        caller: Caller,
        accounts: AccountService,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        q: str | None = None,
    ) -> CommunityChoicePage:
        """Communities to scope a staff role to (names and codes only)."""
        return await accounts.community_choices(caller, page=page, page_size=page_size, q=q)

    @post("/")
    async def create_account(
        self, caller: Caller, accounts: AccountService, data: AccountCreate
    ) -> AccountRead:
        """Create an account with its first role."""
        return await accounts.create(caller, data)

    @get("/{account_id:uuid}")
    async def get_account(
        self, caller: Caller, accounts: AccountService, account_id: UUID
    ) -> AccountRead:
        """One account."""
        return await accounts.get(caller, account_id)

    @patch("/{account_id:uuid}")
    async def update_account(
        self, caller: Caller, accounts: AccountService, account_id: UUID, data: AccountUpdate
    ) -> AccountRead:
        """Rename, (de)activate, unlock or reset the TOTP of an account."""
        return await accounts.update(caller, account_id, data)

    @post("/{account_id:uuid}/password-reset", status_code=HTTP_200_OK)
    async def reset_password(
        self, caller: Caller, accounts: AccountService, account_id: UUID
    ) -> PasswordReset:
        """A one-time password for the account, to be changed at its next login."""
        return await accounts.reset_password(caller, account_id)

    @post("/{account_id:uuid}/roles", status_code=HTTP_200_OK)
    async def grant_role(
        self, caller: Caller, accounts: AccountService, account_id: UUID, data: RoleGrant
    ) -> AccountRead:
        """Give the account a role with its scope."""
        return await accounts.grant(caller, account_id, data)

    @delete("/{account_id:uuid}/roles/{role:str}", status_code=HTTP_200_OK)
    async def revoke_role(
        self, caller: Caller, accounts: AccountService, account_id: UUID, role: Role
    ) -> AccountRead:
        """Take a role from the account."""
        return await accounts.revoke(caller, account_id, role)


class SecurityPolicyController(Controller):
    """The security policy, for the security administrator (anyone else: 404)."""

    path = "/api/v1/security-policy"
    tags = ["accounts"]

    @get("/")
    async def get_policy(self, caller: Caller) -> PolicyRead:
        """Password, lockout, session and second-factor rules in force, with their version."""
        return await policy.read(caller)

    @patch("/")
    async def change_policy(self, caller: Caller, state: State, data: PolicyUpdate) -> PolicyRead:
        """Change the rules (never below the standard's floor: 422 policy_below_floor); audited;
        every api process applies them at its next login."""
        return await policy.change(caller, data, state.sessions.redis)
