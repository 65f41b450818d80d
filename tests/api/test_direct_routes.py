"""The busiest endpoints answered before Litestar's router (app_http.direct) answer exactly as the
Litestar handlers do: the same requests, sent to the app with and without the direct routes, get
the same status, headers and body — for the ordinary requests the direct routes answer themselves
and for every malformed one they hand on."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from api.conftest import PASSWORD, Api, api_over_fakes
from app_http.direct import DirectRoutes
from chatcore.errors import LLMTimeout, LLMUnavailable

Scenario = Callable[[Api], Awaitable[list[Any]]]
COMPLETION = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Order a coffee?"}]}
STREAM = {"Accept": "text/event-stream"}


def _normal(response: Any) -> tuple[int, list[tuple[str, str]], str]:
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k != "x-request-id")
    body = re.sub(r"chatcmpl-[0-9a-f]{24}", "chatcmpl-ID", response.text)
    body = re.sub(r'"created":\s*[0-9]+', '"created":0', body)
    return response.status_code, headers, body


async def _messages(
    api: Api, *, bodies: list[Any], headers: dict[str, str] | None = None, user: str = "minji"
) -> list[Any]:
    auth = await api.user(user)
    chat = await api.chat(auth)
    answers = []
    for item in bodies:
        body, extra = item if isinstance(item, tuple) else (item, {})
        kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
        answers.append(
            await api.client.post(
                f"/chatbot/chats/{chat}/messages/", headers={**auth, **(headers or {}), **extra}, **kwargs
            )
        )
    return answers


async def ordinary(api: Api) -> list[Any]:
    api.llm.push("Nice to meet you.")
    return await _messages(api, bodies=[{"content": "Hello"}, {"content": "Again", "extra": 1}])


async def streamed(api: Api) -> list[Any]:
    api.llm.push("Tell me more about it.")
    return await _messages(api, bodies=[{"content": "I build APIs"}], headers=STREAM)


async def quota_spent(api: Api) -> list[Any]:
    return await _messages(
        api, bodies=[*({"content": f"n{i}"} for i in range(6)), ({"content": "more"}, STREAM)]
    )


async def tutor_fails(api: Api) -> list[Any]:
    api.llm.push(LLMTimeout())
    api.llm.push(LLMUnavailable())
    return [
        *await _messages(api, bodies=[{"content": "hi"}]),
        *await _messages(api, bodies=[{"content": "hi"}], headers=STREAM, user="jisoo"),
    ]


async def malformed_bodies(api: Api) -> list[Any]:
    return await _messages(
        api,
        bodies=[
            b"{not json",
            b"",
            {},
            {"content": 3},
            {"content": None},
            {"content": "x" * 20_001},
            {"content": "a\u0000b"},
            [1, 2],
            b'{"content": "\xff"}',
            b"[" * 2000,
            b'{"content": "' + b"y" * (70 * 1024) + b'"}',
            b'{"content": "hi", "x": 1e400}',
            b'{"content": "hi", "x": -1e400}',
            b'{"content": "hi", "x": "\xff"}',
            b'{"content": "hi", "\xff": 1}',
        ],
    )


async def credentials(api: Api) -> list[Any]:
    auth = await api.user()
    chat = await api.chat(auth)
    key = (
        await api.client.post("/accounts/api-keys/", json={"name": "cli", "password": PASSWORD}, headers=auth)
    ).json()["key"]
    path = f"/chatbot/chats/{chat}/messages/"
    answers = []
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": auth["Authorization"].replace("Bearer", "Basic")},
        {"Authorization": f"Bearer {key}"},
        [("Authorization", "Bearer not-a-token"), ("Authorization", auth["Authorization"])],
        [("Authorization", auth["Authorization"]), ("Authorization", "Bearer not-a-token")],
    ):
        answers.append(await api.client.post(path, json={"content": "hi"}, headers=headers))
        answers.append(await api.client.post("/v1/chat/completions", json=COMPLETION, headers=headers))
    return answers


async def chats_of_others(api: Api) -> list[Any]:
    mine = await api.user("minji")
    theirs = await api.user("jisoo")
    their_chat = await api.chat(theirs)
    answers = []
    for chat in (their_chat, 999, 0, 2**31, 10**12):
        answers.append(
            await api.client.post(f"/chatbot/chats/{chat}/messages/", json={"content": "hi"}, headers=mine)
        )
    return answers


async def idempotency(api: Api) -> list[Any]:
    api.llm.push("First.")
    answers = await _messages(
        api, bodies=[{"content": "same"}, {"content": "same"}], headers={"Idempotency-Key": "k-1"}
    )
    answers += await _messages(
        api, bodies=[{"content": "same"}], headers={"Idempotency-Key": "k" * 256}, user="jisoo"
    )
    answers += await _messages(
        api, bodies=[{"content": "same"}], headers={"Idempotency-Key": ""}, user="yuna"
    )
    answers += await _messages(
        api, bodies=[{"content": "s"}] * 2, headers={**STREAM, "Idempotency-Key": "k-2"}, user="hana"
    )
    return answers


async def completions(api: Api) -> list[Any]:
    auth = await api.user()
    api.llm.push("Sure, here you go.")
    api.llm.push("Streamed, too.")
    api.llm.push(LLMTimeout())
    answers = []
    for body, headers in (
        (COMPLETION, auth),
        ({**COMPLETION, "stream": True}, auth),
        (COMPLETION, auth),
        ({"messages": []}, auth),
        ({"messages": [{"role": "robot", "content": "x"}]}, auth),
        ({**COMPLETION, "stream": "yes"}, auth),
        ({"messages": [{"role": "user", "content": "x\u0000"}]}, auth),
        ({**COMPLETION, "user": "\u0000"}, auth),
    ):
        answers.append(await api.client.post("/v1/chat/completions", json=body, headers=headers))
    answers.append(await api.client.post("/v1/chat/completions", content=b"{", headers=auth))
    for raw in (b', "temperature": 1e400}', b', "user": "\xff"}'):
        raw_body = json.dumps(COMPLETION).encode()[:-1] + raw
        answers.append(await api.client.post("/v1/chat/completions", content=raw_body, headers=auth))
    for _ in range(3):  # the day's quota runs out
        answers.append(await api.client.post("/v1/chat/completions", json=COMPLETION, headers=auth))
    answers.append(
        await api.client.post("/v1/chat/completions", json={**COMPLETION, "stream": True}, headers=auth)
    )
    return answers


@pytest.mark.parametrize(
    "scenario",
    [
        ordinary,
        streamed,
        quota_spent,
        tutor_fails,
        malformed_bodies,
        credentials,
        chats_of_others,
        idempotency,
        completions,
    ],
)
async def test_the_direct_routes_answer_as_litestar_does(scenario: Scenario, tmp_path: Path) -> None:
    answers = []
    for direct_routes in (True, False):
        async with api_over_fakes(tmp_path / str(direct_routes), direct_routes=direct_routes) as api:
            answers.append([_normal(r) for r in await scenario(api)])
    direct, routed = answers
    assert direct == routed


async def test_only_what_is_not_ordinary_reaches_the_router(tmp_path: Path) -> None:
    async with api_over_fakes(tmp_path) as api:
        direct = api.client.app.asgi_handler.app
        assert isinstance(direct, DirectRoutes)
        routed: list[str] = []
        inner = direct.app

        async def recorder(scope: Any, receive: Any, send: Any) -> None:
            routed.append(f"{scope['method']} {scope['path']}")
            await inner(scope, receive, send)

        direct.app = recorder
        auth = await api.user()
        chat = await api.chat(auth)
        path = f"/chatbot/chats/{chat}/messages/"
        routed.clear()
        api.llm.push("One.")
        assert (await api.client.post(path, json={"content": "hi"}, headers=auth)).status_code == 201
        assert (
            await api.client.post(path, json={"content": "hi"}, headers={**auth, **STREAM})
        ).status_code == 201
        assert (
            await api.client.post("/v1/chat/completions", json=COMPLETION, headers=auth)
        ).status_code == 200
        assert routed == []
        assert (await api.client.post(path, content=b"{", headers=auth)).status_code == 400
        assert (await api.client.post(path, json={"content": "hi"})).status_code == 401
        assert routed == [f"POST {path}"] * 2
