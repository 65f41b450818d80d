"""structlog set up once per process: JSON lines in production, readable lines in development."""

from __future__ import annotations

import logging
import sys

import structlog

_configured = False


class StderrLogger:
    """Writes each line to whatever ``sys.stderr`` is at that moment (not the stream of the first
    call, which a test runner or a daemoniser may have closed since), one flushed line per event."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger(*_args: object) -> StderrLogger:
    return StderrLogger()


def configure_logging(*, production: bool) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if production else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=True,
    )
    # The HTTP client of the OAuth login logs every request at INFO through the standard library,
    # which Litestar hands to a queue thread: those lines duplicate our request log and land in
    # the middle of structlog's lines on the same stderr. Their warnings still get through.
    for name in ("httpx", "httpx2"):
        logging.getLogger(name).setLevel(logging.WARNING)
