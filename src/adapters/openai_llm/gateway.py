"""The LLM port on the Chat Completions API: OpenAI or any OpenAI-compatible server (Ollama, vLLM, llama.cpp).

Time budget (``timeout`` seconds, ``CHATCORE_LLM_TIMEOUT``):

* ``complete()``: the whole call, retries included, ends within ``timeout``.
* ``stream()``: the upstream starts its answer (first chunk) within ``timeout`` of the call,
  retries included, and then no gap between two chunks may exceed ``timeout``. A long answer
  that keeps flowing is not cut off; a stalled one is.

Retries: none of the kind SDKs do (backing off for up to minutes, retrying 429s, which SPEC §6
reports to the caller instead). The gateway retries only a connection that could
not be made at all (refused, DNS), since then the request never reached the upstream; it does
so at most ``connect_retries`` times and only while the deadline leaves room. Anything that may
have reached the upstream is never re-sent: that would spend tokens twice.

One connection pool per gateway; build one gateway per process and
close it with ``aclose()`` at shutdown.

Requests go out through :mod:`adapters.openai_llm.transport`, a small aiohttp client for the one
endpoint used (``/chat/completions``), not through the openai SDK: the body is plain JSON built
here, and the answer is read here, defensively (nothing else validated it).

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

import aiohttp

from adapters.openai_llm.errors import BrokenAnswer, RequestRejected, could_not_connect, translated
from adapters.openai_llm.reply_json import ReplyExtractor, split_answer
from adapters.openai_llm.structured import (
    REPLY_SCHEMA,
    SCORECARD_SCHEMA,
    feedback_from,
    response_format,
    scorecard_from,
)
from adapters.openai_llm.transport import ChatCompletions, EventStream
from chatcore.errors import LLMError
from chatcore.learning import Feedback, Scorecard
from chatcore.ports.llm import Completion, Prompt, ScorecardRequest, Turn

T = TypeVar("T")

CONNECT_RETRY_DELAY = 0.2


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
        self._upstream = ChatCompletions(api_key=api_key, base_url=base_url, connect_timeout=timeout)
        self._host = urlsplit(self._upstream.base_url).hostname or ""
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
            return lambda: self._upstream.post(body)

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

        def call(structured: bool) -> Callable[[], Awaitable[EventStream]]:
            body = self._body(messages, structured=structured, stream=True)
            return lambda: self._upstream.stream(body)

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
                    while upstream.ready():  # what came in the same read goes on as one piece
                        more, more_done = _delta_of(await upstream.__anext__())
                        text += more
                        done = done or more_done
                deadline = asyncio.get_running_loop().time() + self._timeout
                finished = finished or done
                if text and extractor is not None:
                    text = extractor.feed(text)
                if text:
                    produced = True
                    yield text
                if extractor is not None and extractor.reply_closed:
                    # The learner has the whole reply: whatever becomes of the feedback that
                    # follows it (cut, stalled, an error; logged by ``translated``), the reply
                    # is complete and is kept, without feedback.
                    with suppress(LLMError):
                        await self._rest_of(upstream, extractor, deadline=deadline)
                    finished = True
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
            with suppress(aiohttp.ClientError, OSError):
                await upstream.close()

    async def _rest_of(self, upstream: EventStream, extractor: ReplyExtractor, *, deadline: float) -> bool:
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
            return lambda: self._upstream.post(body)

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
        await self._upstream.aclose()

    async def _with_connect_retry(self, call: Callable[[], Awaitable[T]], *, deadline: float) -> T:
        loop = asyncio.get_running_loop()
        attempt = 0
        with translated(model=self._model, host=self._host, answering=False):
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        return await call()
                except aiohttp.ClientConnectorError as exc:
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
