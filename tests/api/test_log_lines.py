"""The log lines (app_http.logs): the development line is structlog's ``ConsoleRenderer`` line,
character for character; the production line is one JSON object with the same fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from app_http.logs import _CONSOLE_ONLY, ReadableRenderer, UtcTimestamp, _json_line

REQUEST = {
    "request_id": "0123456789abcdef0123456789abcdef",
    "user_id": None,
    "client": "203.0.113.7",
    "method": "POST",
    "route": "/chatbot/chats/{chat_id}/messages/",
    "status": 201,
    "duration_ms": 3.14,
    "event": "request",
    "level": "info",
    "timestamp": "2026-12-03T17:07:50.143268Z",
}


def console_line(event_dict: dict[str, Any]) -> str:
    line = structlog.dev.ConsoleRenderer(colors=False)(None, "info", dict(event_dict))
    assert isinstance(line, str)
    return line


def readable_line(event_dict: dict[str, Any]) -> str:
    return ReadableRenderer()(None, "info", dict(event_dict))


@pytest.mark.parametrize(
    "event_dict",
    [
        REQUEST,
        {**REQUEST, "user_id": 7, "route": "<unmatched>"},
        {**REQUEST, "event": "a rather long event name that is wider than the column"},
        {**REQUEST, "level": "warning", "reason": "it's", "path": "/a b", "x": "k=v", "y": 'say "hi"'},
        {"event": "bare"},
        {"event": "", "level": "info"},
        {"timestamp": "", "event": "no level", "flag": True, "ratio": 0.5, "items": [1, "two"]},
        {"level": "error", "event": 42, "tab": "a\tb", "newline": "a\nb", "empty": ""},
        {},
    ],
)
def test_the_readable_line_is_consolerenderers(event_dict: dict[str, Any]) -> None:
    assert readable_line(event_dict) == console_line(event_dict)


@given(
    st.dictionaries(
        st.text(alphabet=st.characters(categories=["L", "N"], include_characters="_"), min_size=1),
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        max_size=8,
    ),
    st.text(),
)
def test_any_plain_event_reads_as_consolerenderer_writes_it(fields: dict[str, Any], event: str) -> None:
    # A plain event: the keys ConsoleRenderer itself treats apart (a traceback, a stack, the logger's
    # name) go to it unchanged (the test below), and it fails on some values of them (an ``exception``
    # that is not text).
    fields = {key: value for key, value in fields.items() if key not in _CONSOLE_ONLY}
    event_dict = {**fields, "event": event, "level": "info", "timestamp": "2026-12-03T17:07:50Z"}
    assert readable_line(event_dict) == console_line(event_dict)


def test_an_event_with_a_traceback_or_a_logger_name_is_consolerenderers_own() -> None:
    try:
        raise ValueError("boom")
    except ValueError as exc:
        failed = {**REQUEST, "exc_info": exc}
        line = readable_line(failed)
    # ConsoleRenderer's traceback (Rich's, when Rich is installed) shows the local variables
    # of the frames, which differ between the two calls: the first lines are the same.
    assert line.splitlines()[0] == console_line(failed).splitlines()[0]
    assert "ValueError" in line
    assert "boom" in line
    named = {**REQUEST, "logger": "chatcore.http"}
    assert readable_line(named) == console_line(named)
    assert "[chatcore.http]" in readable_line(named)


def test_the_production_line_is_one_json_object_with_every_field() -> None:
    line = _json_line(REQUEST)
    assert "\n" not in line
    assert json.loads(line) == REQUEST


def test_what_json_cannot_hold_is_written_as_jsonrenderer_writes_it() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    class Described:
        def __structlog__(self) -> dict[str, int]:
            return {"id": 7}

    event_dict = {"event": "x", "what": Opaque(), "error": ValueError("no"), "who": Described()}
    line = _json_line(event_dict)
    assert json.loads(line) == {
        "event": "x",
        "what": "<opaque>",
        "error": "ValueError('no')",
        "who": {"id": 7},
    }
    assert json.loads(line) == json.loads(structlog.processors.JSONRenderer()(None, "info", event_dict))


def test_the_production_line_is_ascii_as_json_dumps_writes_it() -> None:
    event_dict = {"event": "oauth_failed", "cause": "제공자가 거부함 — café", "n": 1}
    line = _json_line(event_dict)
    assert line.isascii()
    assert line == json.dumps(event_dict)
    assert json.loads(line) == event_dict


@pytest.mark.parametrize(
    "nanoseconds",
    [
        1_796_317_670_143_268_123,  # 2026-12-03T17:07:50.143268Z
        1_796_317_670_000_000_999,  # a whole second (within a microsecond): no fraction
        1_796_317_670_000_001_000,
        1_796_317_670_999_999_999,
        0,
    ],
)
def test_the_timestamp_is_timestampers(nanoseconds: int) -> None:
    second, rest = divmod(nanoseconds, 1_000_000_000)
    instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=second, microseconds=rest // 1000)
    expected = instant.isoformat().replace("+00:00", "Z")  # what TimeStamper(fmt="iso", utc=True) writes
    assert UtcTimestamp(lambda: nanoseconds)(None, "info", {}) == {"timestamp": expected}


def test_the_timestamp_follows_the_clock_from_one_second_to_the_next() -> None:
    now = [1_796_317_670_500_000_000]
    stamp = UtcTimestamp(lambda: now[0])
    assert stamp(None, "info", {})["timestamp"] == "2026-12-03T17:07:50.500000Z"
    now[0] += 1_000_000_000
    assert stamp(None, "info", {})["timestamp"] == "2026-12-03T17:07:51.500000Z"
    now[0] += 86_400_000_000_000 - 10_000_000_000
    assert stamp(None, "info", {})["timestamp"] == "2026-12-04T17:07:41.500000Z"
