"""Contract: AttemptLimiter (SPEC §4.1: 429 too_many_attempts after repeated failures)."""

from __future__ import annotations

from chatcore.ports.security import AttemptLimiter
from contract.helpers import at

# Every implementation (memory, SQL on SQLite and PostgreSQL, Redis) defaults to 10 failures
# within 15 minutes.
MAX_FAILURES = 10
WINDOW = 15 * 60


async def fail(limiter: AttemptLimiter, keys: list[str], times: int, *, second: float = 0) -> None:
    for i in range(times):
        await limiter.record_failure(keys, now=at(second + i))


async def test_a_key_is_blocked_only_after_the_maximum_of_failures(limiter: AttemptLimiter) -> None:
    await fail(limiter, ["login:alice"], MAX_FAILURES - 1)
    assert await limiter.blocked_for(["login:alice"], now=at(30)) is None
    await fail(limiter, ["login:alice"], 1, second=MAX_FAILURES - 1)
    wait = await limiter.blocked_for(["login:alice"], now=at(30))
    # Blocked until the oldest of the counted failures (at second 0) leaves the window.
    assert wait == WINDOW - 30


async def test_the_block_ends_when_the_failures_leave_the_window(limiter: AttemptLimiter) -> None:
    await fail(limiter, ["login:alice"], MAX_FAILURES)
    assert await limiter.blocked_for(["login:alice"], now=at(WINDOW - 1)) is not None
    assert await limiter.blocked_for(["login:alice"], now=at(WINDOW + MAX_FAILURES)) is None


async def test_the_wait_is_at_least_one_second(limiter: AttemptLimiter) -> None:
    await fail(limiter, ["login:alice"], MAX_FAILURES)
    assert await limiter.blocked_for(["login:alice"], now=at(WINDOW - 0.5)) == 1


async def test_keys_are_counted_separately_and_the_longest_wait_wins(limiter: AttemptLimiter) -> None:
    await fail(limiter, ["login:alice", "client:10.0.0.1"], MAX_FAILURES, second=0)
    await fail(limiter, ["login:bob"], MAX_FAILURES, second=100)
    assert await limiter.blocked_for(["login:carol", "client:10.0.0.2"], now=at(200)) is None
    assert await limiter.blocked_for(["login:carol", "client:10.0.0.1"], now=at(200)) == WINDOW - 200
    both = await limiter.blocked_for(["login:alice", "login:bob"], now=at(200))
    assert both == WINDOW + 100 - 200


async def test_reset_forgets_the_failures_of_the_given_keys(limiter: AttemptLimiter) -> None:
    await fail(limiter, ["login:alice", "client:10.0.0.1"], MAX_FAILURES)
    await limiter.reset(["login:alice"])
    assert await limiter.blocked_for(["login:alice"], now=at(20)) is None
    assert await limiter.blocked_for(["client:10.0.0.1"], now=at(20)) is not None


async def test_very_long_keys_are_counted_too(limiter: AttemptLimiter) -> None:
    long_key = "login:" + "x" * 5000
    await fail(limiter, [long_key], MAX_FAILURES)
    assert await limiter.blocked_for([long_key], now=at(20)) is not None
    assert await limiter.blocked_for(["login:" + "x" * 4999], now=at(20)) is None


async def test_an_allowance_raises_the_threshold_for_an_attempt_already_recorded(
    limiter: AttemptLimiter,
) -> None:
    await fail(limiter, ["login:alice"], MAX_FAILURES)
    assert await limiter.blocked_for(["login:alice"], now=at(30), allowance=1) is None
    await fail(limiter, ["login:alice"], 1, second=20)
    wait = await limiter.blocked_for(["login:alice"], now=at(30), allowance=1)
    assert wait == WINDOW - 30


async def test_purging_forgets_only_failures_that_no_longer_count(limiter: AttemptLimiter) -> None:
    await fail(limiter, ["login:old"], MAX_FAILURES)
    await fail(limiter, ["login:new"], MAX_FAILURES, second=WINDOW)
    await limiter.purge(now=at(WINDOW + 30))
    assert await limiter.blocked_for(["login:new"], now=at(WINDOW + 30)) is not None
    assert await limiter.blocked_for(["login:old"], now=at(WINDOW + 30)) is None
    await fail(limiter, ["login:old"], MAX_FAILURES - 1, second=WINDOW + 40)
    assert await limiter.blocked_for(["login:old"], now=at(WINDOW + 60)) is None


async def test_a_limit_per_call_replaces_the_maximum(limiter: AttemptLimiter) -> None:
    await fail(limiter, ["client:10.0.0.1"], MAX_FAILURES)
    assert await limiter.blocked_for(["client:10.0.0.1"], now=at(30), limit=MAX_FAILURES + 5) is None
    await fail(limiter, ["client:10.0.0.1"], 5, second=MAX_FAILURES)
    wait = await limiter.blocked_for(["client:10.0.0.1"], now=at(30), limit=MAX_FAILURES + 5)
    assert wait == WINDOW - 30
    assert await limiter.blocked_for(["client:10.0.0.1"], now=at(30), limit=2, allowance=1) == (
        WINDOW + MAX_FAILURES + 5 - 3 - 30
    )


async def test_withdraw_forgets_one_failure_at_that_instant(limiter: AttemptLimiter) -> None:
    keys = ["client:10.0.0.1", "login:alice"]
    await fail(limiter, keys, MAX_FAILURES - 1)
    for _ in range(2):  # two attempts at the same instant: one withdrawal forgets one of them
        await limiter.record_failure(keys, now=at(50))
    await limiter.withdraw(keys, at=at(50))
    assert await limiter.blocked_for(keys, now=at(60)) is not None
    await limiter.withdraw(keys, at=at(50))
    assert await limiter.blocked_for(keys, now=at(60)) is None
    await limiter.withdraw(keys, at=at(50))  # nothing left at that instant: no change
    await limiter.withdraw(["login:nobody"], at=at(50))
    await limiter.record_failure(keys, now=at(55))
    assert await limiter.blocked_for(keys, now=at(60)) is not None
