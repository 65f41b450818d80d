"""Benchmark: what the per-request bookkeeping costs (issue 15): the request middleware (request id,
security headers, metrics, the log line) and the request guard around an app, as in ``chatcore
serve``: uvloop, the metrics in worker files (a ``PROMETHEUS_MULTIPROC_DIR``), the log line
written to stderr (here ``/dev/null``) in the development or the production format.

The app stands for a messages request: it reads the body, records one tutor call and answers 201.
Also each part alone: the request's log line, its metrics, the tutor call's metrics.

    uv run python bench/request_bookkeeping.py [--production] [--rounds 7] [--requests 10000]

Each figure is the best of ``--rounds`` runs of the thread's CPU time (not wall time: the machine
may be shared), in microseconds. To compare two versions, run this in each checkout, in turns.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

BODY = b'{"content": "Hello! Could you help me practise ordering a coffee in English?"}'
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"authorization", b"Bearer " + b"x" * 200),
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
    (b"user-agent", b"wrk"),
]
ROUTE = "/chatbot/chats/{chat_id}/messages/"


def cpu_per_call(call: Callable[[], object], calls: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(calls):
            call()
        best = min(best, time.thread_time() - started)
    return best / calls * 1e6


async def cpu_per_request(asgi: Callable[[], Awaitable[None]], requests: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(requests):
            await asgi()
        best = min(best, time.thread_time() - started)
    return best / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--production", action="store_true", help="JSON log lines")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    # Before prometheus_client is imported (app_http.metrics imports it when a Metrics is made).
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-metrics-")
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (for the rest of the process)

    import structlog
    import uvloop

    from app_http.logs import configure_logging
    from app_http.metrics import Metrics
    from app_http.middleware import RequestContextMiddleware
    from app_http.request_guard import RequestGuard

    configure_logging(production=args.production)
    metrics = Metrics()
    litestar_app = SimpleNamespace(state=SimpleNamespace(trusted_proxies=()))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["path_template"] = ROUTE  # as Litestar's router does
        scope["state"]["user_id"] = 7
        while (await receive()).get("more_body"):
            pass
        metrics.tutor_called("ok", 0.0012)
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}", "more_body": False})

    async def receive() -> Any:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: Any) -> None:
        return None

    def request_of(asgi: Any) -> Callable[[], Awaitable[None]]:
        def request() -> Awaitable[None]:
            scope = {
                "type": "http",
                "method": "POST",
                "path": "/chatbot/chats/1/messages/",
                "headers": HEADERS,
                "client": ("127.0.0.1", 50123),
                "litestar_app": litestar_app,
                "state": {},
            }
            result: Awaitable[None] = asgi(scope, receive, send)
            return result

        return request

    stack = RequestContextMiddleware(RequestGuard(app, read_timeout=30.0), metrics)
    guard_only = RequestGuard(app, read_timeout=30.0)

    async def measure() -> tuple[float, float, float]:
        bare = await cpu_per_request(request_of(app), args.requests, args.rounds)
        guarded = await cpu_per_request(request_of(guard_only), args.requests, args.rounds)
        whole = await cpu_per_request(request_of(stack), args.requests, args.rounds)
        return bare, guarded, whole

    bare, guarded, whole = uvloop.run(measure())
    log = structlog.get_logger("chatcore.http")

    def log_line() -> None:
        log.info(
            "request",
            request_id="0123456789abcdef0123456789abcdef",
            user_id=7,
            client="127.0.0.1",
            method="POST",
            route=ROUTE,
            status=201,
            duration_ms=3.14,
        )

    def request_metrics() -> None:
        metrics.request_done(route=ROUTE, method="POST", status=201, seconds=0.0031)

    def tutor_metrics() -> None:
        metrics.tutor_called("ok", 0.0012)

    calls = args.requests * 2
    fmt = "production (JSON)" if args.production else "development"
    print(f"log format: {fmt}; CPU µs per request, best of {args.rounds}")
    rows = {
        "the app alone (reads the body, one tutor call's metrics)": bare,
        "+ the request guard": guarded - bare,
        "+ the request middleware and the guard": whole - bare,
        "the log line alone": cpu_per_call(log_line, calls, args.rounds),
        "the request's metrics alone": cpu_per_call(request_metrics, calls, args.rounds),
        "a tutor call's metrics alone": cpu_per_call(tutor_metrics, calls, args.rounds),
    }
    for label, figure in rows.items():
        print(f"  {label:<58}{figure:7.2f}")


if __name__ == "__main__":
    main()
