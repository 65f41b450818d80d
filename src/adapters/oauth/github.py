"""GitHub OAuth apps: the token endpoint answers JSON (``Accept: application/json``), errors
included, with status 200 and an ``error`` field; the account is GitHub's numeric ``id`` (the
``login`` can change hands), the e-mail the verified primary one of ``/user/emails``."""

from __future__ import annotations

from typing import Any

import httpx2

from adapters.oauth.client import (
    MAX_LOGIN,
    OAuthClientConfig,
    authorization_url,
    fetch_token,
    get_json,
    numeric_id,
    session,
)
from chatcore.errors import ProviderError
from chatcore.model import LinkedAccount, Provider
from chatcore.ports.oauth import ProviderAccount

SCOPE = "read:user user:email"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class GitHubOAuthProvider:
    name = Provider.GITHUB

    def __init__(self, config: OAuthClientConfig) -> None:
        self._config = config

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        return authorization_url(self._config, scope=SCOPE, state=state, code_verifier=code_verifier)

    async def fetch_account(self, *, code: str, code_verifier: str) -> ProviderAccount:
        async with session(self._config) as client:
            await fetch_token(client, self._config, code=code, code_verifier=code_verifier)
            user = await get_json(client, self._config.userinfo_url, headers=API_HEADERS)
            email = await self._verified_primary(client)
        if not isinstance(user, dict) or not isinstance(user.get("login"), str) or not user["login"]:
            raise ProviderError("GitHub did not say who signed in.")
        account = LinkedAccount(
            provider=Provider.GITHUB, subject=numeric_id(user.get("id")), login=user["login"][:MAX_LOGIN]
        )
        return ProviderAccount(account=account, email=email)

    async def _verified_primary(self, client: Any) -> str | None:
        """The primary address if GitHub verified it; ``None`` when there is none or the app
        may not read them (an account without e-mail is fine)."""
        try:
            emails = await get_json(
                client, self._config.userinfo_url.rstrip("/") + "/emails", headers=API_HEADERS
            )
        except (httpx2.HTTPStatusError, ValueError):
            return None
        for entry in emails if isinstance(emails, list) else []:
            if isinstance(entry, dict) and entry.get("primary") is True and entry.get("verified") is True:
                address = entry.get("email")
                return address if isinstance(address, str) else None
        return None
