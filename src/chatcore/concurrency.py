"""Finishing bookkeeping even when the caller is cancelled (a client that went away)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TypeVar

T = TypeVar("T")

_background: set[asyncio.Future[object]] = set()


async def run_to_completion(work: Coroutine[object, object, T]) -> T:
    """Await ``work``; if the caller is cancelled meanwhile, ``work`` still runs to its end
    (a slot must not stay taken, a reply must not stay unstored)."""
    task: asyncio.Future[T] = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        _background.add(task)  # type: ignore[arg-type]
        task.add_done_callback(_background.discard)
        raise
