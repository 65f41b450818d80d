"""One way to stream a counted request as server-sent events (SPEC §4.3, §4.5), for ``/chatbot``
and ``/v1`` alike: the same headers, the same error event, the same settling after the response."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime

import msgspec
from litestar.background_tasks import BackgroundTask
from litestar.response import ServerSentEvent, ServerSentEventMessage

from app_http.errors import ErrorBody, status_and_code
from app_http.quota_headers import quota_headers
from chatcore.errors import ChatcoreError
from chatcore.model import Quota


def to_json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def error_event(error: ChatcoreError) -> ServerSentEventMessage:
    """The ``error`` event: the error's one shape, ``{code, detail}``, as the JSON answer has it."""
    _, code = status_and_code(error)
    return ServerSentEventMessage(event="error", data=to_json(ErrorBody(code=code, detail=error.detail)))


def event_stream(
    body: AsyncGenerator[ServerSentEventMessage, None],
    *,
    quota: Quota,
    now: datetime,
    status_code: int,
    close: Callable[[], Awaitable[None]] | None = None,
) -> ServerSentEvent:
    """The streamed response: ``body``'s events with the quota headers of acceptance time, no
    caching and no proxy buffering.

    ``close`` (the ``aclose`` of the counted request's stream that ``body`` reads) runs after the
    response in every case: a client that leaves before the first event never starts ``body``,
    and only closing the stream then settles the request.
    """
    return ServerSentEvent(
        body,
        background=None if close is None else BackgroundTask(close),
        headers=stream_headers(quota, now),
        status_code=status_code,
    )


def stream_headers(quota: Quota, now: datetime) -> dict[str, str]:
    """The headers of a streamed answer besides its type (and ``Connection: keep-alive``, which
    Litestar's ``ServerSentEvent`` adds)."""
    return {**quota_headers(quota, now), "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
