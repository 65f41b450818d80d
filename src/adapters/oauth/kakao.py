"""Kakao Login (REST API): the app's REST API key is the client id; the client secret goes in the
form body; the account is Kakao's numeric ``id``; the e-mail only when Kakao has verified it.

No ``scope`` is sent: Kakao then asks for the consent items configured for the app (the
nickname, and the e-mail when the app has that item), so an app without ``account_email``
still works.
"""

from __future__ import annotations

from typing import Any

from adapters.oauth.client import (
    MAX_LOGIN,
    OAuthClientConfig,
    authorization_url,
    fetch_token,
    get_json,
    numeric_id,
    session,
)
from chatcore.model import LinkedAccount, Provider
from chatcore.ports.oauth import ProviderAccount


class KakaoOAuthProvider:
    name = Provider.KAKAO

    def __init__(self, config: OAuthClientConfig) -> None:
        self._config = config

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        return authorization_url(self._config, scope=None, state=state, code_verifier=code_verifier)

    async def fetch_account(self, *, code: str, code_verifier: str) -> ProviderAccount:
        async with session(self._config) as client:
            await fetch_token(client, self._config, code=code, code_verifier=code_verifier)
            me = await get_json(client, self._config.userinfo_url)
        return account_of(me)


def account_of(me: Any) -> ProviderAccount:
    """The account in a ``/v2/user/me`` answer."""
    subject = numeric_id(me.get("id") if isinstance(me, dict) else None)
    kakao = me.get("kakao_account")
    kakao = kakao if isinstance(kakao, dict) else {}
    profile = kakao.get("profile")
    nickname = profile.get("nickname") if isinstance(profile, dict) else None
    login = nickname.strip()[:MAX_LOGIN] if isinstance(nickname, str) and nickname.strip() else subject
    email = kakao.get("email")
    verified = (
        isinstance(email, str)
        and kakao.get("is_email_verified") is True
        and kakao.get("is_email_valid", True) is True
    )
    return ProviderAccount(
        account=LinkedAccount(provider=Provider.KAKAO, subject=subject, login=login),
        email=email if verified else None,
    )
