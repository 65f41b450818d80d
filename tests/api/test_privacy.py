"""SPEC §4.1 over HTTP: ``GET /accounts/export/`` and ``DELETE /accounts/mypage/``."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from api.conftest import PASSWORD, Api
from api.helpers import assert_error
from chatcore.accounts import digest
from chatcore.errors import LLMTimeout
from chatcore.model import LinkedAccount, Provider
from contract.helpers import FEEDBACK, SCORECARD

MAX_FAILURES = 5  # the api fixture's limiter
NEW = {"new_password": "brand new pass 2", "new_password2": "brand new pass 2"}


def when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def export_of(api: Api, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    response = await api.client.get("/accounts/export/", headers=headers)
    assert response.status_code == 200, response.text
    return response.text, json.loads(response.text)


async def a_learner_with_history(api: Api) -> tuple[dict[str, str], dict[str, Any], str]:
    """Chats in both modes (one failed message), an API key; returns headers, tokens, key secret."""
    await api.join("minji")
    tokens = await api.login("minji")
    headers = {"Authorization": f"Bearer {tokens['access']}"}
    api.llm.push("Nice to meet you!", "Tell me about yourself.", LLMTimeout(), "Good answer.")
    await api.chat(headers, message="Hello, I like coffee.")
    interview = await api.chat(headers, mode="interview", topic="backend developer", message="Ready.")
    failed = await api.client.post(
        f"/chatbot/chats/{interview}/messages/", json={"content": "I build APIs."}, headers=headers
    )
    assert failed.status_code == 504
    await api.client.post(
        f"/chatbot/chats/{interview}/messages/", json={"content": "In Go."}, headers=headers
    )
    key = await api.client.post(
        "/accounts/api-keys/", json={"name": "cli", "password": PASSWORD}, headers=headers
    )
    assert key.status_code == 201
    return headers, tokens, key.json()["key"]


async def test_the_export_equals_what_the_api_shows(api: Api) -> None:
    headers, _, _ = await a_learner_with_history(api)

    response = await api.client.get("/accounts/export/", headers=headers)
    export = response.json()

    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == 'attachment; filename="chatcore-export-minji.json"'
    assert "no-store" in response.headers["cache-control"]
    assert (export["format"], export["version"]) == ("chatcore-export", 1)
    mypage = (await api.client.get("/accounts/mypage/", headers=headers)).json()
    profile = export["profile"]
    assert {k: profile[k] for k in ("id", "username", "email", "is_admin")} == {
        k: mypage[k] for k in ("id", "username", "email", "is_admin")
    }
    assert when(profile["date_joined"]) == when(mypage["date_joined"])
    assert export["linked_accounts"] == mypage["linked_accounts"]
    keys = (await api.client.get("/accounts/api-keys/", headers=headers)).json()
    assert [(k["name"], k["prefix"], when(k["created_at"])) for k in export["api_keys"]] == [
        (k["name"], k["prefix"], when(k["created_at"])) for k in keys
    ]
    quota_day = (datetime.fromisoformat(mypage["quota"]["resets_at"]) - timedelta(days=1)).date()
    assert export["quota_usage"] == [{"day": quota_day.isoformat(), "used": mypage["quota"]["used"]}]
    assert mypage["quota"]["used"] == 3  # the failed request was given back
    listed = (await api.client.get("/chatbot/chats/", headers=headers)).json()["items"]
    shown = [(await api.client.get(f"/chatbot/chats/{c['id']}/", headers=headers)).json() for c in listed]
    assert {c["mode"] for c in shown} == {"conversation", "interview"}
    exported = {c["id"]: c for c in export["chats"]}
    assert sorted(exported) == sorted(c["id"] for c in shown)
    for chat in shown:
        mine = exported[chat["id"]]
        assert (mine["title"], mine["mode"], mine["topic"]) == (chat["title"], chat["mode"], chat["topic"])
        assert when(mine["updated_at"]) == when(chat["updated_at"])
        assert [
            (m["id"], m["role"], m["content"], m["status"], when(m["created_at"])) for m in mine["messages"]
        ] == [
            (m["id"], m["role"], m["content"], m["status"], when(m["created_at"])) for m in chat["messages"]
        ]
    statuses = [m["status"] for c in export["chats"] for m in c["messages"]]
    assert "failed" in statuses
    assert {m["model"] for c in export["chats"] for m in c["messages"] if m["role"] == "assistant"} == {
        "scripted"
    }


async def test_the_export_never_contains_a_hash_token_or_key(api: Api) -> None:
    headers, tokens, key = await a_learner_with_history(api)
    async with api.store(read_only=True) as uow:
        user = await uow.users.get(1)
    assert user is not None
    assert user.password_hash is not None

    text, export = await export_of(api, headers)

    secrets = [
        user.password_hash,
        PASSWORD,
        tokens["access"],
        tokens["refresh"],
        digest(tokens["refresh"]),
        key,
    ]
    secrets.append(digest(key))
    assert [s for s in secrets if s in text] == []
    assert export["profile"]["has_password"] is True


async def test_the_export_needs_a_token(api: Api) -> None:
    assert_error(await api.client.get("/accounts/export/"), 401, "not_authenticated")


async def test_a_wrong_password_is_answered_as_on_a_password_change_and_deletes_nothing(api: Api) -> None:
    headers, _, _ = await a_learner_with_history(api)
    _, before = await export_of(api, headers)

    deleting = await api.client.request(
        "DELETE", "/accounts/mypage/", json={"password": "not my password"}, headers=headers
    )
    changing = await api.client.post(
        "/accounts/password/", json={"old_password": "not my password", **NEW}, headers=headers
    )

    assert_error(deleting, 422, "validation_error")
    assert (deleting.status_code, deleting.json()) == (changing.status_code, changing.json())
    _, after = await export_of(api, headers)
    assert {**after, "exported_at": None} == {**before, "exported_at": None}


async def test_wrong_passwords_on_deletion_spend_the_login_budget(api: Api) -> None:
    headers = await api.user()
    for n in range(MAX_FAILURES - 1):
        response = await api.client.request(
            "DELETE", "/accounts/mypage/", json={"password": f"guess {n}"}, headers=headers
        )
        assert_error(response, 422, "validation_error")
    assert_error(
        await api.client.post(
            "/accounts/password/", json={"old_password": "guess x", **NEW}, headers=headers
        ),
        422,
        "validation_error",
    )

    # The budget is spent: even the right password is refused now, and the account stays.
    refused = await api.client.request(
        "DELETE", "/accounts/mypage/", json={"password": PASSWORD}, headers=headers
    )

    assert_error(refused, 429, "too_many_attempts")
    assert (await api.client.get("/accounts/mypage/", headers=headers)).status_code == 200


async def test_deletion_ends_every_way_in(api: Api) -> None:
    headers, tokens, key = await a_learner_with_history(api)
    _, export_before = await export_of(api, headers)
    prompts_before = list(api.llm.prompts)

    response = await api.client.request(
        "DELETE", "/accounts/mypage/", json={"password": PASSWORD}, headers=headers
    )

    assert response.status_code == 204, response.text
    for path in (
        "/accounts/mypage/",
        "/accounts/export/",
        "/chatbot/chats/",
        "/chatbot/quota/",
        "/v1/models",
    ):
        assert_error(await api.client.get(path, headers=headers), 401, "invalid_token")
    assert_error(
        await api.client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}), 401, "invalid_token"
    )
    # The counted requests refuse it through the read of the daily limit they make anyway.
    chat_id = export_before["chats"][0]["id"]
    for accept in ({}, {"Accept": "text/event-stream"}):
        sent = await api.client.post(
            f"/chatbot/chats/{chat_id}/messages/",
            json={"content": "Still there?"},
            headers={**headers, **accept},
        )
        assert_error(sent, 401, "invalid_token")
    completion = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
    assert_error(
        await api.client.post("/v1/chat/completions", json=completion, headers=headers), 401, "invalid_token"
    )
    assert api.llm.prompts == prompts_before
    assert_error(
        await api.client.post("/accounts/token/refresh/", json={"refresh": tokens["refresh"]}),
        401,
        "invalid_token",
    )
    assert_error(
        await api.client.post("/accounts/token/", json={"username": "minji", "password": PASSWORD}),
        401,
        "invalid_credentials",
    )
    # The name is free again; the new account is someone else, with nothing of the old one.
    again = await api.user("minji")
    assert (await api.client.get("/chatbot/chats/", headers=again)).json()["items"] == []


async def test_an_account_without_a_password_confirms_with_its_username(api: Api) -> None:
    async with api.store() as uow:
        user = await uow.users.add(username="gh_minji", email=None, password_hash=None, now=api.clock.now())
        await uow.identities.link(
            user.id, LinkedAccount(provider=Provider.GITHUB, subject="42", login="minji")
        )
        await uow.commit()
    pair = await api.container.accounts.issue_tokens(user.id)
    headers = {"Authorization": f"Bearer {pair.access}"}
    _, export = await export_of(api, headers)
    assert export["linked_accounts"] == [{"provider": "github", "login": "minji"}]
    assert export["profile"]["has_password"] is False

    wrong = await api.client.request(
        "DELETE", "/accounts/mypage/", json={"confirm": "someone"}, headers=headers
    )
    assert_error(wrong, 422, "validation_error")
    assert_error(
        await api.client.request("DELETE", "/accounts/mypage/", json={}, headers=headers),
        422,
        "validation_error",
    )
    right = await api.client.request(
        "DELETE", "/accounts/mypage/", json={"confirm": "GH_minji"}, headers=headers
    )

    assert right.status_code == 204, right.text
    assert_error(await api.client.get("/accounts/mypage/", headers=headers), 401, "invalid_token")


async def test_the_last_administrator_cannot_delete_themself(api: Api) -> None:
    root = await api.container.accounts.register(
        username="root", email=None, password="root password 1", password2="root password 1", is_admin=True
    )
    pair = await api.container.accounts.issue_tokens(root.id)
    headers = {"Authorization": f"Bearer {pair.access}"}

    refused = await api.client.request(
        "DELETE", "/accounts/mypage/", json={"password": "root password 1"}, headers=headers
    )

    assert_error(refused, 409, "last_admin")
    assert (await api.client.get("/accounts/mypage/", headers=headers)).status_code == 200
    await api.container.accounts.register(
        username="ops", email=None, password="ops password 1", password2="ops password 1", is_admin=True
    )
    allowed = await api.client.request(
        "DELETE", "/accounts/mypage/", json={"password": "root password 1"}, headers=headers
    )
    assert allowed.status_code == 204, allowed.text


async def test_a_malformed_deletion_body_is_a_client_error(api: Api) -> None:
    headers = await api.user()
    bad = await api.client.request("DELETE", "/accounts/mypage/", content=b"{", headers=headers)
    assert_error(bad, 400, "malformed_json")
    wrong_type = await api.client.request(
        "DELETE", "/accounts/mypage/", json={"password": 5}, headers=headers
    )
    assert_error(wrong_type, 422, "validation_error")
    assert (await api.client.get("/accounts/mypage/", headers=headers)).status_code == 200


async def test_the_export_has_the_learning_data_as_the_api_shows_it(api: Api) -> None:
    """Issue 16 extended by SPEC §4.7: levels, feedback, scorecards and the notebook are exported."""
    headers = await api.user("minji")
    api.llm.push("Welcome. Tell me about yourself.")
    api.llm.push_feedback(None, FEEDBACK, replace(FEEDBACK, corrections=(), score=None))
    interview = await api.chat(headers, mode="interview", topic="backend", level="advanced", message="Hi")
    await api.client.post(
        f"/chatbot/chats/{interview}/messages/", json={"content": "I am boring"}, headers=headers
    )
    api.llm.push_scorecard(SCORECARD)
    assert (
        await api.client.post(f"/chatbot/chats/{interview}/scorecard/", headers=headers)
    ).status_code == 201
    talk = await api.chat(headers, message="Hello")
    await api.client.patch(
        f"/chatbot/notebook/{await _first_entry(api, headers)}/", json={"reviewed": True}, headers=headers
    )

    _, export = await export_of(api, headers)

    exported = {c["id"]: c for c in export["chats"]}
    for chat_id in (interview, talk):
        shown = (await api.client.get(f"/chatbot/chats/{chat_id}/", headers=headers)).json()
        assert exported[chat_id]["level"] == shown["level"]
        assert [m["feedback"] for m in exported[chat_id]["messages"]] == [
            m["feedback"] for m in shown["messages"]
        ]
    assert exported[interview]["level"] == "advanced"
    assert any(m["feedback"] for m in exported[interview]["messages"])
    card = (await api.client.get(f"/chatbot/chats/{interview}/scorecard/", headers=headers)).json()
    [scorecard] = exported[interview]["scorecards"]
    assert {**scorecard, "created_at": when(scorecard["created_at"])} == {
        **card,
        "created_at": when(card["created_at"]),
    }
    assert exported[talk]["scorecards"] == []
    notebook = (await api.client.get("/chatbot/notebook/", headers=headers)).json()["items"]
    assert len(notebook) == 1
    assert [{**e, "created_at": when(e["created_at"])} for e in export["notebook"]] == [
        {**e, "created_at": when(e["created_at"])} for e in notebook
    ]
    assert export["notebook"][0]["reviewed"] is True


async def _first_entry(api: Api, headers: dict[str, str]) -> int:
    entry_id: int = (await api.client.get("/chatbot/notebook/", headers=headers)).json()["items"][0]["id"]
    return entry_id
