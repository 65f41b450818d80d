"""Failed-login counting in the database, shared by every worker process and server."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import READ_ONLY
from adapters.sql.schema import login_failures
from adapters.sql.transaction import translated

MAX_KEY_CHARS = 255


def _stored(key: str) -> str:
    # Keys embed user input (the login typed); a very long one is stored by its digest.
    if len(key) <= MAX_KEY_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class SqlAttemptLimiter:
    """Blocks a key for ``window`` after ``max_failures`` failures within ``window``.

    Same rules as :class:`adapters.memory.MemoryAttemptLimiter`; each call is one short
    transaction of its own.
    """

    def __init__(
        self, engine: AsyncEngine, *, max_failures: int = 10, window: timedelta = timedelta(minutes=15)
    ) -> None:
        self._engine = engine
        self._max = max_failures
        self._window = window

    async def blocked_for(
        self, keys: Sequence[str], *, now: datetime, allowance: int = 0, limit: int | None = None
    ) -> int | None:
        since = now - self._window
        waits = []
        async with translated(self._engine.connect()) as conn:
            await conn.execution_options(**{READ_ONLY: True})  # a read: no writer's turn needed
            for key in keys:
                # The max-th most recent failure inside the window, if there are that many:
                # the key is free again once it leaves the window.
                stmt = (
                    select(login_failures.c.failed_at)
                    .where(login_failures.c.key == _stored(key), login_failures.c.failed_at > since)
                    .order_by(login_failures.c.failed_at.desc())
                    .offset((self._max if limit is None else limit) + allowance - 1)
                    .limit(1)
                )
                oldest: datetime | None = (await conn.execute(stmt)).scalar()
                if oldest is not None:
                    waits.append(math.ceil((oldest + self._window - now).total_seconds()))
        return max(max(waits), 1) if waits else None

    async def record_failure(self, keys: Sequence[str], *, now: datetime) -> None:
        stored = [_stored(key) for key in keys]
        if not stored:
            return
        async with translated(self._engine.begin()) as conn:
            # Forget what can no longer count, so the table stays as small as the window.
            await conn.execute(
                delete(login_failures).where(
                    login_failures.c.key.in_(stored), login_failures.c.failed_at <= now - self._window
                )
            )
            await conn.execute(insert(login_failures), [{"key": key, "failed_at": now} for key in stored])

    async def withdraw(self, keys: Sequence[str], *, at: datetime) -> None:
        async with translated(self._engine.begin()) as conn:
            for key in keys:
                # One row only: concurrent attempts of the same key may share the instant.
                one = (
                    select(login_failures.c.id)
                    .where(login_failures.c.key == _stored(key), login_failures.c.failed_at == at)
                    .limit(1)
                    .scalar_subquery()
                )
                await conn.execute(delete(login_failures).where(login_failures.c.id == one))

    async def reset(self, keys: Sequence[str]) -> None:
        stored = [_stored(key) for key in keys]
        if not stored:
            return
        async with translated(self._engine.begin()) as conn:
            await conn.execute(delete(login_failures).where(login_failures.c.key.in_(stored)))

    async def purge(self, *, now: datetime) -> None:
        async with translated(self._engine.begin()) as conn:
            await conn.execute(delete(login_failures).where(login_failures.c.failed_at <= now - self._window))
