"""Kakao and GitHub over HTTP (SPEC §4.1): the login round trip with its browser cookie, the
callback's redirects (never a JSON error), the one-time code, link, unlink, the providers list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar.testing import AsyncTestClient
from structlog.testing import capture_logs

from adapters.identity import JoseTokenService
from adapters.memory import MemoryAttemptLimiter, MemoryStore
from api.conftest import PASSWORD, SECRET, Api
from api.helpers import assert_error
from api.test_refresh_cookie import assert_refresh_cookie
from app_http.app import create_app
from app_http.bootstrap import build_container
from app_http.settings import Settings
from chatcore.errors import ProviderUnavailable
from chatcore.model import LinkedAccount, Provider
from chatcore.ports.oauth import ProviderAccount
from chatcore.testing import ApprovingProvider, FrozenClock, QuickHasher, ScriptedLLM

PUBLIC = "http://practice.example.com"


class OAuthApi(Api):
    kakao: ApprovingProvider
    github: ApprovingProvider

    async def start(self, provider: str = "kakao", *, headers: dict[str, str] | None = None) -> str:
        """Start a login (or, with a bearer token, a link); the provider's URL."""
        if headers is None:
            response = await self.client.get(f"/accounts/oauth/{provider}/login", follow_redirects=False)
            assert response.status_code == 302, response.text
            return str(response.headers["location"])
        response = await self.client.post(f"/accounts/oauth/{provider}/link/", headers=headers)
        assert response.status_code == 200, response.text
        return str(response.json()["url"])

    async def callback(self, provider: str, url: str, **extra: str) -> dict[str, str]:
        """The provider sends the browser back; the query of the web page it lands on."""
        fake = self.kakao if provider == "kakao" else self.github
        query = {"state": parse_qs(urlsplit(url).query)["state"][0], **extra}
        if "error" not in extra:
            query.setdefault("code", fake.approve(url))
        response = await self.client.get(
            f"/accounts/oauth/{provider}/callback", params=query, follow_redirects=False
        )
        assert response.status_code == 302, response.text
        assert response.headers["cache-control"] == "no-store"
        location = urlsplit(response.headers["location"])
        assert (location.path, location.fragment.partition("?")[0]) == ("/", "/oauth")
        return {k: v[0] for k, v in parse_qs(location.fragment.partition("?")[2]).items()}

    async def oauth_login(self, provider: str = "kakao") -> dict[str, Any]:
        landed = await self.callback(provider, await self.start(provider))
        response = await self.client.post("/accounts/oauth/exchange/", json={"code": landed["code"]})
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens


@asynccontextmanager
async def running(tmp_path: Path, public_url: str = PUBLIC) -> AsyncIterator[OAuthApi]:
    clock, llm, store = FrozenClock(), ScriptedLLM(), MemoryStore()
    kakao = ApprovingProvider(
        Provider.KAKAO, ProviderAccount(LinkedAccount(Provider.KAKAO, "1001", "minji"), "minji@kakao.example")
    )
    github = ApprovingProvider(
        Provider.GITHUB, ProviderAccount(LinkedAccount(Provider.GITHUB, "2002", "octo"))
    )
    container = build_container(
        Settings(secret_key=SECRET, data_dir=tmp_path, public_url=public_url),
        clock=clock,
        llm=llm,
        uow=store.unit_of_work,
        hasher=QuickHasher(),
        tokens=JoseTokenService(SECRET, access_ttl=900),
        limiter=MemoryAttemptLimiter(max_failures=5),
        oauth_providers={Provider.KAKAO: kakao, Provider.GITHUB: github},
    )
    async with AsyncTestClient(create_app(container)) as client:
        api = OAuthApi(client=client, container=container, clock=clock, llm=llm, store=store)
        api.kakao, api.github = kakao, github
        yield api


@pytest.fixture
async def oauth_api(tmp_path: Path) -> AsyncIterator[OAuthApi]:
    async with running(tmp_path) as api:
        yield api


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access']}"}


async def test_only_configured_providers_are_listed_with_their_login_url(
    oauth_api: OAuthApi, api: Api
) -> None:
    assert (await api.client.get("/accounts/oauth/providers/")).json() == {"providers": []}
    assert_error(
        await api.client.get("/accounts/oauth/kakao/login", follow_redirects=False), 404, "provider_not_found"
    )

    listed = (await oauth_api.client.get("/accounts/oauth/providers/")).json()["providers"]
    assert listed == [
        {"name": "github", "login_url": f"{PUBLIC}/accounts/oauth/github/login"},
        {"name": "kakao", "login_url": f"{PUBLIC}/accounts/oauth/kakao/login"},
    ]
    assert_error(await oauth_api.client.get("/accounts/oauth/naver/login"), 404, "provider_not_found")


async def test_login_redirects_with_a_short_lived_httponly_browser_cookie(oauth_api: OAuthApi) -> None:
    response = await oauth_api.client.get("/accounts/oauth/kakao/login", follow_redirects=False)

    assert response.status_code == 302
    assert response.headers["location"].startswith("https://kakao.test/authorize?")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("chatcore_oauth=")
    for part in ("HttpOnly", "Path=/accounts/oauth/", "SameSite=lax", "Max-Age=600"):
        assert part in cookie
    assert "Secure" not in cookie


async def test_the_cookie_is_secure_when_the_public_url_is_https(tmp_path: Path) -> None:
    # TLS may end at a proxy in front of the server: the request looks like http, the public URL says.
    async with running(tmp_path, "https://practice.example.com") as api:
        response = await api.client.get("/accounts/oauth/kakao/login", follow_redirects=False)
    assert "Secure" in response.headers["set-cookie"]


async def test_a_login_round_trip_gives_tokens_and_a_linked_account(oauth_api: OAuthApi) -> None:
    tokens = await oauth_api.oauth_login()

    assert tokens["token_type"] == "Bearer"
    page = (await oauth_api.client.get("/accounts/mypage/", headers=bearer(tokens))).json()
    assert page["username"] == "minji"
    assert page["email"] == "minji@kakao.example"
    assert page["linked_accounts"] == [{"provider": "kakao", "login": "minji"}]
    refreshed = await oauth_api.client.post("/accounts/token/refresh/", json={"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    export = (await oauth_api.client.get("/accounts/export/", headers=bearer(tokens))).json()
    assert export["linked_accounts"] == [{"provider": "kakao", "login": "minji"}]
    assert export["profile"]["has_password"] is False


async def test_the_code_works_once_and_takes_the_cookie_flag(oauth_api: OAuthApi) -> None:
    landed = await oauth_api.callback("kakao", await oauth_api.start())
    body = {"code": landed["code"], "cookie": True}

    exchanged = await oauth_api.client.post("/accounts/oauth/exchange/", json=body)
    assert exchanged.status_code == 200
    # As on /accounts/token/: the refresh token is the browser's HttpOnly cookie, not in the JSON.
    assert "refresh" not in exchanged.json()
    cookie = assert_refresh_cookie(exchanged)
    assert_error(await oauth_api.client.post("/accounts/oauth/exchange/", json=body), 401, "invalid_code")
    refreshed = await oauth_api.client.post("/accounts/token/refresh/", json={"refresh": cookie})
    assert refreshed.status_code == 200, refreshed.text
    assert_error(
        await oauth_api.client.post("/accounts/oauth/exchange/", json={"code": 5}), 422, "validation_error"
    )


async def test_the_code_expires_after_60_seconds(oauth_api: OAuthApi) -> None:
    landed = await oauth_api.callback("kakao", await oauth_api.start())
    oauth_api.clock.advance(seconds=61)
    assert_error(
        await oauth_api.client.post("/accounts/oauth/exchange/", json={"code": landed["code"]}),
        401,
        "invalid_code",
    )


async def test_a_callback_in_another_browser_redirects_with_invalid_state_and_logs_one_line(
    oauth_api: OAuthApi,
) -> None:
    url = await oauth_api.start()
    oauth_api.client.cookies.clear()  # the link was opened in another browser
    with capture_logs() as logs:
        landed = await oauth_api.callback("kakao", url)

    assert landed == {"error": "invalid_state"}
    failures = [e for e in logs if e["event"] == "oauth_failed"]
    assert failures == [
        {
            "event": "oauth_failed",
            "provider": "kakao",
            "error": "invalid_state",
            "cause": None,
            "log_level": "warning",
        }
    ]


@pytest.mark.parametrize(
    ("error", "code"), [("access_denied", "access_denied"), ("server_error", "provider_error")]
)
async def test_a_provider_error_redirects_with_its_code(oauth_api: OAuthApi, error: str, code: str) -> None:
    assert await oauth_api.callback("kakao", await oauth_api.start(), error=error) == {"error": code}


async def test_tampered_state_and_unreachable_provider_redirect_cleanly(oauth_api: OAuthApi) -> None:
    url = await oauth_api.start()
    response = await oauth_api.client.get(
        "/accounts/oauth/kakao/callback",
        params={"state": "forged", "code": "x" * 5000},
        follow_redirects=False,
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/#/oauth?error=invalid_state"

    oauth_api.kakao.failure = ProviderUnavailable()
    assert await oauth_api.callback("kakao", url) == {"error": "provider_unavailable"}


async def test_link_and_unlink(oauth_api: OAuthApi) -> None:
    await oauth_api.join("alice")
    alice = bearer(await oauth_api.login("alice"))
    assert_error(await oauth_api.client.post("/accounts/oauth/github/link/"), 401, "not_authenticated")

    assert await oauth_api.callback("github", await oauth_api.start("github", headers=alice)) == {
        "linked": "github"
    }
    page = (await oauth_api.client.get("/accounts/mypage/", headers=alice)).json()
    assert page["linked_accounts"] == [{"provider": "github", "login": "octo"}]
    github_login = await oauth_api.oauth_login("github")
    assert (await oauth_api.client.get("/accounts/mypage/", headers=bearer(github_login))).json()[
        "id"
    ] == page["id"]

    await oauth_api.join("bob")
    bob = bearer(await oauth_api.login("bob"))
    landed = await oauth_api.callback("github", await oauth_api.start("github", headers=bob))
    assert landed == {"error": "already_linked"}

    assert (await oauth_api.client.delete("/accounts/oauth/github/", headers=alice)).status_code == 204
    assert_error(await oauth_api.client.delete("/accounts/oauth/github/", headers=alice), 404, "not_linked")
    assert_error(
        await oauth_api.client.delete("/accounts/oauth/naver/", headers=alice), 404, "provider_not_found"
    )


async def test_an_oauth_only_user_keeps_a_way_in_and_can_set_a_first_password(oauth_api: OAuthApi) -> None:
    headers = bearer(await oauth_api.oauth_login("kakao"))
    assert_error(
        await oauth_api.client.delete("/accounts/oauth/kakao/", headers=headers), 409, "last_login_method"
    )

    new = {"new_password": "first pass 123", "new_password2": "first pass 123"}
    assert (await oauth_api.client.post("/accounts/password/", json=new, headers=headers)).status_code == 204
    assert_error(
        await oauth_api.client.post("/accounts/password/", json=new, headers=headers), 422, "validation_error"
    )
    tokens = await oauth_api.login("minji", "first pass 123")
    assert (
        await oauth_api.client.delete("/accounts/oauth/kakao/", headers=bearer(tokens))
    ).status_code == 204


async def test_a_password_user_still_needs_the_old_password(oauth_api: OAuthApi) -> None:
    headers = await oauth_api.user("alice")
    new = {"new_password": "other pass 456", "new_password2": "other pass 456"}
    assert_error(
        await oauth_api.client.post("/accounts/password/", json=new, headers=headers), 422, "validation_error"
    )
    body = {**new, "old_password": PASSWORD}
    assert (await oauth_api.client.post("/accounts/password/", json=body, headers=headers)).status_code == 204
