"""The browser's refresh token (SPEC §8): an HttpOnly cookie instead of a JSON field.

A body with ``"cookie": true`` on ``/accounts/token/``, ``/accounts/token/refresh/`` (and the
OAuth code exchange) gets the refresh token as the ``chatcore_refresh`` cookie: HttpOnly (page
scripts cannot read it), ``SameSite=Strict``, ``Path=/accounts/`` (sent to nothing else), Secure
when the request came over https or the service's public URL is https (behind a TLS proxy).
The refresh and logout endpoints read it when their body has no ``refresh``.

Cross-site request forgery: ``SameSite=Strict`` keeps the cookie off every request another site
starts. A sibling site on the same registrable domain is "same site", though, so a request that
uses the cookie must also say ``Content-Type: application/json``, which an HTML form cannot send
and a script of another origin cannot send without a CORS preflight that this server refuses
(unless the operator lists that origin in ``CHATCORE_CORS_ORIGINS``). The responses are JSON
that only the page's own origin can read.

Without ``"cookie": true`` nothing changes: the tokens are in the JSON, as API clients expect.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException

from app_http.structs import SessionOut, TokenOut
from chatcore.accounts import TokenPair
from chatcore.errors import InvalidToken

REFRESH_COOKIE = "chatcore_refresh"
COOKIE_PATH = "/accounts/"


class NoRefreshToken(InvalidToken):
    default_detail = "No refresh token: send it in the body as refresh, or sign in again."


class JsonRequired(HTTPException):
    status_code = 415
    detail = "A request that uses the refresh cookie must have Content-Type: application/json."


def _secure(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https" or bool(request.app.state.https_public_url)


def refresh_cookie(request: Request[Any, Any, Any], token: str) -> Cookie:
    """The cookie that carries ``token``, kept as long as the refresh token lives."""
    return Cookie(
        key=REFRESH_COOKIE,
        value=token,
        max_age=int(request.app.state.refresh_token_ttl),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def cleared_cookie(request: Request[Any, Any, Any]) -> Cookie:
    """The same cookie, expired: the browser forgets it."""
    return Cookie(
        key=REFRESH_COOKIE,
        value="",
        max_age=0,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def presented_refresh(request: Request[Any, Any, Any], body_token: str | None) -> tuple[str, bool]:
    """The refresh token of a request and whether it came from the cookie: the body's when it has
    one, else the cookie's (only on a JSON request). Raises ``NoRefreshToken`` without either."""
    if body_token is not None:
        return body_token, False
    token = request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise NoRefreshToken
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise JsonRequired
    return token, True


def token_response(
    request: Request[Any, Any, Any],
    pair: TokenPair,
    *,
    cookie: bool,
    cookies: list[Cookie] | None = None,
) -> Response[Any]:
    """The answer of a login or refresh: the tokens in the JSON, or, with ``cookie``, the access
    token in the JSON and the refresh token in the cookie."""
    extra = list(cookies or [])
    body: msgspec.Struct
    if cookie:
        body = SessionOut(access=pair.access, expires_in=pair.expires_in)
        extra.append(refresh_cookie(request, pair.refresh))
    else:
        body = TokenOut.of(pair)
    return Response(body, cookies=extra)
