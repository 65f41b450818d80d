"""Login throttling (SPEC §4.1): an account's budget, and a far larger one per client address
that stops credential stuffing without locking out the other people at that address."""

from __future__ import annotations

import asyncio
import functools

import pytest

from adapters.memory import MemoryAttemptLimiter, MemoryStore
from chatcore.accounts import AccountService
from chatcore.errors import InvalidCredentials, TooManyAttempts
from chatcore.model import User
from chatcore.testing import FrozenClock, HmacTokens, QuickHasher
from chatcore.throttling import ThrottlePolicy

from .conftest import MAX_FAILURES, PASSWORD, THROTTLE_WINDOW
from .interleaving import yielding

OFFICE = "198.51.100.1"


def _accounts(
    store: MemoryStore, clock: FrozenClock, *, address_failures: int, yielding_uow: bool = False
) -> AccountService:
    return AccountService(
        uow=functools.partial(yielding, store) if yielding_uow else store.unit_of_work,
        hasher=QuickHasher(),
        tokens=HmacTokens(b"unit-test-secret"),
        clock=clock,
        limiter=MemoryAttemptLimiter(max_failures=MAX_FAILURES, window=THROTTLE_WINDOW),
        throttle_policy=ThrottlePolicy(address_failures=address_failures),
    )


async def _register(accounts: AccountService, *names: str) -> None:
    for name in names:
        await accounts.register(
            username=name, email=f"{name}@example.com", password=PASSWORD, password2=PASSWORD
        )


async def test_failures_from_one_address_do_not_lock_out_other_accounts_there(
    accounts: AccountService, alice: User
) -> None:
    # Three colleagues each spend their whole budget from the office's one address.
    for name in ("x1", "x2", "x3"):
        for _ in range(MAX_FAILURES):
            with pytest.raises(InvalidCredentials):
                await accounts.login(login=name, password="guess", client=OFFICE)

    pair = await accounts.login(login="alice", password=PASSWORD, client=OFFICE)

    assert accounts.authenticate(pair.access) == alice.id


async def test_credential_stuffing_from_one_address_stops_at_its_budget(
    store: MemoryStore, clock: FrozenClock
) -> None:
    accounts = _accounts(store, clock, address_failures=12)
    await _register(accounts, "alice")
    for n in range(12):  # one guess each for twelve accounts
        with pytest.raises(InvalidCredentials):
            await accounts.login(login=f"victim{n}", password="leaked 1", client="203.0.113.9")

    with pytest.raises(TooManyAttempts) as caught:
        await accounts.login(login="victim12", password="leaked 1", client="203.0.113.9")

    assert caught.value.retry_after == THROTTLE_WINDOW.total_seconds()
    assert (await accounts.login(login="alice", password=PASSWORD, client=OFFICE)).access
    clock.advance(seconds=caught.value.retry_after)
    with pytest.raises(InvalidCredentials):
        await accounts.login(login="victim12", password="leaked 1", client="203.0.113.9")


async def test_right_passwords_do_not_use_the_address_budget(store: MemoryStore, clock: FrozenClock) -> None:
    accounts = _accounts(store, clock, address_failures=12)
    await _register(accounts, "alice", "bob")
    for _ in range(30):  # a busy morning at the office: many logins, a few typos
        await accounts.login(login="alice", password=PASSWORD, client=OFFICE)
        await accounts.login(login="bob", password=PASSWORD, client=OFFICE)
    for n in range(11):
        with pytest.raises(InvalidCredentials):
            await accounts.login(login=f"typo{n}", password="typo", client=OFFICE)

    assert (await accounts.login(login="bob", password=PASSWORD, client=OFFICE)).access


async def test_a_burst_of_guesses_for_many_accounts_cannot_slip_past_the_address_budget(
    store: MemoryStore, clock: FrozenClock
) -> None:
    accounts = _accounts(store, clock, address_failures=10, yielding_uow=True)
    await _register(accounts, *(f"user{n}" for n in range(40)))

    outcomes = await asyncio.gather(
        *(accounts.login(login=f"user{n}", password="wrong 1", client="203.0.113.9") for n in range(40)),
        return_exceptions=True,
    )

    checked = sum(isinstance(outcome, InvalidCredentials) for outcome in outcomes)
    throttled = sum(isinstance(outcome, TooManyAttempts) for outcome in outcomes)
    assert checked <= 10
    assert checked + throttled == 40
