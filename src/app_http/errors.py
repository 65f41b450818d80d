"""One error model: every failure is JSON ``{"code", "detail"}`` with the status of SPEC §4-§6."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Scope

from app_http.json_body import InvalidJsonValue, MalformedJson
from app_http.quota_headers import quota_headers
from app_http.request_guard import RequestTimedOut
from chatcore import errors as e
from chatcore.model import Quota

log = structlog.get_logger("chatcore.http")


class ErrorBody(msgspec.Struct):
    """The shape of every error response."""

    code: str
    detail: str


# Most specific first: the first matching class wins.
DOMAIN_ERRORS: tuple[tuple[type[e.ChatcoreError], int, str], ...] = (
    (e.ValidationFailed, 422, "validation_error"),
    (e.ChatNotFound, 404, "chat_not_found"),
    (e.UserNotFound, 404, "user_not_found"),
    (e.MessageNotFound, 404, "message_not_found"),
    (e.ScorecardNotFound, 404, "scorecard_not_found"),
    (e.NotebookEntryNotFound, 404, "notebook_entry_not_found"),
    (e.ApiKeyNotFound, 404, "api_key_not_found"),
    (e.ProviderNotFound, 404, "provider_not_found"),
    (e.NotLinked, 404, "not_linked"),
    (e.NotFound, 404, "not_found"),
    (e.UsernameTaken, 409, "username_taken"),
    (e.EmailTaken, 409, "email_taken"),
    (e.TooManyApiKeys, 409, "too_many_api_keys"),
    (e.PasswordRequired, 409, "password_required"),
    (e.LastAdmin, 409, "last_admin"),
    (e.LastLoginMethod, 409, "last_login_method"),
    (e.NothingToScore, 409, "nothing_to_score"),
    (e.SelfDeactivation, 409, "cannot_deactivate_self"),
    (e.Conflict, 409, "conflict"),
    (e.InvalidCredentials, 401, "invalid_credentials"),
    (e.TokenReused, 401, "token_reused"),
    (e.InvalidToken, 401, "invalid_token"),
    (e.TooManyAttempts, 429, "too_many_attempts"),
    (e.AccountDisabled, 403, "account_disabled"),
    (e.AdminOnly, 403, "admin_only"),
    (e.PermissionDenied, 403, "permission_denied"),
    (e.InvalidLoginCode, 401, "invalid_code"),
    (e.AuthError, 401, "not_authenticated"),
    (e.QuotaExceeded, 429, "quota_exceeded"),
    # A provider callback turns these codes into its redirect (app_http.oauth), not into a body.
    (e.OAuthStateInvalid, 400, "invalid_state"),
    (e.OAuthDenied, 403, "access_denied"),
    (e.ProviderUnavailable, 503, "provider_unavailable"),
    (e.AlreadyLinked, 409, "already_linked"),
    (e.OAuthFailed, 502, "provider_error"),
    (e.StorageUnavailable, 503, "storage_unavailable"),
    (e.LLMTimeout, 504, "llm_timeout"),
    (e.LLMUnavailable, 503, "llm_unavailable"),
    (e.LLMBusy, 503, "llm_busy"),
    (e.LLMMisconfigured, 502, "llm_misconfigured"),
    (e.LLMUpstreamError, 502, "llm_error"),
    (e.LLMError, 502, "llm_error"),
)


def status_and_code(error: e.ChatcoreError) -> tuple[int, str]:
    for kind, status, code in DOMAIN_ERRORS:
        if isinstance(error, kind):
            return status, code
    return 500, "internal_error"


def error_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> Response[ErrorBody]:
    return Response(ErrorBody(code=code, detail=detail), status_code=status, headers=headers)


def extra_headers(error: e.ChatcoreError) -> dict[str, str]:
    """The ``Retry-After`` header of an error that says when to try again: too many login
    attempts, a database that cannot serve now, an upstream 429 that sent one.

    Nothing else: the quota's ``X-RateLimit-*`` headers come from :func:`quota_headers`, which
    the callers add themselves.
    """
    if isinstance(error, e.TooManyAttempts | e.StorageUnavailable):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, e.LLMBusy) and error.retry_after is not None:
        return {"Retry-After": str(error.retry_after)}
    return {}


def llm_failure_answer(
    error: e.LLMError, quota: Quota, now: datetime
) -> tuple[int, ErrorBody, dict[str, str]]:
    """A tutor failure of a counted request (SPEC §6): its status, body and headers, with the quota
    headers as they are after the slot was given back."""
    status, code = status_and_code(error)
    return (
        status,
        ErrorBody(code=code, detail=error.detail),
        {**quota_headers(quota, now), **extra_headers(error)},
    )


def llm_failure_response(error: e.LLMError, quota: Quota, now: datetime) -> Response[ErrorBody]:
    """:func:`llm_failure_answer` as a response."""
    status, body, headers = llm_failure_answer(error, quota, now)
    return Response(body, status_code=status, headers=headers)


def domain_error_answer(
    exc: e.ChatcoreError, now: datetime, scope: Scope
) -> tuple[int, ErrorBody, dict[str, str]]:
    """The status, body and headers of a domain error; notes its code in the request's ``state``
    for the request's metrics (app_http.middleware counts the refusals among them)."""
    status, code = status_and_code(exc)
    scope.setdefault("state", {})["error_code"] = code
    headers = extra_headers(exc)
    if isinstance(exc, e.StorageUnavailable):
        log.warning("storage_unavailable", reason=exc.reason, path=scope.get("path", ""))
    if isinstance(exc, e.QuotaExceeded):
        headers = quota_headers(exc.quota, now, refused=True)
    if status == 401:
        headers = {**headers, "WWW-Authenticate": 'Bearer realm="chatcore"'}
    return status, ErrorBody(code=code, detail=exc.detail), headers


def handle_domain_error(request: Request[Any, Any, Any], exc: e.ChatcoreError) -> Response[ErrorBody]:
    status, body, headers = domain_error_answer(exc, request.app.state.clock.now(), request.scope)
    return Response(body, status_code=status, headers=headers)


_AT = re.compile(r"^(?P<msg>.*?) - at `\$\.?(?P<path>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")


def _one_problem(item: dict[str, Any]) -> str:
    key = str(item.get("key") or "")
    message = str(item.get("message") or "is invalid")
    where = "" if key == "data" else key
    found = _AT.match(message)
    if found:
        message = found["msg"]
        path = found["path"].replace("[", ".").replace("]", "")
        where = path or where
    missing = _MISSING.match(message)
    if missing:
        where = f"{where}.{missing['field']}" if where else missing["field"]
        message = "this field is required"
    if message and message[0].isupper() and not message.startswith("JSON"):
        message = message[0].lower() + message[1:]
    return f"{where}: {message}" if where else message


def _problems(exc: ValidationException) -> list[dict[str, Any]]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    return [item for item in extra if isinstance(item, dict)]


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        problems = _problems(exc)
        if any(p.get("key") == "data" and p.get("message") == "'data'" for p in problems):
            return error_response(400, "malformed_json", "A JSON request body is required.")
        detail = "; ".join(_one_problem(p) for p in problems) or "The request is not valid."
        return error_response(422, "validation_error", detail)
    if isinstance(exc, MalformedJson):
        return error_response(400, "malformed_json", exc.detail)
    if isinstance(exc, InvalidJsonValue):
        return error_response(422, "validation_error", exc.detail)
    if isinstance(exc, RequestTimedOut):
        return error_response(408, "request_timeout", exc.detail)
    if status == 413:
        return error_response(413, "payload_too_large", "The request body is larger than 64 KiB.")
    if isinstance(exc, NotFoundException):
        return error_response(404, "not_found", "There is nothing at this address.")
    if isinstance(exc, MethodNotAllowedException):
        return error_response(405, "method_not_allowed", "This method is not allowed here.", exc.headers)
    if isinstance(exc, NotAuthorizedException):
        return error_response(401, "not_authenticated", "Sign in first: send a valid bearer token.")
    if isinstance(exc, PermissionDeniedException):
        return error_response(403, "permission_denied", "You are not allowed to do this.")
    if status == 400:
        return error_response(400, "bad_request", "The request could not be read.")
    if status >= 500:
        return handle_unexpected(request, exc)
    return error_response(status, _code_for(status), str(exc.detail) or "The request failed.", exc.headers)


def _code_for(status: int) -> str:
    return {
        400: "bad_request",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        406: "not_acceptable",
        409: "conflict",
        415: "unsupported_media_type",
        429: "too_many_requests",
    }.get(status, "error")


def unexpected_answer(scope: Scope, exc: Exception) -> tuple[int, ErrorBody, dict[str, str]]:
    """A failure nobody foresaw: logged by its type only (never its text, which may quote input)."""
    log.error("unhandled_error", error_type=type(exc).__name__, path=scope.get("path", ""))
    return (
        HTTP_500_INTERNAL_SERVER_ERROR,
        ErrorBody("internal_error", "Something went wrong on our side."),
        {},
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    status, body, headers = unexpected_answer(request.scope, exc)
    return Response(body, status_code=status, headers=headers)
