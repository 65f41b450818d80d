"""Who is calling: the bearer access token (and, for the OpenAI-compatible API, a personal API key)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from chatcore.accounts import API_KEY_PREFIX, AccountService
from chatcore.errors import AuthError


class NotAuthenticated(AuthError):
    default_detail = "Sign in first: send a valid bearer token."


def _bearer(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated
    return token.strip()


def _remember(request: Request[Any, Any, Any], user_id: int) -> int:
    request.scope.setdefault("state", {})["user_id"] = user_id
    return user_id


async def provide_user_id(request: Request[Any, Any, Any], accounts: NamedDependency[AccountService]) -> int:
    """Dependency: the id of the user whose access token came with the request."""
    token = _bearer(request)
    return _remember(request, await accounts.authenticate_user(token))


async def provide_api_user_id(
    request: Request[Any, Any, Any], accounts: NamedDependency[AccountService]
) -> int:
    """Dependency: like ``provide_user_id``, but a personal API key is accepted too."""
    token = _bearer(request)
    if token.startswith(API_KEY_PREFIX):
        return _remember(request, await accounts.authenticate_api_key(token))
    return _remember(request, await accounts.authenticate_user(token))
