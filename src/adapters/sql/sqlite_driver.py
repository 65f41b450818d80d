"""An aiosqlite connection that costs one thread hand-off per statement.

aiosqlite runs each SQLite connection in a worker thread; every awaited call is a hand-off to
that thread and back, which on a small machine costs far more (~0.1 ms) than a typical statement.
SQLAlchemy's aiosqlite adapter makes four of them per statement (create the cursor, execute,
fetch, close). This connection's cursor does all four in one; the ``BEGIN IMMEDIATE`` that
:mod:`adapters.sql.engine` asks for when SQLAlchemy begins a transaction is sent together with
the transaction's first statement; and the pool's reset ``ROLLBACK`` is skipped when no
transaction is open. A transaction of four statements costs five hand-offs instead of about forty.

It is handed to SQLAlchemy through ``create_async_engine(async_creator=...)``, the documented way
to supply the driver connection; everything else (thread, queue, close, stop) is aiosqlite's own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite

_Outcome = tuple[Any, list[Any], int, int | None]


def _run(conn: sqlite3.Connection, begin: str | None, sql: str, parameters: Any, many: bool) -> _Outcome:
    """Runs in the connection's worker thread: the whole life of one cursor."""
    if begin is not None:
        conn.execute(begin)
    cursor = conn.executemany(sql, parameters) if many else conn.execute(sql, parameters)
    try:
        description = cursor.description
        rows = cursor.fetchall() if description is not None else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor:
    """A DB-API-shaped async cursor over :class:`OneHopConnection` (buffers all rows)."""

    arraysize = 1

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Any = ()) -> OneHopCursor:
        return await self._submit(sql, parameters or (), many=False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneHopCursor:
        return await self._submit(sql, parameters, many=True)

    async def _submit(self, sql: str, parameters: Any, *, many: bool) -> OneHopCursor:
        connection = self._connection
        begin, connection.pending_begin = connection.pending_begin, None
        outcome = await connection.run_in_thread(_run, begin, sql, parameters, many)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        self._rows = []


class OneHopConnection(aiosqlite.Connection):
    """aiosqlite's connection with a cheaper cursor (see the module docstring)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        # Like SQLAlchemy's own aiosqlite adapter: a forgotten connection must not keep
        # the interpreter alive at exit.
        self._thread.daemon = True
        self.pending_begin: str | None = None
        """The statement that opens the transaction, sent along with the next statement."""

    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)

    async def run_in_thread(
        self, fn: Callable[..., _Outcome], begin: str | None, sql: str, parameters: Any, many: bool
    ) -> _Outcome:
        # aiosqlite's own cursors use the same hand-off; it is not annotated upstream.
        result: _Outcome = await self._execute(  # type: ignore[no-untyped-call]
            fn, self._conn, begin, sql, parameters, many
        )
        return result

    async def commit(self) -> None:
        if self.pending_begin is not None:  # nothing ran since BEGIN: there is nothing to commit
            self.pending_begin = None
            return
        await super().commit()

    async def rollback(self) -> None:
        if self.pending_begin is not None:
            self.pending_begin = None
            return
        if self._connection is not None and not self._connection.in_transaction:
            return
        await super().rollback()


def connector_for(
    path: str, *, busy_timeout: float, pragmas: Sequence[str]
) -> Callable[[], sqlite3.Connection]:
    """A function that opens ``path`` in autocommit mode (SQLAlchemy emits BEGIN itself)."""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        for pragma in pragmas:
            conn.execute(pragma).close()
        return conn

    return connect
