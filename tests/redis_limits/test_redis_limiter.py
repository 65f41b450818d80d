"""What only the Redis limiter does, beyond the AttemptLimiter contract (tests/contract/): it fails
open when Redis cannot be reached, and the composition root picks it when configured. No Redis
server is needed for these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.redis_limits import RedisAttemptLimiter
from app_http.bootstrap import build_limiter
from app_http.settings import Settings


async def test_an_unreachable_redis_fails_open() -> None:
    limiter = RedisAttemptLimiter.from_url("redis://127.0.0.1:1/0")
    now = datetime(2026, 11, 26, tzinfo=UTC)
    await limiter.record_failure(["login:alice"], now=now)
    assert await limiter.blocked_for(["login:alice"], now=now) is None
    await limiter.reset(["login:alice"])
    await limiter.aclose()


async def test_the_composition_root_picks_redis_when_configured() -> None:
    closers: list[Any] = []
    limiter = build_limiter(Settings(redis_url="redis://127.0.0.1:1/0"), None, closers)
    assert isinstance(limiter, RedisAttemptLimiter)
    assert closers == [limiter.aclose]
    for close in closers:
        await close()
