"""Budgets for password guesses and sign-ups (SPEC §4.1), over an :class:`AttemptLimiter`.

Two budgets guard a password check, both counted *before* the slow check so a burst of
concurrent guesses cannot slip past either:

- the account's (``user:<id>``, or ``login:<what was typed>`` for an unknown login): small
  (the limiter's own ``max_failures``, 10 by default); logins, password changes, new API keys and e-mail
  changes all draw on it, and a success clears it;
- the client address's (``client:<address>``, an IPv6 address by its /64): far larger
  (:attr:`ThrottlePolicy.address_failures`), so that credential stuffing from one address
  (many accounts, a few guesses each) stops, while an office or a proxy whose users mistype now
  and then never gets near it. A success takes its own attempt back, so the right passwords of
  many people at one address never use the address's budget. And a login from a browser that
  already logged in to that account (its device token, see ``AccountService.login``) does not
  draw on the address's budget at all: a flood of failures from an address never locks out the
  people there who have logged in before.

Sign-ups are counted per address too (:attr:`ThrottlePolicy.joins_per_address`), every attempt,
before the password is hashed; so are Kakao and GitHub logins and links started
(:attr:`ThrottlePolicy.oauth_starts_per_address`), each of which stores a state until it expires.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from chatcore.errors import TooManyAttempts
from chatcore.ports.clock import Clock
from chatcore.ports.security import AttemptLimiter


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many attempts the address budgets hold within the limiter's window (15 minutes by
    default); the account's budget is the limiter's own ``max_failures``."""

    address_failures: int = 100
    joins_per_address: int = 300
    oauth_starts_per_address: int = 300


@dataclass(frozen=True, slots=True)
class Attempt:
    """A password check counted in advance; give it to :meth:`Throttle.succeeded` if it was right."""

    keys: tuple[str, ...]
    at: datetime


def account_key(user_id: int) -> str:
    return f"user:{user_id}"


def address_key(client: str) -> str:
    """The budget an address draws on: an IPv4 address as it is, an IPv6 one by its /64 (one
    subscriber usually holds a whole /64, so counting single addresses would give them millions of
    budgets), without a zone id. Anything else (a test client's name) as it is."""
    host = client.partition("%")[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return client
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Throttle:
    """Counts attempts against their budgets; raises ``TooManyAttempts`` when one is spent."""

    def __init__(self, *, limiter: AttemptLimiter, clock: Clock, policy: ThrottlePolicy) -> None:
        self._limiter = limiter
        self._clock = clock
        self._policy = policy

    async def password_attempt(self, *, account: str, client: str | None = None) -> Attempt:
        """Count one password check against ``account`` (and ``client``'s address, if given).

        Refused without counting when a budget is already spent; refused after counting when
        concurrent attempts spent it meanwhile (the attempt stays counted: it was made).
        """
        budgets: list[tuple[str, int | None]] = [(account, None)]
        if client is not None:
            budgets.append((f"client:{address_key(client)}", self._policy.address_failures))
        keys = tuple(key for key, _ in budgets)
        now = self._clock.now()
        await self._refuse_if_spent(budgets, now=now, allowance=0)
        await self._limiter.record_failure(keys, now=now)
        await self._refuse_if_spent(budgets, now=now, allowance=1)
        return Attempt(keys=keys, at=now)

    async def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the account's failures are forgotten, and the address gets
        this attempt back (only this one: a success must not wipe another's failures)."""
        account, *addresses = attempt.keys
        await self._limiter.reset((account,))
        if addresses:
            await self._limiter.withdraw(addresses, at=attempt.at)

    async def join_attempt(self, *, client: str) -> None:
        """Count one sign-up from ``client``'s address; raise ``TooManyAttempts`` past its budget."""
        await self._count(f"join:{address_key(client)}", self._policy.joins_per_address)

    async def oauth_start_attempt(self, *, client: str) -> None:
        """Count one provider login or link started from ``client``'s address (each stores a
        state until it expires); raise ``TooManyAttempts`` past its budget."""
        await self._count(f"oauth:{address_key(client)}", self._policy.oauth_starts_per_address)

    async def _count(self, key: str, limit: int) -> None:
        budgets: list[tuple[str, int | None]] = [(key, limit)]
        now = self._clock.now()
        await self._refuse_if_spent(budgets, now=now, allowance=0)
        await self._limiter.record_failure([budgets[0][0]], now=now)
        await self._refuse_if_spent(budgets, now=now, allowance=1)

    async def _refuse_if_spent(
        self, budgets: list[tuple[str, int | None]], *, now: datetime, allowance: int
    ) -> None:
        waits = [
            wait
            for key, limit in budgets
            if (wait := await self._limiter.blocked_for((key,), now=now, allowance=allowance, limit=limit))
            is not None
        ]
        if waits:
            raise TooManyAttempts(retry_after=max(waits))
