"""Accounts (SPEC §4.1 without OAuth, §4.5 API keys): sign-up, tokens, my page, password."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from app_http.auth import TOKEN_ONLY, provide_user_id
from app_http.client_address import client_of
from app_http.errors import ErrorBody, error_response, status_and_code
from app_http.openapi import responses
from app_http.privacy import DeleteAccountIn
from app_http.refresh_cookie import cleared_cookie, presented_refresh, token_response
from app_http.structs import QuotaOut, ResourceId, SessionOut, TokenOut
from chatcore.accounts import DEVICE_TTL, AccountService, Profile
from chatcore.errors import ApiKeyNotFound, AuthError, InvalidToken
from chatcore.model import ApiKey, User
from chatcore.privacy import PrivacyService
from chatcore.tutoring import TutorService

DEVICE_COOKIE = "chatcore_device"
"""HttpOnly cookie with the device token of the last password login from this browser."""
Short = Annotated[str, msgspec.Meta(max_length=320)]
Secret = Annotated[str, msgspec.Meta(max_length=1024)]
NO_STORE = CacheControlHeader(no_store=True)
"""On every response that carries a token or a key: no cache, shared or private, may keep it."""


class JoinIn(msgspec.Struct):
    username: Short
    email: Short
    password: Secret
    password2: Secret


class UserOut(msgspec.Struct):
    id: int
    username: str
    email: str | None
    date_joined: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, username=user.username, email=user.email, date_joined=user.date_joined)


AsCookie = Annotated[
    bool,
    msgspec.Meta(description="true: the refresh token comes as an HttpOnly cookie, not in the JSON"),
]


class TokenIn(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(max_length=320, description="username or e-mail")]
    password: Secret
    cookie: AsCookie = False


class RefreshIn(msgspec.Struct):
    refresh: Annotated[Secret, msgspec.Meta(description="absent: the refresh cookie is used")] | None = None
    cookie: AsCookie = False


class LogoutIn(msgspec.Struct):
    refresh: Annotated[Secret, msgspec.Meta(description="absent: the refresh cookie is used")] | None = None


class LinkedAccountOut(msgspec.Struct):
    provider: str
    login: str


class MyPageOut(msgspec.Struct):
    id: int
    username: str
    email: str | None
    date_joined: datetime
    is_admin: bool
    linked_accounts: list[LinkedAccountOut]
    quota: QuotaOut


class MyPageIn(msgspec.Struct):
    password: Annotated[Secret, msgspec.Meta(description="the current password")]
    email: Short | None = None


class PasswordIn(msgspec.Struct):
    new_password: Secret
    new_password2: Secret
    old_password: (
        Annotated[Secret, msgspec.Meta(description="the current password; leave out only to set a first one")]
        | None
    ) = None


class ApiKeyIn(msgspec.Struct):
    password: Annotated[Secret, msgspec.Meta(description="the current password")]
    name: Annotated[str, msgspec.Meta(max_length=100)] = "API key"


class ApiKeyOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    """When the key was last used, to the hour; ``null`` if never."""

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
        )


class NewApiKeyOut(ApiKeyOut):
    key: str
    """The secret: shown once, never again."""


class AccountController(Controller):
    path = "/accounts"
    tags = ["accounts"]  # noqa: RUF012

    @post(
        "/join/", status_code=201, operation_id="join", summary="Sign up", responses=responses(409, 422, 429)
    )
    async def join(
        self,
        accounts: NamedDependency[AccountService],
        request: Request[Any, Any, Any],
        data: JSONBody[JoinIn],
    ) -> UserOut:
        user = await accounts.register(
            username=data.username,
            email=data.email,
            password=data.password,
            password2=data.password2,
            client=client_of(request.scope),
        )
        return UserOut.of(user)

    @post(
        "/token/",
        status_code=200,
        operation_id="obtainToken",
        summary="Log in with username (or e-mail) and password",
        responses=responses(401, 429),
        cache_control=NO_STORE,
    )
    async def token(
        self,
        accounts: NamedDependency[AccountService],
        request: Request[Any, Any, Any],
        data: JSONBody[TokenIn],
    ) -> Response[TokenOut | SessionOut]:
        pair = await accounts.login(
            login=data.username,
            password=data.password,
            client=client_of(request.scope),
            device=request.cookies.get(DEVICE_COOKIE),
        )
        cookies = []
        if pair.device is not None:
            # The browser that logged in may log in to this account again even while its address's
            # budget is spent by somebody else's failures (an office, a proxy).
            cookies.append(
                Cookie(
                    key=DEVICE_COOKIE,
                    value=pair.device,
                    max_age=DEVICE_TTL,
                    path="/accounts/token/",
                    httponly=True,
                    samesite="strict",
                    secure=request.url.scheme == "https",
                )
            )
        return token_response(request, pair, cookie=data.cookie, cookies=cookies)

    @post(
        "/token/refresh/",
        status_code=200,
        operation_id="refreshToken",
        summary="Rotate a refresh token (from the body, or else from the refresh cookie)",
        responses=responses(401, 415),
        cache_control=NO_STORE,
    )
    async def refresh(
        self,
        accounts: NamedDependency[AccountService],
        request: Request[Any, Any, Any],
        data: JSONBody[RefreshIn],
    ) -> Response[TokenOut | SessionOut] | Response[ErrorBody]:
        token, from_cookie = presented_refresh(request, data.refresh)
        try:
            pair = await accounts.refresh(token)
        except AuthError as exc:
            if not from_cookie:
                raise
            return _ended(request, exc)  # a dead cookie is of no further use: the browser drops it
        return token_response(request, pair, cookie=data.cookie)

    @post(
        "/logout/",
        status_code=204,
        operation_id="logout",
        summary="End a session (the refresh token from the body, or else from the refresh cookie)",
        responses=responses(401, 415),
    )
    async def logout(
        self,
        accounts: NamedDependency[AccountService],
        request: Request[Any, Any, Any],
        data: JSONBody[LogoutIn],
    ) -> Response[None]:
        token, from_cookie = presented_refresh(request, data.refresh)
        if not from_cookie:
            await accounts.logout(token)
            return Response(None, status_code=204)
        # The browser is signed out either way: a cookie whose chain already ended is just cleared.
        with contextlib.suppress(InvalidToken):
            await accounts.logout(token)
        return Response(None, status_code=204, cookies=[cleared_cookie(request)])


def _ended(request: Request[Any, Any, Any], error: AuthError) -> Response[ErrorBody]:
    """The error answer of a refresh cookie that no longer works, which also clears it."""
    status, code = status_and_code(error)
    response = error_response(status, code, error.detail, {"WWW-Authenticate": 'Bearer realm="chatcore"'})
    response.set_cookie(cleared_cookie(request))
    return response


class MyAccountController(Controller):
    """The signed-in user's own account: every route needs a bearer access token."""

    path = "/accounts"
    tags = ["accounts"]  # noqa: RUF012
    dependencies = {"user_id": Provide(provide_user_id)}  # noqa: RUF012

    @get(
        "/mypage/",
        operation_id="getMyPage",
        summary="My profile, linked accounts and quota",
        responses=responses(401),
        dependencies=TOKEN_ONLY,
    )
    async def mypage(
        self,
        accounts: NamedDependency[AccountService],
        tutor: NamedDependency[TutorService],
        user_id: NamedDependency[int],
    ) -> MyPageOut:
        profile = await accounts.profile(user_id)
        return await _mypage(tutor, profile)

    @patch(
        "/mypage/",
        operation_id="updateMyPage",
        summary="Change my e-mail (needs the current password)",
        responses=responses(401, 409, 422, 429),
    )
    async def update_mypage(
        self,
        accounts: NamedDependency[AccountService],
        tutor: NamedDependency[TutorService],
        user_id: NamedDependency[int],
        data: JSONBody[MyPageIn],
    ) -> MyPageOut:
        profile = await accounts.update_profile(user_id, email=data.email, password=data.password)
        return await _mypage(tutor, profile)

    @delete(
        "/mypage/",
        status_code=204,
        operation_id="deleteMyAccount",
        summary="Delete my account and everything of mine (needs the password, or the username without one)",
        responses=responses(401, 409, 422, 429),
        dependencies=TOKEN_ONLY,
    )
    async def delete_account(
        self,
        privacy: NamedDependency[PrivacyService],
        user_id: NamedDependency[int],
        data: JSONBody[DeleteAccountIn],
    ) -> None:
        await privacy.delete_account(user_id, password=data.password, confirm=data.confirm)

    @post(
        "/password/",
        status_code=204,
        operation_id="changePassword",
        summary="Change my password (signs out every session)",
        responses=responses(401, 409, 422, 429),
        dependencies=TOKEN_ONLY,
    )
    async def password(
        self,
        accounts: NamedDependency[AccountService],
        user_id: NamedDependency[int],
        data: JSONBody[PasswordIn],
    ) -> None:
        await accounts.change_password(
            user_id,
            old_password=data.old_password,
            new_password=data.new_password,
            new_password2=data.new_password2,
        )

    @post(
        "/api-keys/",
        status_code=201,
        operation_id="createApiKey",
        summary="Create a personal API key for the OpenAI-compatible API (needs the password; shown once)",
        responses=responses(401, 409, 422, 429),
        cache_control=NO_STORE,
    )
    async def create_api_key(
        self,
        accounts: NamedDependency[AccountService],
        user_id: NamedDependency[int],
        data: JSONBody[ApiKeyIn],
    ) -> NewApiKeyOut:
        key, secret = await accounts.create_api_key(user_id, name=data.name, password=data.password)
        return NewApiKeyOut(**msgspec.structs.asdict(ApiKeyOut.of(key)), key=secret)

    @get(
        "/api-keys/",
        operation_id="listApiKeys",
        summary="My API keys (without their secrets)",
        responses=responses(401),
    )
    async def list_api_keys(
        self, accounts: NamedDependency[AccountService], user_id: NamedDependency[int]
    ) -> list[ApiKeyOut]:
        return [ApiKeyOut.of(k) for k in await accounts.list_api_keys(user_id)]

    @delete(
        "/api-keys/{key_id:int}/",
        status_code=204,
        operation_id="deleteApiKey",
        summary="Revoke an API key",
        responses=responses(401, 404),
    )
    async def delete_api_key(
        self, accounts: NamedDependency[AccountService], user_id: NamedDependency[int], key_id: ResourceId
    ) -> None:
        if not await accounts.delete_api_key(user_id, key_id):
            raise ApiKeyNotFound


async def _mypage(tutor: TutorService, profile: Profile) -> MyPageOut:
    user = profile.user
    quota = await tutor.quota(user.id)
    return MyPageOut(
        id=user.id,
        username=user.username,
        email=user.email,
        date_joined=user.date_joined,
        is_admin=user.is_admin,
        linked_accounts=[
            LinkedAccountOut(provider=a.provider.value, login=a.login) for a in profile.linked_accounts
        ],
        quota=QuotaOut.of(quota),
    )
