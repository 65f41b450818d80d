"""Just enough HTTP/1.1 over asyncio streams for fake upstream servers in tests.

Requests: a request line, headers, a ``Content-Length`` body (no chunked uploads). Responses:
whole bodies with ``Content-Length``, or chunked bodies for server-sent events, which a fake can
also cut off mid-way. Connections are kept alive between requests, as real servers do.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

MAX_HEADER_LINES = 100


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class BadRequest(Exception):
    pass


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on the connection, or ``None`` when the client closed it."""
    line = await reader.readline()
    if not line.strip():
        return None
    try:
        method, target, _version = line.decode("latin-1").split(" ", 2)
    except ValueError:
        raise BadRequest("bad request line") from None
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest("chunked request bodies are not supported")
    length = int(headers.get("content-length", "0") or "0")
    body = await reader.readexactly(length) if length else b""
    return Request(method=method.upper(), target=target, headers=headers, body=body)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    declared_length: int | None = None,
) -> None:
    """A whole response. ``declared_length`` larger than the body makes a truncated response."""
    length = len(body) if declared_length is None else declared_length
    head = {"Content-Type": content_type, "Content-Length": str(length), **(headers or {})}
    writer.write(_head(status, head) + body)
    await writer.drain()


async def send_json(
    writer: asyncio.StreamWriter, status: int, payload: object, *, headers: dict[str, str] | None = None
) -> None:
    await send(writer, status, json.dumps(payload).encode(), headers=headers)


async def start_chunked(writer: asyncio.StreamWriter, *, content_type: str) -> None:
    head = {"Content-Type": content_type, "Transfer-Encoding": "chunked", "Cache-Control": "no-cache"}
    writer.write(_head(200, head))
    await writer.drain()


async def send_chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    await writer.drain()


async def end_chunked(writer: asyncio.StreamWriter) -> None:
    writer.write(b"0\r\n\r\n")
    await writer.drain()


async def client_left_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Wait up to ``seconds``; ``True`` as soon as the client closes its side of the connection.

    HTTP/1.1 clients send nothing while they wait for a response, so any read that returns
    means end-of-file (or a pipelined request, which no client used here sends).
    """
    if seconds <= 0:
        return reader.at_eof()
    try:
        data = await asyncio.wait_for(reader.read(1), timeout=seconds)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return data == b""
