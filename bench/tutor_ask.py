"""Benchmark: the database's share of one learner message (issue 15).

``--asks`` messages are sent one after the other through ``TutorService.ask`` on one chat, with a
scripted tutor that answers at once (so what is measured is our code and the database), on SQLite
and, with ``--postgres``, on a scratch PostgreSQL database. Printed per database:

- the statements one answered message sends, in order, with ``BEGIN``/``COMMIT`` (PostgreSQL: what
  goes to the server through asyncpg, i.e. each round trip; SQLite: ``sqlite3``'s trace callback),
  without an ``Idempotency-Key`` and then with one;
- this process's CPU per ask (``time.process_time``), the CPU of the PostgreSQL server processes
  serving its connections when the server runs on this machine (from ``/proc``), and the wall
  time per ask, each the best of ``--rounds``.
  With feedback that has corrections (``--corrections``), each reply also stores notebook entries;
  with ``--keyed``, the timed messages carry an ``Idempotency-Key`` each.

    uv run python bench/tutor_ask.py [--keyed] [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from adapters.sql.sqlite_driver import InlineConnection
from chatcore.chats import ChatService
from chatcore.clock import SystemClock
from chatcore.learning import Correction, Feedback
from chatcore.quota import QuotaPolicy
from chatcore.testing import ScriptedLLM
from chatcore.tutoring import TutorService

SENT: list[str] = []
"""What went to the database since it was last cleared (PostgreSQL: one entry per round trip)."""


def _short(sql: str) -> str:
    return " ".join(sql.split())[:90]


def _count_asyncpg() -> None:
    """Wrap asyncpg's public methods that talk to the server, to note each round trip."""

    def noting(name: str, method: Callable[..., Any], what: Callable[..., str]) -> Callable[..., Any]:
        @wraps(method)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            SENT.append(what(self, *args))
            return await method(self, *args, **kwargs)

        return wrapper

    tx = asyncpg.transaction.Transaction
    tx.start = noting("start", tx.start, lambda _s: "BEGIN")  # type: ignore[method-assign]
    tx.commit = noting("commit", tx.commit, lambda _s: "COMMIT")  # type: ignore[method-assign]
    tx.rollback = noting("rollback", tx.rollback, lambda _s: "ROLLBACK")  # type: ignore[method-assign]
    ps = asyncpg.prepared_stmt.PreparedStatement
    ps.fetch = noting("fetch", ps.fetch, lambda s, *_: _short(s.get_query()))  # type: ignore[method-assign]
    conn = asyncpg.connection.Connection
    conn.prepare = noting("prepare", conn.prepare, lambda _s, q, *_: "PREPARE " + _short(q))  # type: ignore[method-assign]
    # What goes to the driver connection directly (adapters/sql/prepared.py).
    conn.fetch = noting("fetch", conn.fetch, lambda _s, q, *_: _short(q))  # type: ignore[method-assign]


def _count_sqlite() -> None:
    """Note each statement the SQLite driver connection runs (a pending ``BEGIN`` goes with the
    next one), and each ``COMMIT``/``ROLLBACK`` that ends a transaction."""
    run_statement, commit, rollback = (
        InlineConnection.run_statement,
        InlineConnection.commit,
        InlineConnection.rollback,
    )

    async def noted_run(self: InlineConnection, sql: str, parameters: Any, *, many: bool = False) -> Any:
        if self.pending_begin is not None:
            SENT.append(self.pending_begin)
        SENT.append(_short(sql))
        return await run_statement(self, sql, parameters, many=many)

    async def noted_commit(self: InlineConnection) -> None:
        if self.pending_begin is None:
            SENT.append("COMMIT")
        await commit(self)

    async def noted_rollback(self: InlineConnection) -> None:
        if self.pending_begin is None and self.database.in_transaction:
            SENT.append("ROLLBACK")
        await rollback(self)

    InlineConnection.run_statement = noted_run  # type: ignore[method-assign]
    InlineConnection.commit = noted_commit  # type: ignore[method-assign]
    InlineConnection.rollback = noted_rollback  # type: ignore[method-assign]


FEEDBACK = Feedback(
    corrections=(
        Correction(original="I am boring", corrected="I am bored", explanation="x", explanation_ko="y"),
    )
)


BACKENDS: set[int] = set()
"""The process ids of the PostgreSQL server processes serving this benchmark's connections."""


def _server_cpu() -> float | None:
    """CPU seconds the backends in :data:`BACKENDS` used so far, when the server runs on this
    machine (``/proc``); ``None`` otherwise."""
    if not BACKENDS:
        return None
    total = 0.0
    try:
        for pid in BACKENDS:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total


def _note_backends(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _backend(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        BACKENDS.add(cursor.fetchone()[0])
        cursor.close()


def _key(keyed: bool) -> str | None:
    """A new Idempotency-Key per message (as the web front end sends), or none."""
    return secrets.token_hex(8) if keyed else None


async def run(url: str, label: str, *, asks: int, rounds: int, corrections: bool, keyed_asks: bool) -> None:
    await upgrade_to_head(url)
    engine = create_engine_for(url)
    if label == "PostgreSQL":
        _note_backends(engine)
    try:
        uow = SqlUnitOfWorkFactory(engine)
        clock = SystemClock()
        chats = ChatService(uow=uow, clock=clock)
        feedback = [FEEDBACK] * (asks * rounds + 10) if corrections else []
        llm = ScriptedLLM(["Tell me more."] * (asks * rounds + 10), feedback=feedback)
        tutor = TutorService(
            uow=uow, llm=llm, clock=clock, policy=QuotaPolicy(limit=10**9), chats=chats, feedback=True
        )
        async with uow() as tx:
            user = await tx.users.add(username="bench", email=None, password_hash=None, now=clock.now())
            await tx.commit()
        chat = await chats.start_chat(user.id)
        for i in range(30):  # warm up: pool, prepared statements, a history of 24 messages
            await tutor.ask(user.id, chat.id, "I am boring with my job.", idempotency_key=_key(i % 2 == 0))
        for keyed in (False, True):
            SENT.clear()
            await tutor.ask(user.id, chat.id, "I am boring with my job.", idempotency_key=_key(keyed))
            sent = list(SENT)
            print(
                f"{label}: {len([s for s in sent if not s.startswith('PREPARE')])} statements per answered"
                f" message{' with an Idempotency-Key' if keyed else ''}"
            )
            for line in sent:
                print(f"    {line}")
        cpu, wall, server = [], [], []
        for _ in range(rounds):
            llm.prompts.clear()
            llm.feedback_requests.clear()
            started, started_cpu, started_server = time.perf_counter(), time.process_time(), _server_cpu()
            for _ in range(asks):
                await tutor.ask(
                    user.id, chat.id, "I am boring with my job.", idempotency_key=_key(keyed_asks)
                )
            cpu.append((time.process_time() - started_cpu) / asks)
            wall.append((time.perf_counter() - started) / asks)
            ended_server = _server_cpu()
            if started_server is not None and ended_server is not None:
                server.append((ended_server - started_server) / asks)
        serving = f", server CPU {min(server) * 1e3:.2f} ms/ask" if server else ""
        keyed = " with an Idempotency-Key" if keyed_asks else ""
        print(
            f"{label}: {asks} asks{keyed}, best of {rounds}: CPU {min(cpu) * 1e3:.2f} ms/ask{serving},"
            f" wall {min(wall) * 1e3:.2f} ms/ask"
        )
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a scratch database is made there)")
    parser.add_argument("--asks", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--corrections", action="store_true", help="feedback with a correction on every message"
    )
    parser.add_argument(
        "--keyed",
        action="store_true",
        help="time messages sent with an Idempotency-Key (as the web app does)",
    )
    args = parser.parse_args()
    options = {
        "asks": args.asks,
        "rounds": args.rounds,
        "corrections": args.corrections,
        "keyed_asks": args.keyed,
    }
    _count_sqlite()
    with tempfile.TemporaryDirectory() as tmp:
        await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite", **options)
    if not args.postgres:
        return
    _count_asyncpg()
    server = make_url(args.postgres)
    name = f"tutor_ask_{secrets.token_hex(4)}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        await run(server.set(database=name).render_as_string(hide_password=False), "PostgreSQL", **options)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
