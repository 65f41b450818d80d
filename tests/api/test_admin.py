"""HTTP: every row of SPEC §4.6 and every refusal, and that nothing under /admin shows chat text."""

from __future__ import annotations

from typing import Any

import pytest

from chatcore.errors import LLMTimeout

from .conftest import PASSWORD, Api
from .helpers import assert_error

USER_ITEM = {
    "id",
    "username",
    "email",
    "date_joined",
    "is_admin",
    "is_active",
    "daily_limit",
    "used_today",
    "last_active_at",
    "providers",
}


async def make_admin(api: Api, username: str = "boss") -> dict[str, str]:
    """Sign up ``username``, make them an administrator (as ``chatcore admin role`` would), log in."""
    await api.join(username)
    async with api.store.unit_of_work() as uow:
        user = await uow.users.find_by_login(username)
        assert user is not None
        await uow.users.update(user.id, is_admin=True)
        await uow.commit()
    tokens = await api.login(username)
    return {"Authorization": f"Bearer {tokens['access']}"}


async def user_id(api: Api, headers: dict[str, str]) -> int:
    found: int = (await api.client.get("/accounts/mypage/", headers=headers)).json()["id"]
    return found


def admin_routes(target: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", "/admin/users/", None),
        ("GET", f"/admin/users/{target}/", None),
        ("PUT", f"/admin/users/{target}/limit", {"daily_limit": 3}),
        ("POST", f"/admin/users/{target}/deactivate", None),
        ("POST", f"/admin/users/{target}/reactivate", None),
        ("PUT", f"/admin/users/{target}/role", {"is_admin": True}),
        ("DELETE", f"/admin/users/{target}/", None),
        ("GET", "/admin/stats/", None),
        ("GET", "/admin/audit/", None),
    ]


async def call(api: Api, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> Any:
    return await api.client.request(method, path, json=body, headers=headers)


async def test_everyone_else_gets_admin_only_and_no_token_gets_401(api: Api) -> None:
    learner = await api.user("learner")
    other = await api.user("other")
    target = await user_id(api, other)
    for method, path, body in admin_routes(target):
        assert_error(await call(api, method, path, body, learner), 403, "admin_only")
        assert_error(await call(api, method, path, body, {}), 401, "not_authenticated")
    assert (await api.client.get("/accounts/mypage/", headers=other)).status_code == 200


async def test_users_are_listed_searched_and_paged(api: Api) -> None:
    admin = await make_admin(api)
    for name in ("minji", "minsu", "jisoo"):
        await api.join(name)

    first = await api.client.get("/admin/users/?limit=2", headers=admin)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [u["username"] for u in page["items"]] == ["jisoo", "minsu"]
    assert set(page["items"][0]) == USER_ITEM
    assert page["items"][0]["is_active"] is True
    assert page["items"][0]["daily_limit"] is None
    assert page["items"][0]["providers"] == []
    rest = (await api.client.get(f"/admin/users/?limit=2&cursor={page['next_cursor']}", headers=admin)).json()
    assert [u["username"] for u in rest["items"]] == ["minji", "boss"]
    assert rest["next_cursor"] is None
    found = (await api.client.get("/admin/users/?q=MIN", headers=admin)).json()
    assert [u["username"] for u in found["items"]] == ["minsu", "minji"]
    for bad in ("?cursor=abc", "?cursor=-1", "?limit=0", "?limit=201", "?q=" + "x" * 300):
        assert_error(await api.client.get(f"/admin/users/{bad}", headers=admin), 422, "validation_error")


async def test_a_users_detail_has_30_days_of_usage(api: Api) -> None:
    admin = await make_admin(api)
    learner = await api.user("learner")
    chat = await api.chat(learner)
    await api.client.post(f"/chatbot/chats/{chat}/messages/", json={"content": "hi"}, headers=learner)
    api.llm.push(LLMTimeout())
    failed = await api.client.post(
        f"/chatbot/chats/{chat}/messages/", json={"content": "hi"}, headers=learner
    )
    assert_error(failed, 504, "llm_timeout")
    target = await user_id(api, learner)

    response = await api.client.get(f"/admin/users/{target}/", headers=admin)

    assert response.status_code == 200, response.text
    detail = response.json()
    assert set(detail) == {*USER_ITEM, "usage"}
    assert detail["used_today"] == 1
    assert detail["last_active_at"] is not None
    assert len(detail["usage"]) == 30
    assert detail["usage"][-1] == {"day": detail["usage"][-1]["day"], "requests": 1, "failed": 1}
    assert_error(await api.client.get("/admin/users/99999/", headers=admin), 404, "user_not_found")


async def test_limits_are_0_to_10000_or_null(api: Api) -> None:
    admin = await make_admin(api)
    learner = await api.user("learner")
    target = await user_id(api, learner)
    for value in (0, 10_000, None):
        response = await api.client.put(
            f"/admin/users/{target}/limit", json={"daily_limit": value}, headers=admin
        )
        assert response.status_code == 200, response.text
        assert set(response.json()) == USER_ITEM
        assert response.json()["daily_limit"] == value
    for wrong in (-1, 10_001, 1.5, [1]):
        assert_error(
            await api.client.put(f"/admin/users/{target}/limit", json={"daily_limit": wrong}, headers=admin),
            422,
            "validation_error",
        )
    assert_error(
        await api.client.put("/admin/users/99999/limit", json={"daily_limit": 1}, headers=admin),
        404,
        "user_not_found",
    )


async def test_a_deactivated_user_is_refused_everywhere_at_once(api: Api) -> None:
    admin = await make_admin(api)
    await api.join("learner")
    tokens = await api.login("learner")
    learner = {"Authorization": f"Bearer {tokens['access']}"}
    chat = await api.chat(learner)
    key = (
        await api.client.post(
            "/accounts/api-keys/", json={"name": "cli", "password": PASSWORD}, headers=learner
        )
    ).json()["key"]
    target = await user_id(api, learner)

    response = await api.client.post(f"/admin/users/{target}/deactivate", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    for method, path, body in (
        ("GET", "/chatbot/chats/", None),
        ("GET", "/chatbot/quota/", None),
        ("GET", "/accounts/mypage/", None),
        ("GET", "/accounts/export/", None),
        ("POST", f"/chatbot/chats/{chat}/messages/", {"content": "hi"}),
        ("POST", "/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
    ):
        assert_error(await call(api, method, path, body, learner), 403, "account_disabled")
    for path in ("/v1/models", "/v1/chat/completions"):
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        assert_error(
            await call(
                api, "POST" if "chat" in path else "GET", path, body, {"Authorization": f"Bearer {key}"}
            ),
            401,
            "invalid_token",
        )
    refreshed = await api.client.post("/accounts/token/refresh/", json={"refresh": tokens["refresh"]})
    assert_error(refreshed, 403, "account_disabled")
    login = await api.client.post("/accounts/token/", json={"username": "learner", "password": PASSWORD})
    assert_error(login, 403, "account_disabled")
    wrong = await api.client.post("/accounts/token/", json={"username": "learner", "password": "nope nope 1"})
    assert_error(wrong, 401, "invalid_credentials")

    back = await api.client.post(f"/admin/users/{target}/reactivate", headers=admin)
    assert back.status_code == 200, back.text
    assert back.json()["is_active"] is True
    assert (await api.client.get("/chatbot/quota/", headers=learner)).status_code == 200
    assert (await api.client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})).status_code == 200
    await api.login("learner")


async def test_an_administrator_cannot_deactivate_themself(api: Api) -> None:
    admin = await make_admin(api)
    me = await user_id(api, admin)
    assert_error(
        await api.client.post(f"/admin/users/{me}/deactivate", headers=admin), 409, "cannot_deactivate_self"
    )
    for action in ("deactivate", "reactivate"):
        assert_error(
            await api.client.post(f"/admin/users/99999/{action}", headers=admin), 404, "user_not_found"
        )


async def test_roles_change_but_the_last_active_administrator_stays(api: Api) -> None:
    admin = await make_admin(api)
    me = await user_id(api, admin)
    learner = await api.user("learner")
    target = await user_id(api, learner)

    assert_error(
        await api.client.put(f"/admin/users/{me}/role", json={"is_admin": False}, headers=admin),
        409,
        "last_admin",
    )
    promoted = await api.client.put(f"/admin/users/{target}/role", json={"is_admin": True}, headers=admin)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["is_admin"] is True
    assert (await api.client.get("/admin/stats/?days=1", headers=learner)).status_code == 200
    stepped_down = await api.client.put(f"/admin/users/{me}/role", json={"is_admin": False}, headers=admin)
    assert stepped_down.json()["is_admin"] is False
    assert_error(await api.client.get("/admin/users/", headers=admin), 403, "admin_only")
    for wrong in ({"is_admin": "yes"}, {}, {"is_admin": None}):
        assert_error(
            await api.client.put(f"/admin/users/{me}/role", json=wrong, headers=learner),
            422,
            "validation_error",
        )
    assert_error(
        await api.client.put("/admin/users/99999/role", json={"is_admin": True}, headers=learner),
        404,
        "user_not_found",
    )


async def test_an_administrator_deletes_a_user_and_the_audit_keeps_only_names(api: Api) -> None:
    admin = await make_admin(api)
    me = await user_id(api, admin)
    learner = await api.user("learner")
    target = await user_id(api, learner)

    assert (await api.client.delete(f"/admin/users/{target}/", headers=admin)).status_code == 204

    assert_error(await api.client.get(f"/admin/users/{target}/", headers=admin), 404, "user_not_found")
    assert_error(await api.client.delete(f"/admin/users/{target}/", headers=admin), 404, "user_not_found")
    assert_error(await api.client.get("/chatbot/quota/", headers=learner), 401, "invalid_token")
    assert_error(await api.client.delete(f"/admin/users/{me}/", headers=admin), 409, "last_admin")
    entry = (await api.client.get("/admin/audit/", headers=admin)).json()["items"][0]
    assert entry["action"] == "delete"
    assert entry["target_user"] == {"id": None, "username": "learner"}
    assert entry["admin"] == {"id": me, "username": "boss"}
    assert entry["before"] == {"is_admin": False, "is_active": True, "daily_limit": None}
    assert entry["after"] is None


async def test_statistics_per_quota_day(api: Api) -> None:
    admin = await make_admin(api)
    learner = await api.user("learner")
    target = await user_id(api, learner)
    await api.client.put(f"/admin/users/{target}/limit", json={"daily_limit": 1}, headers=admin)
    chat = await api.chat(learner)
    api.llm.push(LLMTimeout())
    for expected in (504, 201, 429):
        sent = await api.client.post(
            f"/chatbot/chats/{chat}/messages/", json={"content": "hi"}, headers=learner
        )
        assert sent.status_code == expected, sent.text

    response = await api.client.get("/admin/stats/?days=7", headers=admin)

    assert response.status_code == 200, response.text
    days = response.json()["days"]
    assert len(days) == 7
    today = days[-1]
    assert today == {
        "day": today["day"],
        "requests": 1,
        "refused": 1,
        "failed_by_code": {
            "llm_timeout": 1,
            "llm_unavailable": 0,
            "llm_busy": 0,
            "llm_error": 0,
            "llm_misconfigured": 0,
        },
        "active_users": 1,
        "new_users": 2,
    }
    assert len((await api.client.get("/admin/stats/", headers=admin)).json()["days"]) == 30
    for bad in ("0", "367", "x"):
        assert_error(
            await api.client.get(f"/admin/stats/?days={bad}", headers=admin), 422, "validation_error"
        )


async def test_the_audit_trail_lists_every_action_newest_first(api: Api) -> None:
    admin = await make_admin(api)
    target = await user_id(api, await api.user("learner"))
    await api.client.put(f"/admin/users/{target}/limit", json={"daily_limit": 9}, headers=admin)
    await api.client.post(f"/admin/users/{target}/deactivate", headers=admin)
    await api.client.post(f"/admin/users/{target}/reactivate", headers=admin)
    await api.client.put(f"/admin/users/{target}/role", json={"is_admin": True}, headers=admin)

    first = (await api.client.get("/admin/audit/?limit=3", headers=admin)).json()
    rest = (
        await api.client.get(f"/admin/audit/?limit=3&cursor={first['next_cursor']}", headers=admin)
    ).json()

    items = first["items"] + rest["items"]
    assert [i["action"] for i in items] == ["set_role", "reactivate", "deactivate", "set_limit"]
    assert set(items[0]) == {"id", "at", "admin", "action", "target_user", "before", "after"}
    assert (items[0]["before"], items[0]["after"]) == ({"is_admin": False}, {"is_admin": True})
    assert items[-1]["target_user"] == {"id": target, "username": "learner"}
    assert rest["next_cursor"] is None
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        response = await api.client.request(method, f"/admin/audit/{items[0]['id']}/", headers=admin)
        assert response.status_code in {404, 405}
        response = await api.client.request(method, "/admin/audit/", headers=admin)
        assert response.status_code == 405


MARKER = "zebra-marker-7c1f"


@pytest.mark.parametrize("streamed", [False, True])
async def test_no_admin_response_contains_a_chat_title_topic_or_message(api: Api, streamed: bool) -> None:
    admin = await make_admin(api)
    learner = await api.user("learner")
    target = await user_id(api, learner)
    chat = await api.chat(learner, title=f"title {MARKER}", mode="interview", topic=f"topic {MARKER}")
    headers = {**learner, "Accept": "text/event-stream"} if streamed else learner
    api.llm.push(f"reply {MARKER}")
    sent = await api.client.post(
        f"/chatbot/chats/{chat}/messages/", json={"content": f"message {MARKER}"}, headers=headers
    )
    assert sent.status_code == 201
    assert MARKER in (await api.client.get(f"/chatbot/chats/{chat}/", headers=learner)).text

    seen = []
    for method, path, body in [*admin_routes(target)[:-3], *admin_routes(target)[-2:]]:
        response = await call(api, method, path, body, admin)
        assert response.status_code < 300, (path, response.text)
        seen.append(response.text)
    seen.append((await api.client.get("/admin/users/?q=learner", headers=admin)).text)
    seen.append((await api.client.get(f"/admin/users/?q={MARKER}", headers=admin)).text)
    assert all(MARKER not in text for text in seen)
    assert (await api.client.delete(f"/admin/users/{target}/", headers=admin)).status_code == 204
    assert MARKER not in (await api.client.get("/admin/audit/", headers=admin)).text


async def test_a_deactivated_administrator_is_refused_under_admin(api: Api) -> None:
    root = await make_admin(api, "root")
    ops = await make_admin(api, "ops")
    ops_id = await user_id(api, ops)
    assert (await api.client.post(f"/admin/users/{ops_id}/deactivate", headers=root)).status_code == 200

    for method, path, body in admin_routes(ops_id):
        assert_error(await call(api, method, path, body, ops), 403, "account_disabled")
    listed = (await api.client.get("/admin/users/?q=ops", headers=root)).json()["items"]
    assert [(u["username"], u["is_admin"], u["is_active"]) for u in listed] == [("ops", True, False)]


async def test_a_learner_who_deletes_their_account_stays_in_the_statistics_anonymously(api: Api) -> None:
    admin = await make_admin(api)
    learner = await api.user("learner")
    chat = await api.chat(learner)
    assert (
        await api.client.post(f"/chatbot/chats/{chat}/messages/", json={"content": "hi"}, headers=learner)
    ).status_code == 201
    before = (await api.client.get("/admin/stats/?days=1", headers=admin)).json()["days"]

    gone = await api.client.request(
        "DELETE", "/accounts/mypage/", json={"password": PASSWORD}, headers=learner
    )
    assert gone.status_code == 204

    after = (await api.client.get("/admin/stats/?days=1", headers=admin)).json()["days"]
    assert after == before
    assert (after[0]["requests"], after[0]["active_users"], after[0]["new_users"]) == (1, 1, 2)
    assert [
        u["username"] for u in (await api.client.get("/admin/users/", headers=admin)).json()["items"]
    ] == ["boss"]
