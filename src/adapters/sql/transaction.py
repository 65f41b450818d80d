"""The connection a unit of work shares with its repositories, and error translation.

Database errors that are facts about the data (a unique or foreign key violation) become
:mod:`chatcore.errors` here, at the boundary; nothing from SQLAlchemy crosses a port for them.
So do errors that say the database cannot serve right now (a lock held past the busy timeout, a
server that refuses connections, a pool with no free connection in time): ``StorageUnavailable``,
which the HTTP layer answers with 503 and ``Retry-After``. Errors that mean a bug (bad SQL, wrong
types) are left alone, to surface as the 500 they are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, NoReturn

from sqlalchemy import Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.prepared import Prepared
from adapters.sql.sqlite_driver import InlineConnection, is_busy
from chatcore.errors import (
    ChatcoreError,
    Conflict,
    EmailTaken,
    NotFound,
    StorageUnavailable,
    UsernameTaken,
)

Upsert = postgresql.Insert | sqlite.Insert


def translate(exc: IntegrityError | sqlite3.IntegrityError) -> ChatcoreError:
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
        self.in_doubt_on_failure = False
        """Each statement commits as it runs (a ``one_write`` unit of work on PostgreSQL): one
        that fails without the server's answer (a broken connection) may have been applied."""

    @property
    def connection(self) -> AsyncConnection | None:
        return self._connection

    @connection.setter
    def connection(self, connection: AsyncConnection | None) -> None:
        self._connection = connection
        self._driver = None

    def upsert(self, table: Table) -> Upsert:
        """``INSERT`` with the dialect's ``ON CONFLICT`` clauses (same SQL on both databases)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        if self.connection is None:
            raise RuntimeError("repositories work only inside `async with unit_of_work:`")
        try:
            return await self.connection.execute(statement, parameters)
        except STORAGE_ERRORS as exc:
            raise_storage_error(exc, committing=self.in_doubt_on_failure and not refused_by_server(exc))

    async def scalar(self, statement: Prepared, parameters: dict[str, Any]) -> Any:
        """The first column of the first row the statement returns, or ``None``. On SQLite the
        statement runs on the driver connection (:mod:`adapters.sql.prepared`)."""
        if self.connection is None:
            raise RuntimeError("repositories work only inside `async with unit_of_work:`")
        if self.dialect != "sqlite":
            return (await self.execute(statement.statement, parameters)).scalar()
        if not self.connection.in_transaction():
            await self.connection.begin()  # SQLAlchemy's transaction: BEGIN (IMMEDIATE) comes along
        driver = self._driver
        if driver is None:
            driver = (await self.connection.get_raw_connection()).driver_connection
            if not isinstance(driver, InlineConnection):
                raise TypeError("SQLite engines are made by adapters.sql.create_engine_for")
            self._driver = driver
        dialect = self.connection.dialect
        sql, values = statement.sql(dialect), statement.parameters(dialect, parameters)
        try:
            _, rows, _, _ = await driver.run_statement(sql, values)
        except STORAGE_ERRORS as exc:
            raise_storage_error(exc)
        return rows[0][0] if rows else None


class Repository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
