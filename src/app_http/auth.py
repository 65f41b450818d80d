"""Who is calling: the bearer access token (and, for the OpenAI-compatible API, a personal API key).

A valid access token of an account deleted since must be refused at once, on every worker, and
the token itself cannot tell. So by default the user's row is read too (``provide_user_id``,
one primary-key read, about 0.5 ms: bench/auth_lookup.py). Handlers whose use case reads that row
anyway, first, and raises ``AccountGone`` without it (the counted requests, which read the
user's daily limit; my page; the quota) take ``provide_token_user_id`` instead and save the read.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

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
    """Dependency: the id of the user whose access token came with the request (who exists)."""
    token = _bearer(request)
    return _remember(request, await accounts.authenticate_user(token))


async def provide_token_user_id(
    request: Request[Any, Any, Any], accounts: NamedDependency[AccountService]
) -> int:
    """Dependency: the user id the access token names, unchecked against the database. Only for
    handlers whose use case reads the user's row before anything else and raises
    ``AccountGone`` when it is missing."""
    return _remember(request, accounts.authenticate(_bearer(request)))


async def provide_api_user_id(
    request: Request[Any, Any, Any], accounts: NamedDependency[AccountService]
) -> int:
    """Dependency: like ``provide_user_id``, but a personal API key is accepted too."""
    token = _bearer(request)
    if token.startswith(API_KEY_PREFIX):
        return _remember(request, await accounts.authenticate_api_key(token))
    return _remember(request, await accounts.authenticate_user(token))


async def provide_api_token_user_id(
    request: Request[Any, Any, Any], accounts: NamedDependency[AccountService]
) -> int:
    """Dependency: like ``provide_token_user_id``, but a personal API key is accepted too (the
    key's own lookup already fails for a deleted account: its keys went with it)."""
    token = _bearer(request)
    if token.startswith(API_KEY_PREFIX):
        return _remember(request, await accounts.authenticate_api_key(token))
    return _remember(request, accounts.authenticate(token))


TOKEN_ONLY = {"user_id": Provide(provide_token_user_id)}
"""Handler-level dependencies for the handlers described in the module docstring."""
API_TOKEN_ONLY = {"user_id": Provide(provide_api_token_user_id)}
