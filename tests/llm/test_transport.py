"""The upstream's HTTP client: the proxy from the environment, read once; the endpoint's URL; the
server-sent events of a stream, however the network splits them."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from adapters.openai_llm.transport import MAX_BODY, MAX_LINE, ChatCompletions, StreamFailed


def _client(base_url: str) -> ChatCompletions:
    return ChatCompletions(api_key="sk-test", base_url=base_url, connect_timeout=1)


def test_the_proxy_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert _client("https://api.openai.com/v1").proxy is None

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "llm.internal,localhost")
    assert _client("https://api.openai.com/v1").proxy == "http://proxy.internal:3128"
    assert _client("https://llm.internal/v1").proxy is None
    assert _client("http://api.example.com/v1").proxy is None  # no HTTP_PROXY set


def test_the_endpoint_is_the_chat_completions_path_of_the_base_url() -> None:
    assert _client("http://127.0.0.1:11434/v1/").base_url == "http://127.0.0.1:11434/v1"
    assert (
        ChatCompletions(api_key="k", base_url=None, connect_timeout=1).base_url == "https://api.openai.com/v1"
    )


async def _serve_raw(pieces: list[bytes]) -> tuple[asyncio.Server, str]:
    """A server answering any request with ``pieces`` written one by one, 10 ms apart."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\r\n", b""):
            pass  # the request's headers; its body is left unread
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
        try:
            for piece in pieces:
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.01)
        except ConnectionError:
            pass  # the client stopped reading (an error it found): what is left is not needed
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1"


async def _events(pieces: list[bytes]) -> list[object]:
    server, url = await _serve_raw(pieces)
    client = _client(url)
    try:
        async with await client.stream({"stream": True}) as stream:
            return [event async for event in stream]
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_events_split_anywhere_across_reads_are_put_back_together() -> None:
    body = (
        b'data: {"n": 1}\r\n\r\n: a comment\nevent: x\ndata: {"n":\ndata:  2}\n\n'
        b'data: {"n": 3}\n\ndata: [DONE]\n\n'
    )
    for cut in (1, 7, 17, 30, 45, len(body) - 3):
        assert await _events([body[:cut], body[cut:]]) == [{"n": 1}, {"n": 2}, {"n": 3}], cut


async def test_nothing_after_done_is_read_and_a_last_event_without_blank_line_counts() -> None:
    assert await _events([b'data: {"n": 1}\n\ndata: [DONE]\n\ndata: {"n": 2}\n\n']) == [{"n": 1}]
    assert await _events([b'data: {"n": 1}\n\ndata: {"n": 2}']) == [{"n": 1}, {"n": 2}]


async def test_a_stream_error_object_and_a_line_without_end_are_refused() -> None:
    with pytest.raises(StreamFailed) as failed:
        await _events([b'data: {"error": {"code": "server_overloaded", "message": "sk-secret"}}\n\n'])
    assert failed.value.code == "server_overloaded"
    with pytest.raises(ValueError, match="too long"):
        await _events([b"data: " + b"x" * (MAX_LINE + 10)])


async def test_an_event_over_the_size_limit_is_refused() -> None:
    line = b"data: " + b"x" * 1000 + b"\n"
    with pytest.raises(ValueError, match="too long"):
        await _events([line * (MAX_BODY // 1000 + 10) + b"\n"])
