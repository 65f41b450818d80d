"""Properties of the quota (SPEC §5): ``QuotaPolicy`` and a ``QuotaLedger``, over many days and zones.

The expected values come from an oracle that shares no code with the one under test: the local
date of an instant is the UTC time plus the offset that the zone's TZif file lists for it
(``tests/unit/tzif.py``, not ``zoneinfo``), and the next quota day starts at the first instant
whose local date is later (found by bisection). Instants are drawn from the whole range and, on
purpose, from around the zones' clock changes and local midnights.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.memory import MemoryStore
from chatcore.quota import QuotaPolicy

from .tzif import local_date, offset_table

ZONES = (
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Seoul",
    "Pacific/Apia",
)
FIRST = datetime(2011, 1, 1, tzinfo=UTC)
LAST = datetime(2030, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
USER = 1

# Calendar days that a zone skipped: Samoa moved across the date line and had no 30 December 2011.
SKIPPED_DAYS = {("Pacific/Apia", date(2011, 12, 30))}


# --- the oracle -------------------------------------------------------------------------------


def first_instant_after(now: datetime, zone: str) -> datetime:
    """The earliest instant after ``now`` whose local date is later than ``now``'s (bisection).

    Local dates never go backwards in the zones above, so the predicate is monotonic.
    """
    today = local_date(now, zone)
    low, high = now, now + timedelta(hours=48)
    assert local_date(high, zone) > today
    while high - low > MICROSECOND:
        middle = low + (high - low) / 2
        if local_date(middle, zone) > today:
            high = middle
        else:
            low = middle
    return high


def clock_changes(zone_name: str) -> tuple[datetime, ...]:
    """The instants in range where ``zone_name`` changes its UTC offset."""
    return offset_table(zone_name).changes_between(FIRST, LAST)


@functools.cache
def instants(zone_name: str) -> st.SearchStrategy[datetime]:
    """Any instant in range, or one within three hours of a local midnight or of a clock change."""
    anywhere = st.datetimes(min_value=FIRST.replace(tzinfo=None), max_value=LAST.replace(tzinfo=None)).map(
        lambda naive: naive.replace(tzinfo=UTC)
    )
    shift = st.floats(min_value=-3 * 3600, max_value=3 * 3600).map(lambda s: timedelta(seconds=round(s, 6)))
    midnights = anywhere.map(lambda instant: first_instant_after(instant, zone_name))
    choices = [anywhere, st.builds(lambda edge, by: edge + by, midnights, shift)]
    if changes := clock_changes(zone_name):
        choices.append(st.builds(lambda edge, by: edge + by, st.sampled_from(changes), shift))
    return st.one_of(choices)


@st.composite
def zone_and_instant(draw: st.DrawFn) -> tuple[str, datetime]:
    zone_name = draw(st.sampled_from(ZONES))
    return zone_name, draw(instants(zone_name))


# --- resets_at --------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(zone_and_instant())
# The awkward days, always checked: midnight skipped (Santiago), a day skipped (Apia),
# a 25-hour day (London), a half-hour change (Lord Howe).
@example(("America/Santiago", datetime(2026, 9, 5, 16, 0, tzinfo=UTC)))
@example(("America/Santiago", datetime(2026, 4, 5, 3, 30, tzinfo=UTC)))
@example(("Pacific/Apia", datetime(2011, 12, 29, 22, 0, tzinfo=UTC)))
@example(("Europe/London", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)))
@example(("Australia/Lord_Howe", datetime(2026, 10, 3, 14, 0, tzinfo=UTC)))
def test_resets_at_is_the_next_local_midnight(case: tuple[str, datetime]) -> None:
    zone_name, now = case
    zone = ZoneInfo(zone_name)
    policy = QuotaPolicy(limit=5, zone=zone)

    resets_at = policy.resets_at(now)

    today = local_date(now, zone_name)
    assert policy.day_of(now) == today
    assert resets_at == first_instant_after(now, zone_name)
    assert now < resets_at <= now + timedelta(hours=25)
    tomorrow = today + timedelta(days=1)
    if (zone_name, tomorrow) in SKIPPED_DAYS:
        tomorrow += timedelta(days=1)
    assert policy.day_of(resets_at) == tomorrow
    # It is shown as a wall time a person in that zone reads on the clock.
    assert resets_at.tzinfo == zone
    shown = resets_at.replace(tzinfo=None)
    offset = timedelta(seconds=offset_table(zone_name).offset_at(resets_at))
    assert shown == resets_at.astimezone(UTC).replace(tzinfo=None) + offset


# --- a ledger driven by asks and give-backs ----------------------------------------------------


@dataclass(frozen=True)
class Event:
    """At ``offset`` after the start: an ask, or giving back a slot taken ``age`` earlier."""

    offset: timedelta
    give_back: bool
    age: timedelta


events = st.lists(
    st.builds(
        Event,
        offset=st.integers(min_value=0, max_value=4 * 86_400_000_000).map(
            lambda us: timedelta(microseconds=us)
        ),
        give_back=st.booleans(),
        age=st.integers(min_value=0, max_value=30 * 3600).map(lambda s: timedelta(seconds=s)),
    ),
    max_size=40,
).map(lambda found: sorted(found, key=lambda e: e.offset))


async def _play(
    policy: QuotaPolicy, zone_name: str, limit: int, start: datetime, script: list[Event]
) -> None:
    """Play ``script`` against the policy and the memory ledger; ``limit`` is the one drawn."""
    store = MemoryStore()
    held: Counter[date] = Counter()  # the oracle: slots held per local date
    for event in script:
        now = start + event.offset
        async with store.unit_of_work() as uow:
            if event.give_back:
                taken_on = local_date(now - event.age, zone_name)
                await uow.quota.give_back(USER, policy.day_of(now - event.age))
                held[taken_on] = max(held[taken_on] - 1, 0)
                assert await uow.quota.used(USER, policy.day_of(now - event.age)) == held[taken_on]
            else:
                today = local_date(now, zone_name)
                granted = await uow.quota.consume(
                    USER, policy.day_of(now), limit=policy.effective_limit(None)
                )
                if held[today] < limit:
                    held[today] += 1
                    assert granted == held[today], "a free slot must be granted"
                else:
                    assert granted is None, "no more than the limit within one quota day"
            used = await uow.quota.used(USER, policy.day_of(now))
            await uow.commit()
        quota = policy.quota(used=used, now=now)
        assert quota.limit == limit
        assert quota.used == held[local_date(now, zone_name)] <= limit
        assert quota.remaining == limit - quota.used >= 0
        assert now < quota.resets_at <= now + timedelta(hours=25)
    assert all(0 <= count <= limit for count in held.values())


@settings(max_examples=120, deadline=None)
@given(zone_and_instant(), st.integers(min_value=1, max_value=6), events)
def test_asks_and_give_backs_never_exceed_the_limit_of_a_quota_day(
    case: tuple[str, datetime], limit: int, script: list[Event]
) -> None:
    zone_name, start = case
    policy = QuotaPolicy(limit=limit, zone=ZoneInfo(zone_name))

    asyncio.run(_play(policy, zone_name, limit, start, script))
