"""Engines for the two supported databases, configured for correctness under concurrency.

SQLite (``sqlite+aiosqlite://``): WAL (readers never block the writer), ``synchronous=NORMAL``
(durable at every checkpoint, never corrupt; the usual setting with WAL), foreign keys on, and
every write transaction opened with ``BEGIN IMMEDIATE``: it takes the write lock up front, so a
transaction never fails half-way because a read lock cannot be upgraded. Writers of several
processes take turns, and statements wait only in the driver's worker thread, never on the event
loop (:mod:`adapters.sql.sqlite_driver`, which also runs the WAL checkpoints in the background).
SQLite has one writer at a time anyway, so each process uses one connection and its transactions
queue on the pool.

The database file is readable and writable by its owner only (0600): it holds password hashes
and every learner's messages. SQLite gives the ``-wal`` and ``-shm`` files it creates the mode of
the database file, so creating that file 0600 before SQLite opens it is enough; files an older
version left readable to others are tightened when a connection opens.

PostgreSQL (``postgresql+asyncpg://``): a bounded pool of connections kept open, and a connect timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sql.sqlite_driver import READ_BEGIN, WRITE_BEGIN, InlineConnection, connector_for
from adapters.sql.writer_turn import WriterTurn

SQLITE_BUSY_TIMEOUT = 10.0
"""Seconds a transaction waits for another writer before giving up ("database is locked")."""

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)

READ_ONLY = "chatcore_read_only"
"""Execution option of a connection that will only read: on SQLite it begins a deferred
transaction, which in WAL mode needs no write lock."""

SQLITE_FILE_SUFFIXES = ("", "-wal", "-shm", "-writer.lock")
"""The database file and the files SQLite and :mod:`adapters.sql.sqlite_driver` keep beside it."""

POSTGRES_POOL_SIZE = 20
"""Connections per process, kept open once made. All in the pool, none as "overflow": an overflow
connection is closed as soon as it is returned while the pool is full, so a busy worker would
open and close a connection (a TCP and authentication handshake) every few requests."""
POSTGRES_MAX_OVERFLOW = 0
CONNECT_TIMEOUT = 10.0


def create_engine_for(
    url: str | URL, *, sqlite_foreign_keys: bool = True, sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT
) -> AsyncEngine:
    """An async engine for a ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URL. Connects lazily.

    ``sqlite_foreign_keys=False`` is for migrations only: SQLite rebuilds a table by copying it,
    and with foreign keys on, dropping the old table would cascade to every row referring to it.
    ``sqlite_busy_timeout``: seconds a SQLite transaction waits for another writer.
    """
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        return _sqlite_engine(parsed, foreign_keys=sqlite_foreign_keys, busy_timeout=sqlite_busy_timeout)
    if parsed.drivername == "postgresql+asyncpg":
        return create_async_engine(
            parsed,
            pool_size=POSTGRES_POOL_SIZE,
            max_overflow=POSTGRES_MAX_OVERFLOW,
            pool_timeout=30,
            pool_recycle=1800,
            # The connection used last is handed out first: an idle server keeps using one warm
            # connection (and server process) instead of going round all of them.
            pool_use_lifo=True,
            connect_args={"timeout": CONNECT_TIMEOUT},
        )
    raise ValueError(f"unsupported database driver {parsed.drivername!r}")


def _sqlite_engine(url: URL, *, foreign_keys: bool, busy_timeout: float) -> AsyncEngine:
    path = url.database or ":memory:"
    in_memory = path == ":memory:"
    pragmas = SQLITE_PRAGMAS if foreign_keys else tuple(p for p in SQLITE_PRAGMAS if "foreign_keys" not in p)
    # Checkpoints run in the background (adapters.sql.sqlite_driver), not inside a COMMIT.
    connect = connector_for(
        path, busy_timeout=busy_timeout, pragmas=(*pragmas, "PRAGMA wal_autocheckpoint=0")
    )

    async def creator() -> InlineConnection:
        if not in_memory:
            restrict_to_owner(path)
        connection = InlineConnection(
            connect,
            turn=WriterTurn(None if in_memory else f"{path}-writer.lock"),
            busy_timeout=busy_timeout,
            checkpoint_path=None if in_memory else path,
        )
        await connection
        return connection

    options: dict[str, Any] = {"async_creator": creator}
    if not in_memory:  # an in-memory database gets SQLAlchemy's single static connection
        options.update(pool_size=1, max_overflow=0, pool_timeout=60)
    engine = create_async_engine(url, **options)

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        # The driver was opened in autocommit mode, so the transaction starts here; the driver
        # sends this with the transaction's first statement.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.connection.driver_connection.pending_begin = READ_BEGIN if read_only else WRITE_BEGIN

    return engine


def restrict_to_owner(path: str) -> None:
    """Create the SQLite database file at ``path`` with mode 0600 if it is missing, and take away
    any access of group and others from it and the files beside it (:data:`SQLITE_FILE_SUFFIXES`)."""
    # If it exists, fine; if it cannot be made, SQLite will say why in its own words.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in SQLITE_FILE_SUFFIXES:
        try:
            mode = stat.S_IMODE(os.stat(path + suffix).st_mode)
            if mode & 0o077:
                os.chmod(path + suffix, mode & 0o700)
        except OSError:
            continue  # not there (yet), or not ours to change


async def ping(engine: AsyncEngine, *, within: float = 2.0) -> bool:
    """``True`` if the database answers ``SELECT 1`` within ``within`` seconds."""
    try:
        async with asyncio.timeout(within), engine.connect() as conn:
            await conn.execution_options(**{READ_ONLY: True})  # no writer's turn to answer a ping
            await conn.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready": the caller only needs a yes or no
        return False
    return True
