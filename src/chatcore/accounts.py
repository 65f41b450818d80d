"""Use cases of the account side (SPEC §4.1, §4.5): sign-up, tokens, profile, API keys.

Refresh tokens are opaque random strings; only their SHA-256 is stored. Each login starts a
chain (``family``); refreshing marks the presented token used and issues the next one in the
same chain. A used token presented again means it leaked: the whole chain is revoked.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta

from chatcore.errors import (
    AccountDisabled,
    AccountGone,
    EmailTaken,
    InvalidCredentials,
    InvalidToken,
    PasswordRequired,
    TokenReused,
    UsernameTaken,
    ValidationFailed,
)
from chatcore.fairness import FairTurns
from chatcore.model import ApiKey, LinkedAccount, RefreshRecord, User
from chatcore.ports.clock import Clock
from chatcore.ports.security import AttemptLimiter, PasswordHasher, TokenService
from chatcore.ports.storage import UnitOfWorkFactory
from chatcore.throttling import Throttle, ThrottlePolicy, account_key, address_key
from chatcore.validation import validate_email, validate_new_password, validate_username

API_KEY_PREFIX = "ck_"
DEVICE = "device"
"""The purpose of device tokens (signed: ``TokenService.issue_signed``)."""
DEVICE_TTL = 180 * 86_400
"""Seconds a device token lets its browser past a spent address budget."""
MAX_API_KEYS = 20
"""Personal API keys a user may hold at once."""
KEY_USE_GRANULARITY = timedelta(hours=1)
"""How precisely an API key's ``last_used_at`` is kept (one write per key per period at most)."""


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int
    device: str | None = None
    """After a password login: the device token that lets this browser log in to this account
    again past a spent address budget (:meth:`AccountService.login`)."""


@dataclass(frozen=True, slots=True)
class Profile:
    user: User
    linked_accounts: tuple[LinkedAccount, ...]


def digest(secret: str) -> str:
    """The stored form of a high-entropy secret (refresh token, API key)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class AccountService:
    """Everything about who a user is. One public method per use case."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        tokens: TokenService,
        clock: Clock,
        limiter: AttemptLimiter,
        refresh_ttl: int = 1_209_600,
        throttle_policy: ThrottlePolicy | None = None,
        password_checks: int | None = None,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._throttle = Throttle(limiter=limiter, clock=clock, policy=throttle_policy or ThrottlePolicy())
        self._refresh_ttl = refresh_ttl
        self._dummy_hash: str | None = None
        # Logins wait for a password check by client address in turn (one place per core).
        self._checks = FairTurns(password_checks or os.cpu_count() or 1)

    async def register(
        self,
        *,
        username: str,
        email: str | None,
        password: str,
        password2: str,
        is_admin: bool = False,
        client: str | None = None,
    ) -> User:
        """Create a password account. Raises ``ValidationFailed``, ``UsernameTaken``,
        ``EmailTaken``, and ``TooManyAttempts`` when ``client``'s address has signed up too often.

        ``email`` may be ``None`` only for accounts made on the server (``create-admin``); the
        sign-up endpoint always passes one. Taken names are refused before the slow hashing (the
        unique constraints still decide a race between two sign-ups).
        """
        validate_username(username)
        address = None if email is None else validate_email(email)
        validate_new_password(password, password2, username=username, field="password")
        if client is not None:
            await self._throttle.join_attempt(client=client)
        async with self._uow(read_only=True) as uow:
            if await uow.users.username_exists(username):
                raise UsernameTaken
            if address is not None and await uow.users.find_by_login(address) is not None:
                raise EmailTaken
        password_hash = await self._hasher.hash(password)
        async with self._uow() as uow:
            user = await uow.users.add(
                username=username,
                email=address,
                password_hash=password_hash,
                now=self._clock.now(),
                is_admin=is_admin,
            )
            await uow.commit()
        return user

    async def login(self, *, login: str, password: str, client: str, device: str | None = None) -> TokenPair:
        """Check a username (or e-mail) and password and start a token chain.

        Unknown users and wrong passwords look the same, in answer and in time. The attempt is
        counted against the account's and the client address's budgets before the password is
        checked (:mod:`chatcore.throttling`), so no burst of concurrent guesses gets past either;
        a spent budget raises ``TooManyAttempts``. ``device`` is the device token of an earlier
        login to this account from the same browser (``TokenPair.device``): with it the address's
        budget is not asked, so a flood of failures from an address (an office, a proxy) never
        locks out the people there who have logged in before; the account's budget still holds.
        Password checks wait their turn by address, so one address's flood cannot hold up the
        logins of everyone else.
        """
        async with self._uow(read_only=True) as uow:
            user = await uow.users.find_by_login(login.strip())
        # One budget per account, whether it is named by username or e-mail; an unknown login
        # gets the budget of what was typed.
        account = account_key(user.id) if user is not None else f"login:{login.strip().casefold()}"
        known = user is not None and device is not None and self._device_of(device) == user.id
        attempt = await self._throttle.password_attempt(account=account, client=None if known else client)
        async with self._checks.turn(address_key(client)):
            if user is None or user.password_hash is None:
                await self._hasher.verify(await self._dummy(), password)
                raise InvalidCredentials
            if not await self._hasher.verify(user.password_hash, password):
                raise InvalidCredentials
        await self._throttle.succeeded(attempt)
        if self._hasher.needs_rehash(user.password_hash):
            new_hash = await self._hasher.hash(password)
            async with self._uow() as uow:
                await uow.users.update(user.id, password_hash=new_hash)
                await uow.commit()
        pair = await self.sign_in(user)
        token = self._tokens.issue_signed(DEVICE, str(user.id), ttl=DEVICE_TTL, now=self._clock.now())
        return replace(pair, device=token)

    def _device_of(self, device: str) -> int | None:
        try:
            subject = self._tokens.verify_signed(DEVICE, device, now=self._clock.now())
        except InvalidToken:
            return None
        return int(subject) if subject.isdigit() else None

    async def confirm_password(self, user_id: int, password: str, *, field: str = "password") -> User:
        """Check a signed-in user's current password before a sensitive change.

        Every check draws on the account's login budget (``TooManyAttempts`` once spent), so a
        stolen access token cannot be used to guess the password through these doors either. A
        wrong password raises ``ValidationFailed`` on ``field``; an account without a password
        (signed up through a provider) raises ``PasswordRequired``.
        """
        async with self._uow(read_only=True) as uow:
            user = require_active(await uow.users.get(user_id))
        if user.password_hash is None:
            raise PasswordRequired
        attempt = await self._throttle.password_attempt(account=account_key(user_id))
        if not await self._hasher.verify(user.password_hash, password):
            raise ValidationFailed("The current password is incorrect.", field=field)
        await self._throttle.succeeded(attempt)
        return user

    async def sign_in(self, user: User) -> TokenPair:
        """Start a session for a user who proved who they are: the one door every way of logging
        in ends at (a password here, Kakao and GitHub in :class:`chatcore.oauth.OAuthService`), so
        a rule about who may log in at all belongs here and holds for every method."""
        return await self.issue_tokens(user.id)

    async def issue_tokens(self, user_id: int, *, family: str | None = None) -> TokenPair:
        """A new access token and refresh token (a new chain unless ``family`` is given): the one
        way every login method ends. Raises ``AccountDisabled`` for a deactivated account (only
        after its credentials were checked, so the answer tells a guesser nothing) and
        ``AccountGone`` for a deleted one."""
        pair, record = self._new_pair(user_id, family=family or secrets.token_urlsafe(16))
        async with self._uow() as uow:
            # A deactivation that commits first is seen here; a chain stored just after one is
            # still refused, as refreshing reads the owner first.
            require_active(await uow.users.get(user_id))
            await uow.refresh_tokens.add(record)
            await uow.commit()
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token stops working and the next one of its chain is issued."""
        token_hash = digest(refresh_token)
        now = self._clock.now()
        async with self._uow() as uow:
            record = await uow.refresh_tokens.find(token_hash)
            if record is None:
                raise InvalidToken
            # The owner first: a deactivated account's (revoked) tokens answer account_disabled.
            owner = await uow.users.get(record.user_id)
            if owner is not None and not owner.is_active:
                raise AccountDisabled
            if record.revoked or record.expires_at <= now:
                raise InvalidToken
            if record.used or not await uow.refresh_tokens.mark_used(token_hash):
                await uow.refresh_tokens.revoke_family(record.family)
                await uow.commit()
                raise TokenReused
            if owner is None:
                raise InvalidToken
            # The successor is stored in the same transaction that uses up its predecessor, so
            # a concurrent reuse that revokes the chain cannot miss it.
            pair, successor = self._new_pair(record.user_id, family=record.family)
            await uow.refresh_tokens.add(successor)
            await uow.commit()
        return pair

    def _new_pair(self, user_id: int, *, family: str) -> tuple[TokenPair, RefreshRecord]:
        now = self._clock.now()
        access = self._tokens.issue_access(user_id, now=now)
        refresh = secrets.token_urlsafe(32)
        record = RefreshRecord(
            token_hash=digest(refresh),
            user_id=user_id,
            family=family,
            expires_at=now + timedelta(seconds=self._refresh_ttl),
        )
        return TokenPair(access=access.token, refresh=refresh, expires_in=access.expires_in), record

    async def logout(self, refresh_token: str) -> None:
        """End the chain of ``refresh_token`` (idempotent for an already revoked one)."""
        async with self._uow() as uow:
            record = await uow.refresh_tokens.find(digest(refresh_token))
            if record is None:
                raise InvalidToken
            # Using the token first serialises with a concurrent refresh of it (both update the
            # same row): the chain is then revoked after that refresh has stored its new token,
            # or the refresh finds the token used and revokes the chain itself.
            await uow.refresh_tokens.mark_used(record.token_hash)
            await uow.refresh_tokens.revoke_family(record.family)
            await uow.commit()

    def authenticate(self, access_token: str) -> int:
        """The user id of a valid access token. Raises ``InvalidToken``."""
        return self._tokens.verify_access(access_token, now=self._clock.now())

    async def authenticate_user(self, access_token: str) -> int:
        """Like :meth:`authenticate`, and the user must still exist and be active: the token of a
        deleted or deactivated account stops working at once, on every worker (one primary-key
        read). Raises ``InvalidToken`` (``AccountGone``) or ``AccountDisabled``."""
        user_id = self.authenticate(access_token)
        async with self._uow(read_only=True) as uow:
            require_active(await uow.users.get(user_id))
        return user_id

    async def authenticate_api_key(self, key: str) -> int:
        """The user id of a personal API key. Raises ``InvalidToken`` (also for a key of a
        deactivated account: the key's lookup leaves those out, at no extra cost).

        Records when the key was last used, to the hour (:data:`KEY_USE_GRANULARITY`): a write
        at most once an hour per key, not one per request."""
        if not key.startswith(API_KEY_PREFIX):
            raise InvalidToken
        async with self._uow(read_only=True) as uow:
            found = await uow.api_keys.find(digest(key))
        if found is None:
            raise InvalidToken
        now = self._clock.now()
        since = now - KEY_USE_GRANULARITY
        if found.last_used_at is None or found.last_used_at < since:
            async with self._uow() as uow:
                await uow.api_keys.record_use(found.id, now=now, unless_since=since)
                await uow.commit()
        return found.user_id

    async def profile(self, user_id: int) -> Profile:
        async with self._uow(read_only=True) as uow:
            user = require_active(await uow.users.get(user_id))
            linked = await uow.identities.list_for(user_id)
        return Profile(user=user, linked_accounts=tuple(linked))

    async def update_profile(self, user_id: int, *, password: str, email: str | None = None) -> Profile:
        """Change the e-mail (``None``: unchanged). Needs the current ``password``
        (:meth:`confirm_password`); without a change, the password is not even checked."""
        if email is None:
            return await self.profile(user_id)
        address = validate_email(email)
        await self.confirm_password(user_id, password)
        async with self._uow() as uow:
            user = await uow.users.update(user_id, email=address)
            linked = await uow.identities.list_for(user_id)
            await uow.commit()
        return Profile(user=user, linked_accounts=tuple(linked))

    async def change_password(
        self, user_id: int, *, old_password: str | None, new_password: str, new_password2: str
    ) -> None:
        """Change the password and sign out every session (all refresh tokens are revoked).

        An account made through a provider has no password yet: its first one is set without
        ``old_password`` (``None``). Otherwise ``old_password`` is checked as every confirmation
        is (:meth:`confirm_password`: ``ValidationFailed``, ``TooManyAttempts``, and
        ``PasswordRequired`` when one is given to an account that has none)."""
        if old_password is None:
            async with self._uow(read_only=True) as uow:
                user = await uow.users.get(user_id)
            if user is None:
                raise AccountGone
            if user.password_hash is not None:
                raise ValidationFailed("Enter your current password.", field="old_password")
        else:
            user = await self.confirm_password(user_id, old_password, field="old_password")
        validate_new_password(new_password, new_password2, username=user.username, field="new_password")
        new_hash = await self._hasher.hash(new_password)
        async with self._uow() as uow:
            await uow.users.update(user_id, password_hash=new_hash)
            await uow.refresh_tokens.revoke_user(user_id)
            await uow.commit()

    async def create_api_key(self, user_id: int, *, name: str, password: str) -> tuple[ApiKey, str]:
        """A new personal API key; the secret is returned once and only its hash is stored.

        Needs the current ``password`` (:meth:`confirm_password`): a key outlives a password
        change, so a stolen access token must not be enough to make one. At most
        :data:`MAX_API_KEYS` per user (``TooManyApiKeys``).
        """
        label = " ".join(name.split())[:100]
        if not label:
            raise ValidationFailed("Give the key a name.", field="name")
        await self.confirm_password(user_id, password)
        secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
        async with self._uow() as uow:
            key = await uow.api_keys.add(
                user_id=user_id,
                name=label,
                prefix=secret[:10],
                key_hash=digest(secret),
                now=self._clock.now(),
                at_most=MAX_API_KEYS,
            )
            await uow.commit()
        return key, secret

    async def list_api_keys(self, user_id: int) -> list[ApiKey]:
        async with self._uow(read_only=True) as uow:
            return await uow.api_keys.list_for(user_id)

    async def delete_api_key(self, user_id: int, key_id: int) -> bool:
        async with self._uow() as uow:
            deleted = await uow.api_keys.delete(user_id, key_id)
            await uow.commit()
        return deleted

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash


def require_active(user: User | None) -> User:
    """The user, if they still exist (``AccountGone``) and are active (``AccountDisabled``):
    how a use case that reads the signed-in user's row anyway refuses a deleted or deactivated
    account's token (``app_http.auth``)."""
    if user is None:
        raise AccountGone
    if not user.is_active:
        raise AccountDisabled
    return user
