"""The counted endpoints that carry nearly all the traffic, answered without Litestar's per-request
machinery: a learner's message (``POST /chatbot/chats/{id}/messages/``, JSON or streamed) and a
completion of the OpenAI-compatible API (``POST /v1/chat/completions``).

Routing, dependency injection, the signature model and the response classes cost about a fifth of a
worker's CPU on these requests (docs/performance.md, "Where a messages request's CPU goes"). Here the
same use cases are called the same way, and their answers are built by the same functions as the
Litestar handlers' (``app_http.chats``, ``app_http.openai_compat``), so the two cannot drift apart.

Only a request of the ordinary shape is answered here: a bearer credential that verifies, a
``Content-Length`` body within the limit that decodes into the endpoint's struct, no character that
must be refused, no CORS preflight or cross-origin request when CORS is configured. Anything else goes
on to the Litestar app (with the body read so far handed back in front of the rest), which answers it
as before: every refusal of a malformed request therefore has one author. Errors of the use case
itself (quota, unknown chat, the tutor failing) are answered here through the same table
(``app_http.errors``).

It runs inside :class:`app_http.middleware.RequestContextMiddleware` (request id, headers, log line,
metrics) and puts its requests through its own :class:`app_http.request_guard.RequestGuard` (header
check, the body's deadline), the guard Litestar runs for its routes.

The flow of each use case here (``_send_message``, ``_complete``) mirrors its Litestar handler's
(``ChatController.send_message``, ``OpenAICompatController.completions``): a change to one is a change to
the other, and ``tests/api/test_direct_routes.py`` compares the two paths' answers.
"""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from app_http.asgi_answer import Answer
from app_http.chats import MessageIn, exchange_events, exchange_out, replayed_events
from app_http.errors import domain_error_answer, unexpected_answer
from app_http.json_body import ESCAPED_NUL
from app_http.openai_compat import CompletionIn, completion_events, completion_out, turns_of
from app_http.quota_headers import quota_headers
from app_http.request_guard import RequestGuard
from app_http.structs import MAX_ID
from chatcore.accounts import API_KEY_PREFIX, AccountService
from chatcore.errors import ChatcoreError, LLMError
from chatcore.ports.clock import Clock
from chatcore.relay import RelayService
from chatcore.results import Exchange
from chatcore.tutoring import TutorService

_MESSAGES = re.compile(r"/chatbot/chats/([1-9][0-9]{0,9})/messages/")
MESSAGES_TEMPLATE = "/chatbot/chats/{chat_id}/messages"
COMPLETIONS_PATH = "/v1/chat/completions"
COMPLETIONS_TEMPLATE = "/v1/chat/completions"
"""What Litestar puts in ``scope["path_template"]`` for these routes (the metrics' and log's label)."""
_KEY_MAX = 255
S = TypeVar("S", bound=msgspec.Struct)


class Delegate(Exception):
    """Not a request of the ordinary shape: Litestar answers it."""


class _Request:
    """What is read of one request before the use case runs (to hand on unchanged if need be)."""

    __slots__ = ("failure", "headers", "received", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        # The first of a repeated header wins, as in Litestar's ``request.headers.get``.
        self.headers: dict[bytes, bytes] = dict(reversed(list(scope["headers"])))
        self.received: list[ReceiveMessage] = []
        self.failure: Exception | None = None

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return None if value is None else value.decode("latin-1")

    @property
    def wants_stream(self) -> bool:
        return b"text/event-stream" in self.headers.get(b"accept", b"")


class DirectRoutes:
    """Pure ASGI: the two endpoints above, in front of ``app`` (the Litestar app's handler)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        accounts: AccountService,
        tutor: TutorService,
        relay: RelayService,
        clock: Clock,
        max_body: int,
        read_timeout: float,
        cors: bool,
    ) -> None:
        self.app = app
        self.accounts = accounts
        self.tutor = tutor
        self.relay = relay
        self.clock = clock
        self.max_body = max_body
        self.cors = cors
        # Litestar's middleware (the same guard) runs for its routes only: these requests get their own.
        self._guarded = RequestGuard(self._answer, read_timeout=read_timeout)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path != COMPLETIONS_PATH and _MESSAGES.fullmatch(path) is None:
            await self.app(scope, receive, send)
            return
        if self.cors and any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)  # Litestar's CORS layer answers cross-origin requests
            return
        await self._guarded(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request to one of the two endpoints, past the guard (whose ``receive`` and ``send``
        these are; Litestar's guard, for a request handed on, then wraps them again: harmless)."""
        path = scope["path"]
        found = None if path == COMPLETIONS_PATH else _MESSAGES.fullmatch(path)
        if found is not None and int(found[1]) > MAX_ID:
            await self.app(scope, receive, send)
            return
        request = _Request(scope)
        template = COMPLETIONS_TEMPLATE if found is None else MESSAGES_TEMPLATE
        answer = Answer(receive, send, self.clock)
        try:
            # In Litestar's order: the body, then the credential (an API key's use is recorded).
            body = await self._body(request, receive)
            if found is None:
                completion = _decode(CompletionIn, body)
                user_id = await self._caller(request, api_keys=True)
            else:
                content = _decode(MessageIn, body).content
                key = _idempotency_key(request)
                user_id = await self._caller(request, api_keys=False)
        except Delegate:
            await self.app(scope, _replayed(request, receive), send)
            return
        except Exception as exc:  # the credential's lookup failed unforeseen: as Litestar would
            scope["path_template"] = template
            await answer.json(*unexpected_answer(scope, exc))
            return
        scope.setdefault("state", {})["user_id"] = user_id
        scope["path_template"] = template
        try:
            if found is None:
                await self._complete(answer, user_id, completion)
            else:
                await self._send_message(
                    answer, user_id, int(found[1]), content, key, stream=request.wants_stream
                )
        except ChatcoreError as exc:
            if answer.started:
                raise
            await answer.json(*domain_error_answer(exc, self.clock.now(), scope))
        except Exception as exc:
            if answer.started:
                raise
            await answer.json(*unexpected_answer(scope, exc))

    async def _caller(self, request: _Request, *, api_keys: bool) -> int:
        """The caller's user id from a credential that verifies; anything else is Litestar's to refuse."""
        scheme, _, token = (request.header(b"authorization") or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Delegate
        try:
            if token.startswith(API_KEY_PREFIX):
                if not api_keys:
                    raise Delegate
                return await self.accounts.authenticate_api_key(token)
            return self.accounts.authenticate(token)
        except ChatcoreError:
            raise Delegate from None

    async def _body(self, request: _Request, receive: Receive) -> bytes:
        """The whole body, when ``Content-Length`` announces one within the limit."""
        declared = request.headers.get(b"content-length", b"")
        if not (declared.isdigit() and len(declared) <= 9) or int(declared) > self.max_body:
            raise Delegate
        if b"transfer-encoding" in request.headers:
            raise Delegate
        size = 0
        while True:
            try:
                message = await receive()
            except Exception as exc:  # the guard's deadline, or the client left: Litestar's to answer
                request.failure = exc
                raise Delegate from None
            request.received.append(message)
            if message["type"] != "http.request":
                raise Delegate
            size += len(message.get("body", b""))
            if size > self.max_body:
                raise Delegate
            if not message.get("more_body", False):
                return b"".join(m.get("body", b"") for m in request.received)  # type: ignore[misc]

    async def _send_message(
        self, answer: Answer, user_id: int, chat_id: int, content: str, key: str | None, *, stream: bool
    ) -> None:
        tutor = self.tutor
        if stream:
            pending = await tutor.accept(user_id, chat_id, content, idempotency_key=key)
            if isinstance(pending, Exchange):
                await answer.stream(201, pending.quota, replayed_events(pending), close=None)
                return
            events = tutor.stream(pending)
            await answer.stream(201, pending.quota, exchange_events(events), close=events.aclose)
            return
        try:
            exchange = await tutor.ask(user_id, chat_id, content, idempotency_key=key)
        except LLMError as exc:
            await answer.llm_failure(exc, await tutor.quota(user_id))
            return
        await answer.json(201, exchange_out(exchange), quota_headers(exchange.quota, self.clock.now()))

    async def _complete(self, answer: Answer, user_id: int, data: CompletionIn) -> None:
        relay = self.relay
        turns = turns_of(data)
        slot = await relay.take_slot(user_id, turns)
        if data.stream:
            events = relay.stream(slot, turns)
            await answer.stream(200, slot.quota, completion_events(relay.model, events), close=events.aclose)
            return
        now = self.clock.now()
        try:
            completion = await relay.complete(slot, turns)
        except LLMError as exc:
            await answer.llm_failure(exc, await self.tutor.quota(user_id))
            return
        await answer.json(200, completion_out(completion), quota_headers(slot.quota, now))


def _decode(kind: type[S], body: bytes) -> S:
    """The body as the endpoint's struct, read as Litestar reads it (JSON to plain values, which
    checks every byte and number, then those values to the struct), when nothing in it is refused."""
    if ESCAPED_NUL in body:
        raise Delegate
    try:
        return msgspec.convert(msgspec.json.decode(body), kind)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError):
        raise Delegate from None


def _idempotency_key(request: _Request) -> str | None:
    key = request.header(b"idempotency-key")
    if key is not None and not 0 < len(key) <= _KEY_MAX:
        raise Delegate
    return key


def _replayed(request: _Request, receive: Receive) -> Receive:
    """``receive`` as Litestar would have met it: what was already received, then the failure
    that ended the reading (if one did), then the rest."""
    if not request.received and request.failure is None:
        return receive
    pending = list(request.received)
    failure = request.failure

    async def replay() -> ReceiveMessage:
        nonlocal failure
        if pending:
            return pending.pop(0)
        if failure is not None:
            exc, failure = failure, None
            raise exc
        return await receive()

    return replay
