"""Logging in with Kakao or GitHub, and linking them to an account (SPEC §4.1).

A login (or a link) starts by storing a *state*: a random value that travels through the
provider and comes back to the callback. It is bound to the browser that started it by a second
random value, the *browser* value, which only that browser holds (the HTTP layer keeps it in a
short-lived HttpOnly cookie). The database keeps only the SHA-256 of both, and the PKCE
verifier is derived from both (HMAC), so nothing stored there can finish a login. A state is
used once, within :data:`STATE_TTL`, by the browser that started it.

A finished login yields a one-time code (stored hashed, used once, within :data:`CODE_TTL`)
which the page exchanges for tokens, through the same :meth:`AccountService.sign_in` as a
password login: no token ever appears in a URL. The code is bound to the browser value too (its
stored hash covers both), so a code carried to another browser is worth nothing there: an
attacker cannot log a victim's page in as themself with ``/#/oauth?code=<the attacker's>``.

A provider account is found by its provider and numeric id only, never by e-mail: the same
provider account is always the same user, and an address the provider reports never merges two
accounts (the known account-takeover path).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from chatcore.accounts import AccountService, TokenPair, digest
from chatcore.errors import (
    AccountDisabled,
    AccountGone,
    AlreadyLinked,
    Conflict,
    EmailTaken,
    InvalidLoginCode,
    NotLinked,
    OAuthDenied,
    OAuthStateInvalid,
    ProviderError,
    ProviderNotFound,
    UsernameTaken,
    ValidationFailed,
)
from chatcore.model import Provider, User
from chatcore.ports.clock import Clock
from chatcore.ports.oauth import OAuthProvider, ProviderAccount
from chatcore.ports.storage import OAuthState, UnitOfWork, UnitOfWorkFactory
from chatcore.throttling import Throttle
from chatcore.validation import validate_email

STATE_TTL = timedelta(minutes=10)
"""How long a started login may take at the provider."""
CODE_TTL = timedelta(seconds=60)
"""How long the one-time code of a finished login can be exchanged for tokens."""
BROWSER_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")
"""What a browser value looks like (32 random bytes, URL-safe base64)."""
MAX_USERNAME = 30
_USERNAME_TRIES = 20


@dataclass(frozen=True, slots=True)
class Started:
    """Where to send the browser, and the browser value it must keep until the callback."""

    url: str
    browser: str


@dataclass(frozen=True, slots=True)
class Finished:
    """A callback that worked: a login's one-time ``code``, or the ``linked`` provider."""

    provider: Provider
    code: str | None = None
    linked: bool = False


def _verifier(state: str, browser: str) -> str:
    """The PKCE verifier of a login: 43 URL-safe characters only its two random values give."""
    mac = hmac.new(browser.encode(), state.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _code_hash(code: str, browser: str) -> str:
    """The stored form of a one-time code, bound to the browser value of its login ("." is in
    neither, so the pair is unambiguous)."""
    return digest(f"{browser}.{code}")


def username_base(account: ProviderAccount) -> str:
    """A username made from the provider login: its allowed characters, or ``<provider>_<id>``
    when too few remain (a Korean nickname, say)."""
    kept = re.sub(r"[^A-Za-z0-9_.-]+", "", account.account.login)[: MAX_USERNAME - 7]
    if len(kept) >= 3:
        return kept
    return f"{account.account.provider.value}_{account.account.subject}"[: MAX_USERNAME - 7]


class OAuthService:
    """Kakao and GitHub: login, link, unlink, the one-time code. One public method per use case."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        accounts: AccountService,
        providers: Mapping[Provider, OAuthProvider],
        clock: Clock,
        throttle: Throttle | None = None,
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._providers = dict(providers)
        self._clock = clock
        self._throttle = throttle

    def providers(self) -> list[Provider]:
        """The configured providers, in a stable order."""
        return [p for p in Provider if p in self._providers]

    def _provider(self, name: str) -> OAuthProvider:
        try:
            return self._providers[Provider(name)]
        except (ValueError, KeyError):
            raise ProviderNotFound from None

    async def start_login(self, name: str, *, browser: str | None, client: str | None = None) -> Started:
        """Begin a login: store a state bound to ``browser`` (a new browser value unless the
        one given is well-formed, so two tabs can log in at once). Raises ``ProviderNotFound``,
        and ``TooManyAttempts`` when ``client``'s address has started too many (each start
        stores a state until it expires)."""
        provider = self._provider(name)
        await self._count_start(client)
        return await self._start(provider, browser=browser, user_id=None)

    async def start_link(
        self, user_id: int, name: str, *, browser: str | None, client: str | None = None
    ) -> Started:
        """Begin linking a provider account to the signed-in user: as a login, and the state
        also names the user, so the callback links instead of logging in."""
        provider = self._provider(name)
        async with self._uow(read_only=True) as uow:
            if await uow.users.get(user_id) is None:
                raise AccountGone
        await self._count_start(client)
        return await self._start(provider, browser=browser, user_id=user_id)

    async def _count_start(self, client: str | None) -> None:
        if self._throttle is not None and client is not None:
            await self._throttle.oauth_start_attempt(client=client)

    async def _start(self, provider: OAuthProvider, *, browser: str | None, user_id: int | None) -> Started:
        if browser is None or not BROWSER_VALUE.fullmatch(browser):
            browser = secrets.token_urlsafe(32)
        state = secrets.token_urlsafe(32)
        record = OAuthState(
            state_hash=digest(state),
            browser_hash=digest(browser),
            provider=provider.name,
            expires_at=self._clock.now() + STATE_TTL,
            user_id=user_id,
        )
        async with self._uow() as uow:
            await uow.oauth.add_state(record)
            await uow.commit()
        url = provider.authorization_url(state=state, code_verifier=_verifier(state, browser))
        return Started(url=url, browser=browser)

    async def finish(
        self,
        name: str,
        *,
        state: str | None,
        browser: str | None,
        code: str | None,
        error: str | None = None,
    ) -> Finished:
        """The provider's callback. Checks the state (once, by the browser that started it),
        then logs in (a one-time code; a first login creates the user) or links.

        Raises ``ProviderNotFound``, ``OAuthStateInvalid``, ``OAuthDenied`` (the user said no),
        ``ProviderError``, ``ProviderUnavailable``, ``AlreadyLinked``, ``AccountGone``.
        """
        provider = self._provider(name)
        if not state or not browser or not BROWSER_VALUE.fullmatch(browser):
            raise OAuthStateInvalid
        async with self._uow() as uow:
            record = await uow.oauth.take_state(
                state_hash=digest(state),
                browser_hash=digest(browser),
                provider=provider.name,
                now=self._clock.now(),
            )
            await uow.commit()
        if record is None:
            raise OAuthStateInvalid
        if error is not None:
            raise OAuthDenied if error == "access_denied" else ProviderError
        if not code:
            raise ProviderError
        # The network call happens outside any transaction.
        account = await provider.fetch_account(code=code, code_verifier=_verifier(state, browser))
        if record.user_id is not None:
            await self._link(record.user_id, account)
            return Finished(provider=provider.name, linked=True)
        user_id = await self._user_for(account)
        one_time = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            await uow.oauth.add_code(
                code_hash=_code_hash(one_time, browser),
                user_id=user_id,
                expires_at=self._clock.now() + CODE_TTL,
            )
            await uow.commit()
        return Finished(provider=provider.name, code=one_time)

    async def _link(self, user_id: int, account: ProviderAccount) -> None:
        async with self._uow() as uow:
            if await uow.users.get(user_id) is None:
                raise AccountGone
            try:
                await uow.identities.link(user_id, account.account)
            except Conflict:
                raise AlreadyLinked from None
            await uow.commit()

    async def _user_for(self, account: ProviderAccount) -> int:
        """The user of this provider account, made on its first login. Two first logins of one
        account at once: the second's link conflicts, and it finds the first's user."""
        for _ in range(2):
            async with self._uow() as uow:
                found = await uow.identities.find_user_id(account.account.provider, account.account.subject)
                if found is not None:
                    user = await uow.users.get(found)
                    if user is not None and not user.is_active:
                        raise AccountDisabled  # said on the redirect, before any code is made
                    await uow.identities.link(found, account.account)  # the login may have changed
                    await uow.commit()
                    return found
                user = await self._new_user(uow, account)
                try:
                    await uow.identities.link(user.id, account.account)
                except Conflict:
                    continue  # rolled back on leaving the block
                await uow.commit()
                return user.id
        raise ProviderError("The account could not be created. Please try again.")

    async def _new_user(self, uow: UnitOfWork, account: ProviderAccount) -> User:
        """A user without a password, named after the provider login (made unique), with the
        provider's verified e-mail when no one has it yet (never matched to anyone)."""
        email = await self._free_email(uow, account.email)
        base = username_base(account)
        candidates = [base] + [f"{base}_{n}" for n in range(2, 6)]
        for attempt in range(_USERNAME_TRIES):
            name = candidates[attempt] if attempt < len(candidates) else f"{base}_{secrets.token_hex(3)}"
            if await uow.users.username_exists(name):
                continue
            try:
                return await uow.users.add(
                    username=name, email=email, password_hash=None, now=self._clock.now()
                )
            except EmailTaken:  # taken since the check above: the user goes without it
                email = None
            except UsernameTaken:
                pass
        raise ProviderError("No free username could be found. Please try again.")

    @staticmethod
    async def _free_email(uow: UnitOfWork, email: str | None) -> str | None:
        if email is None:
            return None
        try:
            address = validate_email(email)
        except ValidationFailed:
            return None
        return None if await uow.users.find_by_login(address) is not None else address

    async def exchange(self, code: str, *, browser: str | None) -> TokenPair:
        """Tokens for a one-time login code (once, within :data:`CODE_TTL`, in the ``browser``
        that finished the login), through the same :meth:`AccountService.sign_in` as a password
        login. Raises ``InvalidLoginCode``."""
        if not browser or not BROWSER_VALUE.fullmatch(browser):
            raise InvalidLoginCode
        async with self._uow() as uow:
            user_id = await uow.oauth.use_code(_code_hash(code, browser), now=self._clock.now())
            user = None if user_id is None else await uow.users.get(user_id)
            await uow.commit()
        if user is None:
            raise InvalidLoginCode
        return await self._accounts.sign_in(user)

    async def unlink(self, user_id: int, name: str) -> None:
        """Remove the user's account of provider ``name`` (configured or not any more). Raises
        ``ProviderNotFound``, ``NotLinked``, ``LastLoginMethod``."""
        try:
            provider = Provider(name)
        except ValueError:
            raise ProviderNotFound from None
        async with self._uow() as uow:
            removed = await uow.identities.unlink(user_id, provider)
            await uow.commit()
        if not removed:
            raise NotLinked
