"""Issue 9 over HTTP: password doors share the login budget, key limits, no-store, sign-up flood."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from adapters.identity import JoseTokenService
from adapters.memory import MemoryAttemptLimiter, MemoryStore
from api.conftest import PASSWORD, SECRET, Api
from api.helpers import assert_error
from app_http.app import create_app
from app_http.bootstrap import build_container
from app_http.settings import Settings
from chatcore.testing import FrozenClock, QuickHasher, ScriptedLLM

MAX_FAILURES = 5  # the api fixture's limiter
NEW = {"new_password": "brand new pass 2", "new_password2": "brand new pass 2"}


def no_store(response: Any) -> bool:
    return "no-store" in response.headers.get("cache-control", "")


async def test_every_response_with_a_token_or_key_is_not_stored(api: Api) -> None:
    headers = await api.user()
    token = await api.client.post("/accounts/token/", json={"username": "minji", "password": PASSWORD})
    refreshed = await api.client.post("/accounts/token/refresh/", json={"refresh": token.json()["refresh"]})
    key = await api.client.post(
        "/accounts/api-keys/", json={"name": "cli", "password": PASSWORD}, headers=headers
    )

    assert [r.status_code for r in (token, refreshed, key)] == [200, 200, 201]
    assert all(no_store(r) for r in (token, refreshed, key))


async def test_wrong_old_passwords_spend_the_login_budget(api: Api) -> None:
    headers = await api.user()
    for n in range(MAX_FAILURES):
        assert_error(
            await api.client.post(
                "/accounts/password/", json={"old_password": f"guess {n}", **NEW}, headers=headers
            ),
            422,
            "validation_error",
        )

    response = await api.client.post(
        "/accounts/password/", json={"old_password": PASSWORD, **NEW}, headers=headers
    )

    assert_error(response, 429, "too_many_attempts")
    assert int(response.headers["retry-after"]) == 15 * 60
    assert_error(
        await api.client.post("/accounts/token/", json={"username": "minji", "password": PASSWORD}),
        429,
        "too_many_attempts",
    )


async def test_an_api_key_needs_the_current_password(api: Api) -> None:
    headers = await api.user()
    assert_error(
        await api.client.post("/accounts/api-keys/", json={"name": "cli"}, headers=headers),
        422,
        "validation_error",
    )
    wrong = assert_error(
        await api.client.post(
            "/accounts/api-keys/", json={"name": "cli", "password": "nope nope 1"}, headers=headers
        ),
        422,
        "validation_error",
    )
    assert wrong["detail"] == "The current password is incorrect."
    assert (await api.client.get("/accounts/api-keys/", headers=headers)).json() == []


async def test_the_twenty_first_api_key_is_refused(api: Api) -> None:
    headers = await api.user()
    for n in range(20):
        response = await api.client.post(
            "/accounts/api-keys/", json={"name": f"key {n}", "password": PASSWORD}, headers=headers
        )
        assert response.status_code == 201

    assert_error(
        await api.client.post(
            "/accounts/api-keys/", json={"name": "one more", "password": PASSWORD}, headers=headers
        ),
        409,
        "too_many_api_keys",
    )


async def test_changing_the_email_needs_the_current_password(api: Api) -> None:
    headers = await api.user()
    assert_error(
        await api.client.patch("/accounts/mypage/", json={"email": "new@example.com"}, headers=headers),
        422,
        "validation_error",
    )
    for _ in range(MAX_FAILURES):
        assert_error(
            await api.client.patch(
                "/accounts/mypage/",
                json={"email": "new@example.com", "password": "guess 123"},
                headers=headers,
            ),
            422,
            "validation_error",
        )
    assert_error(
        await api.client.patch(
            "/accounts/mypage/", json={"email": "new@example.com", "password": PASSWORD}, headers=headers
        ),
        429,
        "too_many_attempts",
    )
    assert (await api.client.get("/accounts/mypage/", headers=headers)).json()["email"] == "minji@example.com"


async def test_a_user_without_email_shows_null_and_cannot_confirm_without_a_password(api: Api) -> None:
    async with api.store.unit_of_work() as tx:
        user = await tx.users.add(username="kakao_1", email=None, password_hash=None, now=api.clock.now())
        await tx.commit()
    pair = await api.container.accounts.issue_tokens(user.id)
    headers = {"Authorization": f"Bearer {pair.access}"}

    assert (await api.client.get("/accounts/mypage/", headers=headers)).json()["email"] is None
    assert_error(
        await api.client.post("/accounts/api-keys/", json={"name": "cli", "password": ""}, headers=headers),
        409,
        "password_required",
    )


@pytest.mark.parametrize("email", ["minji\n@example.com", "minji@example.com\r\n", "min\x00ji@example.com"])
async def test_join_refuses_control_characters_in_the_email(api: Api, email: str) -> None:
    body = {"username": "minji", "email": email, "password": PASSWORD, "password2": PASSWORD}
    assert_error(await api.client.post("/accounts/join/", json=body), 422, "validation_error")


@pytest.fixture
async def strict_api(tmp_path: Path) -> AsyncIterator[Api]:
    """The app with a sign-up budget of 3 per address and a login budget of 10 per address."""
    clock, llm, store = FrozenClock(), ScriptedLLM(), MemoryStore()
    container = build_container(
        Settings(secret_key=SECRET, data_dir=tmp_path, signup_address_limit=3, login_address_limit=10),
        clock=clock,
        llm=llm,
        uow=store.unit_of_work,
        hasher=QuickHasher(),
        tokens=JoseTokenService(SECRET, access_ttl=900),
        limiter=MemoryAttemptLimiter(),
    )
    async with AsyncTestClient(create_app(container)) as client:
        yield Api(client=client, container=container, clock=clock, llm=llm, store=store)


async def test_sign_ups_from_one_address_are_throttled(strict_api: Api) -> None:
    for n in range(3):
        await strict_api.join(f"user{n}")
    body = {"username": "user3", "email": "user3@example.com", "password": PASSWORD, "password2": PASSWORD}

    response = await strict_api.client.post("/accounts/join/", json=body)

    assert_error(response, 429, "too_many_attempts")
    assert int(response.headers["retry-after"]) == 15 * 60
    strict_api.clock.advance(minutes=15)
    assert (await strict_api.client.post("/accounts/join/", json=body)).status_code == 201


async def test_a_browser_that_logged_in_before_gets_past_a_spent_address_budget(strict_api: Api) -> None:
    """SPEC §4.1: failures from a shared address must not lock out the others there."""
    await strict_api.join("minji")
    first = await strict_api.client.post("/accounts/token/", json={"username": "minji", "password": PASSWORD})
    cookie = first.cookies.get("chatcore_device")
    assert cookie
    set_cookie = first.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=strict" in set_cookie
    assert "path=/accounts/token/" in set_cookie
    strict_api.client.cookies.clear()
    for n in range(10):  # somebody else at this address spends its budget
        wrong = {"username": f"stranger{n}", "password": "not it at all"}
        assert (await strict_api.client.post("/accounts/token/", json=wrong)).status_code == 401
    right = {"username": "minji", "password": PASSWORD}

    refused = await strict_api.client.post("/accounts/token/", json=right)
    allowed = await strict_api.client.post(
        "/accounts/token/", json=right, headers={"Cookie": f"chatcore_device={cookie}"}
    )

    assert_error(refused, 429, "too_many_attempts")
    assert allowed.status_code == 200, allowed.text
