"""QuotaPolicy by example: configuration, the quota object, and days that DST makes unusual (SPEC §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chatcore.errors import QuotaExceeded, ValidationFailed
from chatcore.quota import QuotaPolicy


def _policy(zone: str, limit: int = 5) -> QuotaPolicy:
    return QuotaPolicy.from_names(limit=limit, zone=zone)


@pytest.mark.parametrize("zone", ["Mars/Base", "", "Asia/Seoul/", "../etc/passwd"])
def test_an_unknown_zone_is_a_validation_error(zone: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _policy(zone)

    assert caught.value.field == "zone"


@pytest.mark.parametrize("limit", [0, -5])
def test_a_non_positive_limit_is_a_validation_error(limit: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _policy("Asia/Seoul", limit)

    assert caught.value.field == "limit"


def test_the_default_policy_is_five_a_day_in_seoul() -> None:
    policy = QuotaPolicy()

    assert policy.limit == 5
    assert str(policy.zone) == "Asia/Seoul"


def test_the_quota_object_matches_the_spec_example() -> None:
    now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

    quota = QuotaPolicy().quota(used=2, now=now)

    assert (quota.limit, quota.used, quota.remaining) == (5, 2, 3)
    assert quota.resets_at.isoformat() == "2026-11-27T00:00:00+09:00"
    assert quota.seconds_until_reset(now) == 12 * 3600


def test_seconds_until_reset_rounds_up_and_is_at_least_one() -> None:
    policy = QuotaPolicy()
    reset = policy.resets_at(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
    quota = policy.quota(used=0, now=reset - timedelta(microseconds=1))

    assert quota.seconds_until_reset(reset - timedelta(seconds=1.5)) == 2
    assert quota.seconds_until_reset(reset - timedelta(microseconds=1)) == 1
    assert quota.seconds_until_reset(reset) == 1


def test_a_per_user_limit_below_the_usage_shows_nothing_remaining() -> None:
    quota = QuotaPolicy().quota(used=4, now=datetime(2026, 11, 26, tzinfo=UTC), limit=2)

    assert (quota.limit, quota.used, quota.remaining) == (2, 4, 0)


def test_the_refusal_says_when_the_quota_resets() -> None:
    quota = QuotaPolicy().quota(used=5, now=datetime(2026, 11, 26, 3, 0, tzinfo=UTC))

    assert "2026-11-27T00:00:00+09:00" in QuotaExceeded(quota).detail


@pytest.mark.parametrize(
    ("zone", "now", "resets_at"),
    [
        # Spring forward at 02:00: the day is 23 hours long.
        ("America/New_York", "2026-03-08T00:30:00-05:00", "2026-03-09T00:00:00-04:00"),
        # Fall back at 02:00: the day is 25 hours long.
        ("Europe/London", "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00"),
        # Half-hour DST.
        ("Australia/Lord_Howe", "2026-10-04T01:00:00+10:30", "2026-10-05T00:00:00+11:00"),
        # DST starts at midnight: 00:00 does not exist, the day starts at 01:00.
        ("America/Santiago", "2026-09-05T12:00:00-04:00", "2026-09-06T01:00:00-03:00"),
        # DST ends at midnight: the last hour of Saturday happens twice.
        ("America/Santiago", "2026-04-04T23:30:00-03:00", "2026-04-05T00:00:00-04:00"),
        # Samoa skipped 30 December 2011 entirely.
        ("Pacific/Apia", "2011-12-29T12:00:00-10:00", "2011-12-31T00:00:00+14:00"),
    ],
)
def test_resets_at_is_the_next_local_midnight_across_clock_changes(
    zone: str, now: str, resets_at: str
) -> None:
    policy = _policy(zone)

    assert policy.resets_at(datetime.fromisoformat(now)).isoformat() == resets_at


def test_the_repeated_hour_of_a_fall_back_belongs_to_the_same_quota_day() -> None:
    policy = _policy("America/Santiago")
    first_pass = datetime(2026, 4, 5, 2, 30, tzinfo=UTC)  # 23:30 -03:00 on Saturday
    second_pass = datetime(2026, 4, 5, 3, 30, tzinfo=UTC)  # 23:30 -04:00 on Saturday again

    assert policy.day_of(first_pass) == policy.day_of(second_pass) == date(2026, 4, 4)
    assert policy.resets_at(first_pass) == policy.resets_at(second_pass)
