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
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from raw_drivers import aiosqlite_run, asyncpg_run, sqlite3_run
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from workload import TASKS, adapter_run, seed, stored_messages

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


def best(url: str, rounds: int, tasks: int, count: int, runners: dict[str, Runner]) -> dict[str, float]:
    """The best rate of each runner over ``rounds`` rounds. Runners take turns within a round, so
    that a change in the machine's load affects them alike; each run is checked to have stored
    all its messages."""
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, runner in runners.items():
            before = asyncio.run(stored_messages(url))
            rates[name].append(runner(tasks, count))
            stored = asyncio.run(stored_messages(url)) - before
            if stored < 2 * (count // tasks) * tasks:
                raise SystemExit(f"a {name} run stored only {stored} messages: the benchmark is broken")
    return {name: max(values) for name, values in rates.items()}


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
            rate = best(url, args.rounds, tasks, args.transactions, runners)
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
            rate = best(url, args.rounds, tasks, args.transactions, runners)
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
