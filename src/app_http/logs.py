"""structlog set up once per process: JSON lines in production, readable lines in development.

Every request writes one line (:mod:`app_http.middleware`), so its processors are cheap ones: the
timestamp formatted once a second (:class:`UtcTimestamp`), JSON through msgspec, and
:class:`ReadableRenderer` (structlog's ``ConsoleRenderer`` line without its per-column machinery,
about a fifth of its cost).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, MutableMapping
from typing import Any

import msgspec
import structlog

_configured = False

_CONSOLE_ONLY = frozenset({"", "stack", "exception", "exc_info", "logger", "logger_name"})
"""Keys that ``ConsoleRenderer`` lays out in a special way (a traceback, a logger-name column):
an event with one of them is rendered by ``ConsoleRenderer`` itself."""
_QUOTED = frozenset(" \t=\r\n\"'")
"""A text value with one of these is written as its ``repr`` (as ``ConsoleRenderer`` does)."""
_LEVEL_WIDTH = len("exception")
"""``ConsoleRenderer`` pads the level to its longest level name."""
_EVENT_WIDTH = 30
"""``ConsoleRenderer``'s default ``pad_event_to``."""
_MISSING = object()


class StderrLogger:
    """Writes each line to whatever ``sys.stderr`` is at that moment (not the stream of the first
    call, which a test runner or a daemoniser may have closed since), one flushed line per event."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger(*_args: object) -> StderrLogger:
    return StderrLogger()


class ReadableRenderer:
    """The line of ``structlog.dev.ConsoleRenderer(colors=False)``, character for character:
    timestamp, ``[level]`` and the event padded, then ``key=value`` sorted by key (a text value
    bare unless it has a space, a quote or ``=``; anything else as its ``repr``).

    An event with a traceback, a stack or a logger name goes to ``ConsoleRenderer`` itself."""

    def __init__(self) -> None:
        self._console = structlog.dev.ConsoleRenderer(colors=False)

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
        if not _CONSOLE_ONLY.isdisjoint(event_dict):
            return self._console(logger, method_name, event_dict)
        timestamp = event_dict.pop("timestamp", _MISSING)
        level = event_dict.pop("level", _MISSING)
        event = event_dict.pop("event", _MISSING)
        parts = [
            key + "=" + (value if isinstance(value, str) and _QUOTED.isdisjoint(value) else repr(value))
            for key, value in sorted(event_dict.items())  # keys differ: values are never compared
        ]
        if event is not _MISSING:
            parts.insert(0, _pad(str(event), _EVENT_WIDTH))
        if level is not _MISSING:
            parts.insert(0, "[" + _pad(level, _LEVEL_WIDTH) + "]")
        if timestamp is not _MISSING:
            parts.insert(0, str(timestamp))
        return " ".join([part for part in parts if part]).rstrip(" ")


def _pad(text: str, width: int) -> str:
    return text + " " * (width - len(text))


class UtcTimestamp:
    """The processor ``TimeStamper(fmt="iso", utc=True)``: ``timestamp`` as
    ``2026-12-03T17:07:50.143268Z`` (no fraction on a whole second, as ``datetime.isoformat``),
    the date and time of day formatted once a second rather than for every line."""

    def __init__(self, now_ns: Callable[[], int] = time.time_ns) -> None:
        self._now_ns = now_ns
        self._second = -1
        self._prefix = ""

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
        second, nanoseconds = divmod(self._now_ns(), 1_000_000_000)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        microseconds = nanoseconds // 1000
        event_dict["timestamp"] = (
            f"{self._prefix}.{microseconds:06d}Z" if microseconds else self._prefix + "Z"
        )
        return event_dict


def _fallback(value: Any) -> Any:
    """What JSON cannot hold, as ``JSONRenderer``'s default writes it: its ``__structlog__()``,
    else its ``repr``."""
    structlog_form = getattr(value, "__structlog__", None)
    return structlog_form() if callable(structlog_form) else repr(value)


_JSON = msgspec.json.Encoder(enc_hook=_fallback)


def _json_line(event_dict: Any, **_kwargs: Any) -> str:
    """The event as one JSON object, ASCII only as ``json.dumps`` writes it (a line with other
    characters, which is rare, is ``json.dumps``'s own)."""
    line = _JSON.encode(event_dict)
    if line.isascii():
        return line.decode()
    return json.dumps(event_dict, default=_fallback)


def configure_logging(*, production: bool) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_json_line) if production else ReadableRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            UtcTimestamp(),
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
