"""An aiosqlite connection that costs one thread hand-off per statement.

aiosqlite runs each SQLite connection in a worker thread; every awaited call is a hand-off to
that thread and back, which on a small machine costs far more (~0.1 ms) than a typical statement.
SQLAlchemy's aiosqlite adapter makes four of them per statement (create the cursor, execute,
fetch, close). This connection's cursor does all four in one; the ``BEGIN IMMEDIATE`` that
:mod:`adapters.sql.engine` asks for when SQLAlchemy begins a transaction is sent together with
the transaction's first statement; and the pool's reset ``ROLLBACK`` is skipped when no
transaction is open. A transaction of four statements costs five hand-offs instead of about forty.

Several processes writing one SQLite file (``CHATCORE_WORKERS`` > 1) take turns through an
advisory lock file next to the database (``<db>-writer.lock``), held from ``BEGIN IMMEDIATE`` to
``COMMIT``/``ROLLBACK``. SQLite's own busy handler would sleep 1, 2, 5, 10 ... ms between tries
while the lock may have been free for most of that time; the lock file hands the turn over as
soon as the writer finishes. Read-only units of work (``BEGIN`` deferred) need no turn at all:
in WAL mode readers never wait for the writer.

It is handed to SQLAlchemy through ``create_async_engine(async_creator=...)``, the documented way
to supply the driver connection; everything else (thread, queue, close, stop) is aiosqlite's own.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite

_Outcome = tuple[Any, list[Any], int, int | None]


WRITE_BEGIN = "BEGIN IMMEDIATE"
READ_BEGIN = "BEGIN"
TURN_POLL = 0.0002
"""Seconds between two tries for the writer's turn (in the worker thread, not the event loop)."""


class WriterTurn:
    """The advisory lock that lets one process at a time write (``flock`` on a lock file).

    Taken in the connection's worker thread, given back or closed from either thread: a lock
    guards the descriptor, and a closed turn refuses to be taken (a connection that SQLAlchemy
    terminates, or a task cancelled while waiting for its turn, must never leave it held).
    """

    def __init__(self, path: str | None, *, timeout: float) -> None:
        self._fd = None if path is None else os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._timeout = timeout
        self._guard = threading.Lock()
        self._closed = False
        self.held = False

    def take(self) -> None:
        deadline = time.monotonic() + self._timeout
        while True:
            with self._guard:
                if self._fd is None:
                    if self._closed:
                        raise sqlite3.OperationalError("the connection is closed")
                    return
                if self.held:
                    return
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    pass
                else:
                    self.held = True
                    return
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("database is locked")
            time.sleep(TURN_POLL)

    def give(self) -> None:
        with self._guard:
            if self._fd is not None and self.held:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            self.held = False

    def close(self) -> None:
        with self._guard:
            if self._fd is not None:
                os.close(self._fd)  # closing the only descriptor also drops the lock
                self._fd = None
                self._closed = True
            self.held = False


def _run(
    conn: sqlite3.Connection, turn: WriterTurn, begin: str | None, sql: str, parameters: Any, many: bool
) -> _Outcome:
    """Runs in the connection's worker thread: the whole life of one cursor."""
    if begin is not None:
        if begin == WRITE_BEGIN:
            turn.take()
        try:
            conn.execute(begin)
        except BaseException:
            turn.give()
            raise
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
        outcome = await connection.run_in_thread(begin, sql, parameters, many)
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

    def __init__(self, connector: Callable[[], sqlite3.Connection], *, turn: WriterTurn) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._turn = turn
        # Like SQLAlchemy's own aiosqlite adapter: a forgotten connection must not keep
        # the interpreter alive at exit.
        self._thread.daemon = True
        self.pending_begin: str | None = None
        """The statement that opens the transaction, sent along with the next statement."""

    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)

    async def run_in_thread(self, begin: str | None, sql: str, parameters: Any, many: bool) -> _Outcome:
        # aiosqlite's own cursors use the same hand-off; it is not annotated upstream.
        result: _Outcome = await self._execute(  # type: ignore[no-untyped-call]
            _run, self._conn, self._turn, begin, sql, parameters, many
        )
        return result

    async def commit(self) -> None:
        if self.pending_begin is not None:  # nothing ran since BEGIN: there is nothing to commit
            self.pending_begin = None
            return
        await self._execute(_end, self._conn, self._turn, True)  # type: ignore[no-untyped-call]

    async def rollback(self) -> None:
        if self.pending_begin is not None:
            self.pending_begin = None
            return
        if self._connection is not None and not self._connection.in_transaction:
            self._turn.give()
            return
        await self._execute(_end, self._conn, self._turn, False)  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self._turn.close()

    def stop(self) -> asyncio.Future[Any] | None:
        """SQLAlchemy's hard termination of a connection: the writer's turn goes with it."""
        try:
            return super().stop()
        finally:
            self._turn.close()


def _end(conn: sqlite3.Connection, turn: WriterTurn, commit: bool) -> None:
    """Commit or roll back, then hand the writer's turn to the next process."""
    try:
        if commit:
            conn.commit()
        else:
            conn.rollback()
    finally:
        turn.give()


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
