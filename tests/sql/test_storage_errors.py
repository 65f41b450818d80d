"""Which database errors mean "cannot serve right now" (503) and which mean a bug (500).

A missing table is a bug or a missing migration: reporting it as a passing unavailability would
hide it behind retries. A lock held too long, a cancelled statement, a refused connection are
not bugs: the request may simply be tried again.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql import SqlAttemptLimiter, SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from adapters.sql.transaction import raise_driver_error, raise_storage_error, refused_by_server
from adapters.sql.uow import SqlUnitOfWork
from chatcore.errors import NotFound, StorageUnavailable, UsernameTaken
from chatcore.model import Mode, NewMessage, Role

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
HI = NewMessage(role=Role.ASSISTANT, content="Hi")


async def test_a_missing_table_is_a_bug_not_an_unavailable_database(empty_url: str) -> None:
    engine = create_engine_for(empty_url)  # never migrated
    try:
        with pytest.raises(DBAPIError) as raised:
            async with SqlUnitOfWorkFactory(engine)(read_only=True) as tx:
                await tx.users.get(1)
        assert not isinstance(raised.value, StorageUnavailable)
        limiter = SqlAttemptLimiter(engine)
        with pytest.raises(DBAPIError):
            await limiter.blocked_for(["login:alice"], now=NOW)
        with pytest.raises(DBAPIError):
            await limiter.record_failure(["login:alice"], now=NOW)
    finally:
        await engine.dispose()


async def run_past_the_statement_timeout(engine: AsyncEngine) -> None:
    async with SqlUnitOfWork(engine) as tx:
        await tx._tx.execute(text("SET LOCAL statement_timeout = 10"))
        await tx._tx.execute(text("SELECT pg_sleep(1)"))


async def test_a_cancelled_postgres_statement_is_unavailable(empty_postgres_url: str) -> None:
    await upgrade_to_head(empty_postgres_url)
    engine = create_engine_for(empty_postgres_url)
    try:
        with pytest.raises(StorageUnavailable) as raised:
            await run_past_the_statement_timeout(engine)
        assert raised.value.reason == "57014"
    finally:
        await engine.dispose()


async def test_an_unreachable_postgres_server_is_unavailable() -> None:
    engine = create_engine_for("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    try:
        with pytest.raises(StorageUnavailable):
            async with SqlUnitOfWorkFactory(engine)() as tx:
                await tx.users.get(1)
        with pytest.raises(StorageUnavailable):
            await SqlAttemptLimiter(engine).blocked_for(["login:alice"], now=NOW)
    finally:
        await engine.dispose()


def busy() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = sqlite3.SQLITE_BUSY
    return error


@pytest.mark.parametrize(
    ("error", "committing", "in_doubt"),
    [
        (busy(), True, False),  # SQLite refused the COMMIT: surely not applied
        (ConnectionResetError(), True, True),  # the connection broke: the server may have committed
        (ConnectionResetError(), False, False),  # a statement: the transaction is rolled back
    ],
)
def test_a_failed_commit_is_in_doubt_unless_sqlite_refused_it(
    error: BaseException, committing: bool, in_doubt: bool
) -> None:
    with pytest.raises(StorageUnavailable) as raised:
        raise_storage_error(error, committing=committing)
    assert raised.value.in_doubt is in_doubt


async def test_a_write_the_server_refused_in_a_one_write_unit_of_work_is_not_in_doubt(
    empty_postgres_url: str,
) -> None:
    # Each statement of a one_write unit of work commits as it runs: one the server answered with
    # an error was not applied, so it may be retried.
    await upgrade_to_head(empty_postgres_url)
    engine = create_engine_for(empty_postgres_url)

    async def one_write_past_the_statement_timeout() -> None:
        async with SqlUnitOfWork(engine, one_write=True) as tx:
            await tx._tx.execute(text("SET statement_timeout = 10"))
            await tx._tx.execute(text("SELECT pg_sleep(1)"))

    try:
        with pytest.raises(StorageUnavailable) as raised:
            await one_write_past_the_statement_timeout()
        assert raised.value.reason == "57014"
        assert raised.value.in_doubt is False
    finally:
        await engine.dispose()


class ServerError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (ServerError("57014"), True),  # statement timeout: the server aborted it
        (ServerError("40001"), True),  # serialization failure
        (ServerError("08006"), False),  # connection failure: no answer about the statement
        (ConnectionResetError(), False),
        (TimeoutError(), False),
    ],
)
def test_only_an_error_the_server_answered_with_says_the_statement_was_not_applied(
    error: BaseException, refused: bool
) -> None:
    assert refused_by_server(error) is refused


@pytest.mark.parametrize(
    ("error", "committing", "expected", "in_doubt"),
    [
        (asyncpg.ForeignKeyViolationError('violates foreign key constraint "x"'), True, NotFound, None),
        (
            asyncpg.UniqueViolationError('violates unique constraint "users_username_key"'),
            True,
            UsernameTaken,
            None,
        ),
        (
            asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
            True,
            StorageUnavailable,
            False,
        ),
        (asyncpg.ConnectionDoesNotExistError("closed in the middle"), True, StorageUnavailable, True),
        (asyncpg.ConnectionDoesNotExistError("closed in the middle"), False, StorageUnavailable, False),
        (
            asyncpg.InterfaceError("cannot perform operation: connection is closed"),
            True,
            StorageUnavailable,
            True,
        ),
        (ConnectionResetError(), True, StorageUnavailable, True),
        (asyncpg.PostgresSyntaxError("syntax error"), True, asyncpg.PostgresSyntaxError, None),
        (
            asyncpg.UndefinedTableError('relation "users" does not exist'),
            True,
            asyncpg.UndefinedTableError,
            None,
        ),
    ],
)
def test_asyncpg_errors_on_the_driver_connection_are_sorted_as_sqlalchemys(
    error: Exception, committing: bool, expected: type[BaseException], in_doubt: bool | None
) -> None:
    # The hot statements of a unit of work in autocommit run on asyncpg's driver connection
    # (adapters/sql/prepared.py): its errors mean what they mean through SQLAlchemy's adapter.
    with pytest.raises(expected) as raised:
        raise_driver_error(error, committing=committing)
    if in_doubt is not None:
        assert isinstance(raised.value, StorageUnavailable)
        assert raised.value.in_doubt is in_doubt


async def test_a_connection_that_broke_under_a_driver_statement_is_unavailable_and_not_reused(
    empty_postgres_url: str,
) -> None:
    await upgrade_to_head(empty_postgres_url)
    engine = create_engine_for(empty_postgres_url)
    try:
        async with SqlUnitOfWorkFactory(engine)() as tx:
            user = await tx.users.add(username="alice", email=None, password_hash=None, now=NOW)
            chat = await tx.chats.add(user_id=user.id, title="t", mode=Mode.CONVERSATION, topic="", now=NOW)
            await tx.commit()
        async with engine.connect() as admin:
            await admin.execution_options(isolation_level="AUTOCOMMIT")

            async def reply_on_a_connection_the_server_ends() -> None:
                async with SqlUnitOfWork(engine, one_write=True) as tx:
                    pid = (await tx._tx.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                    # (With a timeout, the server waits for the backend to be gone.)
                    await admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
                    await tx.messages.add_reply(chat.id, HI, now=NOW, user_id=user.id, message_id=0)

            with pytest.raises(StorageUnavailable) as raised:
                await reply_on_a_connection_the_server_ends()
            assert raised.value.in_doubt is True  # the write's fate is unknown
        # The broken connection went back to the pool invalidated: every next unit of work works.
        for _ in range(engine.pool.size()):  # type: ignore[attr-defined]
            async with SqlUnitOfWork(engine, one_write=True) as tx:
                reply = await tx.messages.add_reply(chat.id, HI, now=NOW, user_id=user.id, message_id=0)
            assert reply.id > 0
    finally:
        await engine.dispose()
