"""Finishing bookkeeping even when the caller is cancelled (a client that went away), and
retrying it when the database cannot serve for a moment."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from chatcore.errors import StorageUnavailable

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
        task.add_done_callback(_forget)
        raise


def _forget(task: asyncio.Future[Any]) -> None:
    # Nobody awaits a task left behind by a cancelled caller: take its outcome here, so asyncio
    # does not report "exception was never retrieved" (the error was already handled or logged).
    _background.discard(task)
    if not task.cancelled():
        task.exception()


BOOKKEEPING_RETRY_DELAYS = (0.2, 1.0)
"""Seconds before the second and third try of a write after the tutor's call (the request's
outcome: the reply, or the slot given back) when the database cannot serve for a moment."""


async def with_storage_retries(step: Callable[[], Awaitable[T]]) -> T:
    """``step()``, tried again after :data:`BOOKKEEPING_RETRY_DELAYS` on ``StorageUnavailable``
    (unless it is ``in_doubt``: the step may have been applied, and is not repeated)."""
    for delay in BOOKKEEPING_RETRY_DELAYS:
        try:
            return await step()
        except StorageUnavailable as exc:
            if exc.in_doubt:
                raise
            await asyncio.sleep(delay)
    return await step()


async def settle(step: Callable[[], Awaitable[None]]) -> None:
    """Best-effort bookkeeping after a failure: ``step()`` with retries, and if the database
    still cannot take it, nothing more: the caller's own error stays the one reported."""
    with contextlib.suppress(StorageUnavailable):
        await with_storage_retries(step)
