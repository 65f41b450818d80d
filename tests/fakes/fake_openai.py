"""A fake OpenAI-compatible server on 127.0.0.1, with fault injection and a record of requests.

In a test (on the test's own event loop)::

    async with FakeOpenAI(mode="ok") as fake:
        gateway = OpenAIGateway(api_key="sk-test", model="m", base_url=fake.base_url, timeout=0.5)
        ...
        fake.configure(mode="429", retry_after="7")
        assert fake.chat_requests()[-1].headers["authorization"] == "Bearer sk-test"

As a separate process (for end-to-end tests; see ``fakes.fake_openai_process``)::

    PYTHONPATH=tests python -m fakes.fake_openai --port 0 --mode ok
    # prints FAKE_OPENAI_URL=http://127.0.0.1:<port>/v1, serves until SIGTERM/SIGINT
    # POST /_control/configure {"mode": "500"}   GET|DELETE /_control/requests

Serves ``POST /v1/chat/completions`` (whole or streamed as SSE ``data:`` events ending in
``data: [DONE]``) and ``GET /v1/models``. Faults apply to chat completions only (``mode``):

==========  ===================================================================================
ok          a normal answer (echoing the last user message unless ``reply`` is set)
timeout     waits ``delay`` seconds before answering (watching for the client to give up)
stall       streaming: sends the first piece (``stall_at`` pieces; negative: all but the last
            ones), then waits ``delay``; not streaming: as timeout
429         429 with ``Retry-After: <retry_after>`` (no header when ``retry_after`` is None)
500 400 401 403 404   that status with an OpenAI-style error body (401 echoes the key it got,
            as real upstreams partly do, so tests can prove it never leaks further)
cut         the connection drops halfway through the body (mid-stream when streaming)
truncated   streaming: the body ends cleanly after half the pieces, with no finish_reason
            and no ``[DONE]``
empty       a well-formed answer with empty content
garbage     not streaming: an HTML page with status 200; streaming: a non-JSON event
==========  ===================================================================================

Reply calls that ask for the feedback too (``{"reply": ..., "feedback": ...}``, see
``openai_payloads.asks_feedback``; ``Received.feedback``) and scorecard calls (told apart by
their prompts, see ``openai_payloads.kind_of``; each ``Received`` has its ``kind``) answer by
``structured``, streamed or not, unless a fault mode applies (faults apply to every call):

=============  ================================================================================
json           the valid JSON (the reply with ``openai_payloads.FEEDBACK``, or ``SCORECARD``);
               takes ``response_format``
text           plain text, no JSON (a reply call: the reply alone)
broken         JSON cut in half (a reply call: cut inside the feedback, the reply string whole)
reject_format  400 to a request with ``response_format``; without it, the JSON inside a code
               fence and prose (as servers without structured output answer)
=============  ================================================================================

``answer_delay`` (seconds) delays every chat completion before it starts answering, like an
upstream's time to the first token; ``assessment_delay`` delays feedback and scorecard calls
instead (when set).

A refused connection needs no server: use :func:`closed_port`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import struct
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from fakes import http11
from fakes.openai_payloads import asks_feedback, assessment, default_reply, kind_of, reply_with_feedback
from fakes.openai_payloads import chunk as _chunk
from fakes.openai_payloads import completion as _completion
from fakes.openai_payloads import error as _error

STATUS_MODES = frozenset({"429", "500", "400", "401", "403", "404"})
MODES = ("ok", "timeout", "stall", *sorted(STATUS_MODES), "cut", "truncated", "empty", "garbage", "reset")
ANSWERING_MODES = frozenset({"ok", "stall", "cut", "truncated"})
"""The modes that send (part of) the answer: it is the JSON asked for, when asked."""
STRUCTURED_MODES = ("json", "text", "broken", "reject_format")


@dataclass(slots=True)
class Behaviour:
    """How the fake answers chat completions; change it with :meth:`FakeOpenAI.configure`."""

    mode: str = "ok"
    reply: str | None = None
    retry_after: str | None = "7"
    delay: float = 30.0
    """Seconds the ``timeout`` / ``stall`` modes wait."""
    stall_at: int = 1
    """The piece before which a stream stalls in ``stall`` mode (negative: from the end)."""
    chunk_delay: float = 0.0
    """Seconds between streamed pieces (lets a test close a stream while it is still flowing)."""
    api_key: str | None = None
    """When set, any other bearer key gets a 401, in every mode."""
    structured: str = "json"
    """How feedback and scorecard calls are answered (see the module docstring)."""
    answer_delay: float = 0.0
    """Seconds every chat completion waits before answering."""
    assessment_delay: float | None = None
    """When set, the wait of feedback and scorecard calls instead of ``answer_delay``."""


@dataclass(slots=True)
class Received:
    """One request as the fake saw it, and how its response went."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    stream: bool = False
    kind: str = "reply"
    """``reply``, ``feedback`` or ``scorecard``."""
    feedback: bool = False
    """A reply call that asks for the feedback too."""
    completed: bool = False
    """The whole response was written."""
    aborted: bool = False
    """The client went away before the response was complete."""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def as_dict(self) -> dict[str, Any]:
        try:
            body: Any = self.json()
        except ValueError:
            body = self.body.decode("utf-8", "replace")
        return {
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": body,
            "stream": self.stream,
            "kind": self.kind,
            "feedback": self.feedback,
            "completed": self.completed,
            "aborted": self.aborted,
        }


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class FakeOpenAI:
    """The fake server. Start it with ``async with`` or :meth:`start`; stop it with :meth:`aclose`."""

    def __init__(self, **behaviour: Any) -> None:
        self.behaviour = Behaviour(**behaviour)
        self.requests: list[Received] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._serial = 0

    def configure(self, **changes: Any) -> None:
        """Change some fields of the :class:`Behaviour` (e.g. ``mode="500"``)."""
        if "mode" in changes and changes["mode"] not in MODES:
            raise ValueError(f"unknown mode {changes['mode']!r}; one of {MODES}")
        if "structured" in changes and changes["structured"] not in STRUCTURED_MODES:
            raise ValueError(f"unknown structured mode {changes['structured']!r}; one of {STRUCTURED_MODES}")
        self.behaviour = dataclasses.replace(self.behaviour, **changes)

    def chat_requests(self, kind: str | None = None) -> list[Received]:
        """Chat completion requests, of one ``kind`` when given."""
        return [
            r for r in self.requests if r.path == "/v1/chat/completions" and (kind is None or r.kind == kind)
        ]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        self._server = await asyncio.start_server(self._connection, host, port)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as ``base_url``."""
        return f"{self.url}/v1"

    async def aclose(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def wait_until_aborted(self, within: float = 3.0) -> Received:
        """The last chat request, once the fake has seen its client go away."""
        async with asyncio.timeout(within):
            while True:
                requests = self.chat_requests()
                if requests and requests[-1].aborted:
                    return requests[-1]
                await asyncio.sleep(0.01)

    # --- serving -----------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    request = await http11.read_request(reader)
                except http11.BadRequest:
                    await http11.send_json(writer, 400, _error("bad request", "invalid_request_error"))
                    break
                if request is None or not await self._route(request, reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only aclose() cancels these tasks; ending quietly keeps asyncio's stream callback
            # (3.11) from reporting the cancellation as an error.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            # aclose() may cancel this wait too; the task must still end quietly (see above).
            with suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _route(
        self, request: http11.Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; ``False`` closes the connection."""
        if request.path.startswith("/_control/"):
            await self._control(request, writer)
            return True
        received = Received(request.method, request.target, request.headers, request.body)
        self.requests.append(received)
        if (request.method, request.path) == ("GET", "/v1/models"):
            model = {"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}
            await http11.send_json(writer, 200, {"object": "list", "data": [model]})
        elif (request.method, request.path) == ("POST", "/v1/chat/completions"):
            try:
                return await self._chat(request, received, reader, writer)
            except ConnectionError:
                received.aborted = True
                return False
        else:
            await http11.send_json(writer, 404, _error(f"no route {request.path}", "invalid_request_error"))
        received.completed = True
        return True

    async def _chat(
        self,
        request: http11.Request,
        received: Received,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        b = self.behaviour
        try:
            body = request.json()
            assert isinstance(body, dict)
        except (ValueError, AssertionError):
            await http11.send_json(writer, 400, _error("body is not a JSON object", "invalid_request_error"))
            return True
        received.stream = bool(body.get("stream"))
        received.kind = kind_of(body)
        received.feedback = received.kind == "reply" and asks_feedback(body)
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        mode = b.mode
        wait = (
            b.answer_delay if received.kind == "reply" or b.assessment_delay is None else b.assessment_delay
        )
        if wait and await http11.client_left_within(reader, wait):
            received.aborted = True
            return False
        if b.api_key is not None and key != b.api_key:
            mode = "401"
        if mode == "timeout" or (mode == "stall" and not received.stream):
            if await http11.client_left_within(reader, b.delay):
                received.aborted = True
                return False
            mode = "ok"
        if mode == "reset":
            # Read the request, answer nothing and reset the connection (RST, not FIN).
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if mode in STATUS_MODES:
            await self._fail(writer, int(mode), key)
            received.completed = True
            return True
        self._serial += 1
        text = "" if mode == "empty" else (b.reply if b.reply is not None else default_reply(body))
        if (received.kind != "reply" or received.feedback) and mode in ANSWERING_MODES:
            with_format = "response_format" in body
            if received.kind == "reply":
                answer = reply_with_feedback(text, b.structured, with_format=with_format)
            else:
                answer = assessment(received.kind, b.structured, with_format=with_format)
            if answer is None:
                await http11.send_json(
                    writer, 400, _error("response_format is not supported", "invalid_request_error")
                )
                received.completed = True
                return True
            text = answer
        ident = f"chatcmpl-fake-{self._serial}"
        model = str(body.get("model", ""))
        if received.stream:
            return await self._stream(text, ident, model, mode, received, reader, writer)
        if mode == "garbage":
            await http11.send(writer, 200, b"<html><body>Bad gateway</body></html>", content_type="text/html")
        else:
            payload = json.dumps(_completion(ident, model, text)).encode()
            if mode == "cut":
                await http11.send(writer, 200, payload[: len(payload) // 2], declared_length=len(payload))
                return False
            await http11.send(writer, 200, payload)
        received.completed = True
        return True

    async def _fail(self, writer: asyncio.StreamWriter, status: int, key: str) -> None:
        headers: dict[str, str] = {"x-request-id": "req_fake"}
        if status == 429:
            body = _error("Rate limit reached. Please slow down.", "rate_limit_error", "rate_limit_exceeded")
            if self.behaviour.retry_after is not None:
                headers["Retry-After"] = self.behaviour.retry_after
        elif status == 401:
            body = _error(f"Incorrect API key provided: {key}.", "invalid_request_error", "invalid_api_key")
        elif status == 404:
            body = _error("The model does not exist.", "invalid_request_error", "model_not_found")
        else:
            kind = "server_error" if status >= 500 else "invalid_request_error"
            body = _error(f"Fake failure {status}.", kind)
        await http11.send_json(writer, status, body, headers=headers)

    async def _stream(
        self,
        text: str,
        ident: str,
        model: str,
        mode: str,
        received: Received,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        pieces = re.findall(r"\s*\S+", text)
        half = max(1, len(pieces) // 2)
        stall_at = self.behaviour.stall_at
        stall_at = stall_at if stall_at >= 0 else len(pieces) + stall_at

        async def event(delta: dict[str, str], finish: str | None = None) -> None:
            chunk = _chunk(ident, model, delta, finish)
            await http11.send_chunk(writer, f"data: {json.dumps(chunk)}\n\n".encode())

        await http11.start_chunked(writer, content_type="text/event-stream")
        await event({"role": "assistant", "content": ""})
        for index, piece in enumerate(pieces):
            if index == half and mode in ("cut", "truncated"):
                if mode == "cut":
                    return False  # closes the connection inside the chunked body
                break
            if (index == stall_at and mode == "stall") or self.behaviour.chunk_delay:
                wait = self.behaviour.delay if mode == "stall" else self.behaviour.chunk_delay
                if await http11.client_left_within(reader, wait):
                    received.aborted = True
                    return False
            await event({"content": piece})
        if mode == "garbage":
            await http11.send_chunk(writer, b"data: {this is not json\n\n")
        elif mode != "truncated":
            await event({}, finish="stop")
            await http11.send_chunk(writer, b"data: [DONE]\n\n")
        await http11.end_chunked(writer)
        received.completed = True
        return True

    async def _control(self, request: http11.Request, writer: asyncio.StreamWriter) -> None:
        if (request.method, request.path) == ("POST", "/_control/configure"):
            try:
                self.configure(**(request.json() or {}))
            except (TypeError, ValueError) as exc:
                await http11.send_json(writer, 422, _error(str(exc), "invalid_request_error"))
                return
            await http11.send_json(writer, 200, dataclasses.asdict(self.behaviour))
        elif (request.method, request.path) == ("GET", "/_control/requests"):
            await http11.send_json(writer, 200, [r.as_dict() for r in self.requests])
        elif (request.method, request.path) == ("DELETE", "/_control/requests"):
            self.requests.clear()
            await http11.send_json(writer, 200, [])
        else:
            await http11.send_json(writer, 404, _error("no such control", "invalid_request_error"))


if __name__ == "__main__":
    from fakes.fake_openai_process import main

    main()
