"""``AttemptLimiter`` on Redis sorted sets: one set of failure instants per key.

The same sliding-window rule as the memory and SQL limiters: a key is blocked once it has
``max_failures`` failures within ``window``, until the oldest of those leaves the window. The
instants come from the caller's clock (``now``), not Redis's, so every implementation passes the
same contract. If Redis cannot be reached the limiter fails open (logins keep working) and says
so in an error log line.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger("chatcore.redis_limits")


class RedisAttemptLimiter:
    def __init__(
        self,
        client: Redis,
        *,
        max_failures: int = 10,
        window: timedelta = timedelta(minutes=15),
        prefix: str = "chatcore:login-failures:",
    ) -> None:
        self._redis = client
        self._max = max_failures
        self._window = window
        self._prefix = prefix

    @classmethod
    def from_url(
        cls, url: str, *, max_failures: int = 10, window: timedelta = timedelta(minutes=15)
    ) -> RedisAttemptLimiter:
        """A limiter on the Redis server at ``url`` (``redis://host:port/db``); connects lazily."""
        client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return cls(client, max_failures=max_failures, window=window)

    def _key(self, key: str) -> str:
        # Keys embed what was typed as a login: hashed, so any length and character is fine.
        return self._prefix + hashlib.sha256(key.encode()).hexdigest()

    async def blocked_for(
        self, keys: Sequence[str], *, now: datetime, allowance: int = 0, limit: int | None = None
    ) -> int | None:
        since = now.timestamp() - self._window.total_seconds()
        waits = []
        try:
            for key in keys:
                found = await self._redis.zrevrangebyscore(
                    self._key(key),
                    "+inf",
                    f"({since}",
                    start=(self._max if limit is None else limit) + allowance - 1,
                    num=1,
                    withscores=True,
                )
                if found:
                    oldest = float(found[0][1])
                    waits.append(math.ceil(oldest + self._window.total_seconds() - now.timestamp()))
        except RedisError as exc:
            log.error("login_throttle_unavailable", error_type=type(exc).__name__)
            return None
        return max(max(waits), 1) if waits else None

    async def record_failure(self, keys: Sequence[str], *, now: datetime) -> None:
        stamp = now.timestamp()
        since = stamp - self._window.total_seconds()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    name = self._key(key)
                    pipe.zadd(name, {f"{stamp}:{secrets.token_hex(6)}": stamp})
                    pipe.zremrangebyscore(name, "-inf", since)
                    pipe.expire(name, math.ceil(self._window.total_seconds()) + 60)
                await pipe.execute()
        except RedisError as exc:
            log.error("login_throttle_unavailable", error_type=type(exc).__name__)

    async def withdraw(self, keys: Sequence[str], *, at: datetime) -> None:
        stamp = at.timestamp()
        try:
            for key in keys:
                name = self._key(key)
                # Two steps, not atomic: two withdrawals racing for the same member remove it
                # once, and the key keeps one failure too many (the safe side).
                found = await self._redis.zrangebyscore(name, stamp, stamp, start=0, num=1)
                if found and isinstance(member := found[0], bytes | str):
                    await self._redis.zrem(name, member)
        except RedisError as exc:
            log.error("login_throttle_unavailable", error_type=type(exc).__name__)

    async def reset(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        try:
            await self._redis.delete(*(self._key(key) for key in keys))
        except RedisError as exc:
            log.error("login_throttle_unavailable", error_type=type(exc).__name__)

    async def purge(self, *, now: datetime) -> None:
        """Nothing to do: every key expires by itself once its newest failure is out of the window."""

    async def aclose(self) -> None:
        await self._redis.aclose()
