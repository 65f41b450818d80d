"""The SQLite driver runs statements on the event loop's thread, and waits without blocking it.

What a user would notice if this broke: one slow or locked request freezing every other request
of the worker process (the event loop), or a WAL file growing without end.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, sqlite_driver, upgrade_to_head
from adapters.sql.sqlite_driver import InlineConnection
from chatcore.errors import StorageUnavailable
from contract.helpers import add_user

fcntl = pytest.importorskip("fcntl")  # the writer's turn between processes is a POSIX lock

DAY = date(2026, 11, 26)
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Database:
    path: Path
    engine: AsyncEngine
    uow: SqlUnitOfWorkFactory
    user_id: int


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "driver.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_to_head(url)
    engine = create_engine_for(url)
    uow = SqlUnitOfWorkFactory(engine)
    try:
        yield Database(path, engine, uow, (await add_user(uow)).id)
    finally:
        await engine.dispose()


async def take_slot(db: Database) -> int | None:
    async with db.uow() as tx:
        used = await tx.quota.consume(db.user_id, DAY, limit=1000)
        await tx.commit()
    return used


async def used(db: Database) -> int:
    async with db.uow(read_only=True) as tx:
        return await tx.quota.used(db.user_id, DAY)


class Ticker:
    """Counts event-loop turns while it runs: a loop blocked by a waiting statement stops it."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.005)
            self.ticks += 1

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def driver_of(db: Database) -> InlineConnection:
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
    assert isinstance(driver, InlineConnection)
    return driver


async def test_statements_run_on_the_event_loop_thread(db: Database) -> None:
    driver = await driver_of(db)
    threads: list[int] = []
    # sqlite3 calls this in whichever thread runs the statement.
    driver.database.set_trace_callback(lambda _sql: threads.append(threading.get_ident()))
    try:
        assert await take_slot(db) == 1
        assert await used(db) == 1
    finally:
        driver.database.set_trace_callback(None)
    assert len(threads) >= 4  # BEGIN IMMEDIATE, the upsert, COMMIT, the read
    assert set(threads) == {threading.get_ident()}


async def test_a_writer_waits_for_another_process_turn_without_blocking_the_loop(db: Database) -> None:
    # Another process's writer holds the turn (flock is per open file, so this descriptor
    # competes with the engine's exactly like another process would).
    other = os.open(f"{db.path}-writer.lock", os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        async with Ticker() as ticker:
            write = asyncio.create_task(take_slot(db))
            await asyncio.sleep(0.3)
            assert not write.done()
            assert ticker.ticks >= 20  # the loop kept serving while the write waited
            fcntl.flock(other, fcntl.LOCK_UN)
            async with asyncio.timeout(5):
                assert await write == 1
    finally:
        os.close(other)


async def test_a_lock_taken_outside_the_turn_is_waited_for_without_blocking_the_loop(db: Database) -> None:
    # A writer that knows nothing of the turn (the sqlite3 shell, `chatcore migrate`).
    foreign = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    foreign.execute("BEGIN IMMEDIATE")
    try:
        async with Ticker() as ticker:
            write = asyncio.create_task(take_slot(db))
            await asyncio.sleep(0.3)
            assert not write.done()
            assert ticker.ticks >= 20
            foreign.execute("COMMIT")
            async with asyncio.timeout(5):
                assert await write == 1
        # The connection went back to failing fast: the next write runs in place again.
        assert await take_slot(db) == 2
    finally:
        foreign.close()


async def test_a_write_gives_up_after_the_busy_timeout(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    other = os.open(f"{db.path}-writer.lock", os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        monkeypatch.setattr(await driver_of(db), "busy_timeout", 0.2)
        with pytest.raises(StorageUnavailable):
            await take_slot(db)
    finally:
        os.close(other)
    assert await take_slot(db) == 1  # the turn was not left held


def other_process_can_write(db: Database) -> bool:
    """Both locks free: the writer's turn (flock) and SQLite's own write lock."""
    other = os.open(f"{db.path}-writer.lock", os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(other)
    conn = sqlite3.connect(db.path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()
    return True


async def test_a_write_cancelled_while_waiting_for_the_turn_leaves_nothing_held(db: Database) -> None:
    # A cancelled wait must not keep the turn or an open transaction (which would stall every
    # other process).
    driver = await driver_of(db)
    other = os.open(f"{db.path}-writer.lock", os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        write = asyncio.create_task(take_slot(db))
        await asyncio.sleep(0.05)
        write.cancel()
        await asyncio.gather(write, return_exceptions=True)
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    await asyncio.sleep(0.05)
    assert not driver.turn.held
    assert not driver.in_transaction
    assert other_process_can_write(db)
    assert await take_slot(db) == 1


async def test_a_write_cancelled_while_waiting_for_a_foreign_lock_does_not_stall_the_next(
    db: Database,
) -> None:
    foreign = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    foreign.execute("BEGIN IMMEDIATE")
    try:
        write = asyncio.create_task(take_slot(db))
        await asyncio.sleep(0.05)
        write.cancel()
        await asyncio.gather(write, return_exceptions=True)
        async with Ticker() as ticker:
            following = asyncio.create_task(take_slot(db))
            await asyncio.sleep(0.3)
            assert ticker.ticks >= 20  # waiting again, without blocking the loop
            foreign.execute("COMMIT")
            async with asyncio.timeout(5):
                assert await following == 1
    finally:
        foreign.close()
    assert other_process_can_write(db)


def used_in_the_database_file(db: Database) -> int:
    """The count as the main database file has it, ignoring the WAL: what checkpoints copied.

    ``immutable=1`` reads the file without locks, so a read that overlaps a checkpoint's writes
    can see a half-copied page ("malformed"): that read counts as nothing copied yet."""
    conn = sqlite3.connect(f"file:{db.path}?immutable=1", uri=True)
    try:
        row = conn.execute("SELECT used FROM quota_usage WHERE user_id = ?", (db.user_id,)).fetchone()
    except sqlite3.DatabaseError:
        return 0
    finally:
        conn.close()
    return 0 if row is None else int(row[0])


async def test_the_wal_is_checkpointed_in_the_background(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_EVERY", 10)
    for _ in range(30):
        await take_slot(db)
    # 30 small transactions are far below SQLite's own automatic checkpoint (1,000 pages).
    copied = 0
    for _ in range(500):  # the checkpoint runs in the default executor: give it up to 5 s
        copied = used_in_the_database_file(db)
        if copied >= 20:
            break
        await asyncio.sleep(0.01)
    assert copied >= 20
    assert await used(db) == 30


PORTABLE = """
import asyncio, sys
sys.modules["fcntl"] = None  # as on Windows: `import fcntl` raises ImportError
from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from contract.helpers import add_user

async def main(url):
    await upgrade_to_head(url)
    engine = create_engine_for(url)
    try:
        uow = SqlUnitOfWorkFactory(engine)
        print((await add_user(uow)).id)
    finally:
        await engine.dispose()

asyncio.run(main(sys.argv[1]))
"""


def test_sqlite_works_where_the_os_has_no_flock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'portable.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-c", PORTABLE, url],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    assert not (tmp_path / "portable.sqlite3-writer.lock").exists()
