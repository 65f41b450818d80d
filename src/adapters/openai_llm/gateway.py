"""The LLM port on the openai SDK: OpenAI or any OpenAI-compatible server (Ollama, vLLM, llama.cpp).

Time budget (``timeout`` seconds, ``CHATCORE_LLM_TIMEOUT``):

* ``complete()``: the whole call, retries included, ends within ``timeout``.
* ``stream()``: the upstream starts its answer (first chunk) within ``timeout`` of the call,
  retries included, and then no gap between two chunks may exceed ``timeout``. A long answer
  that keeps flowing is not cut off; a stalled one is.

Retries: the SDK's own retries are off (they back off for up to minutes and would retry 429s,
which SPEC §6 reports to the caller instead). The gateway retries only a connection that could
not be made at all (refused, DNS), since then the request never reached the upstream; it does
so at most ``connect_retries`` times and only while the deadline leaves room. Anything that may
have reached the upstream is never re-sent: that would spend tokens twice.

One ``AsyncOpenAI`` client (one connection pool) per gateway; build one gateway per process and
close it with ``aclose()`` at shutdown.

Requests go through the SDK's documented generic ``client.post()`` with ``cast_to=object``
rather than ``chat.completions.create()``: our body is already plain JSON, and ``create()``
re-walks it against the SDK's TypedDicts on every call, then builds pydantic models for the
answer and for every streamed chunk - the largest CPU items of a call in cProfile; skipping
them halves the Python function calls per call (more for streams). The JSON is read here
instead, defensively, since nothing validated it. Auth, timeouts, error classes and SSE
decoding are the SDK's, unchanged.

A chat message is ONE call for the reply and its feedback (SPEC §4.7): when the prompt asks for
feedback, the call asks for ``{"reply": ..., "feedback": ...}`` with ``response_format``
(``structured.py``), "reply" first; streamed, the reply string is decoded as it arrives and
streamed as plain text, the feedback read at the end (``reply_json.py``). An answer that is not
that JSON (a server or model that ignored the format) is the reply as it is, with no feedback:
the reply is never lost for its feedback. A scorecard is a (non-streamed) call of its own, also
asking for JSON. A server that refuses ``response_format`` with a 400/422 is asked again
without it at once (the prompt asks for the same JSON), and from then on never with it: the
gateway remembers, per process, that this server has no structured output.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import suppress
from typing import TypeVar
from urllib.parse import urlsplit

import httpx2
import openai

from adapters.openai_llm.errors import BrokenAnswer, RequestRejected, could_not_connect, translated
from adapters.openai_llm.reply_json import ReplyExtractor, split_answer
from adapters.openai_llm.structured import (
    REPLY_SCHEMA,
    SCORECARD_SCHEMA,
    feedback_from,
    response_format,
    scorecard_from,
)
from chatcore.learning import Feedback, Scorecard
from chatcore.ports.llm import Completion, Prompt, ScorecardRequest, Turn

T = TypeVar("T")

CONNECT_RETRY_DELAY = 0.2
CHAT_COMPLETIONS = "/chat/completions"


class OpenAIGateway:
    """:class:`chatcore.ports.llm.LLMGateway` over the Chat Completions API.

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
        # The SDK's aiohttp transport (its `openai[aiohttp]` extra): the same requests, errors and
        # streaming through the same SDK, at about half the CPU per call of the default httpx2
        # transport, which was the largest single cost of a tutor request (docs/performance.md).
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url or None,
            timeout=timeout,
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(timeout=timeout),
        )
        self._host = urlsplit(str(self._client.base_url)).hostname or ""
        self._structured: bool | None = None
        """Whether the server takes ``response_format``: unknown until the first call says."""

    @property
    def model(self) -> str:
        """The configured model name; stored with every reply, streamed or not."""
        return self._model

    @property
    def base_url_host(self) -> str:
        """The upstream's host name (for logs: it identifies the upstream without any secret)."""
        return self._host

    async def complete(self, prompt: Prompt) -> Completion:
        """The whole reply (and its feedback, when asked); raises an ``LLMError`` on any failure
        or an empty answer."""
        messages = _messages(prompt)
        deadline = asyncio.get_running_loop().time() + self._timeout

        def call(structured: bool) -> Callable[[], Awaitable[object]]:
            body = self._body(messages, structured=structured)
            return lambda: self._client.post(CHAT_COMPLETIONS, cast_to=object, body=body)

        asked = prompt.feedback is not None
        if asked:
            response = await self._formatted(call, deadline=deadline)
        else:
            response = await self._with_connect_retry(call(False), deadline=deadline)
        with translated(model=self._model, host=self._host, answering=True):
            text = _text_of(response)
        if not asked:
            return Completion(text=text, model=self._model)
        reply, found = split_answer(text)
        feedback = None if found is None else feedback_from(found)
        return Completion(text=reply, model=self._model, feedback=feedback)

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str | Feedback, None]:
        """The reply as text deltas (then its feedback, when asked and valid). Closing the
        generator closes the upstream response."""
        messages = _messages(prompt)
        deadline = asyncio.get_running_loop().time() + self._timeout

        def call(structured: bool) -> Callable[[], Awaitable[openai.AsyncStream[object]]]:
            body = self._body(messages, structured=structured, stream=True)
            raw_chunks = openai.AsyncStream[object]
            return lambda: self._client.post(
                CHAT_COMPLETIONS, cast_to=object, body=body, stream=True, stream_cls=raw_chunks
            )

        extractor = None
        if prompt.feedback is not None:
            extractor = ReplyExtractor()
            upstream = await self._formatted(call, deadline=deadline)
        else:
            upstream = await self._with_connect_retry(call(False), deadline=deadline)
        produced = finished = False
        feedback: Feedback | None = None
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
                if text and extractor is not None:
                    text = extractor.feed(text)
                if text:
                    produced = True
                    yield text
                if extractor is not None and extractor.reply_closed:
                    finished = await self._rest_of(upstream, extractor, deadline=deadline) or finished
                    break
            if extractor is not None and finished:
                tail, found = extractor.finish()
                if tail:
                    produced = True
                    yield tail
                feedback = None if found is None else feedback_from(found)
            if not (finished and produced):
                # Ended without a finish_reason (cut at a message boundary) or said nothing.
                with translated(model=self._model, host=self._host, answering=True):
                    raise BrokenAnswer("the stream ended without a complete answer")
            if feedback is not None:
                yield feedback
        finally:
            # Closing the response drops the connection: the upstream sees the client leave and
            # stops generating. Must not mask the exception that brought us here.
            with suppress(httpx2.HTTPError, OSError):
                await upstream.close()

    async def _rest_of(
        self, upstream: openai.AsyncStream[object], extractor: ReplyExtractor, *, deadline: float
    ) -> bool:
        """Read what follows the reply (the feedback's JSON) into ``extractor``; whether the
        stream finished. Nothing is given to the learner until it ends, so one timeout covers
        the rest, moved at every chunk (no gap may exceed ``timeout``, as for the reply): the
        cheapest way through what can be a few hundred chunks."""
        loop = asyncio.get_running_loop()
        finished = False
        with translated(model=self._model, host=self._host, answering=True):
            async with asyncio.timeout_at(deadline) as budget:
                async for chunk in upstream:
                    text, done = _delta_of(chunk)
                    finished = finished or done
                    if text:
                        extractor.feed(text)
                    budget.reschedule(loop.time() + self._timeout)
        return finished

    @property
    def structured_output(self) -> bool | None:
        """Whether the server took ``response_format`` (``None`` until a call has told)."""
        return self._structured

    async def scorecard(self, request: ScorecardRequest) -> Scorecard:
        """The scorecard as JSON; an answer that is not a valid scorecard is ``LLMUpstreamError``."""
        text = await self._json_call(request.turns, name="scorecard", schema=SCORECARD_SCHEMA)
        with translated(model=self._model, host=self._host, answering=True):
            card = scorecard_from(text)
            if card is None:
                raise BrokenAnswer("the scorecard is not valid JSON of its schema")
        return card

    async def _json_call(self, turns: tuple[Turn, ...], *, name: str, schema: dict[str, object]) -> str:
        """The text of a non-streamed call asking for JSON (see :meth:`_formatted`)."""
        messages = [{"role": turn.role, "content": turn.content} for turn in turns]
        deadline = asyncio.get_running_loop().time() + self._timeout

        def call(structured: bool) -> Callable[[], Awaitable[object]]:
            body: dict[str, object] = {"model": self._model, "messages": messages}
            if structured:
                body["response_format"] = response_format(name, schema)
            return lambda: self._client.post(CHAT_COMPLETIONS, cast_to=object, body=body)

        response = await self._formatted(call, deadline=deadline)
        with translated(model=self._model, host=self._host, answering=True):
            return _text_of(response)

    def _body(
        self, messages: list[dict[str, str]], *, structured: bool, stream: bool = False
    ) -> dict[str, object]:
        """A reply call's body; ``structured`` asks for the reply and its feedback as JSON."""
        body: dict[str, object] = {"model": self._model, "messages": messages}
        if stream:
            body["stream"] = True
        if structured:
            body["response_format"] = response_format("reply", REPLY_SCHEMA)
        return body

    async def _formatted(self, call: Callable[[bool], Callable[[], Awaitable[T]]], *, deadline: float) -> T:
        """``call(structured)`` made with ``response_format`` unless this server is known to
        refuse it; refused (400/422) while still unknown, made again at once without it."""
        structured = self._structured is not False
        try:
            result = await self._with_connect_retry(call(structured), deadline=deadline)
        except RequestRejected:
            if not structured or self._structured is not None:
                raise
            self._structured = False
            return await self._with_connect_retry(call(False), deadline=deadline)
        if structured:
            self._structured = True
        return result

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


def _messages(prompt: Prompt) -> list[dict[str, str]]:
    return [{"role": turn.role, "content": turn.content} for turn in prompt.turns]


def _text_of(response: object) -> str:
    """The answer text of a non-streamed completion (the JSON body, or the text of a non-JSON one)."""
    choices = response.get("choices") if isinstance(response, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str) or not content.strip():
        raise BrokenAnswer("no answer text in the completion")
    return content


def _delta_of(chunk: object) -> tuple[str, bool]:
    """(text, finished) of one stream chunk. Chunks without choices (usage, filter results) are
    legal and carry no text."""
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not isinstance(choices, list):
        raise BrokenAnswer("a chunk without choices")
    text = ""
    finished = False
    for choice in choices:
        if not isinstance(choice, dict):
            raise BrokenAnswer("a malformed choice")
        if choice.get("index", 0) != 0:
            continue
        delta = choice.get("delta")
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str):
            text += content
        finished = finished or choice.get("finish_reason") is not None
    return text, finished
