"""Security ports: password hashing, signed tokens and counting failed attempts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class AttemptLimiter(Protocol):
    """Counts failed attempts per key (an account, a client address) across worker processes."""

    async def blocked_for(
        self, keys: Sequence[str], *, now: datetime, allowance: int = 0, limit: int | None = None
    ) -> int | None:
        """Seconds until ``keys`` may try again, or ``None`` when none of them is blocked.

        A key is blocked while it has at least ``limit + allowance`` failures within the window
        (``limit`` defaults to the limiter's own ``max_failures``). ``allowance=1`` asks about a
        key whose current attempt was already recorded.
        """
        ...

    async def record_failure(self, keys: Sequence[str], *, now: datetime) -> None: ...

    async def withdraw(self, keys: Sequence[str], *, at: datetime) -> None:
        """Forget one failure of each key recorded at ``at`` (an attempt counted before it was
        checked, that turned out right); nothing for a key without one."""
        ...

    async def reset(self, keys: Sequence[str]) -> None: ...

    async def purge(self, *, now: datetime) -> None:
        """Forget the failures that can no longer count (older than the window), for every key."""
        ...


class PasswordHasher(Protocol):
    """Slow, salted password hashing (Argon2id in production). Async: it must not block the loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class TokenService(Protocol):
    """Signed, short-lived tokens: access tokens and purpose-bound ones (OAuth state, link)."""

    def issue_access(self, user_id: int, *, now: datetime) -> IssuedToken: ...

    def verify_access(self, token: str, *, now: datetime) -> int:
        """The user id of a valid access token. Raises ``InvalidToken``."""
        ...

    def issue_signed(self, purpose: str, subject: str, *, ttl: int, now: datetime) -> str:
        """A token for ``purpose`` (never ``"access"``: raises ``ValueError``), valid ``ttl`` seconds."""
        ...

    def verify_signed(self, purpose: str, token: str, *, now: datetime) -> str:
        """The subject of a valid token for ``purpose``. Raises ``InvalidToken`` (always for
        ``"access"``: an access token is never accepted as a purpose-bound one)."""
        ...
