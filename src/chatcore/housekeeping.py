"""Housekeeping: forget what can no longer matter, so tables stay the size of what is live.

Refresh-token chains whose every token expired (a chain with a live token is kept whole: any of
its tokens can still end it or expose it as stolen), idempotency records past
their replay window, login failures older than the throttling window, OAuth states and one-time
login codes past their expiry. Each step is a plain
``DELETE`` by a time column (indexed), safe to run from every worker process at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatcore.ports.clock import Clock
from chatcore.ports.security import AttemptLimiter
from chatcore.ports.storage import UnitOfWorkFactory
from chatcore.tutoring import IDEMPOTENCY_WINDOW


@dataclass(frozen=True, slots=True)
class Purged:
    refresh_tokens: int
    idempotency_records: int
    oauth_records: int = 0
    """Expired OAuth states and one-time login codes."""


class Housekeeping:
    def __init__(self, *, uow: UnitOfWorkFactory, limiter: AttemptLimiter, clock: Clock) -> None:
        self._uow = uow
        self._limiter = limiter
        self._clock = clock

    async def run(self) -> Purged:
        now = self._clock.now()
        async with self._uow() as tx:
            tokens = await tx.refresh_tokens.purge_expired(now)
            records = await tx.idempotency.purge(before=now - IDEMPOTENCY_WINDOW)
            oauth = await tx.oauth.purge(now=now)
            await tx.commit()
        await self._limiter.purge(now=now)
        return Purged(refresh_tokens=tokens, idempotency_records=records, oauth_records=oauth)
