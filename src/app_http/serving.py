"""The HTTP server of ``chatcore serve``: uvicorn with its httptools parser and uvloop, and the limits
on what precedes and follows a request body that uvicorn does not have.

uvicorn waits for a request's headers as long as the client likes and keeps every byte of them:
one client that sends half a head and stalls ties up a connection for good, and one that sends an
endless header line (or endless chunked-body trailers) fills the worker's memory.
:class:`GuardedHttpProtocol` is uvicorn's own protocol with, for every request on a connection:

* a deadline for its head, ``CHATCORE_REQUEST_READ_TIMEOUT`` seconds from its first byte (from the
  connection's opening, for the first): a stalled client is disconnected;
* a limit of :data:`HEAD_LIMIT` bytes on everything of the request that is not its body (the
  request line, the headers, chunk sizes and trailers): 431 ``headers_too_large``, or only the
  connection closed when an answer is already being written on it;
* an answer that ends while its request's body is still arriving closes the connection (the rest
  of the body is not waited for).

The body has its own deadline in :mod:`app_http.request_guard`, inside the app. Between requests,
uvicorn's keep-alive timeout closes an idle connection.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any, cast

import msgspec
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app_http.settings import Settings

HEAD_LIMIT = 64 * 1024
"""Bytes a request may take besides its body: the request line and headers (a browser's are a few
hundred), chunk sizes and trailers."""

_TOO_LARGE_BODY = msgspec.json.encode(
    {"code": "headers_too_large", "detail": "The request headers are larger than 64 KiB."}
)
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(_TOO_LARGE_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _TOO_LARGE_BODY
)


@cache
def head_timeout() -> float:
    """``CHATCORE_REQUEST_READ_TIMEOUT`` (read once per worker; the supervisor checked it)."""
    return Settings.from_env().request_read_timeout


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's ``HttpToolsProtocol`` for one connection, with a deadline for each request head and
    a size limit on what is not a body (see the module docstring). uvicorn makes one per connection
    (``uvicorn.run(http=...)``); the parser calls the ``on_*`` methods as it reads."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config=config, server_state=server_state, app_state=app_state, _loop=_loop)
        self._timer: asyncio.TimerHandle | None = None
        self._in_message = False
        """Between the first byte of a request and the end of its body."""
        self._framing = 0
        """Bytes of the request under way that were not its body."""
        self._body_bytes = 0
        """Body bytes the parser passed on while reading the current chunk of data."""
        self._head_bytes = 0
        """Bytes of the current request's line and headers, as the parser passed them on."""
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports are not subclasses of asyncio's, but have the same methods.)
        super().connection_made(cast(asyncio.Transport, transport))
        self._arm()  # the first head's time runs from the opening

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if not self._in_message and self._timer is None:
            # Bytes between requests (blank lines, which the parser skips without beginning a
            # request) start the next head's time too: uvicorn's keep-alive timer stops here.
            self._arm()
        self._body_bytes = 0
        super().data_received(data)
        if self._in_message and not self.transport.is_closing():
            # (Bytes of a request that ended in the same chunk count too: at most one chunk more.)
            self._framing += len(data) - self._body_bytes
            if self._framing > HEAD_LIMIT:
                self._refuse()

    def send_400_response(self, msg: str) -> None:
        if self._refused or self.transport.is_closing():
            return  # the parser went on after a refusal: the connection is closed already
        super().send_400_response(msg)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # The parser's callbacks. After a refusal the rest of the chunk is still parsed: ignored.

    def on_message_begin(self) -> None:
        if self._refused:
            return
        self._in_message = True
        self._framing = self._head_bytes = 0
        if self._timer is None:
            self._arm()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        self._head_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        self._head_bytes += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._disarm()
        if self._head_bytes > HEAD_LIMIT:  # a head that came in one piece
            self._refuse()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._in_message = False
        self._framing = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._in_message and not self.transport.is_closing():
            self.transport.close()  # answered before the body arrived: it is not waited for

    def _arm(self) -> None:
        self._disarm()
        self._timer = asyncio.get_running_loop().call_later(head_timeout(), self._head_late)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_late(self) -> None:
        self._timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _refuse(self) -> None:
        self._refused = True
        self._disarm()
        answering = self.cycle is not None and not self.cycle.response_complete
        if not answering:  # an answer under way must not be cut into
            self.transport.write(_TOO_LARGE)
        self.transport.close()
