"""The web page's refresh token as an HttpOnly cookie (SPEC §8): asked for with ``"cookie": true``,
read by refresh and logout when the body has no ``refresh``; API clients see no change."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from adapters.identity import JoseTokenService
from adapters.memory import MemoryAttemptLimiter, MemoryStore
from api.conftest import PASSWORD, SECRET, Api
from api.helpers import assert_error
from app_http.app import create_app
from app_http.bootstrap import build_container
from app_http.refresh_cookie import REFRESH_COOKIE
from app_http.settings import Settings
from chatcore.testing import FrozenClock, QuickHasher, ScriptedLLM

LOGIN = {"username": "minji", "password": PASSWORD}


def set_cookies(response: Any) -> dict[str, Any]:
    """The cookies a response sets, by name (each a ``Morsel``: value and attributes)."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return dict(jar)


def assert_refresh_cookie(response: Any, *, secure: bool = False) -> str:
    cookie = set_cookies(response)[REFRESH_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/accounts/"
    assert int(cookie["max-age"]) == 1_209_600
    assert bool(cookie["secure"]) is secure
    assert cookie.value
    return str(cookie.value)


def assert_cleared(response: Any) -> None:
    cookie = set_cookies(response)[REFRESH_COOKIE]
    assert cookie.value == ""
    assert int(cookie["max-age"]) == 0
    assert cookie["path"] == "/accounts/"


async def cookie_login(api: Api) -> tuple[dict[str, Any], str]:
    await api.join()
    response = await api.client.post("/accounts/token/", json={**LOGIN, "cookie": True})
    assert response.status_code == 200, response.text
    return response.json(), assert_refresh_cookie(response)


async def test_login_with_cookie_puts_the_refresh_token_in_an_httponly_cookie(api: Api) -> None:
    body, token = await cookie_login(api)
    assert set(body) == {"access", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert token not in str(body)
    # The device cookie of the login throttle is still set, on its own path.
    assert api.client.cookies.get("chatcore_device", path="/accounts/token/")


async def test_api_clients_keep_json_tokens_and_get_no_refresh_cookie(api: Api) -> None:
    await api.join()
    response = await api.client.post("/accounts/token/", json=LOGIN)
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh", "expires_in", "token_type"}
    assert REFRESH_COOKIE not in set_cookies(response)
    refreshed = await api.client.post(
        "/accounts/token/refresh/", json={"refresh": response.json()["refresh"]}
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh"]
    assert REFRESH_COOKIE not in set_cookies(refreshed)


async def test_refresh_by_cookie_rotates_the_cookie(api: Api) -> None:
    _, first = await cookie_login(api)
    response = await api.client.post("/accounts/token/refresh/", json={"cookie": True})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"access", "expires_in", "token_type"}
    second = assert_refresh_cookie(response)
    assert second != first
    me = await api.client.get(
        "/accounts/mypage/", headers={"Authorization": f"Bearer {response.json()['access']}"}
    )
    assert me.status_code == 200
    # The client's jar now holds the new token and it works again.
    again = await api.client.post("/accounts/token/refresh/", json={"cookie": True})
    assert again.status_code == 200
    assert assert_refresh_cookie(again) not in (first, second)


async def test_a_reused_cookie_revokes_the_chain_and_is_cleared(api: Api) -> None:
    _, first = await cookie_login(api)
    assert (await api.client.post("/accounts/token/refresh/", json={"cookie": True})).status_code == 200
    api.client.cookies.set(REFRESH_COOKIE, first, path="/accounts/")
    response = await api.client.post("/accounts/token/refresh/", json={"cookie": True})
    assert_error(response, 401, "token_reused")
    assert_cleared(response)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_body_token_wins_over_the_cookie(api: Api) -> None:
    await cookie_login(api)
    other = await api.login()
    response = await api.client.post("/accounts/token/refresh/", json={"refresh": other["refresh"]})
    assert response.status_code == 200
    assert response.json()["refresh"]
    # The cookie's own chain was not touched.
    assert (await api.client.post("/accounts/token/refresh/", json={"cookie": True})).status_code == 200


async def test_no_token_anywhere_is_401(api: Api) -> None:
    assert_error(
        await api.client.post("/accounts/token/refresh/", json={"cookie": True}), 401, "invalid_token"
    )
    assert_error(await api.client.post("/accounts/logout/", json={}), 401, "invalid_token")


async def test_the_cookie_is_used_only_by_json_requests(api: Api) -> None:
    """A form another site posts cannot use it: the request must say application/json."""
    await cookie_login(api)
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ):
        for path in ("/accounts/token/refresh/", "/accounts/logout/"):
            response = await api.client.post(path, content=b"{}", headers={"Content-Type": content_type})
            assert_error(response, 415, "unsupported_media_type")
    # Nothing was used up or ended.
    assert (await api.client.post("/accounts/token/refresh/", json={"cookie": True})).status_code == 200


async def test_logout_by_cookie_ends_the_chain_and_clears_the_cookie(api: Api) -> None:
    _, token = await cookie_login(api)
    response = await api.client.post("/accounts/logout/", json={})
    assert response.status_code == 204
    assert_cleared(response)
    assert_error(
        await api.client.post("/accounts/token/refresh/", json={"refresh": token}), 401, "invalid_token"
    )
    # A browser that still sends a dead cookie is signed out all the same.
    api.client.cookies.set(REFRESH_COOKIE, token, path="/accounts/")
    again = await api.client.post("/accounts/logout/", json={})
    assert again.status_code == 204
    assert_cleared(again)
    api.client.cookies.set(REFRESH_COOKIE, "garbage", path="/accounts/")
    assert (await api.client.post("/accounts/logout/", json={})).status_code == 204


async def test_logout_by_body_token_is_unchanged(api: Api) -> None:
    await api.join()
    tokens = await api.login()
    response = await api.client.post("/accounts/logout/", json={"refresh": tokens["refresh"]})
    assert response.status_code == 204
    assert REFRESH_COOKIE not in set_cookies(response)
    assert_error(
        await api.client.post("/accounts/logout/", json={"refresh": "garbage"}), 401, "invalid_token"
    )


async def test_cookie_flag_must_be_a_boolean(api: Api) -> None:
    await api.join()
    assert_error(
        await api.client.post("/accounts/token/", json={**LOGIN, "cookie": "yes"}), 422, "validation_error"
    )


async def _client(tmp_path: Path, *, base_url: str, public_url: str = "") -> AsyncTestClient[Any]:
    settings = Settings(secret_key=SECRET, data_dir=tmp_path, public_url=public_url)
    store = MemoryStore()
    container = build_container(
        settings,
        clock=FrozenClock(),
        llm=ScriptedLLM(),
        uow=store.unit_of_work,
        hasher=QuickHasher(),
        tokens=JoseTokenService(SECRET, access_ttl=900),
        limiter=MemoryAttemptLimiter(max_failures=5),
    )
    return AsyncTestClient(create_app(container), base_url=base_url)


async def _login_cookie(client: AsyncTestClient[Any]) -> Any:
    join = {"username": "minji", "email": "minji@example.com", "password": PASSWORD, "password2": PASSWORD}
    assert (await client.post("/accounts/join/", json=join)).status_code == 201
    response = await client.post("/accounts/token/", json={**LOGIN, "cookie": True})
    assert response.status_code == 200
    return response


async def test_the_cookie_is_secure_under_https(tmp_path: Path) -> None:
    async with await _client(tmp_path, base_url="https://chat.example") as client:
        response = await _login_cookie(client)
        assert_refresh_cookie(response, secure=True)
        refreshed = await client.post("/accounts/token/refresh/", json={"cookie": True})
        assert refreshed.status_code == 200
        assert_refresh_cookie(refreshed, secure=True)


async def test_the_cookie_is_secure_behind_a_tls_proxy_with_an_https_public_url(tmp_path: Path) -> None:
    async with await _client(
        tmp_path, base_url="http://127.0.0.1:8000", public_url="https://chat.example"
    ) as client:
        assert_refresh_cookie(await _login_cookie(client), secure=True)
