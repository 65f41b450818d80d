"""The real clock."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """The system's wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
