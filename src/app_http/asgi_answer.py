"""Answering an ASGI request by hand (for :mod:`app_http.direct`): a JSON body, or server-sent events
with the same bytes and headers as Litestar's ``ServerSentEvent`` and the same handling of a client
that leaves (the events stop, the request's ``close`` runs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable

import msgspec
from litestar.response import ServerSentEventMessage
from litestar.types import Receive, Send

from app_http.errors import llm_failure_answer
from app_http.sse import stream_headers
from chatcore.errors import LLMError
from chatcore.model import Quota
from chatcore.ports.clock import Clock

_JSON = b"application/json"
_EVENTS = b"text/event-stream; charset=utf-8"
_encode = msgspec.json.Encoder().encode

Headers = list[tuple[bytes, bytes]]
Events = AsyncGenerator[ServerSentEventMessage, None]


class Answer:
    """Sending the answer of one request: JSON at once, or server-sent events."""

    __slots__ = ("clock", "left", "receive", "send", "started")

    def __init__(self, receive: Receive, send: Send, clock: Clock) -> None:
        self.receive = receive
        self.send = send
        self.clock = clock
        self.started = False
        self.left = False

    async def json(self, status: int, body: object, headers: dict[str, str]) -> None:
        encoded = _encode(body)
        raw: Headers = [(b"content-type", _JSON), (b"content-length", str(len(encoded)).encode())]
        await self._start(status, raw, headers)
        await self.send({"type": "http.response.body", "body": encoded, "more_body": False})

    async def llm_failure(self, exc: LLMError, quota: Quota) -> None:
        status, body, headers = llm_failure_answer(exc, quota, self.clock.now())
        await self.json(status, body, headers)

    async def stream(
        self, status: int, quota: Quota, events: Events, *, close: Callable[[], Awaitable[None]] | None
    ) -> None:
        """``events`` as server-sent events, until they end or the client leaves (which stops them);
        ``close`` runs afterwards in every case (it settles a request whose events never started)."""
        try:
            raw: Headers = [(b"content-type", _EVENTS), (b"connection", b"keep-alive")]
            await self._start(status, raw, stream_headers(quota, self.clock.now()))
            # The watcher first: a client already gone is seen before the first event is sent.
            watch = asyncio.ensure_future(self._client_left())
            pump = asyncio.ensure_future(self._pump(events))
            try:
                await asyncio.wait((pump, watch), return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (pump, watch):
                    task.cancel()
                await asyncio.gather(pump, watch, return_exceptions=True)
            if not pump.cancelled() and pump.exception() is not None:
                raise pump.exception()  # type: ignore[misc]
        finally:
            await events.aclose()
            if close is not None:
                await close()

    async def _pump(self, events: Events) -> None:
        send = self.send
        # ``left`` is checked before each event is asked for: events that never wait (the offline
        # tutor, a replay) would otherwise all be made and sent before the watcher runs.
        while not self.left:
            try:
                event = await anext(events)
            except StopAsyncIteration:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            if not self.left:
                await send({"type": "http.response.body", "body": event.encode(), "more_body": True})

    async def _client_left(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        self.left = True

    async def _start(self, status: int, raw: Headers, headers: dict[str, str]) -> None:
        raw.extend(
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        )
        self.started = True
        await self.send({"type": "http.response.start", "status": status, "headers": raw})
