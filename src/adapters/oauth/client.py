"""What both providers share: their configuration, one authlib client per login, and the
translation of every library error into chatcore's (``ProviderError``, ``ProviderUnavailable``).

A client is made for each call and closed after it: authlib's client keeps the token it fetched
on itself, which must never be shared between two users' logins.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from chatcore.errors import ProviderError, ProviderUnavailable


@dataclass(frozen=True, slots=True)
class OAuthClientConfig:
    """One registered OAuth app and the endpoints it talks to."""

    client_id: str
    client_secret: str = field(repr=False)
    authorize_url: str
    token_url: str
    userinfo_url: str
    redirect_uri: str
    """The callback URL registered with the provider."""
    timeout: float = 10.0
    """Seconds a whole code exchange (token and account calls) may take."""


def authorization_url(config: OAuthClientConfig, *, scope: str | None, state: str, code_verifier: str) -> str:
    """The authorize URL with ``state`` and the S256 challenge of ``code_verifier``."""
    client = AsyncOAuth2Client(
        config.client_id,
        redirect_uri=config.redirect_uri,
        scope=scope,
        code_challenge_method="S256",
    )
    url, _ = client.create_authorization_url(config.authorize_url, state=state, code_verifier=code_verifier)
    return str(url)


@asynccontextmanager
async def session(config: OAuthClientConfig) -> AsyncIterator[Any]:
    """An ``AsyncOAuth2Client`` that sends the client secret in the form body
    (``client_secret_post``: Kakao refuses it in a Basic header), with a deadline on the whole
    block; every library error leaves it as ``ProviderError`` or ``ProviderUnavailable``."""
    client = AsyncOAuth2Client(
        config.client_id,
        config.client_secret,
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name, not a secret)
        redirect_uri=config.redirect_uri,
        code_challenge_method="S256",
        timeout=httpx2.Timeout(config.timeout),
        follow_redirects=False,
    )
    try:
        async with asyncio.timeout(config.timeout):
            yield client
    except (TimeoutError, httpx2.TransportError) as exc:  # slow, refused, reset, DNS
        raise ProviderUnavailable from exc
    except httpx2.HTTPStatusError as exc:
        status = exc.response.status_code
        raise (ProviderUnavailable if status >= 500 or status == 429 else ProviderError) from exc
    # An error answer, or a broken one (JSON nested too deep for the parser: RecursionError).
    except (OAuthError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ProviderError from exc
    finally:
        await client.aclose()


async def fetch_token(client: Any, config: OAuthClientConfig, *, code: str, code_verifier: str) -> None:
    """Exchange the code; the token stays on ``client`` for the account calls."""
    await client.fetch_token(
        config.token_url,
        grant_type="authorization_code",
        code=code,
        code_verifier=code_verifier,
        headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
    )


async def get_json(client: Any, url: str, *, headers: dict[str, str] | None = None) -> Any:
    """A bearer-authenticated GET whose answer must be 2xx JSON."""
    response = await client.get(url, headers=headers)
    response.raise_for_status()
    return response.json()


MAX_ID = 2**63 - 1
"""Kakao's and GitHub's ids are positive 64-bit integers."""
MAX_LOGIN = 255
"""The longest login or nickname kept (the stored column's length)."""


def numeric_id(value: object) -> str:
    """The provider's numeric account id as text; anything else is a broken answer: 0 (a
    default, which would make every such login one user), a negative or an oversized one."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise ProviderError("The provider did not say who signed in.")
    return str(value)
