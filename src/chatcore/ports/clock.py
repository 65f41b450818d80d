"""The clock port: what time it is (always aware, UTC)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the time. Always aware (UTC)."""

    def now(self) -> datetime: ...
