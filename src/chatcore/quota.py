"""Quota rules (SPEC §5): a daily limit per user, days running midnight to midnight in one zone.

Pure functions over instants; the counting itself is the :class:`~chatcore.ports.storage.QuotaLedger`'s
job, which must take a slot atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chatcore.errors import ValidationFailed
from chatcore.model import Quota

DEFAULT_DAILY_LIMIT = 5
DEFAULT_ZONE = "Asia/Seoul"


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    """The daily limit and the zone whose midnight starts a new quota day."""

    limit: int = DEFAULT_DAILY_LIMIT
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ZONE))

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValidationFailed("The daily limit must be a positive integer.", field="limit")

    @classmethod
    def from_names(cls, *, limit: int, zone: str) -> QuotaPolicy:
        """Build a policy from configuration values, raising ``ValidationFailed`` on bad ones."""
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationFailed(f"Unknown time zone {zone!r}.", field="zone") from exc
        return cls(limit=limit, zone=tz)

    def day_of(self, instant: datetime) -> date:
        """The quota day an aware instant belongs to."""
        return instant.astimezone(self.zone).date()

    def resets_at(self, instant: datetime) -> datetime:
        """The first instant of the next quota day: the next local midnight, strictly after ``instant``.

        Where a DST gap swallows midnight, the day starts at the first local time that exists.
        """
        next_day = self.day_of(instant) + timedelta(days=1)
        wall = datetime.combine(next_day, time.min, tzinfo=self.zone)
        # A round trip through UTC normalises a non-existent wall time to the real instant.
        return wall.astimezone(UTC).astimezone(self.zone)

    def effective_limit(self, override: int | None) -> int:
        return self.limit if override is None else override

    def quota(self, *, used: int, now: datetime, limit: int | None = None) -> Quota:
        """The quota object for a user who has ``used`` slots on ``now``'s quota day."""
        effective = self.limit if limit is None else limit
        return Quota(limit=effective, used=max(used, 0), resets_at=self.resets_at(now))
