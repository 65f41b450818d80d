"""Translate upstream failures into the chatcore errors of SPEC §6, at the adapter boundary.

==============================  ====================================================
upstream / transport            chatcore error
==============================  ====================================================
our deadline, 408               ``LLMTimeout``
cannot connect (refused, DNS)   ``LLMUnavailable``
429                             ``LLMBusy(retry_after)`` from ``Retry-After(-ms)``
401, 403                        ``LLMMisconfigured`` (our key is wrong or lacks access)
404                             ``LLMMisconfigured`` (the model or base URL does not exist)
5xx, other 4xx                  ``LLMUpstreamError`` (400/422 can depend on the request,
                                e.g. a context that is too long, so it is not a config fault)
connection reset or lost,       ``LLMUpstreamError``
an error inside a stream,
broken or empty answer
==============================  ====================================================

Status errors are raised ``from None`` and carry no body: upstreams echo (parts of) the API key
in their 401 bodies. Nothing here logs a body.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import aiohttp
import structlog

from adapters.openai_llm.transport import StreamFailed, UpstreamStatus
from chatcore.errors import (
    LLMBusy,
    LLMError,
    LLMMisconfigured,
    LLMTimeout,
    LLMUnavailable,
    LLMUpstreamError,
)

log = structlog.get_logger("chatcore.llm")

MAX_RETRY_AFTER = 86_400


class RequestRejected(LLMUpstreamError):
    """Upstream 400/422: it refused the request as written (a ``response_format`` it does not
    support, a context too long). Answered as any ``LLMUpstreamError``; the gateway may retry a
    structured-output call without the format."""


class BrokenAnswer(ValueError):
    """A 200 answer that is not a usable reply: no text, no choices, cut at a message boundary."""


def could_not_connect(exc: BaseException) -> bool:
    """True when no connection was made (refused, DNS, a TLS handshake that failed): the request
    never left this host, so it may be sent again."""
    return isinstance(exc, aiohttp.ClientConnectorError)


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> int | None:
    """Whole seconds from ``Retry-After-Ms`` or ``Retry-After`` (seconds or an HTTP date).
    ``headers`` must look names up case-insensitively (aiohttp's do)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return _clamp(float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return _clamp(float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return _clamp(when.timestamp() - (time.time() if now is None else now))


def _clamp(seconds: float) -> int | None:
    if math.isnan(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(1, math.ceil(seconds)))


def status_error(exc: UpstreamStatus, *, model: str, host: str) -> LLMError:
    """The chatcore error for an HTTP error status from upstream (logged without any body)."""
    status = exc.status
    fields = {"status": status, "model": model, "host": host, "upstream_request_id": exc.request_id}
    if status in (401, 403, 404):
        reason = "model or base URL not found" if status == 404 else "API key rejected"
        # The one line an operator needs: never the key, never the upstream's message.
        log.error("llm_misconfigured", reason=reason, **fields)
        return LLMMisconfigured()
    if status == 429:
        retry_after = retry_after_seconds(exc.headers)
        log.warning("llm_busy", retry_after=retry_after, upstream_code=exc.code, **fields)
        return LLMBusy(retry_after=retry_after)
    if status == 408:
        log.warning("llm_timeout", **fields)
        return LLMTimeout()
    log.warning("llm_upstream_error", upstream_code=exc.code, **fields)
    return RequestRejected() if status in (400, 422) else LLMUpstreamError()


@contextmanager
def translated(*, model: str, host: str, answering: bool) -> Iterator[None]:
    """Re-raise transport failures in the block as :class:`chatcore.errors.LLMError`.

    ``answering`` says the upstream already started its answer: a lost connection then means
    a cut answer (``LLMUpstreamError``), not an unreachable server.
    """
    try:
        yield
    except LLMError:
        raise
    except UpstreamStatus as exc:
        raise status_error(exc, model=model, host=host) from None
    except StreamFailed as exc:
        # An error object inside a 200 stream: its message is upstream text, so it is not chained.
        log.warning("llm_stream_error", model=model, host=host, upstream_code=exc.code)
        raise LLMUpstreamError() from None
    except TimeoutError as exc:  # our deadline (aiohttp's own timeouts are TimeoutErrors too)
        log.warning("llm_timeout", model=model, host=host, answering=answering)
        raise LLMTimeout() from exc
    except aiohttp.ClientConnectorError as exc:
        if not answering:
            log.warning("llm_unavailable", model=model, host=host)
            raise LLMUnavailable() from exc
        log.warning("llm_connection_lost", model=model, host=host, answering=answering)
        raise LLMUpstreamError() from exc
    except (aiohttp.ClientError, ConnectionError) as exc:
        # Reset, closed without an answer, a body cut short.
        log.warning("llm_connection_lost", model=model, host=host, answering=answering)
        raise LLMUpstreamError() from exc
    except ValueError as exc:
        # A body or stream event that is not the JSON it claims to be, or no answer in it.
        log.warning("llm_broken_answer", model=model, host=host, error=type(exc).__name__)
        raise LLMUpstreamError() from exc
