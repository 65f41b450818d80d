"""One OS process of the multi-process quota test (the target of a forked process).

It opens its own engine, waits at the barrier so that every process starts together, makes its
requests concurrently and puts the results on the queue.
"""

from __future__ import annotations

import asyncio
from datetime import date
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from adapters.sql import SqlUnitOfWorkFactory, create_engine_for

# Enough to overlap heavily with the other processes while staying far below the
# PostgreSQL server's connection limit (the processes share it with the rest of the suite).
IN_FLIGHT = 8


def work(
    url: str, user_id: int, day: date, limit: int, requests: int, start: Barrier, out: Queue[list[int | None]]
) -> None:
    out.put(asyncio.run(_requests(url, user_id, day, limit, requests, start)))


async def _requests(
    url: str, user_id: int, day: date, limit: int, requests: int, start: Barrier
) -> list[int | None]:
    engine = create_engine_for(url)
    uow = SqlUnitOfWorkFactory(engine)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def request_slot() -> int | None:
        async with gate, uow() as tx:
            # A read before the write in one writing unit of work: with a deferred BEGIN, SQLite
            # would refuse the write when another process wrote in between, so this proves that
            # writing units of work begin IMMEDIATE. (ChatService.accept reads in a read-only unit
            # of work first; its writing one starts with the writes.)
            assert await tx.users.get(user_id) is not None
            taken = await tx.quota.consume(user_id, day, limit=limit)
            await tx.commit()
        return taken

    try:
        async with engine.connect():
            pass  # connect before the start signal
        await asyncio.get_running_loop().run_in_executor(None, start.wait)
        return await asyncio.gather(*(request_slot() for _ in range(requests)))
    finally:
        await engine.dispose()
