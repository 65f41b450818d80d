"""The AttemptLimiter contract (tests/contract/test_attempt_limiter.py), run unchanged on Redis.

Runs when ``CHATCORE_TEST_REDIS_URL`` is set (CI sets it and ``CHATCORE_REQUIRE_REDIS=1``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.memory import MemoryStore
from adapters.redis_limits import RedisAttemptLimiter
from contract.conftest import Storage
from contract.test_attempt_limiter import *  # noqa: F403 (the contract's tests, collected here again)


@pytest.fixture
async def storage() -> AsyncIterator[Storage]:
    url = os.environ.get("CHATCORE_TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("CHATCORE_REQUIRE_REDIS") == "1":
            pytest.fail("CHATCORE_REQUIRE_REDIS=1 but CHATCORE_TEST_REDIS_URL is not set")
        pytest.skip("CHATCORE_TEST_REDIS_URL is not set")
    prefix = f"chatcore-test:{secrets.token_hex(6)}:"
    client = Redis.from_url(url)
    try:
        yield Storage(uow=MemoryStore().unit_of_work, limiter=RedisAttemptLimiter(client, prefix=prefix))
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_an_unreachable_redis_fails_open() -> None:
    from datetime import UTC, datetime

    limiter = RedisAttemptLimiter.from_url("redis://127.0.0.1:1/0")
    now = datetime(2026, 11, 26, tzinfo=UTC)
    await limiter.record_failure(["login:alice"], now=now)
    assert await limiter.blocked_for(["login:alice"], now=now) is None
    await limiter.reset(["login:alice"])
    await limiter.aclose()


async def test_the_composition_root_picks_redis_when_configured() -> None:
    from app_http.bootstrap import build_limiter
    from app_http.settings import Settings

    closers: list[Any] = []
    limiter = build_limiter(Settings(redis_url="redis://127.0.0.1:1/0"), None, closers)
    assert isinstance(limiter, RedisAttemptLimiter)
    assert closers == [limiter.aclose]
    for close in closers:
        await close()
