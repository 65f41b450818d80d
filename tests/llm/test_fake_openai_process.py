"""The fake OpenAI server also runs as a process of its own, steered over HTTP, for the
end-to-end tests of the real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.openai_llm import OpenAIGateway
from chatcore.errors import LLMMisconfigured, LLMUpstreamError
from fakes.fake_openai_process import FakeOpenAIProcess
from llm.conftest import API_KEY, MODEL, prompt


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeOpenAIProcess]:
    with FakeOpenAIProcess(mode="ok", api_key=API_KEY) as process:
        yield process


async def test_the_fake_process_answers_fails_on_demand_and_records_requests(
    upstream: FakeOpenAIProcess,
) -> None:
    upstream.clear()
    gateway = OpenAIGateway(api_key=API_KEY, model=MODEL, base_url=upstream.base_url, timeout=5)
    try:
        reply = await gateway.complete(prompt("Hello from another process"))
        upstream.configure(mode="500")
        with pytest.raises(LLMUpstreamError):
            await gateway.complete(prompt("And now?"))
    finally:
        upstream.configure(mode="ok")
        await gateway.aclose()

    received = upstream.requests()
    assert "Hello from another process" in reply.text
    assert [r["path"] for r in received] == ["/v1/chat/completions"] * 2
    assert received[0]["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert received[0]["body"]["messages"][-1] == {"role": "user", "content": "Hello from another process"}


async def test_the_fake_process_refuses_another_key(upstream: FakeOpenAIProcess) -> None:
    gateway = OpenAIGateway(api_key="sk-wrong", model=MODEL, base_url=upstream.base_url, timeout=5)
    try:
        with pytest.raises(LLMMisconfigured):
            await gateway.complete(prompt("Let me in"))
    finally:
        await gateway.aclose()
