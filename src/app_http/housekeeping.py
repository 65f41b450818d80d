"""The server's periodic housekeeping (chatcore.housekeeping), in every worker process.

Every worker runs it about once an hour, starting at a random moment of the first interval so
that workers (and servers) do not all purge at once; the deletes are idempotent, so running it
more than once is harmless. A failure is logged and tried again at the next turn.
"""

from __future__ import annotations

import asyncio
import random

import structlog

from chatcore.housekeeping import Housekeeping

log = structlog.get_logger("chatcore.housekeeping")

INTERVAL = 3600.0
"""Seconds between two runs in one worker."""


async def run_housekeeping(
    housekeeping: Housekeeping, *, interval: float = INTERVAL, first_delay: float | None = None
) -> None:
    """Runs until cancelled."""
    delay = random.uniform(interval / 60, interval) if first_delay is None else first_delay  # noqa: S311
    while True:
        await asyncio.sleep(delay)
        delay = interval
        try:
            purged = await housekeeping.run()
        except Exception as exc:  # a database that is away now may be back next time
            log.warning("housekeeping_failed", error_type=type(exc).__name__)
            continue
        if purged.refresh_tokens or purged.idempotency_records or purged.oauth_records:
            log.info(
                "housekeeping",
                refresh_tokens=purged.refresh_tokens,
                idempotency_records=purged.idempotency_records,
                oauth_records=purged.oauth_records,
            )
