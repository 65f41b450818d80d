"""One pure-ASGI middleware for every response: a request id, security headers, exactly one
structured log line per request (request id, user id, method, route template, status, duration),
and the request's metrics (``app_http.metrics``: count, duration, streams open, refusals).
Never a token, password or message text: only those fields are logged.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from app_http.client_address import client_of
from app_http.metrics import Metrics

log = structlog.get_logger("chatcore.http")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
# The web front end is served from this origin only; no inline scripts, no framing.
HTML_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; media-src 'self' blob:; font-src 'self'; object-src 'none'; "
    b"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI needs its CDN assets and inline bootstrap script.
SCHEMA_CSP = (
    b"default-src 'self' https:; script-src 'self' 'unsafe-inline' https:; "
    b"style-src 'self' 'unsafe-inline' https:; img-src 'self' data: https:; frame-ancestors 'none'"
)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return secrets.token_hex(16)  # 32 hex digits, as a UUID's hex, for a fifth of its cost


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        http_scope: HTTPScope = scope
        request_id = _request_id(scope)
        status = 500
        streaming = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = message["status"]
                given = message.get("headers", ())
                content_type = b""
                for name, value in given:
                    if name == b"content-type":
                        content_type = value
                        break
                headers = [*given, (b"x-request-id", request_id.encode()), *_BASE_HEADERS]
                if content_type.startswith(b"text/event-stream"):
                    streaming = True
                    self.metrics.streams_open.inc()
                elif content_type.startswith(b"text/html"):
                    is_schema = scope["path"].startswith("/schema")
                    headers.append((b"content-security-policy", SCHEMA_CSP if is_schema else HTML_CSP))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - started
            if streaming:
                self.metrics.streams_open.dec()
            state: dict[str, Any] = scope.get("state", {})
            route = scope.get("path_template")
            method = http_scope["method"]
            self.metrics.request_done(route=route, method=method, status=status, seconds=seconds)
            if "error_code" in state:
                self.metrics.refused(state["error_code"], route=route)
            log.info(
                "request",
                request_id=request_id,
                user_id=state.get("user_id"),
                client=client_of(scope),
                method=method,
                route=route or "<unmatched>",
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )
