"""Benchmark: what reading a request safely costs (issue 9, point 2).

Two costs every request with a body pays:

* ``RequestGuard``: the header scan, the body deadline and the drain check, measured around an
  ASGI app that reads the body and answers 200 (a 300-byte login body, 10 headers);
* the NUL check of ``JsonRequest``: a search of the raw body for the text ``\\u0000`` (every
  body), and only where it occurs, ``path_of_nul`` over the decoded body; for a small login body
  and for the largest body there is (an OpenAI-style request of 200 messages, just under 64 KiB).

    uv run python bench/request_guard.py [--rounds 5] [--requests 20000]

Each figure is the best of ``--rounds`` runs (the machine may be shared), in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from app_http.json_body import ESCAPED_NUL, path_of_nul
from app_http.request_guard import RequestGuard

LOGIN = json.dumps({"username": "minji", "password": "correct horse 1" * 10}).encode()
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"python-httpx/0.28.1"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
    (b"content-type", b"application/json"),
    (b"content-length", str(len(LOGIN)).encode()),
    (b"authorization", b"Bearer " + b"x" * 300),
    (b"x-request-id", b"0123456789abcdef"),
    (b"idempotency-key", b"4f6c1c6a-5f0e-4bb5-9a3e-0d5c8d2c9a11"),
]


async def app(scope: Any, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}", "more_body": False})


async def receive() -> Any:
    return {"type": "http.request", "body": LOGIN, "more_body": False}


async def send(message: Any) -> None:
    return None


async def per_request(asgi: Any, requests: int) -> float:
    scope = {"type": "http", "method": "POST", "path": "/accounts/token/", "headers": HEADERS}
    started = time.perf_counter()
    for _ in range(requests):
        await asgi(scope, receive, send)
    return (time.perf_counter() - started) / requests * 1e6


def escape_search(raw: bytes, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        _ = ESCAPED_NUL in raw
    return (time.perf_counter() - started) / repeat * 1e6


def nul_search(value: Any, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        path_of_nul(value)
    return (time.perf_counter() - started) / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    guarded = RequestGuard(app, read_timeout=30.0)
    bare = min(asyncio.run(per_request(app, args.requests)) for _ in range(args.rounds))
    with_guard = min(asyncio.run(per_request(guarded, args.requests)) for _ in range(args.rounds))
    print(f"ASGI call, bare app:        {bare:7.2f} µs")
    print(f"ASGI call, with the guard:  {with_guard:7.2f} µs  (+{with_guard - bare:.2f} µs a request)")
    large = {"messages": [{"role": "user", "content": "x" * 280} for _ in range(200)], "model": "m"}
    small = json.loads(LOGIN)
    raw = json.dumps(large).encode()
    for label, value, body, repeat in (
        ("login body", small, LOGIN, 20_000),
        ("200 messages", large, raw, 500),
    ):
        escape = min(escape_search(body, repeat) for _ in range(args.rounds))
        walk = min(nul_search(value, repeat) for _ in range(args.rounds))
        print(f"{label} ({len(body)} bytes): escape search {escape:7.2f} µs, path_of_nul {walk:7.2f} µs")


if __name__ == "__main__":
    main()
