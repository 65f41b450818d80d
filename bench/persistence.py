"""Benchmark: "take a quota slot + store the user message + store the reply" (issue 3).

One transaction = the quota upsert, two message INSERTs ... RETURNING id, the chat UPDATE, COMMIT:
through :class:`adapters.sql.SqlUnitOfWork`, and beside it through the raw driver doing the same
statements (sqlite3 for SQLite, asyncpg for PostgreSQL), at 1 and 16 concurrent tasks, each task
being a different user with their own chat. For SQLite the raw driver runs one thread per task,
each with its own connection, and also through aiosqlite alone (one connection, as the adapter).

    uv run python bench/persistence.py [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]

PostgreSQL runs in a scratch database created on that server and dropped afterwards. Each figure
is the best of ``--rounds`` runs of ``--transactions`` transactions (the machine may be shared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import aiosqlite
import asyncpg
from sqlalchemy import func, make_url, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from adapters.sql.schema import messages
from chatcore.model import Mode, NewMessage, Role

TASKS = (1, 16)
DAY = date(2026, 11, 26)
LIMIT = 1_000_000_000  # the slot is always granted: the benchmark measures the accepted path
QUESTION = "Could you tell me more about the team I would be working with?"
ANSWER = "Of course. You would join a team of six engineers who build the payment platform."

SQLITE_UPSERT = (
    "INSERT INTO quota_usage (user_id, day, used) VALUES (?, ?, 1) ON CONFLICT (user_id, day) "
    "DO UPDATE SET used = quota_usage.used + 1 WHERE quota_usage.used < ? RETURNING used"
)
SQLITE_MESSAGE = (
    "INSERT INTO messages (chat_id, role, content, created_at, status, model) "
    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
)
SQLITE_TOUCH = (
    "UPDATE chats SET updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at END, "
    "message_count = message_count + ? WHERE id = ?"
)
PG_UPSERT = SQLITE_UPSERT.replace("?", "$1", 1).replace("?", "$2", 1).replace("?", "$3", 1)
PG_MESSAGE = (
    "INSERT INTO messages (chat_id, role, content, created_at, status, model) "
    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
)
PG_TOUCH = (
    "UPDATE chats SET updated_at = CASE WHEN updated_at < $1 THEN $1 ELSE updated_at END, "
    "message_count = message_count + $2 WHERE id = $3"
)


@dataclass(frozen=True)
class Owner:
    user_id: int
    chat_id: int


def now() -> datetime:
    return datetime.now(UTC)


def sqlite_stamp(instant: datetime) -> str:
    """The text SQLAlchemy stores for a UTC instant in SQLite."""
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# --- set-up -----------------------------------------------------------------------------------


async def seed(url: str) -> list[Owner]:
    """A user with a chat for each task (the schema comes from the shipped migrations)."""
    await upgrade_to_head(url)
    engine = create_engine_for(url)
    owners = []
    try:
        async with SqlUnitOfWorkFactory(engine)() as tx:
            for i in range(max(TASKS)):
                user = await tx.users.add(
                    username=f"bench{i}", email=f"bench{i}@example.com", password_hash=None, now=now()
                )
                chat = await tx.chats.add(
                    user_id=user.id, title="Bench", mode=Mode.INTERVIEW, topic="backend", now=now()
                )
                owners.append(Owner(user.id, chat.id))
            await tx.commit()
    finally:
        await engine.dispose()
    return owners


async def stored_messages(url: str) -> int:
    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(messages))).scalar_one())
    finally:
        await engine.dispose()


# --- the transaction, four ways ------------------------------------------------------------------


async def adapter_run(url: str, owners: list[Owner], tasks: int, count: int) -> float:
    engine = create_engine_for(url)
    uow = SqlUnitOfWorkFactory(engine)

    async def transaction(owner: Owner) -> None:
        stamp = now()
        async with uow() as tx:
            await tx.quota.consume(owner.user_id, DAY, limit=LIMIT)
            await tx.messages.add(owner.chat_id, NewMessage(role=Role.USER, content=QUESTION), now=stamp)
            await tx.messages.add(
                owner.chat_id, NewMessage(role=Role.ASSISTANT, content=ANSWER, model="bench"), now=stamp
            )
            await tx.chats.touch(owner.chat_id, now=stamp, added_messages=2)
            await tx.commit()

    try:
        return await _async_rate(transaction, owners, tasks, count)
    finally:
        await engine.dispose()


async def asyncpg_run(url: str, owners: list[Owner], tasks: int, count: int) -> float:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = await asyncpg.create_pool(dsn, min_size=tasks, max_size=tasks)

    async def transaction(owner: Owner) -> None:
        stamp = now()
        async with pool.acquire() as conn, conn.transaction():
            await conn.fetchval(PG_UPSERT, owner.user_id, DAY, LIMIT)
            await conn.fetchval(PG_MESSAGE, owner.chat_id, "user", QUESTION, stamp, "ok", "")
            await conn.fetchval(PG_MESSAGE, owner.chat_id, "assistant", ANSWER, stamp, "ok", "bench")
            await conn.execute(PG_TOUCH, stamp, 2, owner.chat_id)

    try:
        return await _async_rate(transaction, owners, tasks, count)
    finally:
        await pool.close()


def _sqlite_transaction(conn: sqlite3.Connection, owner: Owner) -> None:
    stamp = sqlite_stamp(now())
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(SQLITE_UPSERT, (owner.user_id, DAY.isoformat(), LIMIT)).fetchall()
        conn.execute(SQLITE_MESSAGE, (owner.chat_id, "user", QUESTION, stamp, "ok", "")).fetchall()
        conn.execute(SQLITE_MESSAGE, (owner.chat_id, "assistant", ANSWER, stamp, "ok", "bench")).fetchall()
        conn.execute(SQLITE_TOUCH, (stamp, stamp, 2, owner.chat_id))
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
                await conn.execute(SQLITE_TOUCH, (stamp, stamp, 2, owner.chat_id))
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise

    try:
        return await _async_rate(transaction, owners, tasks, count)
    finally:
        await conn.close()


async def _async_rate(
    transaction: Callable[[Owner], Awaitable[None]], owners: list[Owner], tasks: int, count: int
) -> float:
    per_task = count // tasks

    async def task(owner: Owner) -> None:
        for _ in range(per_task):
            await transaction(owner)

    await asyncio.gather(*(transaction(owners[i]) for i in range(tasks)))  # warm the pool
    began = time.perf_counter()
    await asyncio.gather(*(task(owners[i]) for i in range(tasks)))
    return per_task * tasks / (time.perf_counter() - began)


# --- driver --------------------------------------------------------------------------------------


@dataclass
class Row:
    database: str
    tasks: int
    adapter: float
    raw: float
    raw_name: str

    @property
    def ratio(self) -> float:
        return self.adapter / self.raw


Runner = Callable[[int, int], float]
"""Runs ``count`` transactions on ``tasks`` concurrent tasks and returns transactions per second."""


def best(url: str, rounds: int, tasks: int, count: int, runner: Runner) -> float:
    """The best rate of ``rounds`` runs, each checked to have stored all its messages."""
    rates = []
    for _ in range(rounds):
        before = asyncio.run(stored_messages(url))
        rates.append(runner(tasks, count))
        stored = asyncio.run(stored_messages(url)) - before
        if stored < 2 * (count // tasks) * tasks:
            raise SystemExit(f"a run stored only {stored} messages: the benchmark is broken")
    return max(rates)


def bench_sqlite(args: argparse.Namespace) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="chatcore-bench-") as tmp:
        path = str(Path(tmp) / "bench.sqlite3")
        url = f"sqlite+aiosqlite:///{path}"
        owners = asyncio.run(seed(url))
        runners: dict[str, Runner] = {
            "adapter": lambda tasks, n: asyncio.run(adapter_run(url, owners, tasks, n)),
            "sqlite3": lambda tasks, n: sqlite3_run(path, owners, tasks, n),
            "aiosqlite": lambda tasks, n: asyncio.run(aiosqlite_run(path, owners, tasks, n)),
        }
        for tasks in TASKS:
            rate = {
                name: best(url, args.rounds, tasks, args.transactions, run) for name, run in runners.items()
            }
            rows.append(Row("sqlite", tasks, rate["adapter"], rate["sqlite3"], "sqlite3"))
            rows.append(Row("sqlite", tasks, rate["adapter"], rate["aiosqlite"], "aiosqlite"))
    return rows


def bench_postgres(args: argparse.Namespace, server_url: str) -> list[Row]:
    name = f"chatcore_bench_{secrets.token_hex(4)}"
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    rows = []
    try:
        owners = asyncio.run(seed(url))
        runners: dict[str, Runner] = {
            "adapter": lambda tasks, n: asyncio.run(adapter_run(url, owners, tasks, n)),
            "asyncpg": lambda tasks, n: asyncio.run(asyncpg_run(url, owners, tasks, n)),
        }
        for tasks in TASKS:
            rate = {
                name: best(url, args.rounds, tasks, args.transactions, run) for name, run in runners.items()
            }
            rows.append(Row("postgresql", tasks, rate["adapter"], rate["asyncpg"], "asyncpg"))
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return rows


async def _admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("CHATCORE_TEST_POSTGRES_URL", ""))
    parser.add_argument("--transactions", type=int, default=2000, help="per run (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure; the best counts")
    args = parser.parse_args()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"# load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    rows = bench_sqlite(args)
    if args.postgres:
        rows += bench_postgres(args, args.postgres)
    print(
        f"{'database':<11} {'tasks':>5} {'adapter tx/s':>13} {'raw tx/s':>9}  {'raw driver':<10} {'ratio':>5}"
    )
    for row in rows:
        print(
            f"{row.database:<11} {row.tasks:>5} {row.adapter:>13.0f} {row.raw:>9.0f}  "
            f"{row.raw_name:<10} {row.ratio:>5.2f}"
        )
    print(f"# load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
