"""``GET /metrics`` (SPEC §4.4): the Prometheus text format, for whoever may scrape it.

With ``CHATCORE_METRICS_TOKEN`` set, only ``Authorization: Bearer <the token>`` (compared in
constant time; anything else is 401). Without it, only the machine itself: a loopback client
address, as :mod:`app_http.client_address` resolves it (so behind a trusted proxy it is the
forwarded address that counts, not the proxy's); anyone else gets 403, which says what to set.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from app_http.client_address import client_of
from app_http.errors import ErrorBody, error_response
from app_http.metrics import Metrics


def metrics_handler(metrics: Metrics, *, token: str) -> HTTPRouteHandler:
    """The ``/metrics`` route over ``metrics``, guarded by ``token`` (empty: loopback only)."""

    @get(
        "/metrics",
        operation_id="metrics",
        summary="Prometheus metrics of every worker (bearer metrics token, or loopback only)",
        tags=["operations"],
        media_type="text/plain",
        sync_to_thread=False,
        responses={
            401: ResponseSpec(ErrorBody, description="A metrics token is set and was not presented"),
            403: ResponseSpec(ErrorBody, description="No metrics token is set and the client is not local"),
        },
    )
    def scrape(request: Request[Any, Any, Any]) -> Response[bytes] | Response[ErrorBody]:
        refused = _refusal(request, token)
        if refused is not None:
            refused.media_type = MediaType.JSON  # not the route's text/plain
            return refused
        body, content_type = metrics.render()
        # Litestar adds the charset of a text type itself.
        media_type = content_type.replace("; charset=utf-8", "")
        return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})

    return scrape


def _refusal(request: Request[Any, Any, Any], token: str) -> Response[ErrorBody] | None:
    if token:
        if hmac.compare_digest(_bearer(request).encode(), token.encode()):
            return None
        return error_response(
            401,
            "not_authenticated",
            "Send the metrics token: Authorization: Bearer <CHATCORE_METRICS_TOKEN>.",
            {"WWW-Authenticate": 'Bearer realm="chatcore metrics"'},
        )
    if _is_loopback(client_of(request.scope)):
        return None
    return error_response(
        403,
        "permission_denied",
        "Metrics are served to this machine only; set CHATCORE_METRICS_TOKEN to scrape from elsewhere.",
    )


def _bearer(request: Request[Any, Any, Any]) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _is_loopback(client: str) -> bool:
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False  # a test client's name, a Unix socket: not known to be this machine
