"""The same transaction through the raw drivers: sqlite3 (a thread per task), aiosqlite, asyncpg.

The chat's ``updated_at`` and ``message_count`` follow by the database's trigger (migration 0002)
for the raw drivers exactly as for the adapter.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import aiosqlite
import asyncpg
from sqlalchemy import make_url
from workload import ANSWER, DAY, LIMIT, QUESTION, Owner, async_rate, now, sqlite_stamp

SQLITE_UPSERT = (
    "INSERT INTO quota_usage (user_id, day, used) VALUES (?, ?, 1) ON CONFLICT (user_id, day) "
    "DO UPDATE SET used = quota_usage.used + 1 WHERE quota_usage.used < ? RETURNING used"
)
SQLITE_MESSAGE = (
    "INSERT INTO messages (chat_id, role, content, created_at, status, model) "
    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
)
PG_UPSERT = SQLITE_UPSERT.replace("?", "$1", 1).replace("?", "$2", 1).replace("?", "$3", 1)
PG_MESSAGE = (
    "INSERT INTO messages (chat_id, role, content, created_at, status, model) "
    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
)


async def asyncpg_run(url: str, owners: list[Owner], tasks: int, count: int) -> float:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = await asyncpg.create_pool(dsn, min_size=tasks, max_size=tasks)

    async def transaction(owner: Owner) -> None:
        stamp = now()
        async with pool.acquire() as conn, conn.transaction():
            await conn.fetchval(PG_UPSERT, owner.user_id, DAY, LIMIT)
            await conn.fetchval(PG_MESSAGE, owner.chat_id, "user", QUESTION, stamp, "ok", "")
            await conn.fetchval(PG_MESSAGE, owner.chat_id, "assistant", ANSWER, stamp, "ok", "bench")

    try:
        return await async_rate(transaction, owners, tasks, count)
    finally:
        await pool.close()


def _sqlite_transaction(conn: sqlite3.Connection, owner: Owner) -> None:
    stamp = sqlite_stamp(now())
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(SQLITE_UPSERT, (owner.user_id, DAY.isoformat(), LIMIT)).fetchall()
        conn.execute(SQLITE_MESSAGE, (owner.chat_id, "user", QUESTION, stamp, "ok", "")).fetchall()
        conn.execute(SQLITE_MESSAGE, (owner.chat_id, "assistant", ANSWER, stamp, "ok", "bench")).fetchall()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _sqlite_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=10000"):
        conn.execute(f"PRAGMA {pragma}").close()
    return conn


def sqlite3_run(path: str, owners: list[Owner], tasks: int, count: int) -> float:
    """The sync driver: one thread (and connection) per task."""
    per_task = count // tasks
    start = threading.Barrier(tasks + 1)

    def worker(owner: Owner) -> None:
        conn = _sqlite_connect(path)
        start.wait()
        for _ in range(per_task):
            _sqlite_transaction(conn, owner)
        conn.close()

    threads = [threading.Thread(target=worker, args=(owners[i],)) for i in range(tasks)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return per_task * tasks / (time.perf_counter() - began)


async def aiosqlite_run(path: str, owners: list[Owner], tasks: int, count: int) -> float:
    """aiosqlite alone, one connection shared by the tasks (as the adapter's pool of one)."""
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=10)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=10000"):
        await conn.execute(f"PRAGMA {pragma}")
    lock = asyncio.Lock()

    async def transaction(owner: Owner) -> None:
        stamp = sqlite_stamp(now())
        async with lock:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await conn.execute_fetchall(SQLITE_UPSERT, (owner.user_id, DAY.isoformat(), LIMIT))
                await conn.execute_fetchall(
                    SQLITE_MESSAGE, (owner.chat_id, "user", QUESTION, stamp, "ok", "")
                )
                await conn.execute_fetchall(
                    SQLITE_MESSAGE, (owner.chat_id, "assistant", ANSWER, stamp, "ok", "bench")
                )
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise

    try:
        return await async_rate(transaction, owners, tasks, count)
    finally:
        await conn.close()
