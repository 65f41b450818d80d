"""The HTTP server of ``chatcore serve``: uvicorn with its httptools parser and uvloop, and the two
limits on request heads that uvicorn does not have.

uvicorn waits for a request's headers as long as the client likes and keeps every byte of them:
one client that sends half a head and stalls ties up a connection for good, and one that sends
an endless header line fills the worker's memory. :class:`GuardedHttpProtocol` wraps uvicorn's
own protocol and gives each head ``CHATCORE_REQUEST_READ_TIMEOUT`` seconds from its first byte
(from the connection's opening, for the first) and :data:`HEAD_LIMIT` bytes; a stalled client
is disconnected, a head that is too large gets 431 ``headers_too_large``. What follows the head,
the body, has its own deadline in :mod:`app_http.request_guard`, inside the app. Between
requests, uvicorn's keep-alive timeout closes an idle connection.
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
"""Bytes a request line and its headers may take together (a browser's are a few hundred)."""

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


class GuardedHttpProtocol(asyncio.Protocol):
    """uvicorn's ``HttpToolsProtocol`` for one connection, behind a deadline and a size limit for
    each request head. uvicorn makes one per connection (``uvicorn.run(http=...)``)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._inner = HttpToolsProtocol(
            config=config, server_state=server_state, app_state=app_state, _loop=_loop
        )
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._cycle: object = None
        """The request whose head came last (uvicorn makes one per head, when it is complete)."""
        self._head_bytes = 0
        self._waiting = False
        """Whether a head has begun (or the connection opened) and is not complete yet."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports are not subclasses of asyncio's, but have the same methods.)
        self._transport = cast(asyncio.Transport, transport)
        self._inner.connection_made(self._transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        inner = self._inner
        if not self._waiting and (inner.cycle is None or inner.cycle.response_complete):
            self._await_head()  # the first bytes of the next request's head
        inner.data_received(data)
        if inner.cycle is not self._cycle:  # a head is complete (and its request under way)
            self._cycle = inner.cycle
            self._head_done()
        elif self._waiting:
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_LIMIT:
                self._refuse_head()

    def eof_received(self) -> None:
        self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_done()
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def _await_head(self) -> None:
        self._waiting = True
        self._head_bytes = 0
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(head_timeout(), self._head_late)

    def _head_done(self) -> None:
        self._waiting = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_late(self) -> None:
        self._timer = None
        if self._waiting and self._transport is not None:
            self._transport.close()

    def _refuse_head(self) -> None:
        self._head_done()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_TOO_LARGE)
            self._transport.close()
