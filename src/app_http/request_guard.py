"""What reaches the app of a request: no control characters in headers, a deadline for slow
senders, and the rest of a body read before an early answer.

* Some HTTP parsers refuse a header with a control character, but others (and test clients)
  pass it on, and PostgreSQL cannot store a NUL (the ``Idempotency-Key`` header is stored). Such a
  request is answered 400 here, whatever the server.
* ASGI servers wait for a request body as long as the client likes, so one client that sends its
  headers and half a body ties up a connection (and a handler) for good. Here the whole body must
  arrive within ``read_timeout`` seconds of the request; a slower client gets 408 and is
  disconnected. (The headers have their deadline in :mod:`app_http.serving`.)
* When the app answers before it has read the whole body (413 for a body over the limit, decided
  from ``Content-Length``), the server closes the connection with unread bytes in it, which makes
  the kernel reset the connection: a client that sends its whole body before reading the answer
  then sees "connection reset" instead of the 413. Here the rest of the body (up to
  :data:`DRAIN_LIMIT` bytes) is read and thrown away before the answer goes out; an answer that
  leaves part of the body unread says ``Connection: close``, and the server closes the connection
  after it.

Litestar runs middleware for matched routes only: a 404 or 405 from its router passes outside.
"""

from __future__ import annotations

import asyncio
import re

import msgspec
from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.status_codes import HTTP_408_REQUEST_TIMEOUT
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

DRAIN_LIMIT = 1024 * 1024
"""Bytes of a request body read (and discarded) at most so that an early answer arrives intact;
a larger body is cut off with the connection, as a client sending that much deserves."""

_CLOSE = (b"connection", b"close")

_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
"""What RFC 9110 does not allow in a header value (a tab is allowed)."""
_BAD_HEADER = msgspec.json.encode(
    {"code": "bad_request", "detail": "A request header contains a control character."}
)


class RequestTimedOut(ClientException):
    """The client did not send its whole request body in time."""

    status_code = HTTP_408_REQUEST_TIMEOUT
    detail = "The request body did not arrive in time."


class ClientLeft(ClientException):
    """The client closed the connection before its request body was complete (nobody reads the
    answer; it keeps a client's hang-up out of the server errors)."""

    detail = "The client disconnected before sending the whole request body."


class _Body:
    """The ``receive`` side of one request, with the deadline applied until the body is complete."""

    def __init__(self, receive: Receive, *, deadline: float, declared: int) -> None:
        self._receive = receive
        self.deadline = deadline
        self.declared = declared
        """The body's ``Content-Length`` (0 when there is none)."""
        self.complete = False
        self.timed_out = False
        self.received = 0

    async def receive(self) -> ReceiveMessage:
        if self.complete:
            # The body is in: later calls wait for a disconnect (streamed replies), untimed.
            return await self._receive()
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            self.timed_out = True
            raise RequestTimedOut from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        elif message["type"] == "http.disconnect":
            self.complete = True
            raise ClientLeft
        return message

    async def drain(self) -> None:
        """Read and discard what is left of the body (within the deadline and the drain limit)."""
        if self.declared > DRAIN_LIMIT:
            return  # it would be cut off anyway: spare reading the first megabyte of it
        while not (self.complete or self.timed_out) and self.received <= DRAIN_LIMIT:
            try:
                await self.receive()
            except ClientException:
                return


class RequestGuard:
    """Pure ASGI middleware: headers checked, a deadline for the request body, and the unread rest
    of a body drained before the response starts (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, read_timeout: float) -> None:
        self.app = app
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if _CONTROL.search(b" ".join([value for _, value in headers])):  # one search: cheaper
            await send_answer(send, 400, _BAD_HEADER)
            return
        declared = 0
        chunked = False
        for name, value in headers:
            if name == b"content-length":
                # A bad one (or one past any body size: int() refuses 4,300 digits) is Litestar's to refuse.
                declared = int(value) if value.isdigit() and len(value) <= 18 else 0
            elif name == b"transfer-encoding":
                chunked = True
        deadline = asyncio.get_running_loop().time() + self.read_timeout
        body = _Body(receive, deadline=deadline, declared=declared)
        if not (declared or chunked):
            body.complete = True  # nothing to wait for or drain (an HTTP/1.1 request without a body)

        async def send_after_draining(message: Message) -> None:
            if message["type"] == "http.response.start" and not body.complete:
                await body.drain()
                if not body.complete:
                    # The rest of the body stays unread (too late, or too much): the connection
                    # cannot carry another request, and the server closes it after this answer.
                    message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
            await send(message)

        await self.app(scope, body.receive, send_after_draining)


async def send_answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
