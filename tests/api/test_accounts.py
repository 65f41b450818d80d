"""SPEC §4.1 (password accounts) over HTTP: every row, error rows included."""

from __future__ import annotations

from typing import Any

import pytest

from api.conftest import PASSWORD, Api
from api.helpers import assert_error


def join_body(**overrides: str) -> dict[str, str]:
    body = {"username": "minji", "email": "minji@example.com", "password": PASSWORD, "password2": PASSWORD}
    body.update(overrides)
    return body


async def test_join_creates_an_account(api: Api) -> None:
    response = await api.client.post("/accounts/join/", json=join_body())
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "email", "date_joined"}
    assert body["username"] == "minji"
    assert body["email"] == "minji@example.com"
    assert "password" not in response.text


async def test_join_conflicts(api: Api) -> None:
    await api.join("minji")
    assert_error(
        await api.client.post("/accounts/join/", json=join_body(username="MINJI", email="x@example.com")),
        409,
        "username_taken",
    )
    assert_error(
        await api.client.post("/accounts/join/", json=join_body(username="other", email="Minji@Example.com")),
        409,
        "email_taken",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password2": "something else 1"}, "password"),
        ({"password": "short1", "password2": "short1"}, "8"),
        ({"password": "1234567890", "password2": "1234567890"}, "digits"),
        ({"username": "minji1234", "password": "Minji1234", "password2": "Minji1234"}, "username"),
        ({"email": "not-an-email"}, "e-mail"),
        ({"username": "ab"}, "username"),
        ({"username": "a" * 31}, "username"),
        ({"username": "bad name!"}, "username"),
    ],
)
async def test_join_rejects_invalid_input(api: Api, overrides: dict[str, str], field: str) -> None:
    body = assert_error(
        await api.client.post("/accounts/join/", json=join_body(**overrides)), 422, "validation_error"
    )
    assert field in body["detail"]


async def test_token_with_username_or_email(api: Api) -> None:
    await api.join("minji")
    for login in ("minji", "minji@example.com", "MINJI@EXAMPLE.COM"):
        response = await api.client.post("/accounts/token/", json={"username": login, "password": PASSWORD})
        assert response.status_code == 200, login
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 900
        assert body["access"]
        assert body["refresh"]
        assert body["access"] != body["refresh"]


async def test_unknown_user_and_wrong_password_look_the_same(api: Api) -> None:
    await api.join("minji")
    wrong = assert_error(
        await api.client.post("/accounts/token/", json={"username": "minji", "password": "nope nope 1"}),
        401,
        "invalid_credentials",
    )
    unknown = assert_error(
        await api.client.post("/accounts/token/", json={"username": "ghost", "password": "nope nope 1"}),
        401,
        "invalid_credentials",
    )
    assert wrong == unknown


async def test_repeated_failures_are_throttled_without_revealing_the_account(api: Api) -> None:
    await api.join("minji")
    for login in ("minji", "ghost"):
        for _ in range(5):
            await api.client.post("/accounts/token/", json={"username": login, "password": "wrong pass 1"})
        response = await api.client.post("/accounts/token/", json={"username": login, "password": PASSWORD})
        body = assert_error(response, 429, "too_many_attempts")
        assert int(response.headers["retry-after"]) > 0
        assert "minji" not in body["detail"]
        assert "ghost" not in body["detail"]
    api.clock.advance(minutes=16)
    assert (
        await api.client.post("/accounts/token/", json={"username": "minji", "password": PASSWORD})
    ).status_code == 200


async def test_refresh_rotates_and_detects_reuse(api: Api) -> None:
    await api.join()
    first = await api.login()
    response = await api.client.post("/accounts/token/refresh/", json={"refresh": first["refresh"]})
    assert response.status_code == 200
    second = response.json()
    assert second["refresh"] != first["refresh"]
    assert second["token_type"] == "Bearer"
    # The old one was used: presenting it again revokes the whole chain, the newest token included.
    assert_error(
        await api.client.post("/accounts/token/refresh/", json={"refresh": first["refresh"]}),
        401,
        "token_reused",
    )
    assert_error(
        await api.client.post("/accounts/token/refresh/", json={"refresh": second["refresh"]}),
        401,
        "invalid_token",
    )


async def test_refresh_with_garbage_or_expired_token(api: Api) -> None:
    await api.join()
    tokens = await api.login()
    assert_error(
        await api.client.post("/accounts/token/refresh/", json={"refresh": "garbage"}), 401, "invalid_token"
    )
    api.clock.advance(seconds=1_209_601)
    assert_error(
        await api.client.post("/accounts/token/refresh/", json={"refresh": tokens["refresh"]}),
        401,
        "invalid_token",
    )


async def test_logout_ends_the_chain(api: Api) -> None:
    await api.join()
    tokens = await api.login()
    other_session = await api.login()
    assert (
        await api.client.post("/accounts/logout/", json={"refresh": tokens["refresh"]})
    ).status_code == 204
    assert_error(
        await api.client.post("/accounts/token/refresh/", json={"refresh": tokens["refresh"]}),
        401,
        "invalid_token",
    )
    # Another login (another chain) is untouched.
    assert (
        await api.client.post("/accounts/token/refresh/", json={"refresh": other_session["refresh"]})
    ).status_code == 200


async def test_mypage_shows_profile_and_quota(api: Api) -> None:
    headers = await api.user()
    response = await api.client.get("/accounts/mypage/", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "minji"
    assert body["linked_accounts"] == []
    assert body["quota"] == {"limit": 5, "used": 0, "remaining": 5, "resets_at": "2026-11-27T00:00:00+09:00"}


async def test_mypage_patch_email(api: Api) -> None:
    headers = await api.user()
    await api.join("other")
    response = await api.client.patch(
        "/accounts/mypage/", json={"email": "new@example.com", "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["email"] == "new@example.com"
    assert_error(
        await api.client.patch(
            "/accounts/mypage/", json={"email": "other@example.com", "password": PASSWORD}, headers=headers
        ),
        409,
        "email_taken",
    )
    assert_error(
        await api.client.patch(
            "/accounts/mypage/", json={"email": "nope", "password": PASSWORD}, headers=headers
        ),
        422,
        "validation_error",
    )


async def test_password_change_revokes_every_session(api: Api) -> None:
    headers = await api.user()
    session = await api.login()
    body = {"old_password": PASSWORD, "new_password": "brand new pass 2", "new_password2": "brand new pass 2"}
    assert (await api.client.post("/accounts/password/", json=body, headers=headers)).status_code == 204
    assert_error(
        await api.client.post("/accounts/token/refresh/", json={"refresh": session["refresh"]}),
        401,
        "invalid_token",
    )
    assert_error(
        await api.client.post("/accounts/token/", json={"username": "minji", "password": PASSWORD}),
        401,
        "invalid_credentials",
    )
    await api.login(password="brand new pass 2")


async def test_password_change_errors(api: Api) -> None:
    headers = await api.user()
    wrong_old = {
        "old_password": "not it 123",
        "new_password": "brand new pass 2",
        "new_password2": "brand new pass 2",
    }
    assert_error(
        await api.client.post("/accounts/password/", json=wrong_old, headers=headers), 422, "validation_error"
    )
    mismatch = {
        "old_password": PASSWORD,
        "new_password": "brand new pass 2",
        "new_password2": "brand new pass 3",
    }
    assert_error(
        await api.client.post("/accounts/password/", json=mismatch, headers=headers), 422, "validation_error"
    )
    assert_error(await api.client.post("/accounts/password/", json=mismatch), 401, "not_authenticated")


async def test_api_keys_are_shown_once_and_can_be_revoked(api: Api) -> None:
    headers = await api.user()
    created = await api.client.post(
        "/accounts/api-keys/", json={"name": "laptop", "password": PASSWORD}, headers=headers
    )
    assert created.status_code == 201
    key: dict[str, Any] = created.json()
    assert key["key"].startswith("ck_")
    assert key["key"].startswith(key["prefix"])
    listed = (await api.client.get("/accounts/api-keys/", headers=headers)).json()
    assert [k["name"] for k in listed] == ["laptop"]
    assert "key" not in listed[0]
    assert (await api.client.delete(f"/accounts/api-keys/{key['id']}/", headers=headers)).status_code == 204
    assert_error(
        await api.client.delete(f"/accounts/api-keys/{key['id']}/", headers=headers), 404, "api_key_not_found"
    )


async def test_admin_sets_a_users_limit(api: Api) -> None:
    admin_headers = await api.user("boss")
    async with api.store.unit_of_work() as uow:
        boss = await uow.users.find_by_login("boss")
        assert boss is not None
        await uow.users.update(boss.id, is_admin=True)
        await uow.commit()
    learner = await api.user("learner")
    learner_id = (await api.client.get("/accounts/mypage/", headers=learner)).json()["id"]
    assert_error(
        await api.client.put(f"/admin/users/{learner_id}/limit", json={"daily_limit": 50}, headers=learner),
        403,
        "admin_only",
    )
    response = await api.client.put(
        f"/admin/users/{learner_id}/limit", json={"daily_limit": 50}, headers=admin_headers
    )
    assert response.status_code == 200
    assert response.json()["daily_limit"] == 50
    assert (await api.client.get("/chatbot/quota/", headers=learner)).json()["limit"] == 50
    assert_error(
        await api.client.put("/admin/users/9999/limit", json={"daily_limit": 1}, headers=admin_headers),
        404,
        "user_not_found",
    )
