"""The LLM port on the openai SDK: OpenAI or any OpenAI-compatible server (Ollama, vLLM, llama.cpp).

Time budget (``timeout`` seconds, ``CHATCORE_LLM_TIMEOUT``):

* ``complete()``: the whole call, retries included, ends within ``timeout``.
* ``stream()``: the first text arrives within ``timeout`` of the call (retries included), and
  then no gap between two pieces of the answer may exceed ``timeout``. A long answer that keeps
  flowing is not cut off; a stalled one is.

Retries: the SDK's own retries are off (they back off for up to minutes and would retry 429s,
which SPEC §6 reports to the caller instead). The gateway retries only a connection that could
not be made at all (refused, DNS), since then the request never reached the upstream; it does
so at most ``connect_retries`` times and only while the deadline leaves room. Anything that may
have reached the upstream is never re-sent: that would spend tokens twice.

One ``AsyncOpenAI`` client (one connection pool) per gateway; build one gateway per process and
close it with ``aclose()`` at shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import suppress
from typing import TypeVar
from urllib.parse import urlsplit

import httpx2
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam

from adapters.openai_llm.errors import BrokenAnswer, could_not_connect, translated
from chatcore.ports import Completion, Prompt

T = TypeVar("T")

CONNECT_RETRY_DELAY = 0.2


class OpenAIGateway:
    """:class:`chatcore.ports.LLMGateway` over the Chat Completions API.

    Every failure leaves as a :class:`chatcore.errors.LLMError` (see ``adapters.openai_llm.errors``).
    The API key is only ever sent in the ``Authorization`` header.
    """

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = 30.0,
        connect_retries: int = 1,
        connect_retry_delay: float = CONNECT_RETRY_DELAY,
    ) -> None:
        if not api_key:
            raise ValueError("OpenAIGateway needs an API key (any non-empty string for a local server).")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._model = model
        self._timeout = timeout
        self._connect_retries = max(0, connect_retries)
        self._connect_retry_delay = connect_retry_delay
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=0
        )
        self._host = urlsplit(str(self._client.base_url)).hostname or ""

    @property
    def model(self) -> str:
        """The configured model name; stored with every reply, streamed or not."""
        return self._model

    @property
    def base_url_host(self) -> str:
        """The upstream's host name (for logs: it identifies the upstream without any secret)."""
        return self._host

    async def complete(self, prompt: Prompt) -> Completion:
        """The whole reply; raises an ``LLMError`` on any failure or an empty answer."""
        messages = _messages(prompt)
        deadline = asyncio.get_running_loop().time() + self._timeout

        def call() -> Awaitable[ChatCompletion]:
            return self._client.chat.completions.create(model=self._model, messages=messages, stream=False)

        response = await self._with_connect_retry(call, deadline=deadline)
        with translated(model=self._model, host=self._host, answering=True):
            text = _text_of(response)
        return Completion(text=text, model=self._model)

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        """The reply as text deltas. Closing the generator closes the upstream response."""
        messages = _messages(prompt)
        deadline = asyncio.get_running_loop().time() + self._timeout

        def call() -> Awaitable[openai.AsyncStream[ChatCompletionChunk]]:
            return self._client.chat.completions.create(model=self._model, messages=messages, stream=True)

        upstream = await self._with_connect_retry(call, deadline=deadline)
        produced = finished = False
        try:
            while True:
                with translated(model=self._model, host=self._host, answering=True):
                    try:
                        async with asyncio.timeout_at(deadline):
                            chunk = await upstream.__anext__()
                    except StopAsyncIteration:
                        break
                    text, done = _delta_of(chunk)
                deadline = asyncio.get_running_loop().time() + self._timeout
                finished = finished or done
                if text:
                    produced = True
                    yield text
            if not (finished and produced):
                # Ended without a finish_reason (cut at a message boundary) or said nothing.
                with translated(model=self._model, host=self._host, answering=True):
                    raise BrokenAnswer("the stream ended without a complete answer")
        finally:
            # Closing the response drops the connection: the upstream sees the client leave and
            # stops generating. Must not mask the exception that brought us here.
            with suppress(httpx2.HTTPError, OSError):
                await upstream.close()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.close()

    async def _with_connect_retry(self, call: Callable[[], Awaitable[T]], *, deadline: float) -> T:
        loop = asyncio.get_running_loop()
        attempt = 0
        with translated(model=self._model, host=self._host, answering=False):
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        return await call()
                except openai.APIConnectionError as exc:
                    retry = (
                        could_not_connect(exc)
                        and attempt < self._connect_retries
                        and loop.time() + self._connect_retry_delay < deadline
                    )
                    if not retry:
                        raise
                attempt += 1
                await asyncio.sleep(self._connect_retry_delay)


def _messages(prompt: Prompt) -> list[ChatCompletionMessageParam]:
    messages: list[ChatCompletionMessageParam] = []
    for turn in prompt.turns:
        if turn.role == "system":
            messages.append({"role": "system", "content": turn.content})
        elif turn.role == "user":
            messages.append({"role": "user", "content": turn.content})
        else:
            messages.append({"role": "assistant", "content": turn.content})
    return messages


def _text_of(response: object) -> str:
    """The answer text of a non-streamed completion. The SDK does not validate bodies (and hands
    back plain text for a non-JSON one), so every step is checked."""
    if not isinstance(response, ChatCompletion):
        raise BrokenAnswer("not a chat completion")
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        raise BrokenAnswer("no message in the completion") from None
    if not isinstance(content, str) or not content.strip():
        raise BrokenAnswer("an empty answer")
    return content


def _delta_of(chunk: object) -> tuple[str, bool]:
    """(text, finished) of one stream chunk. Chunks without choices (usage, filter results) are
    legal and carry no text."""
    if not isinstance(chunk, ChatCompletionChunk):
        raise BrokenAnswer("not a chat completion chunk")
    text = ""
    finished = False
    try:
        for choice in chunk.choices or ():
            if choice.index != 0:
                continue
            content = choice.delta.content if choice.delta is not None else None
            if isinstance(content, str):
                text += content
            finished = finished or choice.finish_reason is not None
    except (AttributeError, TypeError):
        raise BrokenAnswer("a malformed chunk") from None
    return text, finished
