"""Which database errors mean "cannot serve right now" (503) and which mean a bug (500).

A missing table is a bug or a missing migration: reporting it as a passing unavailability would
hide it behind retries. A lock held too long, a cancelled statement, a refused connection are
not bugs: the request may simply be tried again.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql import SqlAttemptLimiter, SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from adapters.sql.transaction import raise_storage_error, refused_by_server
from adapters.sql.uow import SqlUnitOfWork
from chatcore.errors import StorageUnavailable

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


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
