"""The quota stays exact across OS processes sharing one database (SPEC §5: many workers)."""

from __future__ import annotations

import multiprocessing
from datetime import date

from adapters.sql import SqlUnitOfWorkFactory, create_engine_for
from contract.databases import run
from contract.helpers import add_user
from contract.quota_worker import work

PROCESSES = 4
REQUESTS_EACH = 50
LIMIT = 5
DAY = date(2026, 11, 26)


async def _new_user(url: str) -> int:
    engine = create_engine_for(url)
    try:
        return (await add_user(SqlUnitOfWorkFactory(engine))).id
    finally:
        await engine.dispose()


async def _used(url: str, user_id: int) -> int:
    engine = create_engine_for(url)
    try:
        async with SqlUnitOfWorkFactory(engine)() as tx:
            return await tx.quota.used(user_id, DAY)
    finally:
        await engine.dispose()


def test_four_processes_making_200_requests_get_exactly_the_limit(sql_url: str) -> None:
    # A synchronous test: no event loop and no open connection exist when the workers fork,
    # and forking (rather than spawning) spares each of them importing SQLAlchemy again.
    user_id = run(_new_user(sql_url))
    context = multiprocessing.get_context("fork")
    start = context.Barrier(PROCESSES, timeout=60)
    out: multiprocessing.Queue[list[int | None]] = context.Queue()
    workers = [
        context.Process(target=work, args=(sql_url, user_id, DAY, LIMIT, REQUESTS_EACH, start, out))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        results = [taken for _ in workers for taken in out.get(timeout=90)]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    assert len(results) == PROCESSES * REQUESTS_EACH
    assert sorted(r for r in results if r is not None) == list(range(1, LIMIT + 1))
    assert run(_used(sql_url, user_id)) == LIMIT
