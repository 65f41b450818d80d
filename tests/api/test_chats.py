"""SPEC §4.2, §4.3, §5, §6 over HTTP: chats, messages, streaming, quota headers, failures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.conftest import Api
from api.helpers import assert_error
from chatcore.errors import LLMBusy, LLMError, LLMMisconfigured, LLMTimeout, LLMUnavailable, LLMUpstreamError


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_create_chat_without_message(api: Api) -> None:
    headers = await api.user()
    response = await api.client.post(
        "/chatbot/chats/", json={"mode": "interview", "topic": "backend developer"}, headers=headers
    )
    assert response.status_code == 201
    body = response.json()
    assert body["reply"] is None
    assert body["chat"]["mode"] == "interview"
    assert body["chat"]["topic"] == "backend developer"
    assert body["chat"]["title"] == "Interview: backend developer"
    assert body["chat"]["messages"] == []


async def test_create_chat_with_first_message_counts(api: Api) -> None:
    headers = await api.user()
    api.llm.push("Hello! What do you do for fun?")
    response = await api.client.post("/chatbot/chats/", json={"message": "Hi there"}, headers=headers)
    assert response.status_code == 201
    body = response.json()
    assert body["reply"]["content"] == "Hello! What do you do for fun?"
    assert [m["role"] for m in body["chat"]["messages"]] == ["user", "assistant"]
    assert body["quota"]["used"] == 1
    assert response.headers["x-ratelimit-remaining"] == "4"


async def test_create_chat_rejects_unknown_mode(api: Api) -> None:
    headers = await api.user()
    assert_error(
        await api.client.post("/chatbot/chats/", json={"mode": "karaoke"}, headers=headers),
        422,
        "validation_error",
    )


async def test_list_is_newest_first_paginated_and_private(api: Api) -> None:
    headers = await api.user()
    other = await api.user("other")
    ids = []
    for n in range(5):
        ids.append(await api.chat(headers, title=f"chat {n}"))
        api.clock.advance(seconds=1)
    await api.chat(other, title="not yours")
    first = (await api.client.get("/chatbot/chats/?limit=2", headers=headers)).json()
    assert [c["id"] for c in first["items"]] == ids[::-1][:2]
    assert set(first["items"][0]) == {
        "id",
        "title",
        "mode",
        "topic",
        "created_at",
        "updated_at",
        "message_count",
        "level",
    }
    second = (
        await api.client.get(f"/chatbot/chats/?limit=2&cursor={first['next_cursor']}", headers=headers)
    ).json()
    third = (
        await api.client.get(f"/chatbot/chats/?limit=2&cursor={second['next_cursor']}", headers=headers)
    ).json()
    assert [c["id"] for c in second["items"] + third["items"]] == ids[::-1][2:]
    assert third["next_cursor"] is None
    assert_error(await api.client.get("/chatbot/chats/?cursor=%%%", headers=headers), 422, "validation_error")
    assert_error(await api.client.get("/chatbot/chats/?limit=0", headers=headers), 422, "validation_error")
    assert_error(await api.client.get("/chatbot/chats/?limit=101", headers=headers), 422, "validation_error")


async def test_read_update_delete(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers, title="Coffee talk")
    await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/", json={"content": "I like coffee"}, headers=headers
    )
    detail = (await api.client.get(f"/chatbot/chats/{chat_id}/", headers=headers)).json()
    assert detail["title"] == "Coffee talk"
    assert [(m["role"], m["status"]) for m in detail["messages"]] == [("user", "ok"), ("assistant", "ok")]
    assert set(detail["messages"][0]) >= {"id", "role", "content", "created_at", "status"}
    put = await api.client.put(
        f"/chatbot/chats/{chat_id}/", json={"title": "Morning coffee"}, headers=headers
    )
    assert put.status_code == 200
    assert put.json()["title"] == "Morning coffee"
    patch = await api.client.patch(
        f"/chatbot/chats/{chat_id}/", json={"topic": "cafes in Seoul"}, headers=headers
    )
    assert patch.json()["topic"] == "cafes in Seoul"
    assert patch.json()["title"] == "Morning coffee"
    assert len(patch.json()["messages"]) == 2
    assert_error(
        await api.client.patch(f"/chatbot/chats/{chat_id}/", json={"title": "   "}, headers=headers),
        422,
        "validation_error",
    )
    assert (await api.client.delete(f"/chatbot/chats/{chat_id}/", headers=headers)).status_code == 204
    assert_error(await api.client.get(f"/chatbot/chats/{chat_id}/", headers=headers), 404, "chat_not_found")


async def test_a_chat_is_read_in_pages_of_its_latest_messages(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    for n in range(3):
        sent = await api.client.post(
            f"/chatbot/chats/{chat_id}/messages/", json={"content": f"message {n}"}, headers=headers
        )
        assert sent.status_code == 201

    page = (await api.client.get(f"/chatbot/chats/{chat_id}/?limit=4", headers=headers)).json()
    assert [m["content"] for m in page["messages"][::2]] == ["message 1", "message 2"]
    older = await api.client.get(
        f"/chatbot/chats/{chat_id}/", params={"before": page["older_cursor"]}, headers=headers
    )
    assert [m["content"] for m in older.json()["messages"]] == ["message 0", "You said: message 0"]
    assert older.json()["older_cursor"] is None
    whole = (await api.client.get(f"/chatbot/chats/{chat_id}/", headers=headers)).json()
    assert len(whole["messages"]) == 6
    assert whole["older_cursor"] is None
    for bad in ("?limit=0", "?limit=201", "?before=nonsense"):
        assert_error(
            await api.client.get(f"/chatbot/chats/{chat_id}/{bad}", headers=headers), 422, "validation_error"
        )


async def test_an_invalid_first_message_creates_no_chat(api: Api) -> None:
    headers = await api.user()
    refused = await api.client.post("/chatbot/chats/", json={"message": "   "}, headers=headers)
    assert_error(refused, 422, "validation_error")
    assert (await api.client.get("/chatbot/chats/", headers=headers)).json()["items"] == []


async def test_another_users_chat_is_not_found_for_every_operation(api: Api) -> None:
    owner = await api.user("owner")
    intruder = await api.user("intruder")
    chat_id = await api.chat(owner)
    path = f"/chatbot/chats/{chat_id}/"
    assert_error(await api.client.get(path, headers=intruder), 404, "chat_not_found")
    assert_error(await api.client.put(path, json={"title": "mine"}, headers=intruder), 404, "chat_not_found")
    assert_error(
        await api.client.patch(path, json={"title": "mine"}, headers=intruder), 404, "chat_not_found"
    )
    assert_error(await api.client.delete(path, headers=intruder), 404, "chat_not_found")
    assert_error(
        await api.client.post(path + "messages/", json={"content": "hi"}, headers=intruder),
        404,
        "chat_not_found",
    )
    assert (await api.client.get("/chatbot/quota/", headers=intruder)).json()["used"] == 0
    assert (await api.client.get(path, headers=owner)).status_code == 200


async def test_send_message_returns_exchange_with_quota_headers(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    api.llm.push("Nice! Where do you usually drink coffee?")
    response = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/",
        json={"content": "  I drink coffee every day  "},
        headers=headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["message"]["content"] == "I drink coffee every day"
    assert body["message"]["role"] == "user"
    assert body["reply"]["role"] == "assistant"
    assert body["reply"]["model"] == "scripted"
    assert body["quota"] == {"limit": 5, "used": 1, "remaining": 4, "resets_at": "2026-11-27T00:00:00+09:00"}
    # FrozenClock: 2026-11-26T03:00Z = 12:00 in Seoul, 12 h before the reset.
    assert response.headers["x-ratelimit-limit"] == "5"
    assert response.headers["x-ratelimit-remaining"] == "4"
    assert response.headers["x-ratelimit-reset"] == str(12 * 3600)


@pytest.mark.parametrize("content", ["", "   ", "x" * 4001])
async def test_message_content_bounds(api: Api, content: str) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    assert_error(
        await api.client.post(
            f"/chatbot/chats/{chat_id}/messages/", json={"content": content}, headers=headers
        ),
        422,
        "validation_error",
    )
    assert (await api.client.get("/chatbot/quota/", headers=headers)).json()["used"] == 0


async def test_sixth_request_is_refused_until_midnight_in_seoul(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    for _ in range(5):
        assert (
            await api.client.post(
                f"/chatbot/chats/{chat_id}/messages/", json={"content": "hello"}, headers=headers
            )
        ).status_code == 201
    refused = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/", json={"content": "hello"}, headers=headers
    )
    body = assert_error(refused, 429, "quota_exceeded")
    assert "2026-11-27T00:00:00+09:00" in body["detail"]
    assert refused.headers["retry-after"] == str(12 * 3600)
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert_error(
        await api.client.post("/chatbot/chats/", json={"message": "again"}, headers=headers),
        429,
        "quota_exceeded",
    )
    assert len((await api.client.get("/chatbot/chats/", headers=headers)).json()["items"]) == 1
    quota = (await api.client.get("/chatbot/quota/", headers=headers)).json()
    assert quota == {"limit": 5, "used": 5, "remaining": 0, "resets_at": "2026-11-27T00:00:00+09:00"}
    api.clock.advance(hours=12)  # midnight in Seoul
    headers = {"Authorization": f"Bearer {(await api.login())['access']}"}
    assert (
        await api.client.post(
            f"/chatbot/chats/{chat_id}/messages/", json={"content": "hello"}, headers=headers
        )
    ).status_code == 201


async def test_idempotency_key_replays_without_counting(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    keyed = {**headers, "Idempotency-Key": "retry-1"}
    first = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/", json={"content": "hello"}, headers=keyed
    )
    again = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/", json={"content": "hello"}, headers=keyed
    )
    assert first.status_code == again.status_code == 201
    assert again.json()["message"] == first.json()["message"]
    assert again.json()["reply"] == first.json()["reply"]
    assert (await api.client.get("/chatbot/quota/", headers=headers)).json()["used"] == 1
    assert len((await api.client.get(f"/chatbot/chats/{chat_id}/", headers=headers)).json()["messages"]) == 2
    long_key = {**headers, "Idempotency-Key": "k" * 256}
    assert_error(
        await api.client.post(f"/chatbot/chats/{chat_id}/messages/", json={"content": "x"}, headers=long_key),
        422,
        "validation_error",
    )


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (LLMTimeout(), 504, "llm_timeout"),
        (LLMUnavailable(), 503, "llm_unavailable"),
        (LLMBusy(retry_after=7), 503, "llm_busy"),
        (LLMUpstreamError(), 502, "llm_error"),
        (LLMMisconfigured(), 502, "llm_misconfigured"),
    ],
)
async def test_upstream_failures_keep_the_message_and_give_the_slot_back(
    api: Api, error: LLMError, status: int, code: str
) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    api.llm.push(error)
    response = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/", json={"content": "hello"}, headers=headers
    )
    assert_error(response, status, code)
    assert response.headers["x-ratelimit-remaining"] == "5"
    if isinstance(error, LLMBusy):
        assert response.headers["retry-after"] == "7"
    messages = (await api.client.get(f"/chatbot/chats/{chat_id}/", headers=headers)).json()["messages"]
    assert [(m["role"], m["content"], m["status"]) for m in messages] == [("user", "hello", "failed")]
    assert (await api.client.get("/chatbot/quota/", headers=headers)).json()["used"] == 0


async def test_streamed_reply(api: Api) -> None:
    headers = {**(await api.user()), "Accept": "text/event-stream"}
    chat_id = await api.chat(headers)
    api.llm.push("Great answer, tell me more.")
    response = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/", json={"content": "I build APIs"}, headers=headers
    )
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-ratelimit-remaining"] == "4"
    events = sse_events(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done"
    assert set(kinds[:-1]) == {"delta"}
    assert len(kinds) > 2
    streamed = "".join(data["text"] for kind, data in events if kind == "delta")
    done = events[-1][1]
    assert streamed == done["reply"]["content"] == "Great answer, tell me more."
    assert done["quota"]["used"] == 1
    stored = (await api.client.get(f"/chatbot/chats/{chat_id}/", headers=headers)).json()["messages"]
    assert stored[-1]["content"] == streamed


async def test_streamed_failure_is_an_error_event(api: Api) -> None:
    headers = {**(await api.user()), "Accept": "text/event-stream"}
    chat_id = await api.chat(headers)
    api.llm.push(LLMTimeout())
    response = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/", json={"content": "hello"}, headers=headers
    )
    events = sse_events(response.text)
    assert events == [("error", {"code": "llm_timeout", "detail": LLMTimeout().detail})]
    assert (await api.client.get("/chatbot/quota/", headers=headers)).json()["used"] == 0


async def test_streaming_refusal_is_a_plain_429(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    for _ in range(5):
        await api.client.post(
            f"/chatbot/chats/{chat_id}/messages/", json={"content": "hello"}, headers=headers
        )
    response = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/",
        json={"content": "hello"},
        headers={**headers, "Accept": "text/event-stream"},
    )
    assert_error(response, 429, "quota_exceeded")
