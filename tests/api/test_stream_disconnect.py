"""A client that disconnects before the first streamed event leaves nothing half done, and gets
nothing back: the request counted when it was accepted (SPEC §4.3, §5)."""

from __future__ import annotations

import json
from typing import Any

from api.conftest import Api
from api.helpers import post_scope


async def post_and_disconnect(api: Api, path: str, token: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Drive the ASGI app by hand: the request body, then at once ``http.disconnect``."""
    incoming: list[dict[str, Any]] = [
        {"type": "http.request", "body": json.dumps(body).encode(), "more_body": False},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = post_scope(
        path,
        [
            (b"content-type", b"application/json"),
            (b"accept", b"text/event-stream"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
    )
    await api.client.app(scope, receive, send)
    return sent


async def test_disconnect_before_the_first_event_counts_and_marks_the_message_failed(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    token = headers["Authorization"].removeprefix("Bearer ")
    sent = await post_and_disconnect(api, f"/chatbot/chats/{chat_id}/messages/", token, {"content": "hello"})
    assert sent[0]["status"] == 201
    assert not any(b"event: delta" in m.get("body", b"") for m in sent)
    assert (await api.client.get("/chatbot/quota/", headers=headers)).json()["used"] == 1
    messages = (await api.client.get(f"/chatbot/chats/{chat_id}/", headers=headers)).json()["messages"]
    assert [(m["role"], m["status"]) for m in messages] == [("user", "failed")]


async def test_openai_stream_disconnect_before_any_text_counts(api: Api) -> None:
    headers = await api.user()
    token = headers["Authorization"].removeprefix("Bearer ")
    body = {"messages": [{"role": "user", "content": "hello"}], "stream": True}
    sent = await post_and_disconnect(api, "/v1/chat/completions", token, body)
    assert sent[0]["status"] == 200
    assert (await api.client.get("/chatbot/quota/", headers=headers)).json()["used"] == 1
