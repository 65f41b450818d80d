"""Engines for the two supported databases, configured for correctness under concurrency.

SQLite (``sqlite+aiosqlite://``): WAL (readers never block the writer), ``synchronous=NORMAL``
(durable at every checkpoint, never corrupt; the usual setting with WAL), foreign keys on, and
every write transaction opened with ``BEGIN IMMEDIATE``: it takes the write lock up front, so a
transaction never fails half-way because a read lock cannot be upgraded. Writers of several
processes take turns, and statements wait only in the driver's worker thread, never on the event
loop (:mod:`adapters.sql.sqlite_driver`, which also runs the WAL checkpoints in the background).
SQLite has one writer at a time anyway, so each process uses one connection and its transactions
queue on the pool.

PostgreSQL (``postgresql+asyncpg://``): a bounded pool and a connect timeout.
"""

from __future__ import annotations

import asyncio
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

POSTGRES_POOL_SIZE = 10
POSTGRES_MAX_OVERFLOW = 10
CONNECT_TIMEOUT = 10.0


def create_engine_for(url: str | URL, *, sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT) -> AsyncEngine:
    """An async engine for a ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URL. Connects lazily.
    ``sqlite_busy_timeout``: seconds a SQLite transaction waits for another writer."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        return _sqlite_engine(parsed, busy_timeout=sqlite_busy_timeout)
    if parsed.drivername == "postgresql+asyncpg":
        return create_async_engine(
            parsed,
            pool_size=POSTGRES_POOL_SIZE,
            max_overflow=POSTGRES_MAX_OVERFLOW,
            pool_timeout=30,
            pool_recycle=1800,
            connect_args={"timeout": CONNECT_TIMEOUT},
        )
    raise ValueError(f"unsupported database driver {parsed.drivername!r}")


def _sqlite_engine(url: URL, *, busy_timeout: float) -> AsyncEngine:
    path = url.database or ":memory:"
    in_memory = path == ":memory:"
    # Checkpoints run in the background (adapters.sql.sqlite_driver), not inside a COMMIT.
    connect = connector_for(
        path, busy_timeout=busy_timeout, pragmas=(*SQLITE_PRAGMAS, "PRAGMA wal_autocheckpoint=0")
    )

    async def creator() -> InlineConnection:
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


async def ping(engine: AsyncEngine, *, within: float = 2.0) -> bool:
    """``True`` if the database answers ``SELECT 1`` within ``within`` seconds."""
    try:
        async with asyncio.timeout(within), engine.connect() as conn:
            await conn.execution_options(**{READ_ONLY: True})  # no writer's turn to answer a ping
            await conn.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready": the caller only needs a yes or no
        return False
    return True
