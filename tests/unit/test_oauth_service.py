"""OAuthService (SPEC §4.1): login, first-login users, the browser-bound state, the one-time code,
linking and unlinking, with an approving fake provider and the in-memory store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.memory import MemoryAttemptLimiter, MemoryStore
from chatcore.accounts import AccountService, TokenPair
from chatcore.errors import (
    AlreadyLinked,
    InvalidLoginCode,
    LastLoginMethod,
    NotLinked,
    OAuthDenied,
    OAuthStateInvalid,
    PasswordRequired,
    ProviderError,
    ProviderNotFound,
    ProviderUnavailable,
    TooManyAttempts,
    ValidationFailed,
)
from chatcore.model import LinkedAccount, Provider, User
from chatcore.oauth import OAuthService
from chatcore.ports.oauth import ProviderAccount
from chatcore.testing import ApprovingProvider, FrozenClock
from chatcore.throttling import Throttle, ThrottlePolicy

from .conftest import PASSWORD


def kakao_account(subject: int = 1001, login: str = "minji", email: str | None = None) -> ProviderAccount:
    return ProviderAccount(account=LinkedAccount(Provider.KAKAO, str(subject), login), email=email)


def github_account(subject: int = 2002, login: str = "octo", email: str | None = None) -> ProviderAccount:
    return ProviderAccount(account=LinkedAccount(Provider.GITHUB, str(subject), login), email=email)


@dataclass
class World:
    oauth: OAuthService
    kakao: ApprovingProvider
    github: ApprovingProvider
    accounts: AccountService
    store: MemoryStore
    clock: FrozenClock
    browsers: dict[str, str] = field(default_factory=dict)
    """The browser value of each one-time code's login."""

    async def login(self, provider: str = "kakao", *, browser: str | None = None) -> str:
        """A whole login in one browser; the one-time code."""
        started = await self.oauth.start_login(provider, browser=browser)
        fake = self.kakao if provider == "kakao" else self.github
        code = fake.approve(started.url)
        finished = await self.oauth.finish(
            provider, state=state_of(started.url), browser=started.browser, code=code
        )
        assert finished.code is not None
        self.browsers[finished.code] = started.browser
        return finished.code

    async def exchange(self, code: str) -> TokenPair:
        """The page of the browser that logged in exchanges the code."""
        return await self.oauth.exchange(code, browser=self.browsers.get(code, "b" * 43))

    async def user_of(self, code: str) -> User:
        pair = await self.exchange(code)
        user_id = self.accounts.authenticate(pair.access)
        async with self.store.unit_of_work(read_only=True) as tx:
            user = await tx.users.get(user_id)
        assert user is not None
        return user


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


@pytest.fixture
def world(accounts: AccountService, store: MemoryStore, clock: FrozenClock) -> World:
    kakao = ApprovingProvider(Provider.KAKAO, kakao_account(email="minji@example.com"))
    github = ApprovingProvider(Provider.GITHUB, github_account())
    oauth = OAuthService(
        uow=store.unit_of_work,
        accounts=accounts,
        providers={Provider.KAKAO: kakao, Provider.GITHUB: github},
        clock=clock,
    )
    return World(oauth, kakao, github, accounts, store, clock)


async def test_a_first_login_creates_a_user_and_the_next_finds_the_same(world: World) -> None:
    first = await world.user_of(await world.login())
    assert first.username == "minji"
    assert first.email == "minji@example.com"
    assert first.password_hash is None

    world.kakao.account = kakao_account(login="minji-renamed", email="other@example.com")
    again = await world.user_of(await world.login())

    assert again.id == first.id
    assert again.email == "minji@example.com"  # never changed, never used to find anyone
    profile = await world.accounts.profile(first.id)
    assert profile.linked_accounts == (LinkedAccount(Provider.KAKAO, "1001", "minji-renamed"),)


async def test_tokens_come_from_the_password_logins_path(world: World) -> None:
    pair = await world.exchange(await world.login())
    rotated = await world.accounts.refresh(pair.refresh)  # a real chain, as after /accounts/token/
    assert world.accounts.authenticate(rotated.access) == world.accounts.authenticate(pair.access)


async def test_the_same_email_never_merges_two_accounts(world: World, alice: User) -> None:
    world.kakao.account = kakao_account(1, "first", email="shared@example.com")
    first = await world.user_of(await world.login())
    world.kakao.account = kakao_account(2, "second", email="shared@example.com")
    second = await world.user_of(await world.login())
    world.github.account = github_account(3, "gh", email="alice@example.com")  # alice's address
    third = await world.user_of(await world.login("github"))

    assert len({first.id, second.id, third.id, alice.id}) == 4
    assert (first.email, second.email, third.email) == ("shared@example.com", None, None)


async def test_usernames_are_made_from_the_login_and_made_unique(world: World, alice: User) -> None:
    world.github.account = github_account(10, "alice")
    assert (await world.user_of(await world.login("github"))).username == "alice_2"
    world.kakao.account = kakao_account(11, "민지")  # nothing usable in a Korean nickname
    assert (await world.user_of(await world.login())).username == "kakao_11"
    world.github.account = github_account(12, "a" * 40)
    assert (await world.user_of(await world.login("github"))).username == "a" * 23


async def test_the_state_belongs_to_the_browser_that_started_the_login(world: World) -> None:
    started = await world.oauth.start_login("kakao", browser=None)
    code = world.kakao.approve(started.url)
    other = (await world.oauth.start_login("kakao", browser=None)).browser

    with pytest.raises(OAuthStateInvalid):
        await world.oauth.finish("kakao", state=state_of(started.url), browser=other, code=code)
    with pytest.raises(OAuthStateInvalid):
        await world.oauth.finish("kakao", state=state_of(started.url), browser=None, code=code)
    # The stranger did not spend it: the right browser still finishes, once.
    finished = await world.oauth.finish(
        "kakao", state=state_of(started.url), browser=started.browser, code=code
    )
    assert finished.code is not None
    with pytest.raises(OAuthStateInvalid):
        await world.oauth.finish("kakao", state=state_of(started.url), browser=started.browser, code=code)


async def test_two_logins_in_one_browser_share_its_value(world: World) -> None:
    first = await world.oauth.start_login("kakao", browser=None)
    second = await world.oauth.start_login("github", browser=first.browser)
    assert second.browser == first.browser
    assert (
        await world.oauth.start_login("kakao", browser="not a browser value")
    ).browser != "not a browser value"


async def test_a_tampered_or_expired_state_is_refused(world: World) -> None:
    started = await world.oauth.start_login("kakao", browser=None)
    code = world.kakao.approve(started.url)
    state = state_of(started.url)
    with pytest.raises(OAuthStateInvalid):
        await world.oauth.finish("kakao", state=state[:-1] + "x", browser=started.browser, code=code)
    with pytest.raises(OAuthStateInvalid):
        await world.oauth.finish("github", state=state, browser=started.browser, code=code)
    world.clock.advance(minutes=10)
    with pytest.raises(OAuthStateInvalid):
        await world.oauth.finish("kakao", state=state, browser=started.browser, code=code)


async def test_the_verifier_reaches_the_provider(world: World) -> None:
    started = await world.oauth.start_login("kakao", browser=None)
    world.kakao.approve(started.url)
    # A code issued for another authorization (another challenge) is refused by the provider.
    other = await world.oauth.start_login("kakao", browser=None)
    foreign_code = world.kakao.approve(other.url)
    with pytest.raises(ProviderError):
        await world.oauth.finish(
            "kakao", state=state_of(started.url), browser=started.browser, code=foreign_code
        )


@pytest.mark.parametrize(
    ("error", "raised"), [("access_denied", OAuthDenied), ("server_error", ProviderError)]
)
async def test_an_error_from_the_provider_spends_the_state(
    world: World, error: str, raised: type[Exception]
) -> None:
    started = await world.oauth.start_login("kakao", browser=None)
    with pytest.raises(raised):
        await world.oauth.finish(
            "kakao", state=state_of(started.url), browser=started.browser, code=None, error=error
        )
    with pytest.raises(OAuthStateInvalid):
        await world.oauth.finish("kakao", state=state_of(started.url), browser=started.browser, code="x")


async def test_a_provider_that_cannot_be_reached_creates_nothing(world: World) -> None:
    world.kakao.failure = ProviderUnavailable()
    with pytest.raises(ProviderUnavailable):
        await world.login()
    async with world.store.unit_of_work(read_only=True) as tx:
        assert await tx.users.find_by_login("minji") is None


async def test_the_one_time_code_works_once_within_60_seconds(world: World) -> None:
    code = await world.login()
    world.clock.advance(seconds=59)
    await world.exchange(code)
    with pytest.raises(InvalidLoginCode):
        await world.exchange(code)

    late = await world.login()
    world.clock.advance(seconds=60)
    with pytest.raises(InvalidLoginCode):
        await world.exchange(late)
    with pytest.raises(InvalidLoginCode):
        await world.exchange("made-up")


async def test_the_one_time_code_works_only_in_the_browser_that_logged_in(world: World) -> None:
    code = await world.login()
    other = (await world.oauth.start_login("kakao", browser=None)).browser
    for browser in (None, "", other, "not a browser value"):
        with pytest.raises(InvalidLoginCode):
            await world.oauth.exchange(code, browser=browser)
    await world.exchange(code)  # not spent by the refusals


async def test_logins_and_links_started_from_one_address_are_bounded(
    accounts: AccountService,
    store: MemoryStore,
    clock: FrozenClock,
    limiter: MemoryAttemptLimiter,
    alice: User,
) -> None:
    # Every start stores a state until it expires: a flood from one address must not fill the table.
    throttle = Throttle(limiter=limiter, clock=clock, policy=ThrottlePolicy(oauth_starts_per_address=3))
    kakao = ApprovingProvider(Provider.KAKAO, kakao_account())
    oauth = OAuthService(
        uow=store.unit_of_work,
        accounts=accounts,
        providers={Provider.KAKAO: kakao},
        clock=clock,
        throttle=throttle,
    )
    await oauth.start_login("kakao", browser=None, client="203.0.113.9")
    await oauth.start_link(alice.id, "kakao", browser=None, client="203.0.113.9")
    await oauth.start_login("kakao", browser=None, client="203.0.113.9")
    with pytest.raises(TooManyAttempts):
        await oauth.start_login("kakao", browser=None, client="203.0.113.9")
    with pytest.raises(TooManyAttempts):
        await oauth.start_link(alice.id, "kakao", browser=None, client="203.0.113.9")
    with pytest.raises(ProviderNotFound):  # an unknown provider is not counted, nor refused as a flood
        await oauth.start_login("naver", browser=None, client="203.0.113.9")
    await oauth.start_login("kakao", browser=None, client="198.51.100.7")  # another address
    async with store.unit_of_work() as tx:  # the stored states: the refused starts left none
        assert await tx.oauth.purge(now=clock.now() + timedelta(hours=1)) == 4
    clock.advance(minutes=15)
    await oauth.start_login("kakao", browser=None, client="203.0.113.9")


async def test_unknown_and_unconfigured_providers_are_not_found(
    accounts: AccountService, store: MemoryStore, clock: FrozenClock
) -> None:
    only_github = OAuthService(
        uow=store.unit_of_work,
        accounts=accounts,
        providers={Provider.GITHUB: ApprovingProvider(Provider.GITHUB, github_account())},
        clock=clock,
    )
    assert only_github.providers() == [Provider.GITHUB]
    for name in ("kakao", "facebook", ""):
        with pytest.raises(ProviderNotFound):
            await only_github.start_login(name, browser=None)


async def link(world: World, user_id: int, provider: str = "github") -> None:
    started = await world.oauth.start_link(user_id, provider, browser=None)
    fake = world.kakao if provider == "kakao" else world.github
    finished = await world.oauth.finish(
        provider, state=state_of(started.url), browser=started.browser, code=fake.approve(started.url)
    )
    assert finished.linked


async def test_link_then_login_with_the_linked_account(world: World, alice: User) -> None:
    await link(world, alice.id)

    assert (await world.user_of(await world.login("github"))).id == alice.id
    assert (await world.accounts.profile(alice.id)).linked_accounts == (github_account().account,)


async def test_linking_another_users_account_is_refused(world: World, alice: User, bob: User) -> None:
    await link(world, alice.id)
    with pytest.raises(AlreadyLinked):
        await link(world, bob.id)
    assert (await world.accounts.profile(bob.id)).linked_accounts == ()


async def test_unlinking_keeps_a_way_in(world: World, alice: User) -> None:
    oauth_only = await world.user_of(await world.login("kakao"))
    with pytest.raises(LastLoginMethod):
        await world.oauth.unlink(oauth_only.id, "kakao")
    with pytest.raises(NotLinked):
        await world.oauth.unlink(oauth_only.id, "github")
    with pytest.raises(ProviderNotFound):
        await world.oauth.unlink(oauth_only.id, "myspace")

    await link(world, oauth_only.id, "github")
    await world.oauth.unlink(oauth_only.id, "kakao")  # GitHub is left
    await link(world, alice.id, "kakao")
    await world.oauth.unlink(alice.id, "kakao")  # her password is left
    assert (await world.accounts.profile(alice.id)).linked_accounts == ()


async def test_an_oauth_only_user_sets_a_first_password_without_the_old_one(
    world: World, alice: User
) -> None:
    user = await world.user_of(await world.login("kakao"))
    new = "brand new pass 9"
    with pytest.raises(PasswordRequired):
        await world.accounts.change_password(user.id, old_password="", new_password=new, new_password2=new)

    await world.accounts.change_password(user.id, old_password=None, new_password=new, new_password2=new)

    assert (await world.accounts.login(login=user.username, password=new, client="203.0.113.9")).access
    await world.oauth.unlink(user.id, "kakao")  # now the password is a way in
    with pytest.raises(ValidationFailed):  # once there is one, it is asked for
        await world.accounts.change_password(
            user.id, old_password=None, new_password=PASSWORD, new_password2=PASSWORD
        )
    with pytest.raises(ValidationFailed):
        await world.accounts.change_password(alice.id, old_password=None, new_password=new, new_password2=new)
