"""Fixtures of the LLM tests: a fake OpenAI server, a gateway on it, prompts in both modes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.openai_llm import OpenAIGateway
from chatcore.model import Mode
from chatcore.ports.llm import Prompt, Turn
from chatcore.tutor import system_prompt
from fakes.fake_openai import FakeOpenAI

API_KEY = "sk-test-0123456789-SECRET-never-log-me"
MODEL = "fake-model"
TIMEOUT = 0.5
"""Small, so that the timeout faults stay fast."""


def prompt(*said: str, mode: Mode = Mode.CONVERSATION, topic: str = "") -> Prompt:
    """A prompt as the service builds it: the mode's system prompt, then turns alternating from
    the learner (``said[0]``) to the tutor and back."""
    turns = [Turn(role="system", content=system_prompt(mode, topic))]
    for index, text in enumerate(said):
        turns.append(Turn(role="user" if index % 2 == 0 else "assistant", content=text))
    return Prompt(turns=tuple(turns), mode=mode, topic=topic)


@pytest.fixture(scope="session", autouse=True)
def _gateway_warmed_up() -> None:
    """The first request of a process imports and sets up aiohttp's connection machinery (a
    noticeable pause on a busy machine). Pay that once, so the short timeouts here time the
    gateway, not an import."""

    async def once() -> None:
        async with FakeOpenAI() as server:
            llm = OpenAIGateway(api_key=API_KEY, model=MODEL, base_url=server.base_url, timeout=60)
            try:
                await llm.complete(prompt("warm up"))
                assert [piece async for piece in llm.stream(prompt("warm up"))]
            finally:
                await llm.aclose()

    asyncio.run(once())


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI-compatible server on 127.0.0.1, answering normally until told otherwise."""
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def gateway(fake: FakeOpenAI) -> AsyncIterator[OpenAIGateway]:
    """The real OpenAI adapter pointed at the fake, with a short timeout."""
    llm = OpenAIGateway(api_key=API_KEY, model=MODEL, base_url=fake.base_url, timeout=TIMEOUT)
    yield llm
    await llm.aclose()
