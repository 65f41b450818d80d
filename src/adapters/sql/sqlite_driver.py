"""The SQLite driver connection: statements run on the event loop's thread, and never block it.

A SQLite statement of this service takes a few microseconds; handing it to aiosqlite's worker
thread and back costs far more (≈ 100 µs on a small machine, four hand-offs per statement through
SQLAlchemy's stock adapter). So this connection (an ``aiosqlite.Connection``, handed to SQLAlchemy
through ``create_async_engine(async_creator=...)``, whose worker thread still opens and closes the
database) runs every statement in place, with SQLite's busy timeout at 0: a statement either
starts at once or fails at once with ``SQLITE_BUSY``. Waiting happens between tries, in
``asyncio.sleep``, so the event loop serves other requests meanwhile:

- Writers from several processes (``CHATCORE_WORKERS`` > 1) take turns through an advisory lock
  file next to the database (``<db>-writer.lock``, ``flock`` where the OS has it), held from
  ``BEGIN IMMEDIATE`` to ``COMMIT``/``ROLLBACK``. A transaction whose turn is taken tries again
  after :data:`TURN_POLL` seconds, waiting twice as long each time up to :data:`TURN_POLL_MAX`
  (SQLite's own busy handler would sleep 1, 2, 5, 10 ... ms).
- If the transaction's first statement meets a lock held outside the turn (``chatcore migrate``,
  the ``sqlite3`` shell), it is rolled back and tried again the same way, under one deadline for
  the turn and the lock. Later statements of a write transaction cannot meet one in WAL mode:
  ``BEGIN IMMEDIATE`` already holds the write lock.
- A task cancelled while it waits holds nothing: between two tries no transaction is open, and
  the turn is given back before the cancellation goes on.
- Read-only units of work (``BEGIN`` deferred) need no turn: in WAL mode readers never wait.
- WAL checkpoints, the one piece of disk work that can take milliseconds (copying pages and
  ``fsync``), are not left to the committing statement (``wal_autocheckpoint`` is off on these
  connections): every :data:`CHECKPOINT_EVERY` write transactions, a ``PASSIVE`` checkpoint runs on
  its own connection in the loop's default executor. A checkpoint never blocks readers or writers.

Only public APIs are used: aiosqlite's constructor, ``close``/``stop`` and ``in_transaction``, and the
standard library's :mod:`sqlite3` on the connection our own connector opened.
``BEGIN`` is sent together with the transaction's first statement (see :mod:`adapters.sql.engine`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any

import aiosqlite
import structlog

from adapters.sql.writer_turn import WriterTurn

_Outcome = tuple[Any, list[Any], int, int | None]

log = structlog.get_logger("chatcore.sqlite")

WRITE_BEGIN = "BEGIN IMMEDIATE"
READ_BEGIN = "BEGIN"
TURN_POLL = 0.0002
"""Seconds before the second try for the writer's turn or SQLite's lock (the loop serves
meanwhile); each further wait doubles, up to :data:`TURN_POLL_MAX`, so many waiters do not spin."""
TURN_POLL_MAX = 0.002
CHECKPOINT_EVERY = 200
"""Write transactions of one connection between two background checkpoints (a few pages each)."""
CHECKPOINT_WAIT = 2.0
"""Seconds a background checkpoint waits for SQLite's locks (it never delays a request)."""


def _locked() -> sqlite3.OperationalError:
    """The error SQLite itself gives when its busy timeout runs out (with its code, so callers
    can tell it from a bug)."""
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = sqlite3.SQLITE_BUSY
    error.sqlite_errorname = "SQLITE_BUSY"
    return error


def is_busy(error: BaseException) -> bool:
    """SQLite said its lock was taken (BUSY or LOCKED): nothing ran, trying again is safe."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _statement(conn: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> _Outcome:
    """The whole life of one cursor."""
    cursor = conn.executemany(sql, parameters) if many else conn.execute(sql, parameters)
    try:
        description = cursor.description
        rows = cursor.fetchall() if description is not None else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _try_begin(
    conn: sqlite3.Connection, turn: WriterTurn, begin: str, sql: str, parameters: Any, many: bool
) -> _Outcome | None:
    """``begin`` and the transaction's first statement, if they can start now; ``None`` (with
    nothing open and the turn given back) if a lock is taken."""
    if begin == WRITE_BEGIN and not turn.try_take():
        return None
    try:
        conn.execute(begin).close()
    except BaseException as exc:
        turn.give()
        if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
            return None
        raise
    try:
        return _statement(conn, sql, parameters, many)
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise  # the transaction stays open: SQLAlchemy rolls it back
        _end(conn, turn, commit=False)  # nothing ran yet: the caller starts again
        return None


def _end(conn: sqlite3.Connection, turn: WriterTurn, *, commit: bool) -> None:
    """Commit or roll back, then hand the writer's turn to the next process (only once the
    transaction is over: a failed COMMIT keeps it until the rollback that follows)."""
    try:
        if commit:
            conn.commit()
        else:
            conn.rollback()
    finally:
        if not conn.in_transaction:
            turn.give()


def _checkpoint(path: str) -> None:
    # In its own thread: it may wait a little for a connection that is closing (and checkpointing).
    conn = sqlite3.connect(path, timeout=CHECKPOINT_WAIT, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
    finally:
        conn.close()


class InlineCursor:
    """A DB-API-shaped async cursor over :class:`InlineConnection` (buffers all rows).

    Like aiosqlite's ``cursor()`` result, it can be awaited and used with ``async with``."""

    arraysize = 1

    def __init__(self, connection: InlineConnection) -> None:
        self.connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.rows: list[Any] = []

    def __await__(self) -> Generator[Any, None, InlineCursor]:
        return self.__aenter__().__await__()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        return await self.submit(sql, parameters or (), many=False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        return await self.submit(sql, list(parameters), many=True)

    async def submit(self, sql: str, parameters: Any, *, many: bool) -> InlineCursor:
        outcome = await self.connection.run_statement(sql, parameters, many=many)
        self.description, self.rows, self.rowcount, self.lastrowid = outcome
        return self

    async def fetchall(self) -> list[Any]:
        rows, self.rows = self.rows, []
        return rows

    async def fetchone(self) -> Any:
        return self.rows.pop(0) if self.rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        rows, self.rows = self.rows[:count], self.rows[count:]
        return rows

    async def close(self) -> None:
        self.rows = []


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection, running statements in place (see above).

    aiosqlite's worker thread opens the database (the pragmas may wait there) and closes it; it
    runs no statement."""

    def __init__(
        self,
        connector: Callable[[], sqlite3.Connection],
        *,
        turn: WriterTurn,
        busy_timeout: float,
        checkpoint_path: str | None,
    ) -> None:
        opened: list[sqlite3.Connection] = []

        def connect() -> sqlite3.Connection:
            # The sqlite3 connection is ours: we opened it, so we keep it instead of asking aiosqlite.
            opened.append(connector())
            return opened[-1]

        super().__init__(connect, iter_chunk_size=64)
        self.opened = opened
        self.turn = turn
        self.busy_timeout = busy_timeout
        """Seconds a transaction waits for the writer's turn and SQLite's lock together."""
        self.checkpoint_path = checkpoint_path
        self.writes_since_checkpoint = 0
        self.checkpointing = False
        self.closed = False
        self.pending_begin: str | None = None
        """The statement that opens the transaction, sent along with the next statement."""

    @property
    def database(self) -> sqlite3.Connection:
        """The open sqlite3 connection (``ValueError``, as aiosqlite says it, once closed)."""
        if self.closed or not self.opened:
            raise ValueError("Connection closed")
        return self.opened[-1]

    def cursor(self) -> InlineCursor:  # type: ignore[override]
        return InlineCursor(self)

    async def run_statement(self, sql: str, parameters: Any, *, many: bool = False) -> _Outcome:
        """Runs one statement (after the pending ``BEGIN``, if any) and returns its whole result."""
        conn = self.database
        begin, self.pending_begin = self.pending_begin, None
        if begin is None:
            return _statement(conn, sql, parameters, many)
        if begin == WRITE_BEGIN:
            self.writes_since_checkpoint += 1
        deadline = asyncio.get_running_loop().time() + self.busy_timeout
        wait = TURN_POLL
        while True:
            outcome = _try_begin(conn, self.turn, begin, sql, parameters, many)
            if outcome is not None:
                return outcome
            if asyncio.get_running_loop().time() > deadline:
                raise _locked()
            # Nothing is held here (no transaction, no turn): a cancellation can stop us anywhere.
            await asyncio.sleep(wait)
            wait = min(wait * 2, TURN_POLL_MAX)
            conn = self.database

    async def commit(self) -> None:
        if self.pending_begin is not None:  # nothing ran since BEGIN: there is nothing to commit
            self.pending_begin = None
            return
        _end(self.database, self.turn, commit=True)
        if self.writes_since_checkpoint >= CHECKPOINT_EVERY:
            self.checkpoint_soon()

    async def rollback(self) -> None:
        if self.pending_begin is not None:
            self.pending_begin = None
            return
        if self.closed:
            self.turn.give()
            return
        _end(self.database, self.turn, commit=False)

    def checkpoint_soon(self) -> None:
        """Starts a background ``PASSIVE`` checkpoint unless one is running."""
        if self.checkpoint_path is None or self.checkpointing:
            return
        self.writes_since_checkpoint = 0
        try:
            done = asyncio.get_running_loop().run_in_executor(None, _checkpoint, self.checkpoint_path)
        except RuntimeError:  # the loop is shutting down: the last connection's close checkpoints
            return
        self.checkpointing = True
        done.add_done_callback(self._checkpointed)

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        # A checkpoint that could not run is tried again after the next writes; it is logged,
        # because with automatic checkpoints off a lasting failure would let the WAL grow.
        self.checkpointing = False
        failure = None if done.cancelled() else done.exception()
        if failure is not None:
            log.warning("sqlite_checkpoint_failed", error_type=type(failure).__name__)
        if self.writes_since_checkpoint >= CHECKPOINT_EVERY:  # writes went on meanwhile
            self.checkpoint_soon()

    async def close(self) -> None:
        self.closed = True
        try:
            await super().close()
        finally:
            self.turn.close()

    def stop(self) -> asyncio.Future[Any] | None:
        """SQLAlchemy's hard termination of a connection: the writer's turn goes with it."""
        self.closed = True
        try:
            return super().stop()
        finally:
            self.turn.close()


def connector_for(
    path: str, *, busy_timeout: float, pragmas: Sequence[str]
) -> Callable[[], sqlite3.Connection]:
    """A function that opens ``path`` in autocommit mode (SQLAlchemy emits BEGIN itself), usable
    from any thread. It runs in aiosqlite's worker thread and may wait there for the pragmas; the
    connection it returns has SQLite's busy timeout at 0."""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        for pragma in (*pragmas, "PRAGMA busy_timeout=0"):
            conn.execute(pragma).close()
        return conn

    return connect
