"""The request body's deadline (app_http.request_guard), driven as the ASGI server drives it: a
body that does not come in time is a 408 for this request only, and a cancellation from elsewhere
(the server shutting down, the client gone) stays a cancellation."""

from __future__ import annotations

import asyncio
import time
from typing import cast

import pytest
from litestar.types import Message, Receive, ReceiveMessage, Scope, Send

from app_http.request_guard import RequestGuard, RequestTimedOut

BODY = b'{"content": "hello"}'


def request_scope() -> Scope:
    """The parts of a POST's ASGI scope that the guard reads."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
    return cast(
        "Scope", {"type": "http", "method": "POST", "path": "/chatbot/chats/1/messages/", "headers": headers}
    )


async def never_sent() -> ReceiveMessage:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def sent_after(seconds: float) -> ReceiveMessage:
    await asyncio.sleep(seconds)
    return {"type": "http.request", "body": BODY, "more_body": False}


async def ignore(message: Message) -> None:
    pass


async def test_a_body_that_does_not_come_in_time_is_a_request_timeout_and_nothing_more() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        with pytest.raises(RequestTimedOut):
            await receive()
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0
        await asyncio.sleep(0.02)  # the task goes on: no cancellation is left pending
        seen.append("answered")

    started = asyncio.get_running_loop().time()
    await RequestGuard(app, read_timeout=0.05)(request_scope(), never_sent, ignore)
    assert seen == ["answered"]
    assert asyncio.get_running_loop().time() - started >= 0.05


async def test_a_body_in_time_arrives_and_the_deadline_is_gone_with_it() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "http.request"
        assert message["body"] == BODY
        await asyncio.sleep(0.1)  # well past the deadline: the answer is not cut off

    await RequestGuard(app, read_timeout=0.05)(request_scope(), lambda: sent_after(0.01), ignore)


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    waiting = asyncio.Event()

    async def receive() -> ReceiveMessage:
        waiting.set()
        return await never_sent()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    request = asyncio.create_task(RequestGuard(app, read_timeout=30)(request_scope(), receive, ignore))
    await waiting.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert request.cancelled()


@pytest.mark.parametrize("cancelled_first", [False, True])
async def test_a_cancellation_as_the_deadline_passes_stays_a_cancellation(cancelled_first: bool) -> None:
    """The server cancels the request in the same turn of the event loop as the body's deadline
    passes (before or after it): the request is cancelled, not answered 408."""
    loop = asyncio.get_running_loop()
    read_timeout = 0.05
    waiting = asyncio.Event()

    async def receive() -> ReceiveMessage:
        # The guard's deadline is a few microseconds before now + read_timeout: the cancellation
        # is set a millisecond before it or after it.
        request_task = asyncio.current_task()
        assert request_task is not None
        shift = -0.001 if cancelled_first else 0.001
        loop.call_at(loop.time() + read_timeout + shift, request_task.cancel)
        waiting.set()
        return await never_sent()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    request = asyncio.create_task(
        RequestGuard(app, read_timeout=read_timeout)(request_scope(), receive, ignore)
    )
    await waiting.wait()
    time.sleep(read_timeout + 0.05)  # noqa: ASYNC251 (the loop stands still: all is due at its next turn)
    with pytest.raises(asyncio.CancelledError):
        await request
    assert request.cancelled()


async def _answer_headers(scope: Scope, receive: Receive, *, read_first: bool) -> list[tuple[bytes, bytes]]:
    """The headers of the answer an app gives through the guard (after reading the body, or not)."""
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if read_first:
            await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def record(message: Message) -> None:
        sent.append(message)

    await RequestGuard(app, read_timeout=0.05)(scope, receive, record)
    start = sent[0]
    assert start["type"] == "http.response.start"
    return list(start["headers"])


async def test_an_answer_before_a_body_that_never_comes_closes_the_connection() -> None:
    headers = await _answer_headers(request_scope(), never_sent, read_first=False)
    assert headers == [(b"x-a", b"1"), (b"connection", b"close")]


async def test_an_answer_before_a_body_over_the_drain_limit_closes_the_connection() -> None:
    scope = request_scope()
    scope["headers"] = [(b"content-length", b"5000000")]
    headers = await _answer_headers(scope, never_sent, read_first=False)
    assert headers == [(b"x-a", b"1"), (b"connection", b"close")]


@pytest.mark.parametrize("read_first", [True, False])
async def test_an_answer_after_the_whole_body_keeps_the_connection(read_first: bool) -> None:
    # Unread by the app, a body that arrives in time is drained before the answer.
    headers = await _answer_headers(request_scope(), lambda: sent_after(0.01), read_first=read_first)
    assert headers == [(b"x-a", b"1")]
