"""The SQLite driver connection: statements run on the event loop's thread unless they would wait.

A SQLite statement of this service takes a few microseconds; handing it to aiosqlite's worker
thread and back costs far more (≈ 100 µs on a small machine, four hand-offs per statement through
SQLAlchemy's stock adapter). What a thread is really needed for is *waiting*: for another process's
turn to write, or for a lock taken outside that turn. So this connection (an ``aiosqlite.Connection``, handed
to SQLAlchemy through ``create_async_engine(async_creator=...)``) runs each statement in place when
it can start at once, and hands it to the worker thread only when it cannot:

- Writers from several processes (``CHATCORE_WORKERS`` > 1) take turns through an advisory lock
  file next to the database (``<db>-writer.lock``), held from ``BEGIN IMMEDIATE`` to
  ``COMMIT``/``ROLLBACK``. A transaction whose turn is free takes it in place; otherwise the
  worker thread waits for it (polling every 0.2 ms, where SQLite's busy handler would sleep 1, 2,
  5, 10 ... ms) while the event loop serves other requests.
- Statements run in place with SQLite's busy timeout at 0. If the transaction's first statement
  meets a lock held outside the turn (``chatcore migrate``, the ``sqlite3`` shell), it is rolled
  back and retried in the worker thread until the lock is free, under one deadline for the turn
  and the lock. Later statements of a write transaction cannot meet one in WAL mode: ``BEGIN
  IMMEDIATE`` already holds the write lock.
- A task cancelled while its statement waits in the worker thread cannot take the queued call
  back: the call is told to stop waiting, and until it has finished, everything else on the
  connection (the cancelled unit of work's rollback first) goes through the same queue behind
  it, so no turn and no transaction outlive the task.
- Read-only units of work (``BEGIN`` deferred) need no turn: in WAL mode readers never wait.
- WAL checkpoints, the one piece of disk work that can take milliseconds (copying pages and
  ``fsync``), are not left to the committing statement (``wal_autocheckpoint`` is off on these
  connections): every :data:`CHECKPOINT_EVERY` write transactions, a ``PASSIVE`` checkpoint runs on
  its own connection in the loop's default executor. A checkpoint never blocks readers or writers.

``BEGIN`` is sent together with the transaction's first statement (see :mod:`adapters.sql.engine`).
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
import structlog

_Outcome = tuple[Any, list[Any], int, int | None]

log = structlog.get_logger("chatcore.sqlite")


WRITE_BEGIN = "BEGIN IMMEDIATE"
READ_BEGIN = "BEGIN"
TURN_POLL = 0.0002
"""Seconds between two tries for the writer's turn (in the worker thread, not the event loop)."""
CHECKPOINT_EVERY = 200
"""Write transactions of one connection between two background checkpoints (a few pages each)."""
CHECKPOINT_WAIT = 2.0
"""Seconds a background checkpoint waits for SQLite's locks (it never delays a request)."""


class WriterTurn:
    """The advisory lock that lets one process at a time write (``flock`` on a lock file).

    Taken in either thread, given back or closed from either thread: a lock guards the
    descriptor, and a closed turn refuses to be taken (a connection that SQLAlchemy terminates,
    or a task cancelled while waiting for its turn, must never leave it held).
    """

    def __init__(self, path: str | None) -> None:
        self._fd = None if path is None else os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._guard = threading.Lock()
        self._closed = False
        self.held = False

    def try_take(self) -> bool:
        """Takes the turn if it is free now; never waits."""
        with self._guard:
            if self._fd is None:
                if self._closed:
                    raise sqlite3.OperationalError("the connection is closed")
                return True
            if self.held:
                return True
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            self.held = True
            return True

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


def _begin(conn: sqlite3.Connection, turn: WriterTurn, begin: str) -> None:
    try:
        conn.execute(begin)
    except BaseException:
        turn.give()
        raise


def _run_in_place(
    conn: sqlite3.Connection, turn: WriterTurn, begin: str | None, sql: str, parameters: Any, many: bool
) -> _Outcome | None:
    """Runs the statement (after ``begin``) if nothing has to wait; ``None`` if something would."""
    if begin is None:
        return _statement(conn, sql, parameters, many)
    if begin == WRITE_BEGIN and not turn.try_take():
        return None
    try:
        _begin(conn, turn, begin)
        return _statement(conn, sql, parameters, many)
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise
        if conn.in_transaction:  # nothing ran yet: the worker thread starts it again, waiting
            conn.rollback()
        return None


def _may_retry(deadline: float, cancelled: threading.Event) -> bool:
    """Between two tries: ``False`` at the deadline or once the waiting task is gone, else a
    short sleep and ``True``."""
    if cancelled.is_set() or time.monotonic() > deadline:
        return False
    time.sleep(TURN_POLL)
    return True


def _run_waiting(
    cancelled: threading.Event,
    conn: sqlite3.Connection,
    turn: WriterTurn,
    timeout: float,
    begin: str | None,
    sql: str,
    parameters: Any,
    many: bool,
) -> _Outcome:
    """Runs in the connection's worker thread: waits for the turn, then for SQLite's lock, under
    one deadline. The connection's busy timeout stays 0: this loop is its busy handler, so a
    cancelled wait ends within a poll instead of sleeping on inside SQLite."""
    if begin is None:
        return _statement(conn, sql, parameters, many)
    deadline = time.monotonic() + timeout
    if begin == WRITE_BEGIN:
        while not turn.try_take():
            if not _may_retry(deadline, cancelled):
                raise _locked()
    while True:
        try:
            conn.execute(begin)
        except sqlite3.OperationalError as exc:
            if is_busy(exc) and _may_retry(deadline, cancelled):
                continue
            turn.give()
            raise
        except BaseException:
            turn.give()
            raise
        try:
            return _statement(conn, sql, parameters, many)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise  # the transaction stays open, as in place: SQLAlchemy rolls it back
            conn.rollback()  # nothing ran yet: start again, or give up
            if not _may_retry(deadline, cancelled):
                turn.give()
                raise


def _end(conn: sqlite3.Connection, turn: WriterTurn, commit: bool) -> None:
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
    """A DB-API-shaped async cursor over :class:`InlineConnection` (buffers all rows)."""

    arraysize = 1

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        return await self._submit(sql, parameters or (), many=False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        return await self._submit(sql, list(parameters), many=True)

    async def _submit(self, sql: str, parameters: Any, *, many: bool) -> InlineCursor:
        outcome = await self._connection.run(sql, parameters, many)
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


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection, running statements in place when they need not wait (see above)."""

    def __init__(
        self,
        connector: Callable[[], sqlite3.Connection],
        *,
        turn: WriterTurn,
        busy_timeout: float,
        checkpoint_path: str | None,
    ) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._turn = turn
        self._busy_timeout = busy_timeout
        self._checkpoint_path = checkpoint_path
        self._writes_since_checkpoint = 0
        self._checkpointing = False
        self._last_hand_off = threading.Event()
        self._last_hand_off.set()
        # Like SQLAlchemy's own aiosqlite adapter: a forgotten connection must not keep
        # the interpreter alive at exit.
        self._thread.daemon = True
        self.pending_begin: str | None = None
        """The statement that opens the transaction, sent along with the next statement."""

    def cursor(self) -> InlineCursor:  # type: ignore[override]
        return InlineCursor(self)

    async def run(self, sql: str, parameters: Any, many: bool) -> _Outcome:
        if not self._running:
            raise ValueError("Connection closed")
        begin, self.pending_begin = self.pending_begin, None
        if begin == WRITE_BEGIN:
            self._writes_since_checkpoint += 1
        outcome = None
        if self._last_hand_off.is_set():
            outcome = _run_in_place(self._conn, self._turn, begin, sql, parameters, many)
        if outcome is None:
            outcome = await self._hand_off(
                _run_waiting, self._conn, self._turn, self._busy_timeout, begin, sql, parameters, many
            )
        return outcome

    async def _hand_off(self, function: Callable[..., _Outcome], *args: Any) -> _Outcome:
        """Runs ``function(cancelled, *args)`` in the worker thread.

        If the awaiting task is cancelled, the worker still runs the function (aiosqlite cannot
        take a queued call back): ``cancelled`` tells it to stop waiting, and until it is done
        everything else on this connection goes through the same queue, behind it. So the
        rollback of the cancelled unit of work runs after it, and gives back the turn and the
        transaction it may have taken.
        """
        done = threading.Event()
        cancelled = threading.Event()

        def call() -> _Outcome:
            try:
                return function(cancelled, *args)
            finally:
                done.set()

        self._last_hand_off = done
        try:
            # aiosqlite's own cursors use the same hand-off; it is not annotated upstream.
            outcome: _Outcome = await self._execute(call)  # type: ignore[no-untyped-call]
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return outcome

    async def commit(self) -> None:
        if self.pending_begin is not None:  # nothing ran since BEGIN: there is nothing to commit
            self.pending_begin = None
            return
        await self._end(commit=True)
        if self._writes_since_checkpoint >= CHECKPOINT_EVERY:
            self._checkpoint_soon()

    async def rollback(self) -> None:
        if self.pending_begin is not None:
            self.pending_begin = None
            return
        if self._connection is None:
            self._turn.give()
            return
        await self._end(commit=False)

    async def _end(self, *, commit: bool) -> None:
        if self._last_hand_off.is_set():
            _end(self._conn, self._turn, commit)
        else:  # behind a cancelled hand-off that has not finished yet
            await self._execute(_end, self._conn, self._turn, commit)  # type: ignore[no-untyped-call]

    def _checkpoint_soon(self) -> None:
        if self._checkpoint_path is None or self._checkpointing:
            return
        self._writes_since_checkpoint = 0
        try:
            done = asyncio.get_running_loop().run_in_executor(None, _checkpoint, self._checkpoint_path)
        except RuntimeError:  # the loop is shutting down: the last connection's close checkpoints
            return
        self._checkpointing = True
        done.add_done_callback(self._checkpointed)

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        # A checkpoint that could not run is tried again after the next writes; it is logged,
        # because with automatic checkpoints off a lasting failure would let the WAL grow.
        self._checkpointing = False
        failure = None if done.cancelled() else done.exception()
        if failure is not None:
            log.warning("sqlite_checkpoint_failed", error_type=type(failure).__name__)
        if self._writes_since_checkpoint >= CHECKPOINT_EVERY:  # writes went on meanwhile
            self._checkpoint_soon()

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


def connector_for(
    path: str, *, busy_timeout: float, pragmas: Sequence[str]
) -> Callable[[], sqlite3.Connection]:
    """A function that opens ``path`` in autocommit mode (SQLAlchemy emits BEGIN itself), usable
    from the event loop's thread as well as the worker thread. It runs in the worker thread and
    may wait there for the pragmas; the connection it returns has SQLite's busy timeout at 0."""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        for pragma in (*pragmas, "PRAGMA busy_timeout=0"):
            conn.execute(pragma).close()
        return conn

    return connect
