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
from chatcore.throttling import ThrottlePolicy, address_key

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


async def test_a_flood_past_the_address_budget_does_not_lock_out_people_who_logged_in_there_before(
    store: MemoryStore, clock: FrozenClock
) -> None:
    """SPEC §4.1: a flood of failures from one address must not stop the other accounts there
    from logging in with the right password. A browser that logged in before brings its device
    token; with it, the address's budget is not asked (the account's still is)."""
    accounts = _accounts(store, clock, address_failures=10)
    await _register(accounts, "alice", "bob", "mallory")
    earlier = await accounts.login(login="alice", password=PASSWORD, client=OFFICE)
    assert earlier.device is not None
    for n in range(12):  # someone at the office floods it with wrong passwords for many names
        with pytest.raises((InvalidCredentials, TooManyAttempts)):
            await accounts.login(login=f"stranger{n}", password="guess", client=OFFICE)

    again = await accounts.login(login="alice", password=PASSWORD, client=OFFICE, device=earlier.device)

    assert accounts.authenticate(again.access) is not None
    # Without a device token of *that* account, the spent address budget still refuses:
    with pytest.raises(TooManyAttempts):
        await accounts.login(login="bob", password=PASSWORD, client=OFFICE, device=earlier.device)
    with pytest.raises(TooManyAttempts):
        await accounts.login(login="mallory", password=PASSWORD, client=OFFICE)


async def test_a_device_token_does_not_lift_the_accounts_own_budget(
    store: MemoryStore, clock: FrozenClock
) -> None:
    accounts = _accounts(store, clock, address_failures=100)
    await _register(accounts, "alice")
    device = (await accounts.login(login="alice", password=PASSWORD, client=OFFICE)).device
    for _ in range(MAX_FAILURES):
        with pytest.raises(InvalidCredentials):
            await accounts.login(login="alice", password="guess", client=OFFICE, device=device)

    with pytest.raises(TooManyAttempts):
        await accounts.login(login="alice", password=PASSWORD, client=OFFICE, device=device)


@pytest.mark.parametrize("device", ["", "garbage", "a.b.c"])
async def test_a_bad_device_token_is_no_token(store: MemoryStore, clock: FrozenClock, device: str) -> None:
    accounts = _accounts(store, clock, address_failures=10)
    await _register(accounts, "alice")
    for n in range(10):
        with pytest.raises(InvalidCredentials):
            await accounts.login(login=f"stranger{n}", password="guess", client=OFFICE)

    with pytest.raises(TooManyAttempts):
        await accounts.login(login="alice", password=PASSWORD, client=OFFICE, device=device)


@pytest.mark.parametrize(
    ("client", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:1::1", "2001:db8:1:1::/64"),
        ("2001:db8:1:1:ffff::2", "2001:db8:1:1::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_an_address_budget_is_per_ipv4_address_and_per_ipv6_64(client: str, key: str) -> None:
    assert address_key(client) == key


async def test_every_address_of_one_ipv6_64_shares_one_budget(store: MemoryStore, clock: FrozenClock) -> None:
    accounts = _accounts(store, clock, address_failures=10)
    await _register(accounts, "alice")
    for n in range(10):
        with pytest.raises(InvalidCredentials):
            await accounts.login(login=f"stranger{n}", password="guess", client=f"2001:db8:1:1::{n + 1:x}")

    with pytest.raises(TooManyAttempts):
        await accounts.login(login="alice", password=PASSWORD, client="2001:db8:1:1:abcd::1")
    pair = await accounts.login(login="alice", password=PASSWORD, client="2001:db8:1:2::1")
    assert pair.access
