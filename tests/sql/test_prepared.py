"""Prepared statements send exactly what SQLAlchemy itself would send for the same statement.

The hot-path statements run on SQLite's driver connection (adapters/sql/prepared.py); a
difference in SQL or in a processed parameter (a timestamp's text format, a date) would store
rows that the rest of the adapter reads differently, so the two are compared directly.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Integer, TypeDecorator, bindparam, event, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from adapters.sql.accounts import USER_COLUMNS
from adapters.sql.chats import (
    _ADD_MESSAGE,
    _ASK_CONTEXT_PREPARED,
    _ASK_COUNTED,
    _CHAT,
    _CONTEXT_HISTORY,
    _COUNTED_HISTORY,
    _HISTORY,
    _S_ID,
    _S_USED,
)
from adapters.sql.prepared import Prepared
from adapters.sql.quota import _consume
from adapters.sql.uow import SqlUnitOfWork
from chatcore.model import Mode, NewMessage, Role

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


def test_the_ask_rows_are_read_at_the_positions_of_their_columns() -> None:
    user = ["part", *(f"u_{c.name}" for c in USER_COLUMNS), *(f"c_{c.name}" for c in _CHAT)]
    history = [f"m_{c.name}" for c in _HISTORY]
    context = [c.name for c in _ASK_CONTEXT_PREPARED.statement.exported_columns]  # type: ignore[attr-defined]
    counted = [c.name for c in _ASK_COUNTED.statement.exported_columns]  # type: ignore[attr-defined]
    assert context == [*user, *history]
    assert context.index("m_id") == _CONTEXT_HISTORY
    assert counted == [*user, "s_used", "s_id", *history]
    assert (counted.index("s_used"), counted.index("s_id"), counted.index("m_id")) == (
        _S_USED,
        _S_ID,
        _COUNTED_HISTORY,
    )


async def test_rows_read_on_the_driver_are_those_sqlalchemy_gives(empty_url: str) -> None:
    # On SQLite, and on PostgreSQL without a transaction, the ask statements' rows come from the
    # driver connection, each column processed by its type (aware UTC timestamps, booleans).
    await upgrade_to_head(empty_url)
    engine = create_engine_for(empty_url)
    try:
        now = datetime(2026, 11, 26, 9, 30, 0, 120, tzinfo=SEOUL)
        async with SqlUnitOfWorkFactory(engine)() as uow:
            user = await uow.users.add(username="alice", email=None, password_hash=None, now=now)
            chat = await uow.chats.add(user_id=user.id, title="t", mode=Mode.INTERVIEW, topic="", now=now)
            for text in ("Hello", "Hi!"):
                await uow.messages.add(chat.id, NewMessage(role=Role.USER, content=text), now=now)
            await uow.commit()
        params = {"user_id": user.id, "chat_id": chat.id, "limit": 24}
        async with engine.connect() as conn:
            expected = [tuple(row) for row in (await conn.execute(_ASK_CONTEXT_PREPARED.statement, params))]
        async with SqlUnitOfWork(engine, read_only=True) as uow:
            rows = await uow._tx.rows(_ASK_CONTEXT_PREPARED, params)
        assert [tuple(row) for row in rows] == expected
        assert len(expected) == 3
        joined, created = rows[0][5], rows[0][_CONTEXT_HISTORY - 4]  # the user's, the chat's
        assert joined == created == now
        assert joined.tzinfo is created.tzinfo is rows[1][_CONTEXT_HISTORY + 4].tzinfo is UTC
    finally:
        await engine.dispose()


class NullAsZero(TypeDecorator[int]):
    impl = Integer
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> int:
        return 0 if value is None else int(value)


def test_a_result_processor_that_makes_null_a_value_is_refused() -> None:
    # rows() leaves NULLs alone, which is only what SQLAlchemy does when NULL stays None.
    engine = create_engine_for("sqlite+aiosqlite:///:memory:")
    column = type_coerce(bindparam("v", type_=Integer()), NullAsZero()).label("n")
    with pytest.raises(ValueError, match="NULL"):
        Prepared(select(column)).rows(engine.dialect, [(None,)])
