"""Progress (SPEC §4.7): what the learner did over the last quota days, from their stored messages.

Days are quota days (``CHATCORE_QUOTA_TIMEZONE``), as the daily limit counts them.

* ``days_practised``: days of the window with at least one learner message answered (``ok``);
* ``current_streak``: consecutive practised days ending today, or ending yesterday while today
  has no message yet (a streak is not broken before the day is over); it cannot exceed the window;
* ``messages``: the learner's answered messages in the window;
* ``corrections_per_message``: per practised day, the corrections the tutor made divided by
  the learner's messages that day (two decimals);
* ``interview_scores``: per day with scored interview answers, their mean overall score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from chatcore.learning import DayScore, DayValue, Progress
from chatcore.model import Mode, Role
from chatcore.ports.storage import Activity
from chatcore.quota import QuotaPolicy

WINDOW_DAYS = 30


def window_start(policy: QuotaPolicy, now: datetime, days: int = WINDOW_DAYS) -> tuple[date, datetime]:
    """The first quota day of the window ending today, and an instant at or before its start."""
    first = policy.day_of(now) - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=policy.zone).astimezone(UTC)
    return first, start - timedelta(hours=1)  # an hour early: a DST shift cannot cut the first day


def progress_of(
    activity: Sequence[Activity], *, policy: QuotaPolicy, now: datetime, days: int = WINDOW_DAYS
) -> Progress:
    """Progress over the ``days`` quota days ending on ``now``'s."""
    today = policy.day_of(now)
    first, _ = window_start(policy, now, days)
    messages: dict[date, int] = defaultdict(int)
    corrections: dict[date, int] = defaultdict(int)
    scores: dict[date, list[int]] = defaultdict(list)
    for item in activity:
        day = policy.day_of(item.at)
        if not first <= day <= today:
            continue
        if item.role is Role.USER:
            messages[day] += 1
        elif item.feedback is not None:
            corrections[day] += len(item.feedback.corrections)
            if item.mode is Mode.INTERVIEW and item.feedback.score is not None:
                scores[day].append(item.feedback.score.overall)
    practised = sorted(messages)
    streak = 0
    day = today if today in messages else today - timedelta(days=1)
    while day in messages and day >= first:
        streak += 1
        day -= timedelta(days=1)
    return Progress(
        days_practised=len(practised),
        current_streak=streak,
        messages=sum(messages.values()),
        corrections_per_message=tuple(
            DayValue(day=d, value=round(corrections[d] / messages[d], 2)) for d in practised
        ),
        interview_scores=tuple(
            DayScore(day=d, overall=round(sum(s) / len(s))) for d, s in sorted(scores.items())
        ),
    )
