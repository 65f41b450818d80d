"""Login throttling through AccountService with the Redis limiter (SPEC §4.1): the address
budget holds against a concurrent burst, and an office's other users still log in."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.memory import MemoryStore
from adapters.redis_limits import RedisAttemptLimiter
from chatcore.accounts import AccountService
from chatcore.errors import InvalidCredentials, TooManyAttempts
from chatcore.testing import FrozenClock, HmacTokens, QuickHasher
from chatcore.throttling import ThrottlePolicy

PASSWORD = "correct horse 1"


@pytest.fixture
async def accounts() -> AsyncIterator[AccountService]:
    url = os.environ.get("CHATCORE_TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("CHATCORE_REQUIRE_REDIS") == "1":
            pytest.fail("CHATCORE_REQUIRE_REDIS=1 but CHATCORE_TEST_REDIS_URL is not set")
        pytest.skip("CHATCORE_TEST_REDIS_URL is not set")
    prefix = f"chatcore-test:{secrets.token_hex(6)}:"
    client = Redis.from_url(url)
    store = MemoryStore()
    service = AccountService(
        uow=store.unit_of_work,
        hasher=QuickHasher(),
        tokens=HmacTokens(b"redis-test"),
        clock=FrozenClock(),
        limiter=RedisAttemptLimiter(client, max_failures=5, prefix=prefix),
        throttle_policy=ThrottlePolicy(address_failures=10),
    )
    for name in ("alice", "colleague", *(f"victim{n}" for n in range(30))):
        await service.register(
            username=name, email=f"{name}@example.com", password=PASSWORD, password2=PASSWORD
        )
    try:
        yield service
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_a_burst_from_one_address_is_held_to_its_budget(accounts: AccountService) -> None:
    outcomes = await asyncio.gather(
        *(accounts.login(login=f"victim{n}", password="leaked 1", client="203.0.113.9") for n in range(30)),
        return_exceptions=True,
    )

    checked = sum(isinstance(o, InvalidCredentials) for o in outcomes)
    assert checked <= 10
    assert checked + sum(isinstance(o, TooManyAttempts) for o in outcomes) == 30
    assert (await accounts.login(login="alice", password=PASSWORD, client="203.0.113.10")).access


async def test_an_office_keeps_working_and_successes_cost_the_address_nothing(
    accounts: AccountService,
) -> None:
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await accounts.login(login="colleague", password="typo", client="198.51.100.1")
    for _ in range(20):
        assert (await accounts.login(login="alice", password=PASSWORD, client="198.51.100.1")).access
    with pytest.raises(TooManyAttempts):
        await accounts.login(login="colleague", password=PASSWORD, client="198.51.100.1")
