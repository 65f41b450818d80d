"""The OAuth provider port (GitHub, Kakao): the authorization URL, then the account behind a code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chatcore.model import LinkedAccount, Provider


@dataclass(frozen=True, slots=True)
class ProviderAccount:
    """Who the provider says signed in."""

    account: LinkedAccount
    """The provider's stable numeric id (``subject``) and its login or nickname."""
    email: str | None = None
    """An address the provider says it has verified, or ``None``. Never used to find a user."""


class OAuthProvider(Protocol):
    """An OAuth2 provider (GitHub, Kakao) used with ``state`` and PKCE (S256). The adapter knows
    its client id and secret, its endpoints and the redirect URI registered with the provider.

    ``fetch_account`` raises ``ProviderError`` when the provider refuses (a bad code, a wrong
    verifier, an error answer) and ``ProviderUnavailable`` when it cannot be reached in time.
    """

    name: Provider

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        """Where to send the browser: the provider's authorize URL with ``state`` and the S256
        challenge of ``code_verifier`` (no network call)."""
        ...

    async def fetch_account(self, *, code: str, code_verifier: str) -> ProviderAccount:
        """Exchange the authorization code (with the PKCE verifier) and read the account."""
        ...
