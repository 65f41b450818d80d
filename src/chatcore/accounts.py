"""Use cases of the account side (SPEC §4.1, §4.5): sign-up, tokens, profile, API keys, admin.

Refresh tokens are opaque random strings; only their SHA-256 is stored. Each login starts a
chain (``family``); refreshing marks the presented token used and issues the next one in the
same chain. A used token presented again means it leaked: the whole chain is revoked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from chatcore.errors import (
    InvalidCredentials,
    InvalidToken,
    PermissionDenied,
    TokenReused,
    TooManyAttempts,
    UserNotFound,
    ValidationFailed,
)
from chatcore.model import ApiKey, LinkedAccount, RefreshRecord, User
from chatcore.ports import AttemptLimiter, Clock, PasswordHasher, TokenService, UnitOfWorkFactory

USERNAME_RE = re.compile(r"[A-Za-z0-9_.\-]{3,30}")
EMAIL_RE = re.compile(
    r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]{1,63})+"
)
MAX_EMAIL_CHARS = 254
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
API_KEY_PREFIX = "ck_"
KEY_USE_GRANULARITY = timedelta(hours=1)
"""How precisely an API key's ``last_used_at`` is kept (one write per key per period at most)."""


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class Profile:
    user: User
    linked_accounts: tuple[LinkedAccount, ...]


def digest(secret: str) -> str:
    """The stored form of a high-entropy secret (refresh token, API key)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def validate_username(username: str) -> str:
    if not USERNAME_RE.fullmatch(username):
        raise ValidationFailed(
            "The username must be 3 to 30 letters, digits or . _ - characters.", field="username"
        )
    return username


def validate_email(email: str) -> str:
    cleaned = email.strip()
    if len(cleaned) > MAX_EMAIL_CHARS or not EMAIL_RE.fullmatch(cleaned):
        raise ValidationFailed("Enter a valid e-mail address.", field="email")
    return cleaned


def validate_new_password(password: str, password2: str, *, username: str, field: str) -> str:
    if password != password2:
        raise ValidationFailed("The two passwords do not match.", field=f"{field}2")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationFailed(
            f"The password must be at least {MIN_PASSWORD_CHARS} characters long.", field=field
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValidationFailed("The password is too long.", field=field)
    if password.isdigit():
        raise ValidationFailed("The password must not be only digits.", field=field)
    if password.casefold() == username.casefold():
        raise ValidationFailed("The password must differ from the username.", field=field)
    return password


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
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._limiter = limiter
        self._refresh_ttl = refresh_ttl
        self._dummy_hash: str | None = None

    async def register(
        self, *, username: str, email: str, password: str, password2: str, is_admin: bool = False
    ) -> User:
        """Create a password account. Raises ``ValidationFailed``, ``UsernameTaken``, ``EmailTaken``."""
        validate_username(username)
        address = validate_email(email)
        validate_new_password(password, password2, username=username, field="password")
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

    async def login(self, *, login: str, password: str, client: str) -> TokenPair:
        """Check a username (or e-mail) and password and start a token chain.

        Unknown users and wrong passwords look the same, in answer and in time. Repeated
        failures for an account or a client address raise ``TooManyAttempts``; the account's
        limit holds however many guesses are sent at once.
        """
        async with self._uow(read_only=True) as uow:
            user = await uow.users.find_by_login(login.strip())
        # One budget per account, whether it is named by username or e-mail; an unknown login
        # gets the budget of what was typed.
        account = f"user:{user.id}" if user is not None else f"login:{login.strip().casefold()}"
        address = f"client:{client}"
        now = self._clock.now()
        wait = await self._limiter.blocked_for((account, address), now=now)
        if wait is not None:
            raise TooManyAttempts(retry_after=wait)
        # The attempt counts against the account before the slow password check, so a burst of
        # concurrent guesses cannot all slip past the limit; a success forgets it again.
        await self._limiter.record_failure((account,), now=now)
        wait = await self._limiter.blocked_for((account,), now=now, allowance=1)
        if wait is not None:
            raise TooManyAttempts(retry_after=wait)
        if user is None or user.password_hash is None:
            await self._hasher.verify(await self._dummy(), password)
            await self._limiter.record_failure((address,), now=now)
            raise InvalidCredentials
        if not await self._hasher.verify(user.password_hash, password):
            await self._limiter.record_failure((address,), now=now)
            raise InvalidCredentials
        await self._limiter.reset((account,))
        if self._hasher.needs_rehash(user.password_hash):
            new_hash = await self._hasher.hash(password)
            async with self._uow() as uow:
                await uow.users.update(user.id, password_hash=new_hash)
                await uow.commit()
        return await self.issue_tokens(user.id)

    async def issue_tokens(self, user_id: int, *, family: str | None = None) -> TokenPair:
        """A new access token and refresh token (a new chain unless ``family`` is given)."""
        pair, record = self._new_pair(user_id, family=family or secrets.token_urlsafe(16))
        async with self._uow() as uow:
            await uow.refresh_tokens.add(record)
            await uow.commit()
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token stops working and the next one of its chain is issued."""
        token_hash = digest(refresh_token)
        now = self._clock.now()
        async with self._uow() as uow:
            record = await uow.refresh_tokens.find(token_hash)
            if record is None or record.revoked or record.expires_at <= now:
                raise InvalidToken
            if record.used or not await uow.refresh_tokens.mark_used(token_hash):
                await uow.refresh_tokens.revoke_family(record.family)
                await uow.commit()
                raise TokenReused
            if await uow.users.get(record.user_id) is None:
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

    async def authenticate_api_key(self, key: str) -> int:
        """The user id of a personal API key. Raises ``InvalidToken``.

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
            user = await uow.users.get(user_id)
            if user is None:
                raise UserNotFound
            linked = await uow.identities.list_for(user_id)
        return Profile(user=user, linked_accounts=tuple(linked))

    async def update_profile(self, user_id: int, *, email: str | None = None) -> Profile:
        address = None if email is None else validate_email(email)
        async with self._uow() as uow:
            user = await uow.users.update(user_id, email=address)
            linked = await uow.identities.list_for(user_id)
            await uow.commit()
        return Profile(user=user, linked_accounts=tuple(linked))

    async def change_password(
        self, user_id: int, *, old_password: str, new_password: str, new_password2: str
    ) -> None:
        """Change the password and sign out every session (all refresh tokens are revoked)."""
        async with self._uow(read_only=True) as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFound
        if user.password_hash is None or not await self._hasher.verify(user.password_hash, old_password):
            raise ValidationFailed("The current password is incorrect.", field="old_password")
        validate_new_password(new_password, new_password2, username=user.username, field="new_password")
        new_hash = await self._hasher.hash(new_password)
        async with self._uow() as uow:
            await uow.users.update(user_id, password_hash=new_hash)
            await uow.refresh_tokens.revoke_user(user_id)
            await uow.commit()

    async def create_api_key(self, user_id: int, *, name: str) -> tuple[ApiKey, str]:
        """A new personal API key; the secret is returned once and only its hash is stored."""
        label = " ".join(name.split())[:100]
        if not label:
            raise ValidationFailed("Give the key a name.", field="name")
        secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
        async with self._uow() as uow:
            key = await uow.api_keys.add(
                user_id=user_id,
                name=label,
                prefix=secret[:10],
                key_hash=digest(secret),
                now=self._clock.now(),
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

    async def set_daily_limit(self, admin_id: int, user_id: int, limit: int | None) -> User:
        """An administrator sets (or clears) a user's daily limit. Raises ``PermissionDenied``."""
        if limit is not None and limit < 0:
            raise ValidationFailed("The daily limit must not be negative.", field="daily_limit")
        async with self._uow() as uow:
            admin = await uow.users.get(admin_id)
            if admin is None or not admin.is_admin:
                raise PermissionDenied
            user = await uow.users.set_daily_limit(user_id, limit)
            await uow.commit()
        return user

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash
