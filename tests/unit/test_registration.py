"""Signing up through AccountService (SPEC §4.1) and editing the profile."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryAttemptLimiter, MemoryStore
from chatcore.accounts import AccountService
from chatcore.errors import EmailTaken, TooManyAttempts, UsernameTaken, ValidationFailed
from chatcore.model import User
from chatcore.testing import FrozenClock, HmacTokens, QuickHasher
from chatcore.throttling import ThrottlePolicy

from .conftest import PASSWORD


async def _join(
    accounts: AccountService,
    *,
    username: str = "minji",
    email: str = "minji@example.com",
    password: str = PASSWORD,
    password2: str | None = None,
) -> User:
    return await accounts.register(
        username=username,
        email=email,
        password=password,
        password2=password if password2 is None else password2,
    )


async def test_a_new_user_is_stored_with_a_hashed_password(
    accounts: AccountService, clock: FrozenClock
) -> None:
    user = await _join(accounts, email="  minji@example.com ")

    assert (user.username, user.email) == ("minji", "minji@example.com")
    assert user.date_joined == clock.now()
    assert not user.is_admin
    assert user.daily_limit is None
    assert user.password_hash is not None
    assert PASSWORD not in user.password_hash
    assert (await accounts.profile(user.id)).user == user


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"password2": "correct horse 2"}, "password2"),
        ({"password": "short1!"}, "password"),
        ({"password": "1234567890"}, "password"),
        ({"username": "Minji_Kim", "password": "minji_kim"}, "password"),
    ],
    ids=["mismatch", "under 8 characters", "all digits", "equal to the username"],
)
async def test_a_weak_or_mismatched_password_is_refused(
    accounts: AccountService, fields: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await _join(accounts, **fields)

    assert caught.value.field == field


async def test_a_password_of_exactly_8_characters_is_enough(accounts: AccountService) -> None:
    user = await _join(accounts, password="abcdefg1")

    assert user.username == "minji"


@pytest.mark.parametrize(
    "email",
    ["no-at-sign", "minji@", "@example.com", "minji@localhost", "min ji@example.com", "a@b@example.com", ""],
)
async def test_a_bad_email_is_refused(accounts: AccountService, email: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await _join(accounts, email=email)

    assert caught.value.field == "email"


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 31, "min ji", "민지_kim", "minji!", "minji@home", "", "tab\there"],
)
async def test_a_username_outside_3_to_30_allowed_characters_is_refused(
    accounts: AccountService, username: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await _join(accounts, username=username)

    assert caught.value.field == "username"


@pytest.mark.parametrize("username", ["abc", "a" * 30, "Min.ji_K-1"])
async def test_usernames_of_3_to_30_allowed_characters_are_accepted(
    accounts: AccountService, username: str
) -> None:
    user = await _join(accounts, username=username)

    assert user.username == username


async def test_a_taken_username_is_refused_whatever_its_case(accounts: AccountService) -> None:
    await _join(accounts, username="minji", email="first@example.com")

    with pytest.raises(UsernameTaken):
        await _join(accounts, username="MinJi", email="second@example.com")


async def test_a_taken_email_is_refused_whatever_its_case(accounts: AccountService) -> None:
    await _join(accounts, username="first", email="minji@example.com")

    with pytest.raises(EmailTaken):
        await _join(accounts, username="second", email="MINJI@Example.com")


async def test_the_email_can_be_changed_but_not_to_a_taken_one(accounts: AccountService) -> None:
    minji = await _join(accounts, username="minji", email="minji@example.com")
    await _join(accounts, username="jisoo", email="jisoo@example.com")

    profile = await accounts.update_profile(minji.id, email="minji@new.example.com", password=PASSWORD)
    with pytest.raises(EmailTaken):
        await accounts.update_profile(minji.id, email="JISOO@example.com", password=PASSWORD)
    with pytest.raises(ValidationFailed):
        await accounts.update_profile(minji.id, email="not an email", password=PASSWORD)

    assert profile.user.email == "minji@new.example.com"
    assert (await accounts.profile(minji.id)).user.email == "minji@new.example.com"


@pytest.mark.parametrize(
    "email",
    [
        "min\x00ji@example.com",
        "minji@example.com\n",
        "minji\r\n@example.com",
        "min\tji@example.com",
        "min ji@example.com",
        "minji\x7f@example.com",
        "\u200bminji@example.com",
        "min\u00a0ji@example.com",
        "minji\u2028@example.com",
    ],
    ids=[
        "NUL",
        "trailing newline",
        "CRLF",
        "tab",
        "space",
        "DEL",
        "zero-width space",
        "nbsp",
        "line separator",
    ],
)
async def test_an_email_with_control_characters_or_whitespace_is_refused(
    accounts: AccountService, email: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await _join(accounts, email=email)

    assert caught.value.field == "email"


class CountingHasher(QuickHasher):
    def __init__(self) -> None:
        super().__init__()
        self.hashed = 0

    async def hash(self, password: str) -> str:
        self.hashed += 1
        return await super().hash(password)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"username": "MINJI", "email": "other@example.com"}, UsernameTaken),
        ({"username": "other", "email": "Minji@Example.com"}, EmailTaken),
    ],
)
async def test_taken_names_are_refused_before_the_password_is_hashed(
    store: MemoryStore,
    clock: FrozenClock,
    limiter: MemoryAttemptLimiter,
    fields: dict[str, str],
    error: type[Exception],
) -> None:
    hasher = CountingHasher()
    accounts = AccountService(
        uow=store.unit_of_work, hasher=hasher, tokens=HmacTokens(b"k"), clock=clock, limiter=limiter
    )
    await _join(accounts)

    with pytest.raises(error):
        await _join(accounts, **fields)

    assert hasher.hashed == 1


async def test_sign_ups_from_one_address_are_throttled(store: MemoryStore, clock: FrozenClock) -> None:
    accounts = AccountService(
        uow=store.unit_of_work,
        hasher=QuickHasher(),
        tokens=HmacTokens(b"k"),
        clock=clock,
        limiter=MemoryAttemptLimiter(),
        throttle_policy=ThrottlePolicy(joins_per_address=3),
    )
    for n in range(3):
        await accounts.register(
            username=f"user{n}",
            email=f"user{n}@example.com",
            password=PASSWORD,
            password2=PASSWORD,
            client="203.0.113.9",
        )
    with pytest.raises(TooManyAttempts) as caught:
        await accounts.register(
            username="user3",
            email="user3@example.com",
            password=PASSWORD,
            password2=PASSWORD,
            client="203.0.113.9",
        )

    assert caught.value.retry_after == 15 * 60
    await accounts.register(
        username="user3",
        email="user3@example.com",
        password=PASSWORD,
        password2=PASSWORD,
        client="203.0.113.10",
    )
    clock.advance(minutes=15)
    await accounts.register(
        username="user4",
        email="user4@example.com",
        password=PASSWORD,
        password2=PASSWORD,
        client="203.0.113.9",
    )


async def test_an_account_made_on_the_server_may_have_no_email(accounts: AccountService) -> None:
    first = await accounts.register(
        username="root", email=None, password=PASSWORD, password2=PASSWORD, is_admin=True
    )
    second = await accounts.register(username="ops", email=None, password=PASSWORD, password2=PASSWORD)

    assert (first.email, second.email) == (None, None)
    assert (await accounts.login(login="root", password=PASSWORD, client="203.0.113.7")).access
