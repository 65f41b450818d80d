"""Usage statistics per quota day (SPEC §4.6 "Counting"), from the stored per-day counters: pure
functions, so the definitions can be read in one place.

- ``requests``: learner messages and relayed completions accepted against the quota and not given
  back (what the daily limit counts; an abandoned request still counts);
- ``failed_by_code``: requests given back after a tutor failure, by its code (SPEC §6);
- ``refused``: answers ``429 quota_exceeded``;
- ``active_users``: users with at least one request that day (deleted ones included, anonymously);
- ``new_users``: accounts created that day (deleted ones included, anonymously).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from chatcore.model import DayTotals

FAILURE_CODES = ("llm_timeout", "llm_unavailable", "llm_busy", "llm_error", "llm_misconfigured")
"""The tutor failures counted per day (``LLMError.failure``), always present in ``failed_by_code``."""
REFUSED = "refused"
"""The day counter of quota refusals (``QuotaLedger.count_refusal``)."""


@dataclass(frozen=True, slots=True)
class DayStats:
    day: date
    requests: int
    refused: int
    active_users: int
    new_users: int
    failed_by_code: Mapping[str, int] = field(default_factory=dict)


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def daily_stats(
    totals: Iterable[DayTotals], *, joined: Iterable[date], days: list[date]
) -> tuple[DayStats, ...]:
    """One entry per day of ``days`` (zeros where nothing was counted), from the stored ``totals``
    and the quota days on which the existing users ``joined`` (deleted ones are in ``totals``)."""
    by_day = {t.day: t for t in totals}
    new_users: dict[date, int] = {}
    for day in joined:
        new_users[day] = new_users.get(day, 0) + 1
    result = []
    for day in days:
        total = by_day.get(day)
        events = dict(total.events) if total is not None else {}
        refused = events.pop(REFUSED, 0)
        result.append(
            DayStats(
                day=day,
                requests=total.requests if total is not None else 0,
                refused=refused,
                active_users=total.active_users if total is not None else 0,
                new_users=new_users.get(day, 0) + (total.joined_deleted if total is not None else 0),
                failed_by_code={code: events.pop(code, 0) for code in FAILURE_CODES} | events,
            )
        )
    return tuple(result)
