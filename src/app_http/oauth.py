"""Kakao and GitHub (SPEC §4.1): login, callback, the one-time code, link, unlink, the providers.

The login and the link bind their state to this browser with the HttpOnly ``chatcore_oauth``
cookie (``SameSite=Lax``: it must come back on the provider's redirect, a top-level navigation
from another site). The callback never answers with a JSON error (but 404 for a provider that is
not configured): every outcome is a redirect to the web page, ``/#/oauth?code=...``,
``?linked=<provider>`` or ``?error=<code>``, and a failure is logged in one line that holds no
code, state or token.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
import structlog
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter

from app_http.accounts import NO_STORE
from app_http.auth import provide_user_id
from app_http.errors import status_and_code
from app_http.openapi import responses
from app_http.refresh_cookie import token_response
from app_http.structs import SessionOut, TokenOut
from chatcore.errors import ChatcoreError, ProviderNotFound
from chatcore.oauth import STATE_TTL, OAuthService, Started

log = structlog.get_logger("chatcore.oauth")

BROWSER_COOKIE = "chatcore_oauth"
COOKIE_PATH = "/accounts/oauth/"
MAX_PARAMETER = 2048
"""Longer callback parameters are not the provider's: the login fails as a bad state."""
WEB_PAGE = "/#/oauth"
ProviderName = Annotated[str, PathParameter(max_length=20, description="github or kakao")]


class ProviderOut(msgspec.Struct):
    name: str
    login_url: str


class ProvidersOut(msgspec.Struct):
    providers: list[ProviderOut]


class ExchangeIn(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=256, description="the one-time code of the callback")]
    cookie: Annotated[
        bool, msgspec.Meta(description="the refresh token as an HttpOnly cookie instead of in the JSON")
    ] = False


class LinkOut(msgspec.Struct):
    url: str
    """The provider's authorize URL: send the browser there."""


def _browser_cookie(request: Request[Any, Any, Any], value: str) -> Cookie:
    return Cookie(
        key=BROWSER_COOKIE,
        value=value,
        max_age=int(STATE_TTL.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        # Behind a proxy that ends TLS the request itself looks like http: the public URL says.
        secure=request.url.scheme == "https" or request.app.state.public_url.startswith("https://"),
    )


def _to_web_page(**query: str) -> Response[None]:
    return Response(
        content=None,
        status_code=302,
        headers={"Location": f"{WEB_PAGE}?{urlencode(query)}", "Cache-Control": "no-store"},
    )


def _parameter(request: Request[Any, Any, Any], name: str) -> str | None:
    value = request.query_params.get(name)
    return value if isinstance(value, str) and len(value) <= MAX_PARAMETER else None


def _error_of(request: Request[Any, Any, Any]) -> str | None:
    """The provider's ``error`` parameter (it said no, or failed), cut to a sane length."""
    value = request.query_params.get("error")
    return None if value is None else str(value)[:64]


class OAuthController(Controller):
    """The public half: the providers list, the browser's login round trip, the code exchange."""

    path = "/accounts/oauth"
    tags = ["oauth"]  # noqa: RUF012

    @get(
        "/providers/",
        operation_id="listOAuthProviders",
        summary="The configured login providers (Kakao, GitHub) and where their login starts",
        responses=responses(),
    )
    async def providers(
        self, oauth: NamedDependency[OAuthService], request: Request[Any, Any, Any]
    ) -> ProvidersOut:
        base = request.app.state.public_url
        return ProvidersOut(
            providers=[
                ProviderOut(name=p.value, login_url=f"{base}{self.path}/{p.value}/login")
                for p in oauth.providers()
            ]
        )

    @get(
        "/{provider:str}/login",
        operation_id="startOAuthLogin",
        summary="Log in with a provider: a redirect to it (state and PKCE S256)",
        status_code=302,
        responses=responses(404),
    )
    async def login(
        self, oauth: NamedDependency[OAuthService], request: Request[Any, Any, Any], provider: ProviderName
    ) -> Response[None]:
        started = await oauth.start_login(provider, browser=request.cookies.get(BROWSER_COOKIE))
        return self._to_provider(request, started)

    @staticmethod
    def _to_provider(request: Request[Any, Any, Any], started: Started) -> Response[None]:
        return Response(
            content=None,
            status_code=302,
            headers={"Location": started.url, "Cache-Control": "no-store"},
            cookies=[_browser_cookie(request, started.browser)],
        )

    @get(
        "/{provider:str}/callback",
        operation_id="finishOAuthLogin",
        summary="Where the provider sends the browser back: a redirect to the web page",
        status_code=302,
        responses=responses(404),
    )
    async def callback(
        self, oauth: NamedDependency[OAuthService], request: Request[Any, Any, Any], provider: ProviderName
    ) -> Response[None]:
        try:
            finished = await oauth.finish(
                provider,
                state=_parameter(request, "state"),
                browser=request.cookies.get(BROWSER_COOKIE),
                code=_parameter(request, "code"),
                error=_error_of(request),
            )
        except ProviderNotFound:
            raise
        except ChatcoreError as exc:  # the browser lands on the page, never on a JSON error
            _, code = status_and_code(exc)
            cause = None if exc.__cause__ is None else type(exc.__cause__).__name__
            log.warning("oauth_failed", provider=provider, error=code, cause=cause)
            return _to_web_page(error=code)
        if finished.linked:
            return _to_web_page(linked=finished.provider.value)
        assert finished.code is not None
        return _to_web_page(code=finished.code)

    @post(
        "/exchange/",
        status_code=200,
        operation_id="exchangeOAuthCode",
        summary="Tokens for the one-time code of a provider login (once, within 60 seconds)",
        responses=responses(401),
        cache_control=NO_STORE,
    )
    async def exchange(
        self,
        oauth: NamedDependency[OAuthService],
        request: Request[Any, Any, Any],
        data: JSONBody[ExchangeIn],
    ) -> Response[TokenOut | SessionOut]:
        # With ``"cookie": true`` the refresh token comes as the browser's cookie, as on /accounts/token/.
        return token_response(request, await oauth.exchange(data.code), cookie=data.cookie)


class MyOAuthController(Controller):
    """The signed-in half: link a provider account, unlink one."""

    path = "/accounts/oauth"
    tags = ["oauth"]  # noqa: RUF012
    dependencies = {"user_id": Provide(provide_user_id)}  # noqa: RUF012

    @post(
        "/{provider:str}/link/",
        status_code=200,
        operation_id="linkOAuthProvider",
        summary="Start linking a provider account to mine: the URL to send the browser to",
        responses=responses(401, 404),
        cache_control=NO_STORE,
    )
    async def link(
        self,
        oauth: NamedDependency[OAuthService],
        user_id: NamedDependency[int],
        request: Request[Any, Any, Any],
        provider: ProviderName,
    ) -> Response[LinkOut]:
        started = await oauth.start_link(user_id, provider, browser=request.cookies.get(BROWSER_COOKIE))
        return Response(LinkOut(url=started.url), cookies=[_browser_cookie(request, started.browser)])

    @delete(
        "/{provider:str}/",
        status_code=204,
        operation_id="unlinkOAuthProvider",
        summary="Unlink a provider account (not my last way to log in)",
        responses=responses(401, 404, 409),
    )
    async def unlink(
        self, oauth: NamedDependency[OAuthService], user_id: NamedDependency[int], provider: ProviderName
    ) -> None:
        await oauth.unlink(user_id, provider)
