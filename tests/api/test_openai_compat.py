"""SPEC §4.5: the OpenAI-compatible endpoint, authenticated by access token or API key, counted."""

from __future__ import annotations

import json
from datetime import datetime

from api.conftest import PASSWORD, Api
from api.helpers import assert_error
from chatcore.errors import LLMTimeout

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello! Help me order a coffee."}]}


async def api_key(api: Api) -> dict[str, str]:
    headers = await api.user()
    key = (
        await api.client.post(
            "/accounts/api-keys/", json={"name": "cli", "password": PASSWORD}, headers=headers
        )
    ).json()["key"]
    return {"Authorization": f"Bearer {key}"}


async def test_completion_with_an_access_token(api: Api) -> None:
    headers = await api.user()
    api.llm.push("Sure! Try: 'Could I get a latte, please?'")
    response = await api.client.post("/v1/chat/completions", json=BODY, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {
        "content": "Sure! Try: 'Could I get a latte, please?'",
        "role": "assistant",
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    assert response.headers["x-ratelimit-remaining"] == "4"
    assert api.llm.prompts[-1].turns[-1].content == "Hello! Help me order a coffee."


async def test_completion_with_an_api_key_shares_the_quota(api: Api) -> None:
    headers = await api_key(api)
    for _ in range(5):
        assert (await api.client.post("/v1/chat/completions", json=BODY, headers=headers)).status_code == 200
    assert_error(
        await api.client.post("/v1/chat/completions", json=BODY, headers=headers), 429, "quota_exceeded"
    )


async def test_models_lists_the_relayed_model(api: Api) -> None:
    headers = await api_key(api)
    body = (await api.client.get("/v1/models", headers=headers)).json()
    assert body == {
        "data": [{"id": "scripted", "created": 0, "owned_by": "chatcore", "object": "model"}],
        "object": "list",
    }


async def test_streamed_completion(api: Api) -> None:
    headers = await api.user()
    api.llm.push("One two three")
    response = await api.client.post("/v1/chat/completions", json={**BODY, "stream": True}, headers=headers)
    lines = [
        line[6:] for line in response.text.replace("\r\n", "\n").splitlines() if line.startswith("data: ")
    ]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "One two three"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_failure_gives_the_slot_back(api: Api) -> None:
    headers = await api.user()
    api.llm.push(LLMTimeout())
    response = await api.client.post("/v1/chat/completions", json=BODY, headers=headers)
    assert_error(response, 504, "llm_timeout")
    # As on /chatbot: the quota headers after the slot was given back.
    assert response.headers["X-RateLimit-Remaining"] == "5"
    assert (await api.client.get("/chatbot/quota/", headers=headers)).json()["used"] == 0


async def test_bad_requests(api: Api) -> None:
    headers = await api.user()
    assert_error(
        await api.client.post("/v1/chat/completions", json={"messages": []}, headers=headers),
        422,
        "validation_error",
    )
    only_system = {"messages": [{"role": "system", "content": "be nice"}]}
    assert_error(
        await api.client.post("/v1/chat/completions", json=only_system, headers=headers),
        422,
        "validation_error",
    )
    bad_role = {"messages": [{"role": "wizard", "content": "hi"}]}
    assert_error(
        await api.client.post("/v1/chat/completions", json=bad_role, headers=headers), 422, "validation_error"
    )
    assert_error(await api.client.post("/v1/chat/completions", json=BODY), 401, "not_authenticated")
    bad_key = {"Authorization": "Bearer ck_not-a-real-key"}
    assert_error(
        await api.client.post("/v1/chat/completions", json=BODY, headers=bad_key), 401, "invalid_token"
    )
    assert (await api.client.get("/chatbot/quota/", headers=headers)).json()["used"] == 0


async def test_the_key_list_shows_when_each_key_was_last_used(api: Api) -> None:
    headers = await api.user()
    created = (
        await api.client.post(
            "/accounts/api-keys/", json={"name": "cli", "password": PASSWORD}, headers=headers
        )
    ).json()
    assert created["last_used_at"] is None
    key_headers = {"Authorization": f"Bearer {created['key']}"}
    first_use = api.clock.now()
    assert (await api.client.get("/v1/models", headers=key_headers)).status_code == 200

    async def last_used() -> str | None:
        fresh = {"Authorization": f"Bearer {(await api.login())['access']}"}  # the clock moves
        listed = (await api.client.get("/accounts/api-keys/", headers=fresh)).json()
        value: str | None = listed[0]["last_used_at"]
        return value

    assert last_used_value(await last_used()) == first_use
    api.clock.advance(minutes=30)  # kept to the hour: no write for every request
    await api.client.get("/v1/models", headers=key_headers)
    assert last_used_value(await last_used()) == first_use
    api.clock.advance(minutes=31)
    await api.client.get("/v1/models", headers=key_headers)
    assert last_used_value(await last_used()) == api.clock.now()


def last_used_value(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
