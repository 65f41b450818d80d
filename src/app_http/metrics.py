"""The service's Prometheus metrics (``GET /metrics``): their definitions, how they are recorded,
and one view over every worker process.

``chatcore serve`` gives its workers a fresh private ``PROMETHEUS_MULTIPROC_DIR`` before they
start (:mod:`app_http.metric_files`); each worker then writes its numbers to files there and any
worker's ``/metrics`` reads them all. Without that variable (tests, an app built in-process) each
:class:`Metrics` keeps its numbers in memory, in its own registry.

prometheus_client picks where values live (memory or files) once, when it is first imported, from
``PROMETHEUS_MULTIPROC_DIR``. So it is imported only here, inside functions, never by what
``chatcore serve`` imports before it sets the variable and starts the workers (a test checks it).

Labels never hold a user id, an e-mail, a token or message text: the route is the route's
template (``/chatbot/chats/{chat_id}/messages/``), every path no route matches shares
``<unmatched>``, methods outside the usual few are ``OTHER``.
"""

from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import AsyncGenerator
from contextlib import suppress
from typing import TYPE_CHECKING

from app_http.errors import status_and_code
from app_http.metric_files import MULTIPROCESS_ENV
from chatcore.errors import LLMError
from chatcore.learning import Feedback, Scorecard
from chatcore.ports.llm import Completion, Prompt, ScorecardRequest, Tutor

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Histogram

UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OK = "ok"
CANCELLED = "cancelled"
"""The caller went away before the tutor finished (a stream closed early, a request cancelled)."""
INTERNAL_ERROR = "internal_error"
TUTOR_OUTCOMES = (
    OK,
    "llm_timeout",
    "llm_unavailable",
    "llm_busy",
    "llm_error",
    "llm_misconfigured",
    CANCELLED,
    INTERNAL_ERROR,
)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""Seconds; the long ones are for streamed replies, which last as long as the tutor writes."""
TUTOR_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)

_LIVE_FILE = re.compile(r"gauge_live\w+?_(?P<pid>\d+)\.db$")


class Metrics:
    """Every metric of the service, recorded by the request middleware, the error handler (through
    the request's ``error_code``) and :class:`MeteredLLM`. One per worker process."""

    def __init__(self) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            disable_created_metrics,
            values,
        )

        self.directory = os.environ.get(MULTIPROCESS_ENV) or None
        if self.directory is not None and values.ValueClass is values.MutexValue:
            raise RuntimeError(
                f"prometheus_client was imported before {MULTIPROCESS_ENV} was set: "
                "its values would stay in this process"
            )
        # The ``*_created`` series: noise here, and never there across workers.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "chatcore_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "chatcore_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response (a stream: until it ends).",
            ["route", "method"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.streams_open = Gauge(
            "chatcore_http_streams_open",
            "Streamed responses (server-sent events) being sent right now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.tutor_calls = Counter(
            "chatcore_tutor_calls",
            "Calls to the tutor (the LLM) by outcome: ok, the upstream-failure code, cancelled.",
            ["outcome"],
            registry=registry,
        )
        self.tutor_seconds = Histogram(
            "chatcore_tutor_call_duration_seconds",
            "Duration of the calls to the tutor by outcome (a streamed reply: until its end).",
            ["outcome"],
            buckets=TUTOR_BUCKETS,
            registry=registry,
        )
        self.quota_refusals = Counter(
            "chatcore_quota_refusals", "Requests refused with 429 quota_exceeded.", registry=registry
        )
        self.login_failures = Counter(
            "chatcore_login_failures",
            "Logins refused for a wrong username or password (401 invalid_credentials).",
            registry=registry,
        )
        self.throttled = Counter(
            "chatcore_throttled",
            "Requests refused by an attempt budget (429 too_many_attempts), by route template.",
            ["route"],
            registry=registry,
        )
        # The series of a route, method and status, or of a tutor outcome, looked up once per
        # worker, not through ``labels()`` every time.
        self._request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._tutor_series: dict[str, tuple[Counter, Histogram]] = {}
        for outcome in TUTOR_OUTCOMES:  # every outcome is a series from the start, at 0
            self._tutor_series[outcome] = (
                self.tutor_calls.labels(outcome),
                self.tutor_seconds.labels(outcome),
            )

    def request_done(self, *, route: str | None, method: str, status: int, seconds: float) -> None:
        """One answered request. ``route`` is the matched route's template (``None``: no route)."""
        key = (route or UNMATCHED, method if method in METHODS else "OTHER", status)
        series = self._request_series.get(key)
        if series is None:
            series = (
                self.requests.labels(key[0], key[1], str(status)),
                self.request_seconds.labels(key[0], key[1]),
            )
            self._request_series[key] = series
        series[0].inc()
        series[1].observe(seconds)

    def refused(self, code: str, *, route: str | None) -> None:
        """A request answered with the error ``code``: counted if it is one of the refusals."""
        if code == "quota_exceeded":
            self.quota_refusals.inc()
        elif code == "invalid_credentials":
            self.login_failures.inc()
        elif code == "too_many_attempts":
            self.throttled.labels(route or UNMATCHED).inc()

    def tutor_called(self, outcome: str, seconds: float) -> None:
        series = self._tutor_series.get(outcome)
        if series is None:
            series = (self.tutor_calls.labels(outcome), self.tutor_seconds.labels(outcome))
            self._tutor_series[outcome] = series
        series[0].inc()
        series[1].observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of every worker's metrics, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self._view()), CONTENT_TYPE_LATEST

    def _view(self) -> CollectorRegistry:
        if self.directory is None:
            return self.registry
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        forget_dead_workers(self.directory)
        view = CollectorRegistry()
        MultiProcessCollector(view, path=self.directory)  # type: ignore[no-untyped-call]
        return view


def forget_dead_workers(directory: str) -> None:
    """Drop the live gauges (streams open) of worker processes that died: a worker that crashed
    mid-stream must not leave its streams counted forever. Their counters stay (they happened)."""
    from prometheus_client.multiprocess import mark_process_dead

    for path in glob.glob(os.path.join(directory, "gauge_live*.db")):
        found = _LIVE_FILE.search(os.path.basename(path))
        if found is not None and not _alive(int(found["pid"])):
            with suppress(FileNotFoundError):  # another worker's scrape was first
                mark_process_dead(int(found["pid"]), directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's
    return True


def tutor_outcome(error: BaseException) -> str:
    """The outcome label of a tutor call that raised ``error``: the upstream failure's code
    (the one the API answers with), ``cancelled`` when the caller went away."""
    if isinstance(error, LLMError):
        return status_and_code(error)[1]
    if isinstance(error, Exception):
        return INTERNAL_ERROR
    return CANCELLED  # CancelledError, GeneratorExit


class MeteredLLM:
    """The tutor, with each call counted and timed by outcome (a ``Tutor`` around another).

    Wrapped around the gateway in the composition root, so the domain knows nothing of metrics.
    Replies and scorecards (each a counted request) are tutor calls: one per learner message,
    whose feedback comes in the same call as the reply."""

    def __init__(self, llm: Tutor, metrics: Metrics) -> None:
        self._llm = llm
        self._metrics = metrics

    @property
    def model(self) -> str:
        return self._llm.model

    async def complete(self, prompt: Prompt) -> Completion:
        started = time.perf_counter()
        try:
            completion = await self._llm.complete(prompt)
        except BaseException as exc:
            self._metrics.tutor_called(tutor_outcome(exc), time.perf_counter() - started)
            raise
        self._metrics.tutor_called(OK, time.perf_counter() - started)
        return completion

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str | Feedback, None]:
        started = time.perf_counter()
        upstream = self._llm.stream(prompt)
        try:
            async for piece in upstream:
                yield piece
        except BaseException as exc:
            self._metrics.tutor_called(tutor_outcome(exc), time.perf_counter() - started)
            raise
        finally:
            await upstream.aclose()
        self._metrics.tutor_called(OK, time.perf_counter() - started)

    async def scorecard(self, request: ScorecardRequest) -> Scorecard:
        started = time.perf_counter()
        try:
            scorecard = await self._llm.scorecard(request)
        except BaseException as exc:
            self._metrics.tutor_called(tutor_outcome(exc), time.perf_counter() - started)
            raise
        self._metrics.tutor_called(OK, time.perf_counter() - started)
        return scorecard

    async def aclose(self) -> None:
        await self._llm.aclose()
