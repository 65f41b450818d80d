"""Kakao and GitHub login through the real server, 2 workers on PostgreSQL, against the fake
providers in processes of their own (SPEC §4.1). Each request of a login goes out on its own
connection, so the steps of one login are answered by whichever worker the server picks: the
state, the PKCE verifier and the one-time code must live in the database.

A browser is an ``httpx.AsyncClient`` with its own cookie jar; the web page is where the callback
finally redirects (``/#/oauth?...``), read from the ``Location`` header.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import httpx
import pytest

from e2e.server import Server, base_env, chatcore_binary, running_server
from fakes.fake_oauth_process import FakeOAuthProcess

PASSWORD = "e2e password 1"
OAUTH_TIMEOUT = "2"


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def execute(dsn: str, statement: str) -> str:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        result: str = await connection.execute(statement)
    finally:
        await connection.close()
    return result


@dataclass
class Stack:
    server: Server
    kakao: FakeOAuthProcess
    github: FakeOAuthProcess
    database: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One server for the module: a fresh database, Kakao on one fake, GitHub on another."""
    base = os.environ.get("CHATCORE_TEST_POSTGRES_URL", "")
    if not base:
        if os.environ.get("CHATCORE_REQUIRE_POSTGRES") == "1":
            pytest.fail("CHATCORE_REQUIRE_POSTGRES=1 but CHATCORE_TEST_POSTGRES_URL is not set")
        pytest.skip("CHATCORE_TEST_POSTGRES_URL is not set")
    name = f"chatcore_e2e_oauth_{secrets.token_hex(4)}"
    admin = plain_dsn(base)
    asyncio.run(execute(admin, f'CREATE DATABASE "{name}"'))
    database = base.rsplit("/", 1)[0] + f"/{name}"
    try:
        with FakeOAuthProcess() as kakao, FakeOAuthProcess() as github:
            providers = {k: v for k, v in kakao.settings().items() if "_KAKAO_" in k}
            providers |= {k: v for k, v in github.settings().items() if "_GITHUB_" in k}
            env = base_env(
                tmp_path_factory.mktemp("data"),
                CHATCORE_DATABASE_URL=database,
                CHATCORE_WORKERS="2",
                CHATCORE_OAUTH_TIMEOUT=OAUTH_TIMEOUT,
            )
            env.update(providers)
            migrated = subprocess.run(
                [chatcore_binary(), "migrate"], env=env, capture_output=True, timeout=120, check=False
            )
            assert migrated.returncode == 0, migrated.stderr
            with running_server(env) as server:
                yield Stack(server=server, kakao=kakao, github=github, database=database)
                assert "Traceback" not in server.log(), server.log()
    finally:
        asyncio.run(execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Browser:
    """One browser: its own cookies; every request on a fresh connection (any worker)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.cookies = httpx.Cookies()

    async def get(self, url: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.server.url, cookies=self.cookies, timeout=30) as client:
            response = await client.get(url)
            self.cookies.update(client.cookies)
        assert response.status_code in (302, 404), response.text
        return response

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.server.url, cookies=self.cookies, timeout=30) as client:
            response = await client.post(url, **kwargs)
            self.cookies.update(client.cookies)
        return response

    async def start(self, provider: str) -> str:
        """Open the login; the callback URL the provider sends this browser back to."""
        to_provider = (await self.get(f"/accounts/oauth/{provider}/login")).headers["location"]
        return await self.at_provider(to_provider)

    async def at_provider(self, url: str) -> str:
        back = (await self.get(url)).headers["location"]
        assert back.startswith(f"{self.server.url}/accounts/oauth/"), back
        return str(back)

    async def land(self, callback: str) -> dict[str, str]:
        """Follow the callback; the query of the web page it redirects to."""
        location = urlsplit((await self.get(callback)).headers["location"])
        assert location.path == "/"
        page, _, query = location.fragment.partition("?")
        assert page == "/oauth"
        return {k: v[0] for k, v in parse_qs(query).items()}

    async def login(self, provider: str = "kakao") -> dict[str, Any]:
        landed = await self.land(await self.start(provider))
        assert "code" in landed, landed
        response = await self.post("/accounts/oauth/exchange/", json={"code": landed["code"]})
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    async def me(self, tokens: dict[str, Any]) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=30) as client:
            response = await client.get("/accounts/mypage/", headers=bearer(tokens))
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access']}"}


def with_state(callback: str, state: str) -> str:
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"state": state}
    return parts._replace(query=urlencode(query)).geturl()


@pytest.mark.e2e
async def test_first_login_creates_a_user_and_the_second_finds_it(stack: Stack) -> None:
    stack.kakao.configure(mode="ok", kakao_user={"id": 100, "login": "minji", "email": "minji@example.com"})
    browser = Browser(stack.server)

    first = await browser.me(await browser.login())
    second = await browser.me(await Browser(stack.server).login())

    assert first["id"] == second["id"]
    assert (first["username"], first["email"]) == ("minji", "minji@example.com")
    assert first["linked_accounts"] == [{"provider": "kakao", "login": "minji"}]
    token = [r for r in stack.kakao.requests() if r["path"] == "/kakao/token"][-1]
    assert token["form"]["client_secret"] == "kakao-client-secret"  # the secret in the form body
    assert "authorization" not in token["headers"]
    assert len(token["form"]["code_verifier"]) == 43


@pytest.mark.e2e
async def test_two_provider_users_with_one_email_stay_two_users(stack: Stack) -> None:
    stack.kakao.configure(mode="ok", kakao_user={"id": 201, "login": "twin", "email": "twin@example.com"})
    one = await Browser(stack.server).me(await Browser(stack.server).login())
    stack.kakao.configure(kakao_user={"id": 202, "login": "twin", "email": "twin@example.com"})
    browser = Browser(stack.server)
    two = await browser.me(await browser.login())

    assert one["id"] != two["id"]
    assert (one["username"], two["username"]) == ("twin", "twin_2")
    assert (one["email"], two["email"]) == ("twin@example.com", None)


@pytest.mark.e2e
async def test_tampered_state_and_another_browsers_cookie_are_refused(stack: Stack) -> None:
    stack.kakao.configure(mode="ok", kakao_user={"id": 300, "login": "haneul"})
    browser = Browser(stack.server)
    callback = await browser.start("kakao")

    assert await browser.land(with_state(callback, "tampered")) == {"error": "invalid_state"}
    assert await Browser(stack.server).land(callback) == {"error": "invalid_state"}  # no cookie
    stranger = Browser(stack.server)
    await stranger.start("kakao")  # a cookie of its own
    assert await stranger.land(callback) == {"error": "invalid_state"}

    landed = await browser.land(callback)  # the browser that started it still can, once
    assert "code" in landed
    assert await browser.land(callback) == {"error": "invalid_state"}


@pytest.mark.e2e
async def test_of_concurrent_callbacks_with_one_state_exactly_one_logs_in(stack: Stack) -> None:
    stack.kakao.configure(mode="ok", kakao_user={"id": 350, "login": "raced"})
    browser = Browser(stack.server)
    callback = await browser.start("kakao")
    landed = await asyncio.gather(*(browser.land(callback) for _ in range(6)))
    assert sorted("code" in page for page in landed) == [False] * 5 + [True]
    assert [page for page in landed if "code" not in page] == [{"error": "invalid_state"}] * 5


@pytest.mark.e2e
async def test_the_code_works_once_and_not_after_60_seconds(stack: Stack) -> None:
    stack.kakao.configure(mode="ok", kakao_user={"id": 400, "login": "dana"})
    browser = Browser(stack.server)
    code = (await browser.land(await browser.start("kakao")))["code"]
    # Carried to another browser (a login CSRF), the code is refused there and not spent.
    carried = await Browser(stack.server).post("/accounts/oauth/exchange/", json={"code": code})
    assert (carried.status_code, carried.json()["code"]) == (401, "invalid_code")
    exchanges = await asyncio.gather(
        *(browser.post("/accounts/oauth/exchange/", json={"code": code, "cookie": True}) for _ in range(6))
    )
    assert sorted(r.status_code for r in exchanges) == [200] + [401] * 5
    assert {r.json()["code"] for r in exchanges if r.status_code == 401} == {"invalid_code"}

    late = (await browser.land(await browser.start("kakao")))["code"]
    # The server's clock cannot be moved: the code's stored expiry is moved 61 s back instead.
    moved = await execute(
        plain_dsn(stack.database), "UPDATE oauth_codes SET expires_at = expires_at - interval '61 seconds'"
    )
    assert moved.startswith("UPDATE ")
    refused = await browser.post("/accounts/oauth/exchange/", json={"code": late})
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_code")


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("deny", "access_denied"),
        ("error", "provider_error"),
        ("slow", "provider_unavailable"),
        ("unavailable", "provider_unavailable"),
    ],
)
async def test_provider_failures_redirect_cleanly(stack: Stack, mode: str, error: str) -> None:
    stack.kakao.configure(mode=mode, delay=float(OAUTH_TIMEOUT) + 3, kakao_user={"id": 500, "login": "eun"})
    browser = Browser(stack.server)
    try:
        callback = await browser.start("kakao")
        assert await browser.land(callback) == {"error": error}
    finally:
        stack.kakao.configure(mode="ok")
    secrets_sent = [v[0] for k, v in parse_qs(urlsplit(callback).query).items() if k in ("state", "code")]
    log = stack.server.log()
    assert "oauth_failed" in log
    assert secrets_sent
    assert not [s for s in secrets_sent if s in log]  # neither the state nor the code is logged


@pytest.mark.e2e
async def test_link_and_unlink(stack: Stack) -> None:
    stack.kakao.configure(mode="ok", kakao_user={"id": 600, "login": "jiwoo-k"})
    browser = Browser(stack.server)
    join = {"username": "jiwoo", "email": "jiwoo@example.com", "password": PASSWORD, "password2": PASSWORD}
    assert (await browser.post("/accounts/join/", json=join)).status_code == 201
    tokens = (await browser.post("/accounts/token/", json={"username": "jiwoo", "password": PASSWORD})).json()

    started = await browser.post("/accounts/oauth/kakao/link/", headers=bearer(tokens))
    assert started.status_code == 200, started.text
    assert await browser.land(await browser.at_provider(started.json()["url"])) == {"linked": "kakao"}
    assert (await browser.me(tokens))["linked_accounts"] == [{"provider": "kakao", "login": "jiwoo-k"}]
    assert (await browser.me(await Browser(stack.server).login()))["username"] == "jiwoo"

    other = Browser(stack.server)
    assert (
        await other.post("/accounts/join/", json={**join, "username": "mina", "email": "m@example.com"})
    ).status_code == 201
    mina = (await other.post("/accounts/token/", json={"username": "mina", "password": PASSWORD})).json()
    again = await other.post("/accounts/oauth/kakao/link/", headers=bearer(mina))
    assert await other.land(await other.at_provider(again.json()["url"])) == {"error": "already_linked"}

    async with httpx.AsyncClient(base_url=stack.server.url, timeout=30) as client:
        assert (await client.delete("/accounts/oauth/kakao/", headers=bearer(tokens))).status_code == 204
    stack.kakao.configure(kakao_user={"id": 601, "login": "only-kakao"})
    only = await Browser(stack.server).login()
    async with httpx.AsyncClient(base_url=stack.server.url, timeout=30) as client:
        refused = await client.delete("/accounts/oauth/kakao/", headers=bearer(only))
    assert (refused.status_code, refused.json()["code"]) == (409, "last_login_method")


@pytest.mark.e2e
async def test_github_logs_in_and_an_unreachable_github_redirects_cleanly(stack: Stack) -> None:
    stack.github.configure(github_user={"id": 700, "login": "octo-e2e", "email": "octo@example.com"})
    browser = Browser(stack.server)
    page = await browser.me(await browser.login("github"))
    assert page["linked_accounts"] == [{"provider": "github", "login": "octo-e2e"}]
    token = [r for r in stack.github.requests() if r["path"] == "/github/token"][-1]
    assert token["headers"]["accept"] == "application/json"

    callback = await browser.start("github")
    stack.github.stop()  # GitHub is down: nothing listens any more
    assert await browser.land(callback) == {"error": "provider_unavailable"}
