"""OpenAPI helpers: every documented error response has the one ``ErrorBody`` shape."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema

from app_http.errors import ErrorBody

DESCRIPTIONS = {
    400: "Malformed JSON (`malformed_json`)",
    401: "Missing, invalid or expired credentials (`not_authenticated`, `invalid_token`, ...)",
    403: "Not allowed (`permission_denied`)",
    404: "Not found, or not yours (`chat_not_found`, ...)",
    409: (
        "Conflict (`username_taken`, `email_taken`, `too_many_api_keys`, `password_required`, "
        "`last_login_method`, `conflict`)"
    ),
    413: "Body over 64 KiB (`payload_too_large`)",
    415: "The refresh cookie was sent without Content-Type: application/json (`unsupported_media_type`)",
    422: "Invalid input (`validation_error`), the detail names the field",
    429: "Too many requests (`quota_exceeded`, `too_many_attempts`), see Retry-After",
    502: "The tutor failed (`llm_error`, `llm_misconfigured`)",
    503: (
        "The tutor (`llm_unavailable`, `llm_busy`) or the database (`storage_unavailable`) "
        "cannot serve right now; see Retry-After"
    ),
    504: "The tutor timed out (`llm_timeout`)",
}


def responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Error responses for a route, plus those every route can give: bad input (400, 413, 422) and a
    database that cannot serve right now (503)."""
    wanted = sorted(set(statuses) | {400, 413, 422, 503})
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=DESCRIPTIONS[status], generate_examples=False
        )
        for status in wanted
    }


@dataclass
class StreamingOperation(Operation):
    """An operation whose success response may also be server-sent events (SPEC §4.3)."""

    def __post_init__(self) -> None:
        for status, response in (self.responses or {}).items():
            if status.startswith("2") and isinstance(response, OpenAPIResponse) and response.content:
                response.content["text/event-stream"] = OpenAPIMediaType(
                    schema=Schema(
                        description=(
                            "Server-sent events, sent when the request asks for them: `delta` events "
                            '(`{"text": ...}`), then one `done` event, or an `error` event '
                            "with the error shape."
                        )
                    )
                )
