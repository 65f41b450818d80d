"""A unit of work that lets other tasks run before its transaction starts, as a real database
does; with it, concurrent use cases really interleave in the in-memory store."""

from __future__ import annotations

import asyncio
from typing import Self

from adapters.memory import MemoryStore, MemoryUnitOfWork


class YieldingUnitOfWork(MemoryUnitOfWork):
    async def __aenter__(self) -> Self:
        await asyncio.sleep(0)
        return await super().__aenter__()


def yielding(store: MemoryStore, *, read_only: bool = False, one_write: bool = False) -> YieldingUnitOfWork:
    """A unit-of-work factory over ``store`` (``functools.partial(yielding, store)``)."""
    return YieldingUnitOfWork(store, read_only=read_only)
