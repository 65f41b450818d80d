"""Failed-login counting in memory (one process only)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from datetime import datetime, timedelta


class MemoryAttemptLimiter:
    """Blocks a key for ``window`` after ``max_failures`` failures within ``window``."""

    def __init__(self, *, max_failures: int = 10, window: timedelta = timedelta(minutes=15)) -> None:
        self._max = max_failures
        self._window = window
        self._failures: dict[str, list[datetime]] = {}
        self._lock = asyncio.Lock()

    async def blocked_for(
        self, keys: Sequence[str], *, now: datetime, allowance: int = 0, limit: int | None = None
    ) -> int | None:
        async with self._lock:
            waits = []
            for key in keys:
                recent = [t for t in self._failures.get(key, []) if t > now - self._window]
                self._failures[key] = recent
                threshold = (self._max if limit is None else limit) + allowance
                if len(recent) >= threshold:
                    waits.append(math.ceil((recent[-threshold] + self._window - now).total_seconds()))
        return max(max(waits), 1) if waits else None

    async def record_failure(self, keys: Sequence[str], *, now: datetime) -> None:
        async with self._lock:
            for key in keys:
                self._failures.setdefault(key, []).append(now)

    async def withdraw(self, keys: Sequence[str], *, at: datetime) -> None:
        async with self._lock:
            for key in keys:
                times = self._failures.get(key, [])
                if at in times:
                    times.remove(at)

    async def reset(self, keys: Sequence[str]) -> None:
        async with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    async def purge(self, *, now: datetime) -> None:
        async with self._lock:
            for key, times in list(self._failures.items()):
                recent = [t for t in times if t > now - self._window]
                if recent:
                    self._failures[key] = recent
                else:
                    del self._failures[key]
