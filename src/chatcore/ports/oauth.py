"""The OAuth provider port (GitHub, Kakao): authorization with state and PKCE, then the account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chatcore.model import (
    LinkedAccount,
    Provider,
)


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


class OAuthProvider(Protocol):
    """An OAuth2 provider (GitHub, Kakao) with state and PKCE (S256)."""

    name: Provider

    async def authorization_request(self, *, redirect_uri: str) -> AuthorizationRequest: ...

    async def fetch_account(self, *, code: str, code_verifier: str, redirect_uri: str) -> LinkedAccount:
        """Exchange the code and read the provider's stable account id and login."""
        ...
