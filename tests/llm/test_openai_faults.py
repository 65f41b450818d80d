"""Every upstream failure leaves OpenAIGateway as the chatcore error of SPEC §6, fast, without
re-sending anything that may have reached the upstream, and without the API key anywhere."""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx2
import pytest
from structlog.testing import capture_logs

from adapters.openai_llm import OpenAIGateway
from adapters.openai_llm.errors import RequestRejected, retry_after_seconds
from chatcore.errors import (
    LLMBusy,
    LLMError,
    LLMMisconfigured,
    LLMTimeout,
    LLMUnavailable,
    LLMUpstreamError,
)
from fakes.fake_openai import FakeOpenAI, closed_port
from llm.conftest import API_KEY, MODEL, TIMEOUT, prompt

HELLO = prompt("Hello! I would like to practise talking about my weekend.")

FAULTS: dict[str, type[LLMError]] = {
    "timeout": LLMTimeout,
    "429": LLMBusy,
    "500": LLMUpstreamError,
    "400": RequestRejected,  # an LLMUpstreamError (502 llm_error) the gateway can recognise
    "401": LLMMisconfigured,
    "403": LLMMisconfigured,
    "404": LLMMisconfigured,
    "cut": LLMUpstreamError,
    "empty": LLMUpstreamError,
    "garbage": LLMUpstreamError,
    "reset": LLMUpstreamError,
}


async def _call(gateway: OpenAIGateway, *, streaming: bool, pieces: list[str]) -> None:
    if not streaming:
        await gateway.complete(HELLO)
        return
    async for piece in gateway.stream(HELLO):
        assert isinstance(piece, str)  # no feedback asked, none given
        pieces.append(piece)


async def _fail(gateway: OpenAIGateway, *, streaming: bool) -> tuple[LLMError, list[str]]:
    """Call the gateway, expecting an LLMError; returns it and any pieces streamed before it."""
    pieces: list[str] = []
    with pytest.raises(LLMError) as caught:
        await _call(gateway, streaming=streaming, pieces=pieces)
    return caught.value, pieces


def _leaks_key(error: BaseException, logs: Sequence[MutableMapping[str, Any]]) -> bool:
    shown = "".join(traceback.format_exception(error)) + repr(error) + str(error) + repr(logs)
    return API_KEY in shown


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("mode", FAULTS)
async def test_each_fault_becomes_its_chatcore_error(
    fake: FakeOpenAI, gateway: OpenAIGateway, mode: str, streaming: bool
) -> None:
    fake.configure(mode=mode)
    started = time.monotonic()

    with capture_logs() as logs:
        error, _ = await _fail(gateway, streaming=streaming)

    assert type(error) is FAULTS[mode]
    assert time.monotonic() - started < TIMEOUT + 0.5
    assert not _leaks_key(error, logs)
    assert logs, "every failure leaves one log line for the operator"


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_a_refused_connection_is_unavailable(streaming: bool) -> None:
    gateway = OpenAIGateway(
        api_key=API_KEY, model=MODEL, base_url=f"http://127.0.0.1:{closed_port()}/v1", timeout=TIMEOUT
    )
    try:
        error, _ = await _fail(gateway, streaming=streaming)
    finally:
        await gateway.aclose()

    assert type(error) is LLMUnavailable


async def test_an_unknown_host_is_unavailable() -> None:
    url = "http://no-such-host.invalid/v1"
    gateway = OpenAIGateway(api_key=API_KEY, model=MODEL, base_url=url, timeout=2)
    try:
        error, _ = await _fail(gateway, streaming=False)
    finally:
        await gateway.aclose()

    assert type(error) is LLMUnavailable


async def test_a_timeout_abandons_the_upstream_call(fake: FakeOpenAI, gateway: OpenAIGateway) -> None:
    fake.configure(mode="timeout", delay=30)

    error, _ = await _fail(gateway, streaming=False)

    assert type(error) is LLMTimeout
    assert (await fake.wait_until_aborted()).completed is False


async def test_a_stream_that_stalls_after_some_text_times_out(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(mode="stall", delay=30)

    error, pieces = await _fail(gateway, streaming=True)

    assert type(error) is LLMTimeout
    assert len(pieces) == 1, "the text before the stall was delivered"
    await fake.wait_until_aborted()


@pytest.mark.parametrize("mode", ["cut", "truncated"])
async def test_a_stream_cut_halfway_is_an_upstream_error(
    fake: FakeOpenAI, gateway: OpenAIGateway, mode: str
) -> None:
    fake.configure(mode=mode)

    error, pieces = await _fail(gateway, streaming=True)

    assert type(error) is LLMUpstreamError
    assert pieces, "the error comes after the first half of the answer"


async def test_a_slow_but_steady_stream_may_take_longer_than_the_timeout(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(reply=" ".join(["word"] * 6), chunk_delay=TIMEOUT / 3)
    started = time.monotonic()

    pieces = [piece async for piece in gateway.stream(HELLO)]

    assert "".join(map(str, pieces)) == " ".join(["word"] * 6)
    assert time.monotonic() - started > TIMEOUT, "the timeout bounds the gaps, not a flowing answer"


@pytest.mark.parametrize(("header", "expected"), [("7", 7), (None, None)])
async def test_busy_carries_the_upstream_retry_after(
    fake: FakeOpenAI, gateway: OpenAIGateway, header: str | None, expected: int | None
) -> None:
    fake.configure(mode="429", retry_after=header)

    error, _ = await _fail(gateway, streaming=False)

    assert isinstance(error, LLMBusy)
    assert error.retry_after == expected


def test_retry_after_is_read_from_seconds_milliseconds_or_a_date() -> None:
    now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)

    assert retry_after_seconds(httpx2.Headers({"Retry-After": "1.5"})) == 2
    assert retry_after_seconds(httpx2.Headers({"Retry-After-Ms": "2500", "Retry-After": "9"})) == 3
    assert retry_after_seconds(httpx2.Headers({"Retry-After": later}), now=now.timestamp()) == 30
    assert retry_after_seconds(httpx2.Headers({"Retry-After": later}), now=now.timestamp() + 60) == 1
    assert retry_after_seconds(httpx2.Headers({"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx2.Headers({})) is None


async def test_a_rejected_key_is_logged_once_as_an_error_without_the_key(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(mode="401")  # the fake quotes the key it got, as real upstreams partly do

    with capture_logs() as logs:
        error, _ = await _fail(gateway, streaming=False)

    errors = [entry for entry in logs if entry["log_level"] == "error"]
    assert [(e["event"], e["status"]) for e in errors] == [("llm_misconfigured", 401)]
    assert error.__cause__ is None
    assert error.__suppress_context__
    assert not _leaks_key(error, logs)


@pytest.mark.parametrize("mode", ["500", "429", "cut", "timeout"])
async def test_nothing_that_reached_the_upstream_is_sent_again(
    fake: FakeOpenAI, gateway: OpenAIGateway, mode: str
) -> None:
    fake.configure(mode=mode)

    await _fail(gateway, streaming=False)

    assert len(fake.chat_requests()) == 1


async def _refused_then_listening(*, budget: float, retries: int) -> tuple[str | LLMError, int]:
    """Call a closed port whose server comes up 0.5 s later; the retry (if any) comes after 1 s.
    Returns the reply or error and how many requests the late server received."""
    port = closed_port()
    url = f"http://127.0.0.1:{port}/v1"
    gateway = OpenAIGateway(
        api_key=API_KEY,
        model=MODEL,
        base_url=url,
        timeout=budget,
        connect_retries=retries,
        connect_retry_delay=1,
    )
    call = asyncio.create_task(gateway.complete(HELLO))
    await asyncio.sleep(0.5)
    late = await FakeOpenAI().start(port=port)
    try:
        outcome: str | LLMError = (await call).text
    except LLMError as error:
        outcome = error
    finally:
        await late.aclose()
        await gateway.aclose()
    return outcome, len(late.chat_requests())


async def test_a_connection_refused_once_is_retried_within_the_deadline() -> None:
    outcome, received = await _refused_then_listening(budget=3, retries=1)

    assert isinstance(outcome, str)
    assert received == 1


async def test_without_retries_a_refused_connection_fails_at_once() -> None:
    outcome, received = await _refused_then_listening(budget=3, retries=0)

    assert isinstance(outcome, LLMUnavailable)
    assert received == 0


async def test_no_retry_when_the_deadline_leaves_no_room() -> None:
    outcome, received = await _refused_then_listening(budget=0.9, retries=1)

    assert isinstance(outcome, LLMUnavailable)
    assert received == 0


LONG_REPLY = " ".join(f"word{n}" for n in range(40))


async def test_closing_a_stream_early_closes_the_upstream_response(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(reply=LONG_REPLY, chunk_delay=0.05)
    stream = gateway.stream(HELLO)

    first = await anext(stream)
    await stream.aclose()

    received = await fake.wait_until_aborted()
    assert first == "word0"
    assert not received.completed


async def test_cancelling_the_reader_of_a_stream_closes_the_upstream_response(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(reply=LONG_REPLY, chunk_delay=0.05)
    pieces: list[str] = []
    first_piece = asyncio.Event()

    async def read() -> None:
        async for piece in gateway.stream(HELLO):
            assert isinstance(piece, str)
            pieces.append(piece)
            first_piece.set()

    reader = asyncio.create_task(read())
    await asyncio.wait_for(first_piece.wait(), timeout=3)

    reader.cancel()

    received = await fake.wait_until_aborted()
    assert reader.cancelled()
    assert not received.completed
    assert 0 < len(pieces) < 40
