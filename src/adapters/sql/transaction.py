"""The connection a unit of work shares with its repositories, and error translation.

Database errors that are facts about the data (a unique or foreign key violation) become
:mod:`chatcore.errors` here, at the boundary; nothing from SQLAlchemy crosses a port for them.
So do errors that say the database cannot serve right now (a lock held past the busy timeout, a
server that refuses connections, a pool with no free connection in time): ``StorageUnavailable``,
which the HTTP layer answers with 503 and ``Retry-After``. Errors that mean a bug (bad SQL, wrong
types) are left alone, to surface as the 500 they are.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, NoReturn

from sqlalchemy import Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.prepared import Prepared
from adapters.sql.sqlite_driver import READ_BEGIN, InlineConnection, is_busy
from chatcore.errors import (
    ChatcoreError,
    Conflict,
    EmailTaken,
    NotFound,
    StorageUnavailable,
    UsernameTaken,
)

Upsert = postgresql.Insert | sqlite.Insert


def translate(exc: BaseException) -> ChatcoreError:
    """The domain fact behind a constraint violation (constraint names are in both drivers' text)."""
    message = str(exc.orig if isinstance(exc, IntegrityError) else exc).lower()
    if "username_key" in message:
        return UsernameTaken()
    if "email_key" in message:
        return EmailTaken()
    if "foreign key" in message:
        return NotFound()
    return Conflict()


def _driver_error(exc: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrapper (or ``exc`` when it came unwrapped)."""
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def _reason(exc: BaseException) -> str:
    """A short, data-free name for the log: SQLite's error name, PostgreSQL's SQLSTATE, a class."""
    orig = _driver_error(exc)
    reason = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None)
    return str(reason) if reason else type(orig).__name__


STORAGE_ERRORS = (DBAPIError, sqlite3.Error, PoolTimeout, OSError, TimeoutError)
"""What a connection or a statement may raise; :func:`raise_storage_error` sorts them out."""

_SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_READONLY,
}
_POSTGRES_UNAVAILABLE_CLASSES = (
    "08",  # connection exception
    "28",  # invalid authorization (credentials changed under a running server)
    "3D",  # invalid catalog name (the database is gone)
    "40",  # transaction rollback: serialization failure, deadlock
    "53",  # insufficient resources: too many connections, disk full
    "57",  # operator intervention: shutdown, statement timeout, cannot connect now
)
_POSTGRES_UNAVAILABLE_STATES = ("55P03", "25006")  # lock not available; read-only (a standby)


def _unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve right now (rather than that we have a bug:
    bad SQL, a missing table, wrong types, which must stay a 500 and be fixed)."""
    if isinstance(exc, PoolTimeout | OSError | TimeoutError | InterfaceError):
        return True
    orig = _driver_error(exc)
    if isinstance(orig, OSError | TimeoutError):
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_UNAVAILABLE
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        return state[:2] in _POSTGRES_UNAVAILABLE_CLASSES or state in _POSTGRES_UNAVAILABLE_STATES
    return isinstance(exc, OperationalError)  # a driver that gives no code: SQLAlchemy's judgement


def refused_by_server(exc: BaseException) -> bool:
    """PostgreSQL answered that the statement failed (a SQLSTATE outside class 08, connection
    exception): a statement that commits as it runs was then surely not applied."""
    state = getattr(_driver_error(exc), "sqlstate", None)
    return isinstance(state, str) and not state.startswith("08")


def raise_storage_error(exc: BaseException, *, committing: bool = False) -> NoReturn:
    """Raise the chatcore error for one of :data:`STORAGE_ERRORS`: the domain fact behind a
    constraint violation, ``StorageUnavailable``, or else ``exc`` itself (a bug).
    (Plain ``try``/``except`` at each call site: free on the hot path, unlike a context manager.)

    A ``COMMIT`` that fails may still have been applied (the connection broke after the server
    committed), except when SQLite says its lock was busy: that is ``in_doubt``."""
    if isinstance(exc, IntegrityError | sqlite3.IntegrityError):
        raise translate(exc) from exc
    if _unavailable(exc):
        in_doubt = committing and not is_busy(_driver_error(exc))
        raise StorageUnavailable(reason=_reason(exc), in_doubt=in_doubt) from exc
    raise exc


def raise_driver_error(exc: Exception, *, committing: bool = False) -> NoReturn:
    """:func:`raise_storage_error` for what asyncpg raises on its driver connection (see
    :meth:`Transaction.rows`), sorted as SQLAlchemy's asyncpg adapter sorts it before
    :func:`raise_storage_error` sees it: a constraint violation is an ``IntegrityError``, asyncpg's
    ``InterfaceError`` (a closed connection, another operation in progress) an ``InterfaceError``,
    any other server error a ``DBAPIError`` carrying its SQLSTATE; socket errors stay as they are."""
    import asyncpg  # only PostgreSQL gets here: SQLite deployments never load it

    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        raise translate(exc) from exc
    if isinstance(exc, asyncpg.InterfaceError):
        raise StorageUnavailable(reason=_reason(exc), in_doubt=committing) from exc
    if isinstance(exc, asyncpg.PostgresError | OSError | TimeoutError):
        raise_storage_error(exc, committing=committing and not refused_by_server(exc))
    raise exc


@asynccontextmanager
async def translated(opening: AbstractAsyncContextManager[AsyncConnection]) -> AsyncIterator[AsyncConnection]:
    """``async with`` an engine's ``connect()`` or ``begin()``, with :func:`raise_storage_error`
    applied to whatever it raises (for code outside a unit of work)."""
    try:
        async with opening as conn:
            yield conn
    except STORAGE_ERRORS as exc:
        raise_storage_error(exc)


class Transaction:
    """The open connection of one unit of work; repositories run their statements through it."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self._connection: AsyncConnection | None = None
        self._driver: InlineConnection | None = None
        self._asyncpg: Any = None
        self._isolation_pending = False
        self.in_doubt_on_failure = False
        """Each statement commits as it runs (a ``one_write`` unit of work on PostgreSQL): one
        that fails without the server's answer (a broken connection) may have been applied."""
        self.autocommit = False
        """PostgreSQL, no transaction (a read-only or ``one_write`` unit of work): :class:`Prepared`
        statements run on asyncpg's driver connection (:mod:`adapters.sql.prepared`), and
        SQLAlchemy's connection is put in ``AUTOCOMMIT`` before the first statement it runs."""

    @property
    def connection(self) -> AsyncConnection | None:
        return self._connection

    @connection.setter
    def connection(self, connection: AsyncConnection | None) -> None:
        self._connection = connection
        self._driver = None
        self._asyncpg = None
        self._isolation_pending = self.autocommit

    def upsert(self, table: Table) -> Upsert:
        """``INSERT`` with the dialect's ``ON CONFLICT`` clauses (same SQL on both databases)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        if self.connection is None:
            raise RuntimeError("repositories work only inside `async with unit_of_work:`")
        try:
            if self._isolation_pending:
                await self.connection.execution_options(isolation_level="AUTOCOMMIT")
                self._isolation_pending = False
            return await self.connection.execute(statement, parameters)
        except STORAGE_ERRORS as exc:
            raise_storage_error(exc, committing=self.in_doubt_on_failure and not refused_by_server(exc))

    async def scalar(self, statement: Prepared, parameters: dict[str, Any]) -> Any:
        """The first column of the first row the statement returns, or ``None``."""
        rows = await self.rows(statement, parameters)
        return rows[0][0] if rows else None

    async def rows(
        self, statement: Prepared, parameters: dict[str, Any], *, read_alone: bool = False
    ) -> Sequence[Sequence[Any]]:
        """The rows the statement returns, as indexable rows in the order of its columns. On
        SQLite, and on PostgreSQL in :attr:`autocommit`, the statement runs on the driver
        connection (:mod:`adapters.sql.prepared`).

        ``read_alone`` (SQLite, a statement that only reads): when no transaction is open yet,
        the statement runs in a deferred read transaction of its own, ended at once, so it takes
        no write lock; a transaction begun later is a new one."""
        connection = self.connection
        if connection is None:
            raise RuntimeError("repositories work only inside `async with unit_of_work:`")
        if self.dialect == "sqlite":
            return await self._sqlite_rows(connection, statement, parameters, read_alone=read_alone)
        if self.autocommit:
            return await self._asyncpg_rows(connection, statement, parameters)
        return (await self.execute(statement.statement, parameters)).all()

    async def _sqlite_rows(
        self,
        connection: AsyncConnection,
        statement: Prepared,
        parameters: dict[str, Any],
        *,
        read_alone: bool,
    ) -> Sequence[Sequence[Any]]:
        alone = False
        if not connection.in_transaction():
            if read_alone:
                alone = True
            else:
                await connection.begin()  # SQLAlchemy's transaction: BEGIN (IMMEDIATE) comes along
        driver = self._driver
        if driver is None:
            driver = (await connection.get_raw_connection()).driver_connection
            if not isinstance(driver, InlineConnection):
                raise TypeError("SQLite engines are made by adapters.sql.create_engine_for")
            self._driver = driver
        dialect = connection.dialect
        sql, values = statement.sql(dialect), statement.parameters(dialect, parameters)
        if alone:
            driver.pending_begin = READ_BEGIN
        try:
            _, rows, _, _ = await driver.run_statement(sql, values)
        except STORAGE_ERRORS as exc:
            raise_storage_error(exc)
        finally:
            if alone:
                await driver.rollback()
        return statement.rows(dialect, rows)

    async def _asyncpg_rows(
        self, connection: AsyncConnection, statement: Prepared, parameters: dict[str, Any]
    ) -> Sequence[Sequence[Any]]:
        driver = self._asyncpg
        if driver is None or connection.invalidated:
            try:
                driver = (await connection.get_raw_connection()).driver_connection
            except STORAGE_ERRORS as exc:
                raise_storage_error(exc)
            self._asyncpg = driver
        dialect = connection.dialect
        sql, values = statement.sql(dialect), statement.parameters(dialect, parameters)
        try:
            rows = await driver.fetch(sql, *values)
        except BaseException as exc:
            # As SQLAlchemy does: a connection that broke, or a statement interrupted half-way
            # (cancelled), is not given back to the pool.
            if not isinstance(exc, Exception) or driver.is_closed():
                await self._invalidate(connection)
            if isinstance(exc, Exception):
                raise_driver_error(exc, committing=self.in_doubt_on_failure)
            raise
        return statement.rows(dialect, rows)

    async def _invalidate(self, connection: AsyncConnection) -> None:
        self._asyncpg = None
        with contextlib.suppress(Exception):  # the statement's own error is the one to raise
            await connection.invalidate()


class Repository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
