"""Prepared statements send exactly what SQLAlchemy itself would send for the same statement.

The hot-path statements run on SQLite's driver connection (adapters/sql/prepared.py); a
difference in SQL or in a processed parameter (a timestamp's text format, a date) would store
rows that the rest of the adapter reads differently, so the two are compared directly.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql import create_engine_for, upgrade_to_head
from adapters.sql.chats import _ADD_MESSAGE
from adapters.sql.prepared import Prepared
from adapters.sql.quota import _consume

SEOUL = timezone(timedelta(hours=9))


@pytest.fixture
async def engine(empty_sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    await upgrade_to_head(empty_sqlite_url)
    engine = create_engine_for(empty_sqlite_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def sent_by_sqlalchemy(engine: AsyncEngine, prepared: Prepared, values: dict[str, Any]) -> list[Any]:
    sent: list[Any] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, tuple(parameters)))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as conn:
            with contextlib.suppress(IntegrityError):  # no user or chat rows: only what is sent counts
                await conn.execute(prepared.statement, values)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    return sent


@pytest.mark.parametrize(
    ("prepared", "values"),
    [
        (_consume("sqlite"), {"uid": 7, "qday": date(2026, 11, 26), "qlimit": 5}),
        (
            _ADD_MESSAGE,
            {
                "chat_id": 3,
                "role": "assistant",
                "content": "Tell me about a project you are proud of.",
                # Another zone and microseconds: the stored text must be the same UTC instant.
                "created_at": datetime(2026, 11, 26, 9, 30, 0, 120, tzinfo=SEOUL),
                "status": "ok",
                "model": "gpt-4o-mini",
                "feedback": None,
            },
        ),
        (
            _ADD_MESSAGE,
            {
                "chat_id": 3,
                "role": "assistant",
                "content": "Good answer.",
                "created_at": datetime(2026, 11, 26, 9, 30, 0, 120, tzinfo=SEOUL),
                "status": "ok",
                "model": "gpt-4o-mini",
                "feedback": '{"corrections":[],"better_phrasing":"Ünïcode ✓","score":null}',
            },
        ),
    ],
    ids=["quota consume", "add message", "add message with feedback"],
)
async def test_the_driver_gets_what_sqlalchemy_would_send(
    engine: AsyncEngine, prepared: Prepared, values: dict[str, Any]
) -> None:
    expected = await sent_by_sqlalchemy(engine, prepared, values)
    assert expected == [(prepared.sql(engine.dialect), prepared.parameters(engine.dialect, values))]


def test_a_missing_value_is_an_error_not_a_null() -> None:
    engine = create_engine_for("sqlite+aiosqlite:///:memory:")
    with pytest.raises(KeyError):
        _ADD_MESSAGE.parameters(engine.dialect, {"chat_id": 1})
