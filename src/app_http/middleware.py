"""One pure-ASGI middleware for every response: a request id, security headers, and exactly one
structured log line per request (request id, user id, method, route template, status, duration).
Never a token, password or message text: only those fields are logged.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from app_http.client_address import client_of

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
    return uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        http_scope: HTTPScope = scope
        request_id = _request_id(scope)
        status = 500
        is_schema = scope["path"].startswith("/schema")

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(_BASE_HEADERS)
                if any(k == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    headers.append((b"content-security-policy", SCHEMA_CSP if is_schema else HTML_CSP))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            state: dict[str, Any] = scope.get("state", {})
            log.info(
                "request",
                request_id=request_id,
                user_id=state.get("user_id"),
                client=client_of(scope),
                method=http_scope["method"],
                route=scope.get("path_template") or "<unmatched>",
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
