"""``POST {base_url}/chat/completions`` over aiohttp: the whole of the OpenAI API this service uses.

The openai SDK was the largest CPU item of a tutor request after the database (building each
request through its option models, headers and URL joining, about 0.5 ms a call) and 30 MB of
every worker's memory (its typed models, pydantic, a second HTTP stack), for one endpoint whose
body is already plain JSON here. This module sends that body and reads the answer: JSON, or
server-sent events for a stream. What can go wrong leaves as one of the exceptions below or as
aiohttp's own connection errors; ``errors.translated`` turns them into chatcore errors.

Timeouts are the gateway's (one deadline per call, one per stream chunk, with
``asyncio.timeout``); aiohttp only bounds making the connection.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
import msgspec

MAX_LINE = 1024 * 1024
"""The longest line taken from a stream (an event is a few hundred bytes)."""
DONE = b"[DONE]"
MAX_BODY = 4 * 1024 * 1024
"""The largest answer or stream event taken from the upstream (a reply is a few kilobytes)."""
MAX_ERROR_BODY = 64 * 1024
"""Bytes of an error answer read to find its ``error.code`` (the rest is never read)."""
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class UpstreamStatus(Exception):
    """The upstream answered with an HTTP error status. Carries no body text: upstreams quote
    (parts of) the API key in their 401 answers. ``code`` is the short machine token of an
    OpenAI error object (``insufficient_quota``), when there is one."""

    def __init__(self, status: int, headers: Mapping[str, str], *, code: str | None) -> None:
        super().__init__(f"upstream answered HTTP {status}")
        self.status = status
        self.headers = headers
        self.code = code
        self.request_id = headers.get("x-request-id")


class StreamFailed(Exception):
    """An error object inside a 200 stream (the upstream failed after it had started)."""

    def __init__(self, code: str | None) -> None:
        super().__init__("the upstream reported an error inside its stream")
        self.code = code


class _ErrorBody(msgspec.Struct):
    error: object = None


def _error_code(raw: bytes) -> str | None:
    try:
        error = msgspec.json.decode(raw, type=_ErrorBody).error
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return code[:64] if isinstance(code, str) else None


def _proxy_for(url: str) -> str | None:
    """The proxy for ``url`` from the environment (``HTTPS_PROXY``/``HTTP_PROXY``, ``NO_PROXY``),
    as any HTTP client honours them; read once, when the gateway is made."""
    parts = urlsplit(url)
    proxy = getproxies().get(parts.scheme)
    if proxy is None or proxy_bypass(parts.hostname or ""):
        return None
    return proxy


class ChatCompletions:
    """One upstream endpoint and its connection pool. Make it anywhere; it opens its aiohttp
    session on the first call (inside the running event loop) and closes it in :meth:`aclose`."""

    def __init__(self, *, api_key: str, base_url: str | None, connect_timeout: float) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._url = f"{self.base_url}/chat/completions"
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "User-Agent": "chatcore",
        }
        self._connect_timeout = connect_timeout
        self.proxy = _proxy_for(self._url)
        """The proxy requests go through, from the environment; ``None``: straight to the upstream."""
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout),
                # Not trust_env: aiohttp would then look for a ~/.netrc on every request (a thread
                # hand-off each time). The proxy settings are read once instead (_proxy_for).
                trust_env=False,
                # Cookies an upstream sets are never kept: one session serves every learner.
                cookie_jar=aiohttp.DummyCookieJar(),
                raise_for_status=False,
            )
        return self._session

    async def _send(self, body: Mapping[str, object], *, accept: str) -> aiohttp.ClientResponse:
        headers = {**self._headers, "Accept": accept}
        response = await self._open().post(
            self._url, data=msgspec.json.encode(body), headers=headers, proxy=self.proxy
        )
        if response.status >= 400:
            try:
                raw = await response.content.read(MAX_ERROR_BODY)
            finally:
                response.close()
            raise UpstreamStatus(response.status, response.headers, code=_error_code(raw))
        return response

    async def post(self, body: Mapping[str, object]) -> object:
        """The JSON answer of a non-streamed completion. Raises ``UpstreamStatus``, aiohttp's
        connection errors, or ``ValueError`` for an answer that is not JSON."""
        response = await self._send(body, accept="application/json")
        try:
            raw = await response.content.read(MAX_BODY + 1)
            while len(raw) <= MAX_BODY and not response.content.at_eof():
                raw += await response.content.read(MAX_BODY + 1 - len(raw))
        finally:
            response.release()
        if len(raw) > MAX_BODY:
            raise ValueError("the answer is too long")
        try:
            return msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise ValueError("the answer is not JSON") from exc

    async def stream(self, body: Mapping[str, object]) -> EventStream:
        """The chunks of a streamed completion, as they come (``stream: true`` must be in the
        body). Close the returned stream to drop the connection early."""
        response = await self._send(body, accept="text/event-stream")
        return EventStream(response)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class EventStream:
    """The ``data:`` events of one streamed answer, each decoded from JSON, until ``[DONE]``.

    Reads whatever has arrived at once (``readany``) and splits it into events itself, so that
    :meth:`ready` can tell the gateway that more events came in the same read: it then passes
    them on together (one write to the learner instead of one per event) when an upstream or
    the network delivers a burst.

    Raises ``StreamFailed`` for an error object, ``ValueError`` for an event that is not JSON or
    a line over ``MAX_LINE``, and aiohttp's errors when the connection is lost. :meth:`close`
    drops the connection, so the upstream sees the client leave and stops generating.
    """

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self._done = False
        self._eof = False
        self._partial = b""
        """The start of a line whose end has not arrived yet."""
        self._data: list[bytes] = []
        """The ``data:`` lines of the event being read."""
        self._size = 0
        """Their length."""
        self._events: deque[bytes] = deque()
        """Events complete and not handed out yet, in order."""

    def __aiter__(self) -> Self:
        return self

    def ready(self) -> bool:
        """Whether the next event (not the end) has arrived already: reading it will not wait."""
        return bool(self._events) and self._events[0] != DONE

    async def __anext__(self) -> object:
        if self._done:
            raise StopAsyncIteration
        while not self._events:
            if self._eof:
                self._finish()
                raise StopAsyncIteration
            received = await self._response.content.readany()
            if received:
                self._take(received)
            else:  # the body ended
                self._take(b"\n\n")
                self._eof = True
        payload = self._events.popleft()
        if payload == DONE:
            self._events.clear()
            self._finish()
            raise StopAsyncIteration
        try:
            event = msgspec.json.decode(payload)
        except msgspec.DecodeError as exc:
            raise ValueError("a stream event is not JSON") from exc
        if isinstance(event, dict) and event.get("error") is not None:
            error = event["error"]
            code = error.get("code") if isinstance(error, dict) else None
            raise StreamFailed(code[:64] if isinstance(code, str) else None)
        return event

    def _take(self, received: bytes) -> None:
        lines = (self._partial + received).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > MAX_LINE:
            raise ValueError("a stream line is too long")
        for raw in lines:
            line = raw.rstrip(b"\r")
            if not line:  # the end of one event
                if self._data:
                    self._events.append(b"\n".join(self._data))
                    self._data, self._size = [], 0
            elif line.startswith(b"data:"):
                self._data.append(line[5:].lstrip(b" "))
                self._size += len(line)
                if self._size > MAX_BODY:
                    raise ValueError("a stream event is too long")
            elif len(line) > MAX_LINE:
                raise ValueError("a stream line is too long")
            # Other fields (event:, id:, retry:) and comments (":") carry nothing we use.

    def _finish(self) -> None:
        self._done = True
        self._response.release()

    async def close(self) -> None:
        self._done = True
        self._response.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
