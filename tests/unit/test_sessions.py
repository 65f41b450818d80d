"""Logging in, refresh-token rotation, logout and password change through AccountService (SPEC §4.1)."""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta

import pytest

from adapters.memory import MemoryAttemptLimiter, MemoryStore
from chatcore.accounts import AccountService, TokenPair
from chatcore.errors import InvalidCredentials, InvalidToken, TokenReused, TooManyAttempts, ValidationFailed
from chatcore.housekeeping import Housekeeping
from chatcore.model import User
from chatcore.testing import FrozenClock, HmacTokens, QuickHasher

from .conftest import MAX_FAILURES, PASSWORD, REFRESH_TTL, THROTTLE_WINDOW
from .interleaving import yielding

NEW_PASSWORD = "battery staple 2"


async def _login(accounts: AccountService, login: str = "alice", password: str = PASSWORD) -> TokenPair:
    return await accounts.login(login=login, password=password, client="203.0.113.7")


# --- logging in -------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["alice", "ALICE", "alice@example.com", "Alice@Example.COM", " alice "])
async def test_a_user_logs_in_by_username_or_email(accounts: AccountService, alice: User, login: str) -> None:
    pair = await _login(accounts, login)

    assert accounts.authenticate(pair.access) == alice.id
    assert pair.expires_in == 900
    assert pair.refresh


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    accounts: AccountService, alice: User
) -> None:
    with pytest.raises(InvalidCredentials) as wrong_password:
        await _login(accounts, "alice", "not the password")
    with pytest.raises(InvalidCredentials) as unknown_user:
        await _login(accounts, "nobody", PASSWORD)

    assert wrong_password.value.detail == unknown_user.value.detail


async def test_repeated_failures_block_the_account_for_a_while(
    accounts: AccountService, alice: User, clock: FrozenClock
) -> None:
    for _ in range(MAX_FAILURES):
        with pytest.raises(InvalidCredentials):
            await accounts.login(login="alice", password="guess", client="198.51.100.1")
    clock.advance(minutes=10)

    with pytest.raises(TooManyAttempts) as caught:
        await accounts.login(login="alice", password=PASSWORD, client="198.51.100.2")

    assert caught.value.retry_after == (THROTTLE_WINDOW - timedelta(minutes=10)).total_seconds()
    clock.advance(seconds=caught.value.retry_after)
    pair = await accounts.login(login="alice", password=PASSWORD, client="198.51.100.2")
    assert accounts.authenticate(pair.access) == alice.id


async def test_a_successful_login_forgives_earlier_failures_of_the_account(
    store: MemoryStore, clock: FrozenClock, alice: User
) -> None:
    accounts = AccountService(
        uow=store.unit_of_work,
        hasher=QuickHasher(),
        tokens=HmacTokens(b"unit-test-secret"),
        clock=clock,
        limiter=MemoryAttemptLimiter(max_failures=2),
    )
    for client in ("198.51.100.1", "198.51.100.2"):
        with pytest.raises(InvalidCredentials):
            await accounts.login(login="alice", password="guess", client=client)
        await accounts.login(login="alice", password=PASSWORD, client=client)

    pair = await accounts.login(login="alice", password=PASSWORD, client="198.51.100.3")

    assert accounts.authenticate(pair.access) == alice.id


async def test_a_login_upgrades_an_outdated_password_hash(
    store: MemoryStore, clock: FrozenClock, limiter: MemoryAttemptLimiter, alice: User
) -> None:
    stronger = QuickHasher(iterations=2_000)
    accounts = AccountService(
        uow=store.unit_of_work,
        hasher=stronger,
        tokens=HmacTokens(b"unit-test-secret"),
        clock=clock,
        limiter=limiter,
    )
    assert alice.password_hash is not None
    assert stronger.needs_rehash(alice.password_hash)

    await _login(accounts)

    upgraded = (await accounts.profile(alice.id)).user.password_hash
    assert upgraded is not None
    assert not stronger.needs_rehash(upgraded)
    assert await stronger.verify(upgraded, PASSWORD)


async def test_an_expired_access_token_is_refused(
    accounts: AccountService, alice: User, clock: FrozenClock
) -> None:
    pair = await _login(accounts)

    clock.advance(seconds=pair.expires_in)

    with pytest.raises(InvalidToken):
        accounts.authenticate(pair.access)


# --- refresh tokens ---------------------------------------------------------------------------


async def test_refreshing_gives_a_new_pair_that_works(accounts: AccountService, alice: User) -> None:
    first = await _login(accounts)

    second = await accounts.refresh(first.refresh)
    third = await accounts.refresh(second.refresh)

    assert len({first.refresh, second.refresh, third.refresh}) == 3
    assert accounts.authenticate(second.access) == alice.id
    assert accounts.authenticate(third.access) == alice.id


async def test_a_rotated_refresh_token_stops_working(accounts: AccountService, alice: User) -> None:
    first = await _login(accounts)
    await accounts.refresh(first.refresh)

    with pytest.raises(TokenReused):
        await accounts.refresh(first.refresh)


async def test_reusing_a_refresh_token_revokes_its_whole_chain(accounts: AccountService, alice: User) -> None:
    first = await _login(accounts)
    second = await accounts.refresh(first.refresh)
    newest = await accounts.refresh(second.refresh)
    other_session = await _login(accounts)

    with pytest.raises(TokenReused):
        await accounts.refresh(first.refresh)

    with pytest.raises(InvalidToken):
        await accounts.refresh(newest.refresh)
    with pytest.raises(InvalidToken):
        await accounts.refresh(second.refresh)
    assert accounts.authenticate((await accounts.refresh(other_session.refresh)).access) == alice.id


async def test_a_refresh_racing_with_a_reuse_cannot_keep_a_live_token(
    store: MemoryStore, clock: FrozenClock, limiter: MemoryAttemptLimiter, alice: User
) -> None:
    """Two requests present the same refresh token at once (the user and a thief): one rotates
    it, the other is a reuse. Whatever the interleaving, no token of that chain may survive."""
    accounts = AccountService(
        uow=functools.partial(yielding, store),
        hasher=QuickHasher(),
        tokens=HmacTokens(b"unit-test-secret"),
        clock=clock,
        limiter=limiter,
    )
    stolen = await _login(accounts)

    outcomes = await asyncio.gather(
        accounts.refresh(stolen.refresh), accounts.refresh(stolen.refresh), return_exceptions=True
    )

    rotated = [o for o in outcomes if isinstance(o, TokenPair)]
    assert len(rotated) == 1
    assert any(isinstance(o, TokenReused) for o in outcomes)
    with pytest.raises(InvalidToken):
        await accounts.refresh(rotated[0].refresh)


async def test_an_unknown_or_expired_refresh_token_is_invalid(
    accounts: AccountService, alice: User, clock: FrozenClock
) -> None:
    pair = await _login(accounts)
    with pytest.raises(InvalidToken):
        await accounts.refresh("made-up-token")

    clock.advance(seconds=REFRESH_TTL)

    with pytest.raises(InvalidToken):
        await accounts.refresh(pair.refresh)


async def test_logging_out_ends_the_chain_but_not_other_sessions(
    accounts: AccountService, alice: User
) -> None:
    first = await _login(accounts)
    newest = await accounts.refresh(first.refresh)
    other_session = await _login(accounts)

    await accounts.logout(newest.refresh)

    with pytest.raises(InvalidToken):
        await accounts.refresh(newest.refresh)
    assert (await accounts.refresh(other_session.refresh)).refresh


async def test_logging_out_with_an_older_token_of_the_chain_ends_the_newest_too(
    accounts: AccountService, alice: User
) -> None:
    first = await _login(accounts)
    newest = await accounts.refresh(first.refresh)

    await accounts.logout(first.refresh)

    with pytest.raises(InvalidToken):
        await accounts.refresh(newest.refresh)


async def test_housekeeping_keeps_an_expired_token_that_can_still_end_a_live_chain(
    accounts: AccountService,
    alice: User,
    store: MemoryStore,
    clock: FrozenClock,
    limiter: MemoryAttemptLimiter,
) -> None:
    # A thief refreshed a stolen token; the owner's copy has expired since. Logging out with it
    # must still end the thief's chain, after any number of housekeeping runs.
    owners = await _login(accounts)
    clock.advance(seconds=REFRESH_TTL - 60)
    thiefs = await accounts.refresh(owners.refresh)
    clock.advance(seconds=120)  # the owner's token has expired, the thief's has not
    await Housekeeping(uow=store.unit_of_work, limiter=limiter, clock=clock).run()

    await accounts.logout(owners.refresh)

    with pytest.raises(InvalidToken):
        await accounts.refresh(thiefs.refresh)


async def test_logging_out_with_an_unknown_token_is_invalid(accounts: AccountService) -> None:
    with pytest.raises(InvalidToken):
        await accounts.logout("made-up-token")


# --- changing the password --------------------------------------------------------------------


async def test_changing_the_password_signs_out_every_session(accounts: AccountService, alice: User) -> None:
    sessions = [await _login(accounts), await _login(accounts)]

    await accounts.change_password(
        alice.id, old_password=PASSWORD, new_password=NEW_PASSWORD, new_password2=NEW_PASSWORD
    )

    for pair in sessions:
        with pytest.raises(InvalidToken):
            await accounts.refresh(pair.refresh)
    with pytest.raises(InvalidCredentials):
        await _login(accounts, password=PASSWORD)
    assert accounts.authenticate((await _login(accounts, password=NEW_PASSWORD)).access) == alice.id


async def test_changing_the_password_needs_the_current_one(accounts: AccountService, alice: User) -> None:
    session = await _login(accounts)

    with pytest.raises(ValidationFailed) as caught:
        await accounts.change_password(
            alice.id, old_password="not it at all", new_password=NEW_PASSWORD, new_password2=NEW_PASSWORD
        )

    assert caught.value.field == "old_password"
    assert (await accounts.refresh(session.refresh)).refresh
    assert (await _login(accounts, password=PASSWORD)).access


@pytest.mark.parametrize(
    ("new_password", "new_password2", "field"),
    [("battery 1", "battery 2", "new_password2"), ("1234567890", "1234567890", "new_password")],
)
async def test_the_new_password_follows_the_sign_up_rules(
    accounts: AccountService, alice: User, new_password: str, new_password2: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await accounts.change_password(
            alice.id, old_password=PASSWORD, new_password=new_password, new_password2=new_password2
        )

    assert caught.value.field == field
    assert (await _login(accounts, password=PASSWORD)).access


async def test_a_burst_of_concurrent_guesses_cannot_slip_past_the_limit(
    store: MemoryStore, clock: FrozenClock
) -> None:
    accounts = AccountService(
        uow=functools.partial(yielding, store),
        hasher=QuickHasher(),
        tokens=HmacTokens(b"unit-test-secret"),
        clock=clock,
        limiter=MemoryAttemptLimiter(max_failures=3),
    )
    await accounts.register(
        username="carol", email="carol@example.com", password=PASSWORD, password2=PASSWORD
    )
    outcomes = await asyncio.gather(
        *(accounts.login(login="carol", password=f"guess {n}", client=f"203.0.113.{n}") for n in range(50)),
        return_exceptions=True,
    )
    checked = sum(isinstance(outcome, InvalidCredentials) for outcome in outcomes)
    throttled = sum(isinstance(outcome, TooManyAttempts) for outcome in outcomes)
    assert checked <= 3
    assert checked + throttled == 50


async def test_username_and_email_share_one_budget(accounts: AccountService, alice: User) -> None:
    for n in range(MAX_FAILURES):
        login = "alice" if n % 2 else "alice@example.com"
        with pytest.raises(InvalidCredentials):
            await accounts.login(login=login, password="guess", client=f"198.51.100.{n}")
    with pytest.raises(TooManyAttempts):
        await accounts.login(login="ALICE", password=PASSWORD, client="198.51.100.99")
