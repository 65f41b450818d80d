"""Run a benchmark on an embedded SQLite file and, when asked, on a scratch PostgreSQL database."""

from __future__ import annotations

import argparse
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

Run = Callable[[str, str], Awaitable[None]]
"""``run(database_url, label)``: one benchmark on one database."""


async def on_each_database(run: Run, *, description: str, prefix: str) -> None:
    """``run`` on SQLite, then on a database made on ``--postgres``'s server (dropped afterwards)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a scratch database is made there)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite")
    if not args.postgres:
        return
    server = make_url(args.postgres)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        await run(server.set(database=name).render_as_string(hide_password=False), "PostgreSQL")
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
