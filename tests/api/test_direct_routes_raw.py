"""The direct routes (app_http.direct) driven by hand through ASGI, for what the test client cannot
send: repeated headers, a client gone before the first event, a credential check that fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.conftest import Api, api_over_fakes
from api.helpers import post_scope

Sent = list[dict[str, Any]]


async def call(
    api: Api, path: str, headers: list[tuple[bytes, bytes]], body: bytes, *, leave: bool = False
) -> Sent:
    incoming: list[dict[str, Any]] = [{"type": "http.request", "body": body, "more_body": False}]
    if leave:
        incoming.append({"type": "http.disconnect"})
    sent: Sent = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = post_scope(path, [(b"content-length", str(len(body)).encode()), *headers])
    await api.client.app(scope, receive, send)
    return sent


def status_and_body(sent: Sent) -> tuple[int, bytes]:
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def both(tmp_path: Path, scenario: Any) -> list[Any]:
    results = []
    for direct in (True, False):
        async with api_over_fakes(tmp_path / str(direct), direct_routes=direct) as api:
            results.append(await scenario(api))
    return results


async def test_the_first_of_repeated_headers_counts_as_in_litestar(tmp_path: Path) -> None:
    async def scenario(api: Api) -> list[tuple[int, bytes]]:
        auth = (await api.user())["Authorization"].encode()
        chat = await api.chat({"Authorization": auth.decode()})
        path = f"/chatbot/chats/{chat}/messages/"
        body = b'{"content": "hi"}'
        return [
            status_and_body(
                await call(api, path, [(b"authorization", b"Bearer bad"), (b"authorization", auth)], body)
            ),
            status_and_body(
                await call(api, path, [(b"authorization", auth), (b"authorization", b"Bearer bad")], body)
            ),
        ]

    direct, routed = await both(tmp_path, scenario)
    assert [status for status, _ in direct] == [401, 201]
    assert [status for status, _ in direct] == [status for status, _ in routed]


@pytest.mark.parametrize("path", ["messages", "/v1/chat/completions"])
async def test_a_client_gone_before_the_first_event_gets_nothing_on_both_paths(
    tmp_path: Path, path: str
) -> None:
    async def scenario(api: Api) -> tuple[int, bool, int, list[tuple[str, str]]]:
        auth = await api.user()
        chat = await api.chat(auth)
        api.llm.push("A reply that is never read.")
        where = f"/chatbot/chats/{chat}/messages/" if path == "messages" else path
        body: dict[str, Any] = {"content": "hello"}
        if path != "messages":
            body = {"messages": [{"role": "user", "content": "hello"}], "stream": True}
        headers = [(b"accept", b"text/event-stream"), (b"authorization", auth["Authorization"].encode())]
        sent = await call(api, where, headers, json.dumps(body).encode(), leave=True)
        text = b"".join(m.get("body", b"") for m in sent[1:])
        used = (await api.client.get("/chatbot/quota/", headers=auth)).json()["used"]
        stored = (await api.client.get(f"/chatbot/chats/{chat}/", headers=auth)).json()["messages"]
        return sent[0]["status"], b"never read" in text, used, [(m["role"], m["status"]) for m in stored]

    direct, routed = await both(tmp_path, scenario)
    assert direct == routed
    assert direct[1] is False  # nothing of the reply was sent
    assert direct[2] == 1  # the request counted


async def test_a_credential_lookup_that_fails_unforeseen_is_a_json_500(tmp_path: Path) -> None:
    async def scenario(api: Api) -> tuple[int, bytes]:
        await api.user()

        async def broken(key: str) -> int:
            raise RuntimeError("the database driver failed")

        api.container.accounts.authenticate_api_key = broken  # type: ignore[method-assign]
        body = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()
        return status_and_body(
            await call(api, "/v1/chat/completions", [(b"authorization", b"Bearer ck_x")], body)
        )

    direct, routed = await both(tmp_path, scenario)
    assert direct == routed
    assert direct[0] == 500
    assert json.loads(direct[1])["code"] == "internal_error"
